# Optimizing Generative Models: build, test and run the course.
# GNU make. Every target that needs Python uses the project venv in .venv, created on demand
# from requirements-lock.txt (the full lock) plus the course package in editable mode.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# pytest-xdist workers and the per-cell time limit of the nbval run (seconds).
JOBS              ?= 2
NBVAL_CELL_TIMEOUT ?= 300
# Workshop kit. `make wheelhouse` downloads every locked wheel into WHEELHOUSE_DIR, for this machine
# or for PLATFORM (a pip platform tag: manylinux_2_28_x86_64, macosx_14_0_arm64, win_amd64, ...).
# `make venv WHEELHOUSE=DIR` then installs from DIR alone: --no-index, so pip never asks a registry.
WHEELHOUSE_DIR ?= wheelhouse
PLATFORM       ?=
# The participants' Python, for pip's Requires-Python checks: the lock was made on 3.11.7, and some
# locked packages need 3.11.5 or newer (with plain 3.11, pip would read 3.11.0 and find no wheel for them).
PYVERSION      ?= 3.11.7
WHEELHOUSE     ?=
PIP_SOURCE     := $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE),)

.DEFAULT_GOAL := help
.PHONY: help venv test course lab build-lessons refresh lock clean wheelhouse

help:
	@echo "Targets:"
	@echo "  make venv           create .venv from requirements-lock.txt and install the course (editable)"
	@echo "                      WHEELHOUSE=DIR: install from the wheels in DIR only, no network (see make wheelhouse)"
	@echo "  make wheelhouse     download every locked wheel into WHEELHOUSE_DIR (default wheelhouse/), PLATFORM=tag"
	@echo "  make test           check lessons are in sync, run unit tests, nbval the solutions (smoke budget)"
	@echo "  make course         run every solution notebook, both tracks, budget auto (gpu|cpu); results in build/"
	@echo "  make lab            start JupyterLab on the repository"
	@echo "  make build-lessons  regenerate lessons/ from solutions/"
	@echo "  make refresh        re-execute solutions in place at the cpu budget (refresh reference outputs)"
	@echo "  make site           build the course site (static HTML, offline) in build/site/ from SITE_REPORT=$(SITE_REPORT)"
	@echo "  make site-check     build the site if needed, open every page in headless Chromium, screenshots in build/site-screenshots/"
	@echo "  make lock           rewrite requirements-lock.txt from the packages installed in .venv"
	@echo "  make clean          remove build/"
	@echo "Variables: PYTHON=$(PYTHON) (interpreter for a new venv), JOBS=$(JOBS) (pytest workers)"

venv: $(STAMP)

# Re-install when the dependency pins change. pip itself is left as the venv ships it.
$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install $(PIP_SOURCE) -r requirements-lock.txt
	$(VENV)/bin/pip install $(PIP_SOURCE) --no-deps -e .
	touch $@

# 1. committed lessons equal the lessons generated from solutions;
# 2. unit, checker and execution tests (tests/), headless matplotlib;
# 3. nbval on the solutions' reference outputs. No MPLBACKEND here: like `make refresh`, the
#    kernels must use the inline backend, or cells that show a figure lose an output and
#    checked cells stop matching. PYTHONHASHSEED/COURSE_PROGRESS also match `refresh`.
#    --dist loadfile keeps all cells of a notebook, in order, on one worker.
test: venv
	$(VENV)/bin/ruff check course_lib scripts tests solutions lessons
	$(PY) -m course_lib build --check
	COURSE_BUDGET=smoke MPLBACKEND=Agg $(PY) -m pytest tests -n $(JOBS) --durations=12
	COURSE_BUDGET=smoke COURSE_PROGRESS=0 PYTHONHASHSEED=0 $(PY) -m pytest solutions \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) \
		-n $(JOBS) --dist loadfile

course: venv
	$(PY) -m course_lib run --budget auto --kind solutions --track all --jobs $(JOBS) --out build

lab: venv
	$(VENV)/bin/jupyter lab

build-lessons: venv
	$(PY) -m course_lib build

refresh: venv
	$(PY) -m course_lib refresh --budget cpu

# Not dependent on `venv`: the point is to lock what is installed now, not to re-install the old lock.
lock:
	test -x $(PY) || { echo "no $(PY): run 'make venv' first" >&2; exit 1; }
	$(PY) scripts/write_lock.py --output requirements-lock.txt

# Wheels only (an sdist would need a compiler and build tools in the room), no dependency
# resolution (the lock is complete). setuptools is in the lock, so the course's own editable
# install builds offline too. For Linux CPU-only machines add the PyTorch CPU index, as CI does:
#   make wheelhouse PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu
wheelhouse:
	$(PYTHON) -m pip download -r requirements-lock.txt --no-deps --only-binary=:all: \
		--python-version $(PYVERSION) $(if $(PLATFORM),--platform $(PLATFORM) --implementation cp,) \
		--dest $(WHEELHOUSE_DIR)
	@echo "$$(ls $(WHEELHOUSE_DIR)/*.whl | wc -l) wheels in $(WHEELHOUSE_DIR)/; install with: make venv WHEELHOUSE=$(WHEELHOUSE_DIR)"

# The course site (Sphinx, configured in docs/site/conf.py) from the solutions, the lesson notebooks,
# README's lessons table and a course run's report; rebuilt only when one of those changed.
SITE_REPORT ?= reference/cpu
SITE_INPUTS := README.md docs/course_design.md course_lib/tooling/site.py \
	$(wildcard docs/site/*.py docs/site/_static/* solutions/*/*.ipynb lessons/*/*.ipynb \
	$(SITE_REPORT)/report.md $(SITE_REPORT)/charts/*.png)
.PHONY: site site-check

site: build/site/index.html

build/site/index.html: $(STAMP) $(SITE_INPUTS)
	$(PY) -m course_lib site --report $(SITE_REPORT)

# Needs Chromium from the system packages (apt-get install chromium); no network.
site-check: site
	$(PY) -m course_lib site --check

clean:
	rm -rf build
