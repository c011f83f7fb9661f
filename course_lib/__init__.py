"""Shared helper library of the course *Optimizing Generative Models*.

What notebooks import, framework-neutral (NumPy; neither PyTorch nor TensorFlow):

- ``data``, ``metrics``, ``classifier``: digits, 2-D mixtures, FCD / precision / recall / modes
- ``plots``, ``progress``, ``seeding``, ``budgets``: figures, progress bars, seeds, hyperparameters
- ``results``, ``claims``: record a notebook's headline numbers, and check its conclusions on them
- ``checks``: the exercise engine; ``files``: atomic writes
- ``techniques``: one module per technique, the NumPy truths both tracks are checked against
- ``runs``: what the two tracks' training loops share (per-run draws, histories, stacking checks)
- ``monitoring``: TensorBoard's tag scheme, the event reader and what the curves say when training goes wrong
- ``exercises``: one module of exercise definitions per lesson, and ``tracks`` to build a track's checkers

One package per framework, mirroring each other name for name: ``course_lib.torch`` and
``course_lib.tensorflow``. What maintainers run (lesson generation, the runner, the report, the
command line ``python -m course_lib``) lives in ``course_lib.tooling``, which notebooks never import.
"""

__version__ = "0.1.0"
