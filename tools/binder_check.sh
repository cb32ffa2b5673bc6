#!/usr/bin/env bash
# Build a Binder-style environment offline and run every chapter in it under strict
# nbval, on another OpenBLAS kernel: the second nbval pass of `make test`.
#
# Usage: tools/binder_check.sh WORKDIR [PYTHON]
#
# As Binder (repo2docker) does, starting from a copy of the repository as a clone
# sees it (tools/repo_copy.py): a fresh virtual environment, binder/requirements.txt
# installed, then binder/postBuild, both run from the repository root with nothing
# else installed. The requirements are installed by uv (the project's .venv has it,
# or $UV), not pip: the same exact pins, 10x faster; `pip check` then confirms that
# pip finds them consistent, and postBuild runs pip itself, as on Binder. Then
# every chapter is executed with chapters/ as
# the working directory (nbval starts each kernel in the notebook's folder) and its
# outputs compared with the committed ones, with
#   OPENBLAS_CORETYPE  the environment's value if set, else SandyBridge (no FMA,
#                      unlike the AVX2/AVX-512 kernels OpenBLAS picks on CI machines)
#   OPENBLAS_NUM_THREADS=1
# tests/test_blas_kernel.py checks (threadpoolctl) that the kernel took effect.
set -euo pipefail
work=${1:?usage: tools/binder_check.sh WORKDIR [PYTHON]}
python=${2:-python3}
here=$(cd "$(dirname "$0")/.." && pwd)
uv=${UV:-$here/.venv/bin/uv}
[ -x "$uv" ] || { echo "binder: no uv at $uv (run make .venv/.installed, or set UV)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
# Absolute: the script cds into $work/repo, and a relative $work/venv/bin on PATH
# would then miss, so `python` would silently be the caller's (the project .venv,
# which postBuild's `pip install -e .` then re-pointed at this copy).
work=$(cd "$work" && pwd)
"$python" "$here/tools/repo_copy.py" "$work/repo" >/dev/null
"$python" -m venv "$work/venv"
# Bytecode is cached on first import, as on Binder (PYTHONDONTWRITEBYTECODE, if set,
# would make every kernel compile its imports again).
export PATH="$work/venv/bin:$PATH" PIP_DISABLE_PIP_VERSION_CHECK=1
unset JUPYTER_PATH PYTHONPATH VIRTUAL_ENV PYTHONDONTWRITEBYTECODE
cd "$work/repo"
echo "binder: install binder/requirements.txt (uv), pip check, then binder/postBuild"
"$uv" pip install --quiet --python "$work/venv/bin/python" -r binder/requirements.txt
python -m pip check
bash binder/postBuild >/dev/null
# Fail loudly if anything above ran outside the Binder environment.
python -c 'import sys; assert sys.prefix == sys.argv[1], (sys.prefix, sys.argv[1])' \
  "$work/venv"

export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SandyBridge} OPENBLAS_NUM_THREADS=1
python - <<'PY'
import os
import numpy  # noqa: F401  (loads OpenBLAS)
from threadpoolctl import threadpool_info
kernels = [i.get("architecture") for i in threadpool_info() if i["internal_api"] == "openblas"]
print(f"binder: nbval pass 2 with OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}"
      f" OPENBLAS_NUM_THREADS=1: OpenBLAS runs the {', '.join(map(str, kernels))} kernel")
PY
exec python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
  chapters tests/test_blas_kernel.py
