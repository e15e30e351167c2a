# The lab's tasks. Every target sets up what it needs first (fast when nothing changed).
#   make lab             set up, write/refresh the student edition in work/ (never overwriting your
#                        edits), then open JupyterLab on its first chapter: for students
#   make lab-instructor  set up, then open JupyterLab on the instructor notebooks in notebooks/
#                        (solutions included): for instructors and for editing the course
#   make demo    set up, then serve the chapter-5 dashboard as a standalone page (Voilà, no code
#                shown, large for a projector) behind a fresh token printed with its URL: for class
#   make test    install the test suite's system packages where missing (as root: chromium,
#                PostgreSQL, MathJax, npm; scripts/system_packages.sh), set up, then run the whole
#                test suite (library, notebooks, book, browser)
# Every target but `test` needs no root and installs no system package.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONHASHSEED := 0

.PHONY: setup system-packages lab lab-instructor demo test test-fast book reproduce reproduce-quick bench student clean

setup:
	@bash scripts/setup.sh

system-packages:
	@bash scripts/system_packages.sh

# JupyterLab refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	.venv/bin/labkit student --source notebooks --out work
	$(PY) -m jupyterlab $(ROOT_FLAG) --notebook-dir=. work/00_welcome.ipynb

lab-instructor: setup
	$(PY) -m jupyterlab $(ROOT_FLAG) --notebook-dir=. notebooks/00_welcome.ipynb

demo: setup
	$(PY) scripts/demo.py

# system packages first: setup's data step uses npm when it is there
test:
	@bash scripts/system_packages.sh
	@bash scripts/setup.sh
	@bash scripts/test.sh

test-fast: setup
	LABKIT_SKIP_SLOW=1 $(PY) -m pytest tests -q -x -m "not slow and not browser"

book: setup
	@bash scripts/build_book.sh

reproduce: setup
	.venv/bin/labkit reproduce --dataset mnist --out results

reproduce-quick: setup
	.venv/bin/labkit reproduce --quick

bench: setup
	$(PY) benchmarks/bench_training.py

student: setup
	.venv/bin/labkit student --source notebooks --out work

clean:
	rm -rf book/_build build .pytest_cache
