"""The benchmark's per-step reference loop must compute the same thing as rnnlib,
or its speed ratio means nothing."""

import importlib.util
from pathlib import Path

import numpy as np
from conftest import make_problem

from rnnlib import bptt

spec = importlib.util.spec_from_file_location(
    "bench_bptt", Path(__file__).resolve().parents[1] / "benchmarks" / "bench_bptt.py"
)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_reference_loop_matches_bptt():
    p, x, y, _ = make_problem(T=6, B=3, n_in=5, H=4, n_out=5, seed=2)
    loss, g = bptt(p, x, y)
    ref = bench.reference_bptt(p, x, y)
    np.testing.assert_allclose(ref[0], loss, rtol=1e-12)
    for name, r in zip("UWVbc", ref[1:], strict=True):
        np.testing.assert_allclose(r, getattr(g, name), rtol=1e-10, atol=1e-14)
