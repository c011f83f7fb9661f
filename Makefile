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

.DEFAULT_GOAL := help
.PHONY: help venv test course lab build-lessons refresh lock clean

help:
	@echo "Targets:"
	@echo "  make venv           create .venv from requirements-lock.txt and install the course (editable)"
	@echo "  make test           check lessons are in sync, run unit tests, nbval the solutions (smoke budget)"
	@echo "  make course         run every solution notebook, both tracks, budget auto (gpu|cpu); results in build/"
	@echo "  make lab            start JupyterLab on the repository"
	@echo "  make build-lessons  regenerate lessons/ from solutions/"
	@echo "  make refresh        re-execute solutions in place at the cpu budget (refresh reference outputs)"
	@echo "  make lock           rewrite requirements-lock.txt from the packages installed in .venv"
	@echo "  make clean          remove build/"
	@echo "Variables: PYTHON=$(PYTHON) (interpreter for a new venv), JOBS=$(JOBS) (pytest workers)"

venv: $(STAMP)

# Re-install when the dependency pins change. pip itself is left as the venv ships it.
$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -r requirements-lock.txt
	$(VENV)/bin/pip install --no-deps -e .
	touch $@

# 1. committed lessons equal the lessons generated from solutions;
# 2. unit, checker and execution tests (tests/), headless matplotlib;
# 3. nbval on the solutions' reference outputs. No MPLBACKEND here: like `make refresh`, the
#    kernels must use the inline backend, or cells that show a figure lose an output and
#    checked cells stop matching. PYTHONHASHSEED/COURSE_PROGRESS also match `refresh`.
#    --dist loadfile keeps all cells of a notebook, in order, on one worker.
test: venv
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

clean:
	rm -rf build
