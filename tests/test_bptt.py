"""BPTT (10.17)–(10.28): hand-derived cases, finite differences, an independent
autodiff (HIPS autograd), batch properties and bad input."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from conftest import make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import (
    Params,
    backward,
    bptt,
    forward,
    grad_b,
    grad_c,
    grad_U,
    grad_V,
    grad_W,
    gradcheck,
    hidden_grad_step,
    hidden_grads,
    last_hidden_grad,
    loss_and_grads,
    output_grad,
    tanh_backward,
)
from rnnlib.gradcheck import numerical_gradient

FD_TOL = 1e-6  # finite differences (central, float64)
AUTOGRAD_TOL = 1e-9  # independent autodiff, float64
EXACT = 1e-12  # algebraic identities, up to float64 round-off
NAMES = ("U", "W", "V", "b", "c")


# ---------------------------------------------------------------- hand-derived cases


def test_output_grad_matches_hand_computed_case():
    yhat = np.array([[[0.2, 0.5, 0.3]], [[0.1, 0.1, 0.8]]])
    y = np.array([[1], [2]])
    np.testing.assert_allclose(
        output_grad(yhat, y), [[[0.2, -0.5, 0.3]], [[0.1, 0.1, -0.2]]], rtol=EXACT
    )


def test_last_hidden_grad_matches_hand_computed_case():
    p = Params(
        U=np.zeros((2, 1)),
        W=np.zeros((2, 2)),
        V=np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 4.0]]),
        b=np.zeros(2),
        c=np.zeros(3),
    )
    do = np.array([[1.0, 0.5, -1.0]])
    # V^T do = (1 + 1.5 + 0, 2 - 0.5 - 4) = (2.5, -2.5)
    np.testing.assert_allclose(last_hidden_grad(p, do), [[2.5, -2.5]], rtol=EXACT)


def test_hidden_grad_step_matches_hand_computed_case():
    p = Params(
        U=np.zeros((2, 1)),
        W=np.array([[1.0, 2.0], [0.0, 3.0]]),
        V=np.array([[1.0, -1.0]]),
        b=np.zeros(2),
        c=np.zeros(1),
    )
    dh_next = np.array([[4.0, 2.0]])
    h_next = np.array([[0.5, 0.0]])
    do_t = np.array([[2.0]])
    # diag(1 - h²) dh_next = (0.75 * 4, 1 * 2) = (3, 2)
    # W^T (3, 2) = (1*3 + 0*2, 2*3 + 3*2) = (3, 12);  V^T do = (2, -2)
    np.testing.assert_allclose(
        hidden_grad_step(p, dh_next, h_next, do_t), [[5.0, 10.0]], rtol=EXACT
    )


def scalar_bptt_by_hand(u, w, v, b, c, h0, x, y):
    """H = n_in = 1, n_out = 2, T = 2, B = 1, all written out as scalars."""
    h1 = np.tanh(b + w * h0 + u * x[0])
    h2 = np.tanh(b + w * h1 + u * x[1])

    def probs(h):
        e = np.exp(np.array(c) + np.array(v) * h)
        return e / e.sum()

    do1 = probs(h1) - np.eye(2)[y[0]]
    do2 = probs(h2) - np.eye(2)[y[1]]
    dh2 = v[0] * do2[0] + v[1] * do2[1]
    da2 = (1 - h2**2) * dh2
    dh1 = w * da2 + v[0] * do1[0] + v[1] * do1[1]
    da1 = (1 - h1**2) * dh1
    return dict(
        h=(h0, h1, h2),
        do=(do1, do2),
        dh=(dh1, dh2),
        dh0=w * da1,
        dU=da1 * x[0] + da2 * x[1],
        dW=da1 * h0 + da2 * h1,
        dV=do1 * h1 + do2 * h2,
        db=da1 + da2,
        dc=do1 + do2,
    )


def scalar_case():
    u, w, v, b, c, h0 = 0.7, -1.3, (0.9, -0.4), 0.2, (0.1, -0.3), 0.5
    x, y = (1.5, -0.5), (1, 0)
    p = Params(
        U=np.array([[u]]),
        W=np.array([[w]]),
        V=np.array([[v[0]], [v[1]]]),
        b=np.array([b]),
        c=np.array(c),
    )
    xs = np.array(x).reshape(2, 1, 1)
    return (
        p,
        xs,
        np.array(y).reshape(2, 1),
        np.array([[h0]]),
        scalar_bptt_by_hand(u, w, v, b, c, h0, x, y),
    )


def test_parameter_grads_match_hand_computed_case():
    p, x, y, h0, ref = scalar_case()
    f = forward(p, x, h0)
    np.testing.assert_allclose(f.h[:, 0, 0], ref["h"], rtol=EXACT)
    do = output_grad(f.yhat, y)
    dh, dh0 = hidden_grads(p, f.h, do)
    np.testing.assert_allclose(dh[:, 0, 0], ref["dh"], rtol=EXACT)
    np.testing.assert_allclose(dh0[0, 0], ref["dh0"], rtol=EXACT)
    np.testing.assert_allclose(grad_c(do), ref["dc"], rtol=EXACT)  # (10.22)
    np.testing.assert_allclose(grad_b(dh, f.h), [ref["db"]], rtol=EXACT)  # (10.23)
    np.testing.assert_allclose(grad_V(do, f.h)[:, 0], ref["dV"], rtol=EXACT)  # (10.24)
    np.testing.assert_allclose(grad_W(dh, f.h), [[ref["dW"]]], rtol=EXACT)  # (10.26)
    np.testing.assert_allclose(grad_U(dh, f.h, x), [[ref["dU"]]], rtol=EXACT)  # (10.28)
    _, g = bptt(p, x, y, h0)
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(g, name).ravel(), np.ravel(ref["d" + name]), rtol=EXACT
        )


def test_tanh_backward_is_derivative_of_tanh():
    a = np.linspace(-2, 2, 7)
    dh = np.linspace(1, 3, 7)
    num = numerical_gradient(lambda z: float(np.tanh(z) @ dh), a)
    np.testing.assert_allclose(tanh_backward(dh, np.tanh(a)), num, rtol=FD_TOL)


# ---------------------------------------------------------------- finite differences

CONFIGS = [  # (T, B, n_in, H, n_out, dense)
    (1, 1, 1, 1, 1, False),
    (1, 1, 2, 1, 2, True),
    (3, 1, 4, 1, 3, False),
    (1, 3, 3, 2, 2, True),
    (5, 2, 6, 4, 3, False),
    (4, 3, 5, 3, 4, True),
]


@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS)
def test_bptt_matches_finite_differences(T, B, n_in, H, n_out, dense):
    p, x, y, h0 = make_problem(T, B, n_in, H, n_out, seed=T * 7 + B, dense=dense)
    back = loss_and_grads(p, x, y, h0)
    inputs = {**p.arrays(), "h0": h0}
    analytic = {**back.grads.arrays(), "h0": back.dh0}

    def f(d):
        q = Params(**{n: d[n] for n in NAMES})
        return bptt(q, x, y, d["h0"])[0]

    errors = gradcheck(f, inputs, analytic, eps=1e-5, tol=FD_TOL)
    assert set(errors) == set(NAMES) | {"h0"}


def test_output_grad_matches_finite_differences():
    rng = np.random.default_rng(3)
    o = rng.standard_normal((3, 2, 4))
    y = rng.integers(0, 4, (3, 2))
    from rnnlib import sequence_loss, softmax

    num = numerical_gradient(lambda z: sequence_loss(z, y), o)
    np.testing.assert_allclose(output_grad(softmax(o), y), num, rtol=FD_TOL, atol=1e-9)


def test_hidden_grads_match_finite_differences():
    """∇h(t) L (10.19)–(10.21): perturb h(t) by adding δ to a(t)'s output only.

    L as a function of h(t) alone is the loss of the outputs o(t..τ) when the
    forward pass restarts from h(t); so ∇h(t) L is the gradient of that loss."""
    p, x, y, h0 = make_problem(T=4, B=2, seed=11)
    f = forward(p, x, h0)
    dh, _ = hidden_grads(p, f.h, output_grad(f.yhat, y))
    from rnnlib import sequence_loss

    for t in range(1, 5):

        def tail_loss(h_t, t=t):
            out = sequence_loss(forward(p, x[t:], h_t).o, y[t:]) if t < 4 else 0.0
            o_t = h_t @ p.V.T + p.c
            return out + sequence_loss(o_t[None], y[t - 1 : t])

        num = numerical_gradient(tail_loss, f.h[t])
        np.testing.assert_allclose(dh[t - 1], num, rtol=FD_TOL, atol=1e-9)


# ---------------------------------------------------------------- autograd oracle


def autograd_loss(arrs, x, y, n_in):
    """The loss written directly in HIPS autograd: per step, column-free rows."""
    U, W, V, b, c, h = arrs
    total = 0.0
    for t in range(x.shape[0]):
        xt = anp.eye(n_in)[x[t]] if x.dtype.kind in "iu" else x[t]
        h = anp.tanh(anp.dot(xt, U.T) + anp.dot(h, W.T) + b)
        o = anp.dot(h, V.T) + c
        logp = o - anp.log(anp.sum(anp.exp(o), axis=1, keepdims=True))
        total = total - anp.sum(logp[anp.arange(x.shape[1]), y[t]])
    return total


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bptt_matches_autograd(dense, seed):
    p, x, y, h0 = make_problem(T=6, B=3, n_in=5, H=4, n_out=3, seed=seed, dense=dense)
    arrs = [p.U, p.W, p.V, p.b, p.c, h0]
    want_loss = autograd_loss(arrs, x, y, p.n_in)
    want = autograd_grad(autograd_loss)(arrs, x, y, p.n_in)
    back = loss_and_grads(p, x, y, h0)
    loss = back.loss
    np.testing.assert_allclose(loss, want_loss, rtol=AUTOGRAD_TOL)
    got = [*back.grads.arrays().values(), back.dh0]
    for name, g, w in zip(NAMES + ("h0",), got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=AUTOGRAD_TOL, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- properties

problems = st.builds(
    lambda T, B, n_in, H, n_out, seed, dense: make_problem(
        T, B, n_in, H, n_out, seed, dense
    ),
    T=st.integers(1, 5),
    B=st.integers(1, 4),
    n_in=st.integers(1, 5),
    H=st.integers(1, 5),
    n_out=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    dense=st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(problems)
def test_batch_is_sum_of_sequences(prob):
    p, x, y, h0 = prob
    back = loss_and_grads(p, x, y, h0)
    loss = back.loss
    parts = [
        loss_and_grads(p, x[:, i : i + 1], y[:, i : i + 1], h0[i : i + 1])
        for i in range(x.shape[1])
    ]
    np.testing.assert_allclose(loss, sum(q.loss for q in parts), rtol=1e-10)
    for name in NAMES:
        total = sum(getattr(q.grads, name) for q in parts)
        np.testing.assert_allclose(
            getattr(back.grads, name), total, rtol=1e-9, atol=1e-12, err_msg=name
        )
    np.testing.assert_allclose(
        back.dh0, np.concatenate([q.dh0 for q in parts]), rtol=1e-10, atol=1e-13
    )


@settings(max_examples=40, deadline=None)
@given(problems)
def test_grad_c_is_sum_of_output_grads(prob):
    p, x, y, h0 = prob
    f = forward(p, x, h0)
    do = output_grad(f.yhat, y)
    _, g = bptt(p, x, y, h0)
    np.testing.assert_array_equal(g.c, do.reshape(-1, p.n_out).sum(axis=0))
    np.testing.assert_array_equal(grad_c(do), g.c)


@settings(max_examples=25, deadline=None)
@given(problems, st.sampled_from([np.float32, np.float64]))
def test_shapes_and_dtypes_preserved(prob, dtype):
    p, x, y, h0 = prob
    p = p.astype(dtype)
    back = loss_and_grads(p, x, y, h0)
    loss = back.loss
    assert isinstance(loss, float)
    for name in NAMES:
        g = getattr(back.grads, name)
        assert g.shape == getattr(p, name).shape and g.dtype == dtype, name
    assert back.dh0.shape == h0.shape and back.dh0.dtype == dtype


def test_float32_gradients_close_to_float64():
    p, x, y, h0 = make_problem(T=8, B=4, n_in=6, H=5, n_out=4, seed=5)
    _, g64 = bptt(p, x, y, h0)
    _, g32 = bptt(p.astype(np.float32), x, y, h0.astype(np.float32))
    for name in NAMES:
        np.testing.assert_allclose(
            getattr(g32, name), getattr(g64, name), rtol=1e-4, atol=1e-5, err_msg=name
        )


def test_grad_U_ids_equals_dense_one_hot():
    p, x, y, h0 = make_problem(T=6, B=4, n_in=7, seed=9)
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
    assert np.isfinite(loss)
    assert all(np.isfinite(a).all() for a in g.arrays().values())


def test_backward_equals_bptt():
    p, x, y, h0 = make_problem(seed=6)
    _, g = bptt(p, x, y, h0)
    b = backward(p, forward(p, x, h0), y)
    for name in NAMES:
        np.testing.assert_array_equal(getattr(b.grads, name), getattr(g, name))


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
    with pytest.raises(ValueError, match="parameter b must be finite"):
        bptt(p.replace(b=np.full_like(p.b, np.nan)), x, y)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 4\); got \(4,\)"):
        bptt(p, x, y, np.zeros(4))
    with pytest.raises(TypeError, match="fwd must be rnnlib.Forward; got tuple"):
        backward(p, (1, 2), y)


def test_gradient_functions_reject_bad_shapes():
    p, x, y, h0 = make_problem(T=4, B=3)
    f = forward(p, x, h0)
    do = output_grad(f.yhat, y)
    dh, _ = hidden_grads(p, f.h, do)
    with pytest.raises(
        ValueError, match=r"h must have shape \(5, 3, 4\); got \(4, 3, 4\)"
    ):
        grad_W(dh, f.h[1:])
    with pytest.raises(
        ValueError, match=r"do must have shape \(·, ·, 3\); got \(4, 3, 2\)"
    ):
        hidden_grads(p, f.h, do[..., :2])
    with pytest.raises(TypeError, match="n_in must be given when x holds token ids"):
        grad_U(dh, f.h, x)
    with pytest.raises(ValueError, match=r"x must have shape \(4, 3\); got \(4, 2\)"):
        grad_U(dh, f.h, x[:, :2], n_in=5)
    with pytest.raises(ValueError, match=r"do_last must have shape \(·, 3\)"):
        last_hidden_grad(p, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"h_next must have shape \(3, 4\)"):
        hidden_grad_step(p, dh[0], f.h[0, :2], do[0])
    with pytest.raises(ValueError, match=r"yhat must have shape \(T, B, n_out\)"):
        output_grad(f.yhat[0], y)
    with pytest.raises(ValueError, match=r"h must have shape \(3, 4\); got \(3, 2\)"):
        tanh_backward(dh[0], f.h[0, :, :2])
    with pytest.raises(ValueError, match=r"h must have shape \(5, 3, ·\)"):
        grad_V(do, f.h[:2])
    with pytest.raises(ValueError, match=r"h must have shape \(5, 3, 4\)"):
        grad_b(dh, f.h[:3])
    with pytest.raises(ValueError, match=r"do must have shape \(·, ·, ·\); got \(3,\)"):
        grad_c(np.zeros(3))


def test_bptt_results_are_not_overwritten_by_later_calls():
    """bptt reuses scratch arrays between calls; nothing it returns may alias them."""
    p, x, y, h0 = make_problem(T=5, B=3, seed=12)
    first = loss_and_grads(p, x, y, h0)
    saved = {n: a.copy() for n, a in first.grads.arrays().items()}
    dh0, h_last = first.dh0.copy(), first.h_last.copy()
    fwd = forward(p, x, h0)
    fwd_h = fwd.h.copy()
    loss_and_grads(p, (x + 1) % p.n_in, y, -h0)  # same shapes: same workspace
    for n, a in first.grads.arrays().items():
        np.testing.assert_array_equal(a, saved[n], err_msg=n)
    np.testing.assert_array_equal(first.dh0, dh0)
    np.testing.assert_array_equal(first.h_last, h_last)
    np.testing.assert_array_equal(fwd.h, fwd_h)
    np.testing.assert_array_equal(first.h_last, fwd.h[-1])


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
