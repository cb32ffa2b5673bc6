"""The per-equation gradient functions (10.18)–(10.28) of rnnlib.gradients.

Expected values come from hand-worked cases (with H = 2 and non-symmetric
matrices, so a transposed gradient fails), central finite differences and an
independent autodiff (HIPS autograd); never from rnnlib's own output.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad as autograd_grad
from conftest import autograd_loss, examples, make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import (
    Params,
    backward,
    forward,
    grad_b,
    grad_c,
    grad_U,
    grad_V,
    grad_W,
    hidden_grad_step,
    hidden_grads,
    last_hidden_grad,
    numerical_gradient,
    output_grad,
    sequence_loss,
    softmax,
    tanh_backward,
)

FD_TOL = 1e-6  # finite differences (central, float64)
AUTOGRAD_TOL = 1e-9  # independent autodiff, float64
EXACT = 1e-12  # hand-worked values, up to float64 round-off
NAMES = ("U", "W", "V", "b", "c")


def params_2x2(W=((1.0, 2.0), (0.0, -1.0)), V=((1.0, 0.0), (2.0, -1.0))):
    """H = 2, n_in = 3, n_out = 2 with non-symmetric W and V (U, b, c unused)."""
    return Params(U=np.zeros((2, 3)), W=np.array(W), V=np.array(V),
                  b=np.zeros(2), c=np.zeros(2))


# ---------------------------------------------------------------- hand-worked cases


@pytest.mark.equation("10.18")
def test_output_grad_matches_hand_computed_case():
    yhat = np.array([[[0.2, 0.5, 0.3]], [[0.1, 0.1, 0.8]]])
    y = np.array([[1], [2]])
    np.testing.assert_allclose(
        output_grad(yhat, y), [[[0.2, -0.5, 0.3]], [[0.1, 0.1, -0.2]]], rtol=EXACT
    )


@pytest.mark.equation("10.19")
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


@pytest.mark.equation("10.20", "10.21")
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


def one_step_case():
    """T = 1, B = 1, H = 2: h(0) = (1, 2), h(1) = (0.5, 0), ∇h(1) L = (4, -2).

    diag(1 - h(1)²) = diag(0.75, 1), so ∇a(1) L = (3, -2).
    """
    h = np.array([[[1.0, 2.0]], [[0.5, 0.0]]])
    dh = np.array([[[4.0, -2.0]]])
    return dh, h


@pytest.mark.equation("10.23")
def test_grad_b_matches_hand_computed_case():
    dh, h = one_step_case()
    np.testing.assert_allclose(grad_b(dh, h), [3.0, -2.0], rtol=EXACT)


@pytest.mark.equation("10.25", "10.26")
def test_grad_W_matches_hand_computed_case_and_is_not_transposed():
    dh, h = one_step_case()
    # ∇a(1) L h(0)^T = (3, -2)^T (1, 2) = [[3, 6], [-2, -4]]
    np.testing.assert_allclose(grad_W(dh, h), [[3.0, 6.0], [-2.0, -4.0]], rtol=EXACT)


@pytest.mark.equation("10.27", "10.28")
def test_grad_U_matches_hand_computed_case_dense_and_ids():
    dh, h = one_step_case()
    # dense x(1) = (1, 0, 2): ∇a(1) L x^T = [[3, 0, 6], [-2, 0, -4]]
    x = np.array([[[1.0, 0.0, 2.0]]])
    np.testing.assert_allclose(
        grad_U(dh, h, x), [[3.0, 0.0, 6.0], [-2.0, 0.0, -4.0]], rtol=EXACT
    )
    # id 2 is the one-hot (0, 0, 1): ∇a(1) L goes to column 2 only
    np.testing.assert_allclose(
        grad_U(dh, h, np.array([[2]]), n_in=3),
        [[0.0, 0.0, 3.0], [0.0, 0.0, -2.0]],
        rtol=EXACT,
    )


@pytest.mark.equation("10.24")
def test_grad_V_matches_hand_computed_case():
    # T = 2, B = 1, n_out = 2, H = 2: Σ_t ∇o(t) h(t)^T
    do = np.array([[[1.0, -1.0]], [[0.5, 2.0]]])
    h = np.array([[[9.0, 9.0]], [[0.5, -0.25]], [[1.0, 3.0]]])  # h[0] unused
    # (1, -1)^T (0.5, -0.25) + (0.5, 2)^T (1, 3)
    # = [[0.5, -0.25], [-0.5, 0.25]] + [[0.5, 1.5], [2, 6]]
    np.testing.assert_allclose(
        grad_V(do, h), [[1.0, 1.25], [1.5, 6.25]], rtol=EXACT
    )


@pytest.mark.equation("10.22")
def test_grad_c_matches_hand_computed_case():
    do = np.array([[[1.0, -1.0], [0.5, 0.0]], [[0.5, 2.0], [-3.0, 1.0]]])
    # sum over t and b: (1 + 0.5 + 0.5 - 3, -1 + 0 + 2 + 1)
    np.testing.assert_allclose(grad_c(do), [-1.0, 2.0], rtol=EXACT)


@pytest.mark.equation("10.19", "10.21")
def test_hidden_grads_match_hand_computed_case_and_dh0_is_not_transposed():
    p = params_2x2()
    # T = 1: ∇h(1) L = V^T do(1) = (1, -1) V = (1 - 2, 0 + 1) = (-1, 1)   (10.19)
    do = np.array([[[1.0, -1.0]]])
    h = np.array([[[0.3, 0.7]], [[0.5, 0.0]]])
    dh, dh0 = hidden_grads(p, h, do)
    np.testing.assert_allclose(dh, [[[-1.0, 1.0]]], rtol=EXACT)
    # ∇a(1) L = (0.75 * -1, 1 * 1) = (-0.75, 1);
    # ∇h(0) L = W^T ∇a(1) L = (-0.75 * 1 + 1 * 0, -0.75 * 2 + 1 * -1) = (-0.75, -2.5)
    np.testing.assert_allclose(dh0, [[-0.75, -2.5]], rtol=EXACT)


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


@pytest.mark.equation("10.18", "10.19", "10.21", "10.22", "10.23", "10.24",
                      "10.26", "10.28")
def test_two_step_chain_matches_scalar_hand_derivation():
    p, x, y, h0, ref = scalar_case()
    f = forward(p, x, h0)
    np.testing.assert_allclose(f.h[:, 0, 0], ref["h"], rtol=EXACT)
    do = output_grad(f.yhat, y)
    dh, dh0 = hidden_grads(p, f.h, do)
    np.testing.assert_allclose(dh[:, 0, 0], ref["dh"], rtol=EXACT)
    np.testing.assert_allclose(dh0[0, 0], ref["dh0"], rtol=EXACT)
    np.testing.assert_allclose(grad_c(do), ref["dc"], rtol=EXACT)
    np.testing.assert_allclose(grad_b(dh, f.h), [ref["db"]], rtol=EXACT)
    np.testing.assert_allclose(grad_V(do, f.h)[:, 0], ref["dV"], rtol=EXACT)
    np.testing.assert_allclose(grad_W(dh, f.h), [[ref["dW"]]], rtol=EXACT)
    np.testing.assert_allclose(grad_U(dh, f.h, x), [[ref["dU"]]], rtol=EXACT)
    g = backward(p, f, y).grads
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


@pytest.mark.equation("10.18")
def test_output_grad_matches_finite_differences():
    rng = np.random.default_rng(3)
    o = rng.standard_normal((3, 2, 4))
    y = rng.integers(0, 4, (3, 2))
    num = numerical_gradient(lambda z: sequence_loss(z, y), o)
    np.testing.assert_allclose(output_grad(softmax(o), y), num, rtol=FD_TOL, atol=1e-9)


@pytest.mark.equation("10.19", "10.20", "10.21")
def test_hidden_grads_match_finite_differences():
    """∇h(t) L (10.19)–(10.21): L as a function of h(t) alone is the loss of the
    outputs o(t..τ) when the forward pass restarts from h(t)."""
    p, x, y, h0 = make_problem(T=4, B=2, seed=11)
    f = forward(p, x, h0)
    dh, dh0 = hidden_grads(p, f.h, output_grad(f.yhat, y))

    def tail_loss(h_t, t):
        later = sequence_loss(forward(p, x[t:], h_t).o, y[t:]) if t < 4 else 0.0
        here = sequence_loss((h_t @ p.V.T + p.c)[None], y[t - 1 : t]) if t else 0.0
        return later + here

    for t in range(1, 5):
        num = numerical_gradient(lambda h_t, t=t: tail_loss(h_t, t), f.h[t])
        np.testing.assert_allclose(dh[t - 1], num, rtol=FD_TOL, atol=1e-9)
    num0 = numerical_gradient(lambda h_0: tail_loss(h_0, 0), h0)
    np.testing.assert_allclose(dh0, num0, rtol=FD_TOL, atol=1e-9)


# ---------------------------------------------------------------- autograd oracle


@pytest.mark.equation("10.22", "10.23", "10.24", "10.25", "10.26", "10.27", "10.28")
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_autograd(dense, seed):
    """The composition of the per-equation functions against HIPS autograd."""
    p, x, y, h0 = make_problem(T=5, B=3, n_in=5, H=4, n_out=3, seed=seed, dense=dense)
    arrs = [p.U, p.W, p.V, p.b, p.c, h0]
    want = autograd_grad(autograd_loss)(arrs, x, y, p.n_in)
    back = backward(p, forward(p, x, h0), y)
    got = [*back.grads.arrays().values(), back.dh0]
    for name, g, w in zip(NAMES + ("h0",), got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=AUTOGRAD_TOL, atol=1e-12, err_msg=name)


gradient_problems = st.builds(
    make_problem,
    T=st.integers(1, 4),
    B=st.integers(1, 3),
    n_in=st.integers(1, 4),
    H=st.integers(1, 4),
    n_out=st.integers(2, 4),  # n_out = 1 makes L ≡ 0 and every gradient 0
    seed=st.integers(0, 2**16),
    dense=st.booleans(),
)


@pytest.mark.equation("10.22")
@settings(max_examples=examples(20), deadline=None)
@given(gradient_problems)
def test_grad_c_matches_autograd(prob):
    p, x, y, h0 = prob
    f = forward(p, x, h0)

    def loss_of_c(c):
        o = anp.dot(f.h[1:], p.V.T) + c
        logp = o - anp.log(anp.sum(anp.exp(o), axis=-1, keepdims=True))
        return -anp.sum(logp * np.eye(p.n_out)[y])

    want = autograd_grad(loss_of_c)(p.c)
    assert np.abs(want).max() > 0  # a case that can fail
    np.testing.assert_allclose(grad_c(output_grad(f.yhat, y)), want,
                               rtol=AUTOGRAD_TOL, atol=1e-12)


# ---------------------------------------------------------------- bad input


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
    with pytest.raises(ValueError, match=r"x must hold ids in \[0, 2\)"):
        grad_U(dh, f.h, x + 2, n_in=2)
    with pytest.raises(ValueError, match=r"x must have shape \(4, 3, ·\)"):
        grad_U(dh, f.h, np.zeros((4, 2, 5)))
    with pytest.raises(ValueError, match=r"do_last must have shape \(·, 3\)"):
        last_hidden_grad(p, np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"h_next must have shape \(3, 4\)"):
        hidden_grad_step(p, dh[0], f.h[0, :2], do[0])
    with pytest.raises(ValueError, match=r"do_t must have shape \(3, 3\)"):
        hidden_grad_step(p, dh[0], f.h[0], do[0, :2])
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
    with pytest.raises(ValueError, match=r"h must have shape \(5, 3, 4\)"):
        hidden_grads(p, f.h[:3], do)


def test_backward_rejects_mismatched_forward():
    p, x, y, h0 = make_problem(T=4, B=3)
    f = forward(p, x, h0)
    with pytest.raises(TypeError, match="fwd must be rnnlib.Forward; got tuple"):
        backward(p, (1, 2), y)
    other = make_problem(T=4, B=3, H=5)[0]
    with pytest.raises(ValueError, match="fwd does not match p"):
        backward(other, f, y)
    other = make_problem(T=4, B=3, n_out=4)[0]
    with pytest.raises(ValueError, match="fwd does not match p"):
        backward(other, f, y)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 3\)"):
        backward(p, f, y[:2])


def exact_message(call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == message


def test_gradient_functions_error_messages_are_exact():
    p, x, y, h0 = make_problem(T=4, B=3)
    f = forward(p, x, h0)
    do = output_grad(f.yhat, y)
    dh, _ = hidden_grads(p, f.h, do)
    exact_message(lambda: grad_V(np.zeros(3), f.h), ValueError,
                  "do must have shape (·, ·, ·); got (3,)")
    exact_message(lambda: grad_V("do", f.h), TypeError,
                  "do must be a numpy array; got str")
    exact_message(lambda: grad_U(dh, f.h, "abc", n_in=5), TypeError,
                  "x must be a numpy array; got str")
    exact_message(lambda: backward(make_problem(T=4, B=3, H=5)[0], f, y), ValueError,
                  "fwd does not match p: it was computed with other sizes")
    exact_message(lambda: grad_c(do.astype(int)), TypeError,
                  "do must have dtype float32 or float64; got int64")
    exact_message(lambda: hidden_grad_step(p, np.zeros((3, 5)), f.h[1], do[0]),
                  ValueError, "dh_next must have shape (·, 4); got (3, 5)")
    exact_message(lambda: grad_U(dh, f.h, x), TypeError,
                  "n_in must be given when x holds token ids")
    exact_message(lambda: grad_U(dh, f.h, x, n_in=0), ValueError,
                  "n_in must be >= 1; got 0")


def test_gradient_functions_keep_the_dtype_of_the_gradient():
    p, x, y, h0 = make_problem(T=3, B=2)
    f = forward(p, x, h0)
    do = output_grad(f.yhat, y)
    dh, _ = hidden_grads(p, f.h, do)
    do32, dh32 = do.astype(np.float32), dh.astype(np.float32)
    assert grad_V(do32, f.h).dtype == np.float32
    assert grad_W(dh32, f.h).dtype == np.float32
    assert grad_b(dh32, f.h).dtype == np.float32
    assert grad_U(dh32, f.h, x, n_in=5).dtype == np.float32
    assert grad_U(dh32, f.h, np.eye(5)[x]).dtype == np.float32
    assert tanh_backward(dh32[0], f.h[1]).dtype == np.float32
    p32 = p.astype(np.float32)
    assert hidden_grad_step(p32, dh[0], f.h[1], do[0]).dtype == np.float32
    assert last_hidden_grad(p32, do[0]).dtype == np.float32
    assert hidden_grads(p32, f.h, do).dh.dtype == np.float32


def test_output_grad_and_tanh_backward_keep_float32_and_name_bad_input():
    yhat = np.full((1, 1, 2), 0.5, np.float32)
    assert output_grad(yhat, np.array([[1]])).dtype == np.float32
    exact_message(lambda: tanh_backward("dh", np.zeros(2)), TypeError,
                  "dh must be a numpy array; got str")
