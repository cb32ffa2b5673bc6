"""Long-term dependencies (10.36)–(10.39) and the tanh Jacobian products: hand-derived
cases, finite differences of the rnnlib functions, an independent autodiff (HIPS
autograd of plain loops written here in column-vector form), float32, bad input."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import jacobian as autograd_jacobian

from rnnlib import (
    Params,
    eigen_state_at,
    eigendecompose,
    forward,
    init_params,
    jacobian_norm_bound,
    jacobian_products,
    linear_state_at,
    linear_states,
    numerical_gradient,
)

FD_TOL = 1e-6        # central differences, float64
AUTOGRAD_TOL = 1e-10  # independent autodiff, float64
EXACT = 1e-12        # algebraic identities, float64 round-off
F32_TOL = 1e-4       # float32 against float64


def rand_W(rng, H, radius=None, symmetric=False):
    W = rng.normal(size=(H, H)) / np.sqrt(H)
    if symmetric:
        W = (W + W.T) / 2
    if radius is not None:
        W *= radius / np.abs(np.linalg.eigvals(W)).max()
    return W


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


# -------------------------------------------------------- independent references


def steps_column(W, h0_col, t):
    """(10.36) as printed, column vectors: h = W^T h, t times (autograd numpy)."""
    h = h0_col
    for _ in range(t):
        h = anp.dot(W.T, h)
    return h


def tanh_run_column(W, h_t, ks):
    """h^(k) = tanh(W h^(k-1) + k_k) from h^(t), column form: (10.8)–(10.9)."""
    h = h_t
    for k in ks:
        h = anp.tanh(anp.dot(W, h) + k)
    return h


# ------------------------------------------------------------ hand-derived cases


@pytest.mark.equation("10.36")
def test_linear_states_match_hand_computed_case():
    # W not symmetric, so W h and W^T h differ: W^T = [[1, 0], [2, 3]]
    W = np.array([[1.0, 2.0], [0.0, 3.0]])
    h = linear_states(W, np.array([[1.0, 1.0]]), 2)
    # h1 = W^T (1, 1) = (1, 5); h2 = W^T (1, 5) = (1, 2 + 15) = (1, 17)
    np.testing.assert_allclose(h[:, 0], [[1, 1], [1, 5], [1, 17]], rtol=EXACT)


@pytest.mark.equation("10.38")
def test_eigendecompose_matches_hand_computed_case():
    # [[2, 1], [1, 2]] has eigenvalues 1 (vector (1, -1)/√2) and 3 ((1, 1)/√2)
    Q, lam = eigendecompose(np.array([[2.0, 1.0], [1.0, 2.0]]))
    np.testing.assert_allclose(lam, [1.0, 3.0], rtol=EXACT)
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(np.abs(Q), s * np.ones((2, 2)), rtol=EXACT)
    assert Q[0, 0] * Q[1, 0] < 0 < Q[0, 1] * Q[1, 1]


def test_jacobian_products_match_hand_computed_case_with_one_unit():
    # H = 1: ∂h(τ)/∂h(t) = Π_{k>t} (1 - h_k²) w
    w = 0.7
    p = Params(U=np.zeros((1, 1)), W=np.array([[w]]), V=np.zeros((1, 1)),
               b=np.zeros(1), c=np.zeros(1))
    hs = np.array([0.1, 0.5, -0.3, 0.8]).reshape(4, 1, 1)
    J = jacobian_products(p, hs)
    slopes = 1 - hs[1:, 0, 0] ** 2
    want = [w**3 * slopes.prod(), w**2 * slopes[1:].prod(), w * slopes[2], 1.0]
    np.testing.assert_allclose(J[:, 0, 0, 0], want, rtol=EXACT)
    bound = jacobian_norm_bound(p, hs)
    np.testing.assert_allclose(bound[:, 0], np.abs(want), rtol=EXACT)


# --------------------------------------------------- identities between the forms


@pytest.mark.equation("10.37")
@pytest.mark.parametrize("H, t", [(1, 0), (1, 5), (3, 1), (4, 7), (6, 12)])
def test_linear_state_at_equals_stepping(H, t):
    rng = np.random.default_rng(H + t)
    W, h0 = rand_W(rng, H), rng.normal(size=(3, H))
    want = np.stack([steps_column(W, h0[b], t) for b in range(3)])
    np.testing.assert_allclose(linear_state_at(W, h0, t), want, rtol=1e-11)
    np.testing.assert_allclose(linear_states(W, h0, t)[t], want, rtol=1e-11)


@pytest.mark.equation("10.38")
@pytest.mark.parametrize("H", [1, 2, 5, 8])
def test_eigendecompose_reconstructs_symmetric_W(H):
    rng = np.random.default_rng(H)
    W = rand_W(rng, H, symmetric=True)
    Q, lam = eigendecompose(W)
    np.testing.assert_allclose(Q.T @ Q, np.eye(H), atol=EXACT)
    np.testing.assert_allclose(Q @ np.diag(lam) @ Q.T, W, atol=EXACT)
    np.testing.assert_allclose(lam, np.sort(np.linalg.eigvalsh(W)), atol=EXACT)


@pytest.mark.equation("10.39")
@pytest.mark.parametrize("H, t", [(1, 3), (2, 0), (4, 6), (7, 20)])
def test_eigen_state_at_equals_matrix_power(H, t):
    rng = np.random.default_rng(10 * H + t)
    W, h0 = rand_W(rng, H, radius=1.05, symmetric=True), rng.normal(size=(2, H))
    want = np.stack([steps_column(W, h0[b], t) for b in range(2)])
    np.testing.assert_allclose(eigen_state_at(W, h0, t), want, rtol=1e-10)


def test_book_printed_10_39_is_a_different_vector():
    """Q^T Λ^t Q h(0), as printed, is not h(t) unless Q is symmetric."""
    rng = np.random.default_rng(3)
    W, h0 = rand_W(rng, 4, symmetric=True), rng.normal(size=4)
    Q, lam = eigendecompose(W)
    printed = Q.T @ np.diag(lam**3) @ Q @ h0
    assert rel(printed, steps_column(W, h0, 3)) > 0.1
    np.testing.assert_allclose(eigen_state_at(W, h0[None], 3)[0],
                               steps_column(W, h0, 3), rtol=1e-10)


@pytest.mark.parametrize("radius", [0.9, 1.0, 1.1])
def test_norm_of_symmetric_power_is_radius_to_the_t(radius):
    rng = np.random.default_rng(0)
    W = rand_W(rng, 6, radius=radius, symmetric=True)
    J = eigen_state_at(W, np.eye(6), 30)  # rows of W^30: the transposed Jacobian
    np.testing.assert_allclose(np.linalg.norm(J, 2), radius**30, rtol=1e-10)


# ------------------------------------- Jacobians: finite differences and autograd


@pytest.mark.equation("10.36")
@pytest.mark.parametrize("H, T", [(1, 1), (2, 3), (4, 5)])
def test_linear_states_jacobian_matches_autograd_and_fd(H, T):
    rng = np.random.default_rng(H * T)
    W, h0 = rand_W(rng, H), rng.normal(size=H)
    want = autograd_jacobian(lambda v: steps_column(W, v, T))(h0)  # ∂h(T)/∂h(0)
    # (∂h(T)/∂h(0))^T = W^T: the rows of the identity run through (10.36)
    ours = linear_states(W, np.eye(H), T)[T].T
    assert rel(ours, want) < AUTOGRAD_TOL
    g = rng.normal(size=H)  # d(g · h(T))/dh(0) = J^T g
    fd = numerical_gradient(lambda v: g @ linear_states(W, v[None], T)[T, 0], h0)
    assert rel(fd, want.T @ g) < FD_TOL
    # and the dependence on W: d(g · h(T))/dW
    want_W = autograd_jacobian(lambda M: anp.dot(g, steps_column(M, h0, T)))(W)
    fd_W = numerical_gradient(lambda M: g @ linear_states(M, h0[None], T)[T, 0], W)
    assert rel(fd_W, want_W) < FD_TOL


@pytest.mark.equation("10.37")
@pytest.mark.parametrize("H, t", [(1, 2), (3, 4), (5, 9)])
def test_linear_state_at_jacobian_matches_autograd_and_fd(H, t):
    rng = np.random.default_rng(H + 100 * t)
    W, h0 = rand_W(rng, H), rng.normal(size=H)
    want = autograd_jacobian(lambda v: steps_column(W, v, t))(h0)
    assert rel(linear_state_at(W, np.eye(H), t).T, want) < AUTOGRAD_TOL
    g = rng.normal(size=H)
    want_W = autograd_jacobian(lambda M: anp.dot(g, steps_column(M, h0, t)))(W)
    fd_W = numerical_gradient(lambda M: g @ linear_state_at(M, h0[None], t)[0], W)
    assert rel(fd_W, want_W) < FD_TOL


@pytest.mark.equation("10.39")
@pytest.mark.parametrize("H, t", [(1, 2), (3, 4), (5, 9)])
def test_eigen_state_at_jacobian_matches_autograd_and_fd(H, t):
    rng = np.random.default_rng(H + 7 * t)
    W, h0 = rand_W(rng, H, radius=1.1, symmetric=True), rng.normal(size=H)
    want = autograd_jacobian(lambda v: steps_column(W, v, t))(h0)
    assert rel(eigen_state_at(W, np.eye(H), t).T, want) < AUTOGRAD_TOL
    g = rng.normal(size=H)
    fd = numerical_gradient(lambda v: g @ eigen_state_at(W, v[None], t)[0], h0)
    assert rel(fd, want.T @ g) < FD_TOL


def tanh_problem(T, B, H, seed, scale=1.0, dtype=np.float64):
    n_tok = 5
    p = init_params(n_tok, H, n_tok, seed=seed, scale=scale / np.sqrt(H))
    p = p.replace(b=np.random.default_rng(seed).normal(size=H) * 0.3)
    if dtype == np.float32:
        p = Params(**{k: v.astype(np.float32) for k, v in p.arrays().items()})
    x = np.random.default_rng(seed + 1).integers(0, n_tok, size=(T, B))
    return p, x, forward(p, x)


@pytest.mark.parametrize("T, B, H", [(1, 1, 1), (3, 2, 3), (6, 3, 4)])
def test_jacobian_products_match_autograd(T, B, H):
    p, x, fwd = tanh_problem(T, B, H, seed=T + B + H, scale=1.5)
    J = jacobian_products(p, fwd.h)
    assert J.shape == (T + 1, B, H, H)
    ks = p.U[:, x].transpose(1, 2, 0) + p.b  # (T, B, H): U x(k) + b, per step
    for b in range(B):
        for t in range(T + 1):
            run = lambda v, b=b, t=t: tanh_run_column(p.W, v, ks[t:, b])  # noqa: E731
            want = autograd_jacobian(run)(fwd.h[t, b])
            assert rel(J[t, b], want) < AUTOGRAD_TOL, (t, b)


@pytest.mark.parametrize("tau", [None, 2, 0])
def test_jacobian_products_match_finite_differences(tau):
    T, B, H = 4, 2, 3
    p, x, fwd = tanh_problem(T, B, H, seed=5)
    J = jacobian_products(p, fwd.h, tau)
    tau_ = T if tau is None else tau
    assert J.shape == (tau_ + 1, B, H, H)
    g = np.random.default_rng(9).normal(size=H)
    for b in range(B):
        for t in range(tau_ + 1):
            def f(v, t=t, b=b):  # g · h(τ) as a function of h(t), by rnnlib.forward
                if t == tau_:
                    return g @ v
                return g @ forward(p, x[t:tau_, b : b + 1], v[None]).h[-1, 0]
            fd = numerical_gradient(f, fwd.h[t, b])
            assert rel(J[t, b].T @ g, fd) < FD_TOL, (t, b)


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_jacobian_norm_bound_holds_and_is_below_norm_of_W_to_the_distance(scale):
    T, B, H = 12, 4, 6
    p, _, fwd = tanh_problem(T, B, H, seed=2, scale=scale)
    J = jacobian_products(p, fwd.h)
    bound = jacobian_norm_bound(p, fwd.h)
    norms = np.linalg.norm(J, 2, axis=(2, 3))  # spectral norms, (T+1, B)
    assert (norms <= bound * (1 + 1e-12)).all()
    distance = np.arange(T, -1, -1)[:, None]
    assert (bound <= np.linalg.norm(p.W, 2) ** distance * (1 + 1e-12)).all()


# ----------------------------------------------------------------------- float32


def test_float32_is_preserved_and_close_to_float64():
    rng = np.random.default_rng(0)
    W, h0 = rand_W(rng, 4, radius=0.95, symmetric=True), rng.normal(size=(2, 4))
    W32, h32 = W.astype(np.float32), h0.astype(np.float32)
    for f, args in [(linear_states, (6,)), (linear_state_at, (6,)),
                    (eigen_state_at, (6,))]:
        got = f(W32, h32, *args)
        assert got.dtype == np.float32, f.__name__
        assert rel(got, f(W, h0, *args)) < F32_TOL, f.__name__
    Q, lam = eigendecompose(W32)
    assert Q.dtype == lam.dtype == np.float32
    p, _, fwd = tanh_problem(5, 2, 3, seed=1)
    p32, _, fwd32 = tanh_problem(5, 2, 3, seed=1, dtype=np.float32)
    J32, B32 = jacobian_products(p32, fwd32.h), jacobian_norm_bound(p32, fwd32.h)
    assert J32.dtype == B32.dtype == np.float32
    assert rel(J32, jacobian_products(p, fwd.h)) < F32_TOL
    assert rel(B32, jacobian_norm_bound(p, fwd.h)) < F32_TOL


# --------------------------------------------------------------------- bad input

W2 = np.eye(2)
H0 = np.ones((1, 2))


@pytest.mark.parametrize("call, error, match", [
    (lambda: linear_states([[1.0, 2.0]], H0, 2), ValueError, "W must be a square"),
    (lambda: linear_states("W", H0, 2), TypeError, "W must be a numpy array"),
    (lambda: linear_states(np.eye(2, dtype=int), H0, 2), TypeError, "W must have"),
    (lambda: linear_states(W2 * np.nan, H0, 2), ValueError, "W must be finite"),
    (lambda: linear_states(W2, np.ones((1, 3)), 2), ValueError, r"h0 must have shape"),
    (lambda: linear_states(W2, np.ones(2), 2), ValueError, r"h0 must have shape"),
    (lambda: linear_states(W2, H0, -1), ValueError, "T must be >= 0"),
    (lambda: linear_states(W2, H0, 2.0), TypeError, "T must be an int"),
    (lambda: linear_state_at(W2, H0, True), TypeError, "t must be an int"),
    (lambda: linear_state_at(np.ones((2, 3)), H0, 1), ValueError, "W must be a square"),
    (lambda: eigen_state_at(W2, H0, -2), ValueError, "t must be >= 0"),
    (lambda: eigendecompose(np.array([[1.0, 2.0], [0.0, 1.0]])), ValueError,
     "W must be symmetric"),
    (lambda: eigen_state_at(np.array([[1.0, 2.0], [0.0, 1.0]]), H0, 1), ValueError,
     "W must be symmetric"),
    (lambda: eigendecompose(np.ones(3)), ValueError, "W must be a square"),
])
def test_linear_functions_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_jacobian_functions_reject_bad_input():
    p, _, fwd = tanh_problem(3, 2, 3, seed=0)
    for f in (jacobian_products, jacobian_norm_bound):
        with pytest.raises(TypeError, match="p must be rnnlib.Params"):
            f(p.W, fwd.h)
        with pytest.raises(ValueError, match=r"h must have shape \(·, ·, 3\)"):
            f(p, fwd.h[..., :2])
        with pytest.raises(ValueError, match=r"h must have shape"):
            f(p, fwd.h[0])
        with pytest.raises(ValueError, match="B=0"):
            f(p, fwd.h[:, :0])
        with pytest.raises(ValueError, match="tau must be <= T = 3"):
            f(p, fwd.h, 4)
        with pytest.raises(ValueError, match="tau must be >= 0"):
            f(p, fwd.h, -1)
        with pytest.raises(TypeError, match="tau must be an int"):
            f(p, fwd.h, 1.5)
        with pytest.raises(ValueError, match="h must be finite"):
            f(p, np.full_like(fwd.h, np.nan))
        with pytest.raises(TypeError, match="h must"):
            f(p, fwd.h.astype(complex))
