"""Shared fixtures: small seeded problems in the shapes rnnlib uses."""

import numpy as np
import pytest

from rnnlib import init_params


def make_problem(T=4, B=3, n_in=5, H=4, n_out=3, seed=0, dense=False, dtype=np.float64):
    """Seeded parameters, inputs (ids or dense), targets and h0."""
    rng = np.random.default_rng(seed)
    p = init_params(n_in, H, n_out, seed=rng, dtype=dtype, scale=0.8)
    p = p.replace(
        b=(0.3 * rng.standard_normal(H)).astype(dtype),
        c=(0.3 * rng.standard_normal(n_out)).astype(dtype),
    )
    if dense:
        x = rng.standard_normal((T, B, n_in)).astype(dtype)
    else:
        x = rng.integers(0, n_in, (T, B))
    y = rng.integers(0, n_out, (T, B))
    h0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
    return p, x, y, h0


@pytest.fixture
def problem():
    return make_problem()
