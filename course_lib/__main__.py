"""``python -m course_lib``: the maintainers' command line (:mod:`course_lib.tooling.cli`)."""
import sys

from .tooling.cli import main

sys.exit(main())
