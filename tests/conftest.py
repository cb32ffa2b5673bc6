"""Shared fixtures: small seeded problems in the shapes rnnlib uses, an
independent autodiff oracle, and the ``equation`` marker.

A test declares the equations of Deep Learning §10.2 it checks with
``@pytest.mark.equation("10.24")`` (several numbers allowed). Numbers that are not
in ``rnnlib.EQUATIONS`` are an error at collection time. ``pytest --collect-only
--equation-report=FILE`` writes ``{test id: [numbers]}`` as JSON;
``tests/test_equations.py`` uses it to check that every equation is tested.
"""

import json
import os

import numpy as np
import pytest

from rnnlib import EQUATIONS, init_params


def examples(n: int) -> int:
    """Hypothesis examples for a property test: ``n``, or a fifth of it (at least 4)
    under mutation testing (RNNLIB_MUTATION=1), which runs the tests per mutant."""
    return max(4, n // 5) if os.environ.get("RNNLIB_MUTATION") else n


def pytest_addoption(parser):
    parser.addoption("--equation-report", metavar="FILE", default=None,
                     help="write the equation markers of the collected tests as JSON")


def pytest_collection_modifyitems(config, items):
    report = {}
    for item in items:
        numbers = [n for m in item.iter_markers("equation") for n in m.args]
        unknown = [n for n in numbers if n not in EQUATIONS]
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: equation marker {unknown} is not in rnnlib.EQUATIONS"
            )
        if numbers:
            report[item.nodeid] = numbers
    path = config.getoption("--equation-report")
    if path:
        with open(path, "w") as fh:
            json.dump(report, fh, indent=1)


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


def autograd_loss(arrs, x, y, n_in):
    """The loss written directly in HIPS autograd (an oracle independent of
    rnnlib): column-free rows, one time step at a time."""
    import autograd.numpy as anp

    U, W, V, b, c, h = arrs
    total = 0.0
    for t in range(x.shape[0]):
        xt = anp.eye(n_in)[x[t]] if x.dtype.kind in "iu" else x[t]
        h = anp.tanh(anp.dot(xt, U.T) + anp.dot(h, W.T) + b)
        o = anp.dot(h, V.T) + c
        logp = o - anp.log(anp.sum(anp.exp(o), axis=1, keepdims=True))
        total = total - anp.sum(logp[anp.arange(x.shape[1]), y[t]])
    return total
