"""Time rnnlib.bptt of this checkout against another checkout, in one process.

Run:  python benchmarks/compare_revisions.py BASELINE_DIR [--repeats N]

BASELINE_DIR holds the other version's ``rnnlib/`` package, e.g. made with
``git archive <commit> rnnlib | tar -x -C /tmp/base``. The two versions are
timed alternately on the same inputs (the sizes of ``bench_bptt.py``), so load
from other processes affects both alike; ratios > 1 mean this checkout is faster.
Both must return the same loss, or the timing means nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import rnnlib

SIZES = [(25, 1, 65, 100), (50, 32, 65, 256), (100, 64, 128, 512)]  # T, B, V, H


def load_baseline(directory: Path):
    init = directory / "rnnlib" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "rnnlib_baseline", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["rnnlib_baseline"] = module
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline", type=Path)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    base = load_baseline(args.baseline)
    print(f"{'T':>4} {'B':>3} {'H':>4} {'dtype':>7} | {'baseline ms':>11} "
          f"{'this ms':>9} | {'baseline/this':>13}")
    rng = np.random.default_rng(0)
    for T, B, n_vocab, H in SIZES:
        x = rng.integers(0, n_vocab, (T, B))
        y = rng.integers(0, n_vocab, (T, B))
        for dtype in (np.float32, np.float64):
            p = rnnlib.init_params(n_vocab, H, n_vocab, seed=0, dtype=dtype)
            q = base.Params(**p.arrays())
            assert rnnlib.bptt(p, x, y)[0] == base.bptt(q, x, y)[0]
            times = {"base": [], "this": []}
            for _ in range(args.repeats):
                for name, fn, params in (("base", base.bptt, q),
                                         ("this", rnnlib.bptt, p)):
                    t0 = time.perf_counter()
                    fn(params, x, y)
                    times[name].append(time.perf_counter() - t0)
            tb, tt = (statistics.median(times[k]) for k in ("base", "this"))
            print(f"{T:>4} {B:>3} {H:>4} {np.dtype(dtype).name:>7} | "
                  f"{1e3 * tb:>11.2f} {1e3 * tt:>9.2f} | {tb / tt:>13.2f}")


if __name__ == "__main__":
    main()
