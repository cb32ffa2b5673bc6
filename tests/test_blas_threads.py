"""Chapter 6's training does not depend on the number of BLAS threads.

`make test` runs both nbval passes with one OpenBLAS thread per process, side by
side with the other tests (OpenBLAS threads spin while they wait for each other, so
two threads next to other work made chapter 6 three times slower). This test covers
the thread count on the book's longest computation, last and alone: chapter 6's
set-up and first training stage (100 updates) are run from the notebook's own cells
with one thread and with one per available CPU (at least two). Both runs must print
exactly what the notebook stores, and the trained parameters must agree far below
what any output prints (measured: to 2e-14; they are not identical, so some product
is summed in another order with two threads). The stage's
products are large enough to be split on this machine's kernel: 32×128 by 128×128
per step and, for ∇W, 128×1600 by 1600×128 (m·n·k above OpenBLAS's 4·65536); two
threads ran it 1.2x faster than one.

Not covered: chapters 7 and 12 also train with products that size, and are run
with one thread only (their printed numbers are rounded far above round-off).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "06_training_char_rnn.ipynb"
STAGES = "for steps in (100, 300, 800):"
FIRST_STAGE = "for steps in (100,):"

AFTER = """
import json, sys
import numpy as np
from threadpoolctl import threadpool_info
np.savez(sys.argv[1], **state.params.arrays())
print(json.dumps([i["num_threads"] for i in threadpool_info()
                  if i["internal_api"] == "openblas"]), file=sys.stderr)
"""


def first_stage():
    """(code, stored output): the chapter's set-up cells and its training cell cut to
    the first stage (100 updates), and what the notebook stores for them."""
    cells = [c for c in nbformat.read(CHAPTER, as_version=4).cells
             if c.cell_type == "code"]
    train_at = next(i for i, c in enumerate(cells) if STAGES in c.source)
    # the imports and the data (cells 1-2; cell 0 is the Colab cell, cell 3 glues
    # the baselines, which needs a notebook kernel)
    code = [cells[1].source, cells[2].source,
            cells[train_at].source.replace(STAGES, FIRST_STAGE)]

    def stdout(cell):
        return "".join(o["text"] for o in cell.outputs if o.get("name") == "stdout")

    stages = stdout(cells[train_at]).splitlines(keepends=True)
    assert stages[0].startswith("after  100 updates"), stages[0]
    return "\n".join(code), stdout(cells[2]) + "".join(stages[:2])


def run(code, threads, out):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "MPLBACKEND": "Agg"}
    res = subprocess.run(
        [sys.executable, "-c", code + "\n" + AFTER, str(out)], cwd=CHAPTER.parent,
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert json.loads(res.stderr.splitlines()[-1]) == [threads]  # it took effect
    with np.load(out) as f:
        return res.stdout, dict(f)


def test_chapter_6_trains_and_prints_the_same_whatever_the_thread_count(tmp_path):
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2:
        pytest.skip(f"{cpus} CPU available: no second BLAS thread to compare")
    code, stored = first_stage()
    printed_1, params_1 = run(code, 1, tmp_path / "one.npz")
    printed_n, params_n = run(code, cpus, tmp_path / "all.npz")
    assert printed_1 == stored
    assert printed_n == stored
    assert params_1.keys() == params_n.keys()
    for name, p in params_1.items():
        scale = np.abs(p).max()
        assert np.abs(params_n[name] - p).max() <= 1e-9 * scale, name
