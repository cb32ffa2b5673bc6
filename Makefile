# The two commands of the README:
#   make book   build the HTML book (sets up .venv on first use)
#   make test   run every test: unit tests, every notebook under strict nbval,
#               and the book build with warnings as errors
# Both create .venv with the pinned requirements and rnnlib when it is missing or
# when requirements.txt / pyproject.toml changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HTML   := _build/html
PORT   ?= 8000
JB_FLAGS := -W -n --keep-going
# Notebooks run on the kernel of .venv even if the user has another "python3" kernel.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter

.PHONY: book serve test lint clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), sys.version' 2>/dev/null \
	  || { echo "error: Python >= 3.11 is needed (found: $$($(PYTHON) --version 2>&1)); run make PYTHON=python3.11 ..." >&2; exit 1; }
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $$($(PYTHON) --version)"; $(PYTHON) -m venv $(VENV); }
	@echo "Installing pinned requirements into $(VENV) (about a minute the first time)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# --all: rebuild every page (notebooks are re-executed anyway), so no page or static
# file from an earlier build survives a change.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all $(JB_FLAGS)
	@echo
	@echo "The book is built. Open file://$(CURDIR)/$(HTML)/index.html"
	@echo "or serve it with:  make serve   (http://127.0.0.1:$(PORT))"

serve: book
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(HTML) $(PORT)

# The build comes before pytest because the browser test reads the built site.
test: $(STAMP)
	$(BIN)/ruff check rnnlib tests benchmarks tools _ext
	$(BIN)/jupyter-book build . --all $(JB_FLAGS)
	$(BIN)/python -m pytest tests chapters --nbval --nbval-current-env

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
