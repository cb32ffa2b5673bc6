"""Stored outputs do not depend on the number of BLAS threads.

`make test` runs both nbval passes with one OpenBLAS thread per process, side by
side with the other tests (OpenBLAS threads spin while they wait for each other, so
two threads next to other work made chapter 6 three times slower). This test covers
the thread count instead: chapter 6's first training stage, the book's longest
computation, is run from the notebook's own cells with one thread and with as many
threads as the machine has cores (at least two), and each run must print exactly
what the notebook stores. Its products (32×128 by 128×128 per step, 1600×128 by
128×128 for the gradients) are above the size (m·n·k > 4·65536) from which OpenBLAS
splits a product over threads: two threads ran this stage 1.2x faster than one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "06_training_char_rnn.ipynb"
STAGES = "for steps in (100, 300, 800):"
FIRST_STAGE = "for steps in (100,):"

PROBE = """
import json, sys
from threadpoolctl import threadpool_info
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


@pytest.mark.parametrize("threads", [
    pytest.param(1, id="one_thread"),
    pytest.param(max(2, os.cpu_count() or 1), id="all_cores"),  # make test: alone
])
def test_chapter_6_prints_the_stored_output_whatever_the_thread_count(threads):
    code, stored = first_stage()
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads),
           "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [sys.executable, "-c", code + "\n" + PROBE], cwd=CHAPTER.parent, env=env,
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stderr.splitlines()[-1]) == [threads]  # it took effect
    assert run.stdout == stored
