#!/usr/bin/env bash
# The steps of `make test` (the Makefile exports JUPYTER_PATH). Each notebook is
# executed once per nbval pass and nowhere else.
# Two stages, so that no BLAS library ever runs more threads than there are cores
# (OpenBLAS threads wait for each other by spinning: oversubscribed, chapter 6's
# training cell once took 275 s instead of 19 s):
#   stage 1, everything single-threaded BLAS, side by side on the two cores:
#     - .venv set up by `make .venv/.installed` if needed (pass 2 installs its own
#       environment meanwhile), then ruff
#     - nbval pass 2 in the background: a Binder-style environment built from
#       binder/ in a fresh copy of the repository, every chapter under strict nbval
#       with another OpenBLAS kernel and one thread (tools/binder_check.sh)
#     - the HTML book, with warnings as errors, rendering the committed outputs
#       (BOOK_EXECUTE_NOTEBOOKS=off): pass 1 below proves they are current
#     - the PDF: single-page HTML build printed by headless Chromium
#     - pytest over tests/ (two processes, OPENBLAS_NUM_THREADS=1): the unit tests,
#       the built site in the browser, the PDF, the Colab cell and `make lab`
#   stage 2, alone, once pass 2 is done:
#     - nbval pass 1 over chapters/ in the default environment: OpenBLAS's default
#       kernel and thread count (all cores), so the two passes differ in kernel and
#       in thread count
#   Both passes must pass. Prints the time of each step at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# `python -m jupyter execute` (used by the tests) looks up `jupyter-execute` on PATH:
# it must be .venv's, not whatever Jupyter the machine has elsewhere.
export PATH="$PWD/$BIN:$PATH"
PYTHON=${PYTHON:-python3}
PASS2=_build/binder-check
JB_FLAGS=(-W -n --keep-going)
export BOOK_EXECUTE_NOTEBOOKS=off
mkdir -p _build
rm -f "$PASS2.log"

t0=$SECONDS
timings=()
step() { timings+=("$(printf '%4ds  %s' $((SECONDS - t0)) "$1")"); t0=$SECONDS; }
report() { printf -- '--- time per step\n'; printf '%s\n' "${timings[@]}"; }

echo "--- nbval pass 2 (Binder environment, other BLAS kernel) in the background: $PASS2.log"
start2=$SECONDS
setsid bash tools/binder_check.sh "$PASS2" "$PYTHON" >"$PASS2.log" 2>&1 &
pid2=$!
trap 'kill -- -$pid2 2>/dev/null' EXIT  # its own process group (setsid)

fail() { echo "error: $1" >&2; step "$1 (failed)"; report; exit 1; }

echo "--- .venv (pinned requirements and rnnlib) and ruff"
${MAKE:-make} --no-print-directory PYTHON="$PYTHON" .venv/.installed || fail ".venv set-up"
$BIN/ruff check rnnlib tests benchmarks tools _ext || fail "ruff"
step ".venv set-up and ruff"

echo "--- book (HTML, committed outputs)"
$BIN/jupyter-book build . --all "${JB_FLAGS[@]}" || fail "HTML build"
step "HTML build"

if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
  echo "--- PDF"
  # No --all: the HTML build above has just read every source afresh, so the
  # single-page build reuses that environment (_build/.doctrees) and only writes.
  $BIN/jupyter-book build . "${JB_FLAGS[@]}" --builder singlehtml \
    || fail "single-page HTML build"
  $BIN/python tools/print_pdf.py _build/singlehtml _build/html/book.pdf \
    || fail "PDF printing"
  step "PDF (single-page build + print)"
else
  echo "note: no chromium: no PDF; its tests and the browser test will skip"
fi

echo "--- pytest: tests/ (one BLAS thread per process, next to pass 2)"
# Two processes side by side: the fake-Colab test file (~175 s alone: a fresh
# environment, every chapter's student version) and all the other files (~165 s).
# pytest-xdist would do worse here: --dist loadscope hands out the files with the most
# tests first, so this one, with few tests, started ~80 s late and ended last.
OPENBLAS_NUM_THREADS=1 $BIN/python -m pytest tests/test_launch.py --durations=5 \
  >_build/test-launch.log 2>&1 &
pidL=$!
trap 'kill -- -$pid2 $pidL 2>/dev/null' EXIT
OPENBLAS_NUM_THREADS=1 $BIN/python -m pytest tests --ignore=tests/test_launch.py \
  --durations=10
rc0=$?
wait $pidL || rc0=1
cat _build/test-launch.log
step "pytest tests/"

echo "--- waiting for nbval pass 2"
wait $pid2
rc2=$?
trap - EXIT
cat "$PASS2.log"
step "wait for pass 2 (it took $((SECONDS - start2))s in all)"

echo "--- nbval pass 1 over chapters/ (default environment, nothing else running)"
$BIN/python -m pytest chapters --nbval --nbval-current-env --durations=10
rc1=$?
step "nbval pass 1"
kernel=$(grep -o 'OpenBLAS runs the [^ ]* kernel' "$PASS2.log" || echo 'kernel unknown')
echo "--- pytest tests/: exit $rc0"
echo "--- nbval pass 1 (default environment): exit $rc1"
echo "--- nbval pass 2 (Binder environment, $kernel, 1 thread): exit $rc2"
report
[ "$rc0" = 0 ] && [ "$rc1" = 0 ] && [ "$rc2" = 0 ]
