"""Exercise definitions, one module per lesson (``lesson00_baselines`` ... ): each exercise's
NumPy truth, its cases and its known mistakes, worded once for both tracks. :mod:`.tracks`
turns them into one track's checkers; notebooks reach them as
``from course_lib.<track> import exercises as ex``. The engine is :mod:`course_lib.checks`."""
