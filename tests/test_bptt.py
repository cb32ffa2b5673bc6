"""The fast path, rnnlib.bptt / rnnlib.loss_and_grads (rnnlib.fast): loss and every
gradient of L (10.12)–(10.28) against finite differences, an independent autodiff
(HIPS autograd) and the composition of the per-equation functions; batch
properties, workspace reuse, threads and bad input."""

import numpy as np
import pytest
from autograd import grad as autograd_grad
from conftest import autograd_loss, examples, make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import (
    Params,
    backward,
    bptt,
    forward,
    gradcheck,
    loss_and_grads,
    sequence_loss,
)

FD_TOL = 1e-6  # finite differences (central, float64)
AUTOGRAD_TOL = 1e-9  # independent autodiff, float64
# fast path vs the per-equation composition: the same sums in another order
COMPOSITION_RTOL = {np.float64: 1e-11, np.float32: 2e-4}
NAMES = ("U", "W", "V", "b", "c")


def assert_arrays_close(got, want, rtol, name):
    """Max-norm relative agreement: |got - want| <= rtol * max|want| elementwise."""
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


# ---------------------------------------------------------------- finite differences

CONFIGS = [  # (T, B, n_in, H, n_out, dense); n_out >= 2, else L ≡ 0
    (1, 1, 1, 1, 2, False),
    (1, 1, 2, 1, 2, True),
    (3, 1, 4, 2, 3, False),
    (1, 3, 3, 2, 2, True),
    (5, 2, 6, 4, 3, False),
    (4, 3, 5, 3, 4, True),
]


@pytest.mark.equation("10.12", "10.13", "10.14", "10.17", "10.18", "10.19",
                      "10.20", "10.21", "10.22", "10.23", "10.24", "10.25",
                      "10.26", "10.27", "10.28")
@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS)
def test_bptt_matches_finite_differences(T, B, n_in, H, n_out, dense):
    p, x, y, h0 = make_problem(T, B, n_in, H, n_out, seed=T * 7 + B, dense=dense)
    back = loss_and_grads(p, x, y, h0)
    inputs = {**p.arrays(), "h0": h0}
    analytic = {**back.grads.arrays(), "h0": back.dh0}
    assert all(np.abs(g).max() > 1e-5 for g in analytic.values())  # can fail

    def f(d):
        q = Params(**{n: d[n] for n in NAMES})
        return sequence_loss(forward(q, x, d["h0"]).o, y)

    errors = gradcheck(f, inputs, analytic, eps=1e-5, tol=FD_TOL)
    assert set(errors) == set(NAMES) | {"h0"}


# ---------------------------------------------------------------- autograd oracle


@pytest.mark.equation("10.14", "10.24", "10.26", "10.28")
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bptt_matches_autograd(dense, seed):
    p, x, y, h0 = make_problem(T=6, B=3, n_in=5, H=4, n_out=3, seed=seed, dense=dense)
    arrs = [p.U, p.W, p.V, p.b, p.c, h0]
    want_loss = autograd_loss(arrs, x, y, p.n_in)
    want = autograd_grad(autograd_loss)(arrs, x, y, p.n_in)
    back = loss_and_grads(p, x, y, h0)
    np.testing.assert_allclose(back.loss, want_loss, rtol=AUTOGRAD_TOL)
    got = [*back.grads.arrays().values(), back.dh0]
    for name, g, w in zip(NAMES + ("h0",), got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=AUTOGRAD_TOL, atol=1e-12, err_msg=name)
    f = forward(p, x, h0)
    np.testing.assert_array_equal(back.h_last, f.h[-1])


# ---------------------------------------------------------------- fast == composed

problems = st.builds(
    make_problem,
    T=st.integers(1, 5),
    B=st.integers(1, 4),
    n_in=st.integers(1, 5),
    H=st.integers(1, 5),
    n_out=st.integers(2, 4),  # n_out = 1 makes L ≡ 0 and every gradient 0
    seed=st.integers(0, 2**16),
    dense=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)


