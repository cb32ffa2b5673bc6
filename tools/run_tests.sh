#!/usr/bin/env bash
# The steps of `make test` (the Makefile exports JUPYTER_PATH). Each chapter is
# executed once per nbval pass and once as a student version on fake Colab; chapter
# 6's first cells also run twice in tests/test_blas_threads.py.
#
# First .venv is set up (`make .venv/.installed`: uv, seconds). Then everything runs
# side by side on the cores, every process with ONE BLAS thread (OpenBLAS threads
# wait for each other by spinning: with two threads next to other work, chapter 6's
# training ran 3x slower, and once, heavily oversubscribed, 15x).
# In the background, at lower priority (nice; the notebook kernels they start are
# not: jupyter_client starts each kernel in a session of its own), four jobs:
#   - nbval pass 1: every chapter under strict nbval in .venv, OpenBLAS's default
#     kernel for this CPU;
#   - nbval pass 2: a Binder-style environment built from binder/ in a fresh copy
#     of the repository, every chapter under strict nbval on another OpenBLAS
#     kernel (tools/binder_check.sh);
#   - tests/test_launch.py: a fake-Colab environment running every chapter's
#     student version, the Colab cell, Binder's configuration;
#   - pytest over the other files of tests/ but the three below: the unit tests,
#     `make lab`, the nbval and equation-marker checks.
# In this shell, at normal priority (the one chain of steps that depend on each
# other, so it goes first): ruff; the HTML book with warnings as errors, rendering
# the committed outputs (BOOK_EXECUTE_NOTEBOOKS=off: pass 1 proves they are
# current); the PDF (single-page build printed by headless Chromium); then
# tests/test_site.py (the site in the browser) and tests/test_pdf.py.
# Last, alone: tests/test_blas_threads.py (chapter 6's training with one BLAS
# thread and with one per CPU prints what the notebook stores, and trains the same).
# Both passes and all tests must pass. Prints the time of each step at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# `python -m jupyter execute` (used by the tests) looks up `jupyter-execute` on PATH:
# it must be .venv's, not whatever Jupyter the machine has elsewhere.
export PATH="$PWD/$BIN:$PATH"
PYTHON=${PYTHON:-python3}
JB_FLAGS=(-W -n --keep-going)
export BOOK_EXECUTE_NOTEBOOKS=off OPENBLAS_NUM_THREADS=1
unset PYTHONDONTWRITEBYTECODE  # bytecode cached on first import (see the Makefile)
mkdir -p _build

start=$SECONDS
t0=$SECONDS
timings=()
step() { timings+=("$(printf '%4ds  %s' $((SECONDS - t0)) "$1")"); t0=$SECONDS; }
report() {
  printf -- '--- time per step (wall clock; the jobs ran side by side)\n'
  printf '%s\n' "${timings[@]}"
  for j in "${names[@]}"; do
    [ -f "_build/$j.time" ] && printf '%4ds  %s (background job)\n' "$(cat "_build/$j.time")" "$j"
  done
  printf '%4ds  make test in all\n' $((SECONDS - start))
}
fail() { echo "error: $1" >&2; step "$1 (failed)"; report; exit 1; }

echo "--- .venv (pinned requirements and rnnlib)"
${MAKE:-make} --no-print-directory PYTHON="$PYTHON" .venv/.installed || fail ".venv set-up"
step ".venv set-up"

# A background job: its own session and process group (killed with this script),
# at lower priority, output in _build/NAME.log, wall time in _build/NAME.time. Where
# the kernel groups processes by session (autogroup, as on this project's machines),
# nice only ranks processes within a session, so the session's own priority is set
# too (/proc/self/autogroup); without it, the four jobs' sessions and this one
# shared the cores equally, and the HTML build took twice its time. (setsid -w: if
# setsid had to fork, its exit status is still the job's.)
names=() pids=()
declare -A rc
background() {
  local name=$1; shift
  rm -f "_build/$name.log" "_build/$name.time"
  echo "--- $name in the background: _build/$name.log"
  setsid -w nice -n 10 bash -c 'echo 10 2>/dev/null >/proc/self/autogroup
    s=$SECONDS; "${@:2}"; status=$?
    echo $((SECONDS - s)) >"_build/$1.time"; exit $status' _ "$name" "$@" \
    >"_build/$name.log" 2>&1 &
  names+=("$name") pids+=($!)
}
trap 'for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null; done' EXIT

background nbval-pass-2 bash tools/binder_check.sh _build/binder-check "$PYTHON"
background nbval-pass-1 $BIN/python -m pytest chapters --nbval --nbval-current-env \
  -p no:cacheprovider --durations=10
background test-launch $BIN/python -m pytest tests/test_launch.py --durations=5
background tests $BIN/python -m pytest tests --ignore=tests/test_launch.py \
  --ignore=tests/test_site.py --ignore=tests/test_pdf.py \
  --ignore=tests/test_blas_threads.py --durations=10

echo "--- ruff"
$BIN/ruff check rnnlib tests benchmarks tools _ext || fail "ruff"
step "ruff"

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

echo "--- pytest: the built site in the browser, and the PDF"
$BIN/python -m pytest tests/test_site.py tests/test_pdf.py --durations=5
rc_site=$?
step "pytest tests/test_site.py tests/test_pdf.py"

for i in "${!names[@]}"; do
  wait "${pids[$i]}"
  rc[${names[$i]}]=$?
  echo "--- ${names[$i]}: exit ${rc[${names[$i]}]} (_build/${names[$i]}.log)"
  cat "_build/${names[$i]}.log"
done
trap - EXIT
step "waiting for the background jobs"

# Last, with the machine to itself: chapter 6 with one BLAS thread per CPU, which
# next to the jobs above took 229 s instead of 4 s.
echo "--- pytest: the BLAS thread count (tests/test_blas_threads.py, alone)"
$BIN/python -m pytest tests/test_blas_threads.py -p no:cacheprovider
rc_threads=$?
step "pytest tests/test_blas_threads.py"

kernel=$(grep -o 'OpenBLAS runs the [^ ]* kernel' _build/nbval-pass-2.log || echo 'kernel unknown')
echo "--- tests/test_site.py, tests/test_pdf.py: exit $rc_site"
echo "--- tests/test_blas_threads.py: exit $rc_threads"
echo "--- the other files of tests/: exit ${rc[tests]}"
echo "--- tests/test_launch.py (Binder and Colab set-ups, fake Colab): exit ${rc[test-launch]}"
echo "--- nbval pass 1 (.venv, the default kernel): exit ${rc[nbval-pass-1]}"
echo "--- nbval pass 2 (Binder environment, $kernel): exit ${rc[nbval-pass-2]}"
report
status=0
for r in "$rc_site" "$rc_threads" "${rc[@]}"; do [ "$r" = 0 ] || status=1; done
[ ${#rc[@]} = ${#names[@]} ] || status=1
exit $status
