# The commands of the README:
#   make book   build the HTML book and its PDF (sets up .venv on first use)
#   make test   run every test: unit tests, every chapter under strict nbval twice
#               (two OpenBLAS kernels), the book build with warnings as errors, the
#               PDF, the browser test, the Binder, Colab and JupyterLab set-ups
#   make lab    open the chapters in JupyterLab, on the project's kernel
#   make pdf    only the PDF (_build/html/book.pdf)
# All create .venv with the pinned requirements and rnnlib when it is missing or
# when requirements*.txt / pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html
SINGLE := _build/singlehtml
PDF    := $(HTML)/book.pdf
PORT   ?= 8000
JB_FLAGS := -W -n --keep-going
CHROMIUM := $(shell command -v chromium || command -v chromium-browser)
# Notebooks run on the kernel of .venv even if the user has another "python3" kernel.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
# Python caches bytecode on first import (many container images, this project's CI
# machine among them, set PYTHONDONTWRITEBYTECODE; every kernel then compiled numpy,
# sympy and matplotlib again, 5-8 s each). Only what is imported gets compiled.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: book pdf serve lab test lint clean

$(STAMP): requirements.txt requirements-lab.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), sys.version' 2>/dev/null \
	  || { echo "error: Python >= 3.11 is needed (found: $$($(PYTHON) --version 2>&1)); run make PYTHON=python3.11 ..." >&2; exit 1; }
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@# uv (pinned in requirements.txt) installs the same exact pins as pip, ~15x
	@# faster (4 s instead of ~65 s here); pip stays in .venv. uv reads PyPI, not
	@# pip's configuration: behind a mirror, set UV_INDEX_URL (or UV_DEFAULT_INDEX).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep '^uv==' requirements.txt)"
	@echo "Installing pinned requirements into $(VENV)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.txt -r requirements-lab.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# The single-page HTML build, printed to PDF by headless Chromium (tools/print_pdf.py).
define build_pdf
	$(BIN)/jupyter-book build . --all $(JB_FLAGS) --builder singlehtml
	$(BIN)/python tools/print_pdf.py $(SINGLE) $(PDF)
endef

# Every notebook is executed once, into a fresh jupyter-cache (so edits to rnnlib
# show), and both the HTML pages and the PDF are built from those results.
# --all: rebuild every page, so no page or static file from an earlier build survives.
book: export BOOK_EXECUTE_NOTEBOOKS := cache
book: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(BIN)/jupyter-book build . --all $(JB_FLAGS)
ifneq ($(CHROMIUM),)
	$(build_pdf)
else
	@echo "note: no chromium, so no PDF (the site's PDF link stays broken);"
	@echo "      install it (sudo apt-get install chromium), then run: make pdf"
endif
	@echo
	@echo "The book is built. Open file://$(CURDIR)/$(HTML)/index.html"
	@echo "or serve it with:  make serve   (http://127.0.0.1:$(PORT))"

pdf: export BOOK_EXECUTE_NOTEBOOKS := cache
pdf: $(STAMP)
	rm -rf _build/.jupyter_cache
	$(build_pdf)

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) $(PORT)

# JupyterLab from .venv (pinned in requirements-lab.txt), opened on chapters/ (the whole
# repository is browsable, e.g. rnnlib/); the
# notebooks' "python3" kernel is .venv's Python, which has rnnlib installed.
# (--allow-root only when run as root, e.g. in a container.)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) \
	  --ServerApp.default_url=/lab/tree/chapters $(if $(filter 0,$(shell id -u)),--allow-root)

# tools/run_tests.sh: .venv ($(STAMP), by this Makefile), then side by side, one BLAS
# thread per process: nbval pass 1 over chapters/ in .venv; nbval pass 2 in a
# Binder-style environment on another OpenBLAS kernel; the fake-Colab tests; and
# ruff, the HTML book and the PDF rendering the committed outputs, the browser and
# PDF tests; last, alone, chapter 6 with all cores' BLAS threads
# (tests/test_blas_threads.py). See the script for the details.
test:
	MAKE="$(MAKE)" PYTHON=$(PYTHON) bash tools/run_tests.sh

# Static checks. ruff with the rules of pyproject.toml ([tool.ruff]: pyflakes,
# pycodestyle, isort, bugbear) over all code, plus numpy, pyupgrade, comprehension
# and misc. rules over the numeric modules of rnnlib.
NUMERIC := rnnlib/__init__.py rnnlib/params.py rnnlib/forward_pass.py rnnlib/loss.py \
           rnnlib/gradients.py rnnlib/fast.py rnnlib/gradient_check.py \
           rnnlib/equations.py rnnlib/_validate.py rnnlib/_arrays.py
lint: $(STAMP)
	$(BIN)/ruff check rnnlib tests benchmarks tools _ext
	$(BIN)/ruff check --extend-select NPY,UP,C4,PIE $(NUMERIC)

clean:
	rm -rf _build