@settings(max_examples=examples(60), deadline=None)
@given(problems)
def test_fast_path_equals_composition_of_equation_functions(prob):
    """loss_and_grads == forward + step_losses + backward (one call per equation),
    in float32 and float64, on random shapes, ids and dense inputs."""
    p, x, y, h0 = prob
    rtol = COMPOSITION_RTOL[p.dtype.type]
    fast = loss_and_grads(p, x, y, h0)
    f = forward(p, x, h0)
    slow = backward(p, f, y)
    assert_arrays_close(fast.loss, sequence_loss(f.o, y), rtol, "loss")
    for name in NAMES:
        g = getattr(fast.grads, name)
        assert g.dtype == p.dtype and g.shape == getattr(p, name).shape, name
        assert_arrays_close(g, getattr(slow.grads, name), rtol, name)
    assert fast.dh0.dtype == p.dtype
    assert_arrays_close(fast.dh0, slow.dh0, rtol, "dh0")
    np.testing.assert_array_equal(fast.h_last, f.h[-1])
    assert isinstance(fast.loss, float)
    assert bptt(p, x, y, h0)[0] == fast.loss


# ---------------------------------------------------------------- properties


@settings(max_examples=examples(30), deadline=None)
@given(problems)
def test_batch_is_sum_of_sequences(prob):
    p, x, y, h0 = prob
    p, h0 = p.astype(np.float64), h0.astype(np.float64)
    back = loss_and_grads(p, x, y, h0)
    parts = [
        loss_and_grads(p, x[:, i : i + 1], y[:, i : i + 1], h0[i : i + 1])
        for i in range(x.shape[1])
    ]
    np.testing.assert_allclose(back.loss, sum(q.loss for q in parts), rtol=1e-10)
    for name in NAMES:
        total = sum(getattr(q.grads, name) for q in parts)
        np.testing.assert_allclose(
            getattr(back.grads, name), total, rtol=1e-9, atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(
        back.dh0, np.concatenate([q.dh0 for q in parts]), rtol=1e-10, atol=1e-13
    )


def test_float32_gradients_close_to_float64():
    p, x, y, h0 = make_problem(T=8, B=4, n_in=6, H=5, n_out=4, seed=5)
    _, g64 = bptt(p, x, y, h0)
    _, g32 = bptt(p.astype(np.float32), x, y, h0.astype(np.float32))
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(g32, name), getattr(g64, name), rtol=1e-4, atol=1e-5, err_msg=name
        )


@pytest.mark.equation("10.28")
def test_grad_U_ids_equals_dense_one_hot():
    p, x, y, h0 = make_problem(T=6, B=4, n_in=7, seed=9)
    x[0, 0] = 6  # the largest id occurs, so a wrong column count is caught
    _, g_ids = bptt(p, x, y, h0)
    _, g_dense = bptt(p, np.eye(7)[x], y, h0)
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(g_ids, name), getattr(g_dense, name), rtol=1e-12, atol=1e-14
        )


def test_log_softmax_gradients_finite_for_huge_logits():
    p, x, y, h0 = make_problem(T=3, B=2, seed=4)
    p = p.replace(V=p.V * 1e4)
    loss, g = bptt(p, x, y, h0)
    assert np.isfinite(loss) and loss > 1e3
    assert all(np.isfinite(a).all() for a in g.arrays().values())


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "x, y, exc, match",
    [
        (
            np.zeros((4, 3), int),
            np.zeros((5, 3), int),
            ValueError,
            r"y must have shape \(4, 3\); got \(5, 3\)",
        ),
        (
            np.zeros((4, 3), int),
            np.zeros((4, 2), int),
            ValueError,
            r"y must have shape \(4, 3\); got \(4, 2\)",
        ),
        (
            np.zeros((4, 3), int),
            np.full((4, 3), 3),
            ValueError,
            r"y must hold ids in \[0, 3\); got values in \[3, 3\]",
        ),
        (
            np.zeros((4, 3), int),
            np.full((4, 3), -2),
            ValueError,
            r"y must hold ids in \[0, 3\); got values in \[-2, -2\]",
        ),
        (
            np.zeros((4, 3), int),
            np.zeros((4, 3)),
            TypeError,
            "y must hold integer token ids; got dtype float64",
        ),
        (np.zeros((4, 3), int), [[0.5]], TypeError, "y must hold integer token ids"),
        (
            np.zeros((0, 3), int),
            np.zeros((0, 3), int),
            ValueError,
            "x must have at least one time step; got T=0",
        ),
        (
            np.zeros((4, 0), int),
            np.zeros((4, 0), int),
            ValueError,
            "x must have at least one sequence; got B=0",
        ),
        (
            np.full((4, 3), 9),
            np.zeros((4, 3), int),
            ValueError,
            r"x must hold ids in \[0, 5\); got values in \[9, 9\]",
        ),
        (
            np.full((4, 3, 5), np.inf),
            np.zeros((4, 3), int),
            ValueError,
            "x must be finite",
        ),
        (
            np.zeros((4, 3, 5), np.complex128),
            np.zeros((4, 3), int),
            TypeError,
            "x must hold int ids or floats; got dtype complex128",
        ),
    ],
)
def test_bptt_rejects_bad_input(x, y, exc, match):
    p, *_ = make_problem()
    with pytest.raises(exc, match=match):
        bptt(p, x, y)


def test_bptt_rejects_nan_params_and_bad_h0():
    p, x, y, _ = make_problem()
    bad = p.replace(b=np.full_like(p.b, np.nan))
    with pytest.raises(ValueError, match="parameter b must be finite"):
        bptt(bad, x, y)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 4\); got \(4,\)"):
        bptt(p, x, y, np.zeros(4))
    with pytest.raises(ValueError, match="h0 must be finite"):
        bptt(p, x, y, np.full((3, 4), np.nan))
    with pytest.raises(TypeError, match="p must be rnnlib.Params; got dict"):
        loss_and_grads({}, x, y)


# ---------------------------------------------------------------- workspace, threads


def test_bptt_results_are_not_overwritten_by_later_calls():
    """bptt reuses scratch arrays between calls; nothing it returns may alias them."""
    p, x, y, h0 = make_problem(T=5, B=3, seed=12)
    first = loss_and_grads(p, x, y, h0)
    saved = {n: a.copy() for n, a in first.grads.arrays().items()}
    dh0, h_last = first.dh0.copy(), first.h_last.copy()
    second = loss_and_grads(p, (x + 1) % p.n_in, y, -h0)  # same shapes: same workspace
    assert second.loss != first.loss
    for n, a in first.grads.arrays().items():
        np.testing.assert_array_equal(a, saved[n], err_msg=n)
    np.testing.assert_array_equal(first.dh0, dh0)
    np.testing.assert_array_equal(first.h_last, h_last)
    np.testing.assert_array_equal(first.h_last, forward(p, x, h0).h[-1])


def test_bptt_gives_the_same_result_after_a_call_with_other_shapes():
    p, x, y, h0 = make_problem(T=5, B=3, seed=13)
    first = loss_and_grads(p, x, y, h0)
    loss_and_grads(p, x[:2], y[:2], h0)  # another workspace
    again = loss_and_grads(p, x, y, h0)
    assert again.loss == first.loss
    for n in NAMES:
        np.testing.assert_array_equal(getattr(again.grads, n), getattr(first.grads, n))


def test_bptt_is_thread_safe():
    from concurrent.futures import ThreadPoolExecutor

    problems = [make_problem(T=6, B=4, seed=s) for s in range(8)]
    expected = [bptt(*prob) for prob in problems]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda prob: bptt(*prob), problems * 4))
    for (loss, g), (want_loss, want) in zip(got, expected * 4, strict=True):
        assert loss == want_loss
        for n in NAMES:
            np.testing.assert_array_equal(getattr(g, n), getattr(want, n))


def test_workspace_is_reused_for_the_same_sizes_only():
    from rnnlib.fast import cached_workspace

    ws = cached_workspace(3, 2, 4, 5, np.float64)
    assert cached_workspace(3, 2, 4, 5, np.float64) is ws
    assert cached_workspace(3, 2, 4, 5, np.float32) is not ws
