"""The GRU, rnnlib.gru (10.45)–(10.47): forward against an independent HIPS autograd
implementation of each variant's printed formulas and against PyTorch (a torch
implementation of Cho et al.'s equations; ``torch.nn.GRU`` for ``variant="torch"``);
gradients against finite differences and autograd on several shapes including
T = B = H = 1; the fast path against the per-equation composition; batch
additivity, dtypes, bad input."""

import numpy as np
import pytest
from autograd import grad as autograd_grad
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlib
from rnnlib import gradcheck, gru
from rnnlib.gru import GRUParams

FD_TOL = 1e-6         # central finite differences, float64
AUTOGRAD_TOL = 1e-9   # independent autodiff, float64
TORCH_TOL = 1e-10     # torch in float64
COMPOSITION_RTOL = {np.float64: 1e-11, np.float32: 2e-4}
NAMES = gru.NAMES


def make_problem(T=4, B=3, n_in=5, H=4, n_out=3, seed=0, dense=False,
                 dtype=np.float64):
    """Seeded GRU parameters (non-zero biases), inputs, targets and h0."""
    rng = np.random.default_rng(seed)
    p = gru.init_params(n_in, H, n_out, seed=rng, dtype=dtype, scale=0.8)
    p = p.replace(**{n: (0.3 * rng.standard_normal(getattr(p, n).shape)).astype(dtype)
                     for n in ("bu", "br", "b", "c")})
    if dense:
        x = rng.standard_normal((T, B, n_in)).astype(dtype)
    else:
        x = rng.integers(0, n_in, (T, B))
    y = rng.integers(0, n_out, (T, B))
    h0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
    return p, x, y, h0


def assert_arrays_close(got, want, rtol, name):
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


# ---------------------------------------------------------------- independent oracle


def autograd_gru_loss(arrs, x, y, n_in, variant="standard", states=None):
    """The loss of a GRU written from the formulas in HIPS autograd, independent
    of rnnlib. ``arrs`` = the 11 parameters in field order, then h0. Column
    vectors are rows here: W h is h @ W.T."""
    import autograd.numpy as anp

    Uu, Wu, bu, Ur, Wr, br, U, W, b, V, c, h = arrs

    def sig(a):
        return 1 / (1 + anp.exp(-a))

    total = 0.0
    for t in range(x.shape[0]):
        xt = anp.eye(n_in)[x[t]] if x.dtype.kind in "iu" else x[t]
        u = sig(anp.dot(xt, Uu.T) + anp.dot(h, Wu.T) + bu)
        r = sig(anp.dot(xt, Ur.T) + anp.dot(h, Wr.T) + br)
        if variant == "standard":      # Cho et al. (2014)
            hc = anp.tanh(anp.dot(xt, U.T) + anp.dot(r * h, W.T) + b)
        elif variant == "book":        # (10.45) as printed: σ
            hc = sig(anp.dot(xt, U.T) + anp.dot(r * h, W.T) + b)
        else:                          # torch.nn.GRU, b_hn = 0
            hc = anp.tanh(anp.dot(xt, U.T) + r * anp.dot(h, W.T) + b)
        h = u * h + (1 - u) * hc
        if states is not None:
            states.append(h)
        o = anp.dot(h, V.T) + c
        logp = o - anp.log(anp.sum(anp.exp(o), axis=1, keepdims=True))
        total = total - anp.sum(logp[anp.arange(x.shape[1]), y[t]])
    return total


def arrs_of(p, h0):
    return [*p.arrays().values(), h0]


# ---------------------------------------------------------------- params


def test_params_fields_shapes_and_methods():
    p = gru.init_params(5, 4, 3, seed=1)
    assert tuple(p.arrays()) == ("Uu", "Wu", "bu", "Ur", "Wr", "br", "U", "W", "b",
                                 "V", "c")
    assert (p.n_in, p.n_hidden, p.n_out, p.dtype) == (5, 4, 3, np.float64)
    for n in ("Uu", "Ur", "U"):
        assert getattr(p, n).shape == (4, 5)
    for n in ("Wu", "Wr", "W"):
        assert getattr(p, n).shape == (4, 4)
    assert p.V.shape == (3, 4) and p.c.shape == (3,)
    for n in ("bu", "br", "b", "c"):
        assert not getattr(p, n).any()
    q = p.astype(np.float32)
    assert q.dtype == np.float32 and all(a.dtype == np.float32
                                         for a in q.arrays().values())
    assert p.replace(b=np.ones(4)).b.sum() == 4
    np.testing.assert_array_equal(gru.init_params(5, 4, 3, seed=1).W, p.W)
    assert not np.array_equal(gru.init_params(5, 4, 3, seed=2).W, p.W)
    # std 1/sqrt(H) by default
    big = gru.init_params(3, 400, 2, seed=0)
    assert abs(big.W.std() - 0.05) < 0.002
    assert GRUParams(**p.arrays()).W is p.W


def test_params_reject_bad_fields():
    p = gru.init_params(5, 4, 3)
    with pytest.raises(ValueError, match=r"Wr must have shape \(4, 4\) given U "
                                         r"\(4, 5\) and V \(3, 4\); got \(4, 3\)"):
        p.replace(Wr=np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"bu must have shape \(4,\)"):
        p.replace(bu=np.zeros(5))
    with pytest.raises(TypeError, match="parameters must share one dtype"):
        p.replace(Uu=p.Uu.astype(np.float32))
    with pytest.raises(TypeError,
                       match="br must have dtype float32 or float64; got int"):
        p.replace(br=np.zeros(4, int))
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        gru.init_params(5, 4, 3, dtype=np.int32)
    with pytest.raises(ValueError, match="n_hidden must be >= 1; got 0"):
        gru.init_params(5, 0, 3)


# ---------------------------------------------------------------- forward


@pytest.mark.equation("10.45", "10.46", "10.47")
@pytest.mark.parametrize("variant", gru.VARIANTS)
@pytest.mark.parametrize("dense", [False, True])
def test_forward_matches_autograd_reference(variant, dense):
    p, x, y, h0 = make_problem(T=5, B=3, n_in=4, H=3, n_out=3, seed=2, dense=dense)
    states = []
    want_loss = autograd_gru_loss(arrs_of(p, h0), x, y, p.n_in, variant, states)
    f = gru.forward(p, x, h0, variant=variant)
    assert f.h.shape == (6, 3, 3) and f.o.shape == (5, 3, 3)
    assert f.u.shape == f.r.shape == f.h_tilde.shape == (5, 3, 3)
    np.testing.assert_array_equal(f.h[0], h0)
    np.testing.assert_allclose(f.h[1:], np.array(states), rtol=0, atol=1e-14)
    loss = -np.take_along_axis(f.log_yhat, y[..., None], -1).sum()
    np.testing.assert_allclose(loss, want_loss, rtol=1e-13)


@pytest.mark.equation("10.45", "10.46", "10.47")
def test_forward_equals_per_equation_functions():
    p, x, _, h0 = make_problem(T=3, B=2, seed=4)
    f = gru.forward(p, x, h0)
    h = h0
    for t in range(3):
        u = rnnlib.gru_update_gate(p, x[t], h)
        r = rnnlib.gru_reset_gate(p, x[t], h)
        h = rnnlib.gru_state(p, x[t], h, u, r)
        np.testing.assert_array_equal(f.u[t], u)
        np.testing.assert_array_equal(f.r[t], r)
        np.testing.assert_allclose(f.h[t + 1], h, rtol=0, atol=1e-15)


@pytest.mark.equation("10.45", "10.46", "10.47")
def test_gate_equations_on_a_hand_worked_case():
    """H = 1, n_in = 1: the gates and state worked out by hand."""
    one = np.ones((1, 1))
    p = GRUParams(Uu=0.5 * one, Wu=-1.0 * one, bu=np.array([0.25]),
                  Ur=2.0 * one, Wr=0.5 * one, br=np.array([-1.0]),
                  U=1.5 * one, W=-2.0 * one, b=np.array([0.1]),
                  V=np.ones((2, 1)), c=np.zeros(2))
    x, h = np.array([[1.0]]), np.array([[0.4]])
    s = lambda a: 1 / (1 + np.exp(-a))                     # noqa: E731
    u_want = s(0.25 + 0.5 - 0.4)                            # σ(0.35)
    r_want = s(-1.0 + 2.0 + 0.2)                            # σ(1.2)
    cand = np.tanh(0.1 + 1.5 - 2.0 * r_want * 0.4)
    np.testing.assert_allclose(rnnlib.gru_update_gate(p, x, h), [[u_want]], 1e-15)
    np.testing.assert_allclose(rnnlib.gru_reset_gate(p, x, h), [[r_want]], 1e-15)
    u, r = np.array([[u_want]]), np.array([[r_want]])
    np.testing.assert_allclose(rnnlib.gru_candidate(p, x, h, r), [[cand]], 1e-15)
    np.testing.assert_allclose(rnnlib.gru_state(p, x, h, u, r),
                               [[u_want * 0.4 + (1 - u_want) * cand]], 1e-15)
    book = s(0.1 + 1.5 - 2.0 * r_want * 0.4)
    np.testing.assert_allclose(rnnlib.gru_candidate(p, x, h, r, variant="book"),
                               [[book]], 1e-15)
    # with H = 1, W (r h) = r (W h): the torch variant agrees here
    np.testing.assert_allclose(rnnlib.gru_candidate(p, x, h, r, variant="torch"),
                               [[cand]], 1e-15)


def test_torch_variant_differs_unless_W_is_diagonal():
    p, x, _, h0 = make_problem(T=4, B=3, H=4, seed=6)
    std = gru.forward(p, x, h0).h
    tor = gru.forward(p, x, h0, variant="torch").h
    assert np.abs(std - tor).max() > 1e-2              # different functions
    pd = p.replace(W=np.diag(np.diag(p.W)))             # W (r ⊙ h) = r ⊙ (W h)
    np.testing.assert_allclose(gru.forward(pd, x, h0).h,
                               gru.forward(pd, x, h0, variant="torch").h,
                               rtol=0, atol=1e-15)


def test_book_variant_is_the_standard_cell_with_sigmoid_candidate():
    """Read with the arrays the step uses, the printed (10.45) squashes the
    candidate with σ (values in (0, 1)) where Cho et al. use tanh; the gates are
    the same formula. (The values themselves are checked against autograd above.)"""
    p, x, _, h0 = make_problem(T=3, B=2, seed=8)
    f = gru.forward(p, x, h0, variant="book")
    assert f.h_tilde.min() > 0                          # σ: a candidate in (0, 1)
    g = gru.forward(p, x, h0)
    assert g.h_tilde.min() < 0                          # tanh: in (-1, 1)
    # the same gates formula, read at the same arrays
    np.testing.assert_array_equal(f.u[0], g.u[0])


# ---------------------------------------------------------------- torch


def _torch():
    return pytest.importorskip("torch")


def torch_cho_gru_loss(torch, p, x, y, h0):
    """Cho et al.'s GRU written in torch (autograd gives the gradients)."""
    P = {n: torch.tensor(a, requires_grad=True) for n, a in p.arrays().items()}
    h = torch.tensor(h0, requires_grad=True)
    h_init = h
    X = torch.tensor(np.eye(p.n_in)[x] if x.dtype.kind in "iu" else x)
    Y = torch.tensor(y)
    total = 0.0
    for t in range(x.shape[0]):
        u = torch.sigmoid(X[t] @ P["Uu"].T + h @ P["Wu"].T + P["bu"])
        r = torch.sigmoid(X[t] @ P["Ur"].T + h @ P["Wr"].T + P["br"])
        hc = torch.tanh(X[t] @ P["U"].T + (r * h) @ P["W"].T + P["b"])
        h = u * h + (1 - u) * hc
        o = h @ P["V"].T + P["c"]
        total = total + torch.nn.functional.cross_entropy(o, Y[t], reduction="sum")
    total.backward()
    grads = {n: t.grad.numpy() for n, t in P.items()}
    return total.item(), grads, h_init.grad.numpy(), h.detach().numpy()


@pytest.mark.equation("10.45", "10.46", "10.47")
@pytest.mark.parametrize("dense", [False, True])
def test_standard_cell_matches_torch_implementation_of_cho(dense):
    torch = _torch()
    p, x, y, h0 = make_problem(T=6, B=3, n_in=5, H=4, n_out=3, seed=9, dense=dense)
    loss, grads, dh0, h_last = torch_cho_gru_loss(torch, p, x, y, h0)
    for r in (gru.loss_and_grads(p, x, y, h0),
              gru.backward(p, gru.forward(p, x, h0), y)):
        np.testing.assert_allclose(r.loss, loss, rtol=TORCH_TOL)
        for n in NAMES:
            assert_arrays_close(getattr(r.grads, n), grads[n], TORCH_TOL, n)
        assert_arrays_close(r.dh0, dh0, TORCH_TOL, "dh0")
        np.testing.assert_allclose(r.h_last, h_last, rtol=0, atol=1e-14)


@pytest.mark.equation("10.45", "10.46", "10.47")
def test_torch_variant_matches_torch_nn_gru_with_copied_weights():
    """nn.GRU: r, z, n = σ(.), σ(.), tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
    h' = (1 - z) ⊙ n + z ⊙ h. Its z is our u; b_hn = 0; biases of r and z split
    between b_i* and b_h* (we put them all in b_i*)."""
    torch = _torch()
    p, x, y, h0 = make_problem(T=5, B=3, n_in=4, H=3, n_out=3, seed=10, dense=True)
    H = p.n_hidden
    cell = torch.nn.GRU(p.n_in, H, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.tensor(np.concatenate([p.Ur, p.Uu, p.U])))
        cell.weight_hh_l0.copy_(torch.tensor(np.concatenate([p.Wr, p.Wu, p.W])))
        cell.bias_ih_l0.copy_(torch.tensor(np.concatenate([p.br, p.bu, p.b])))
        cell.bias_hh_l0.zero_()
        out, _ = cell(torch.tensor(x), torch.tensor(h0)[None])
    f = gru.forward(p, x, h0, variant="torch")
    np.testing.assert_allclose(f.h[1:], out.numpy(), rtol=0, atol=1e-14)
    # and the standard (Cho) cell is a different function on the same weights
    assert np.abs(gru.forward(p, x, h0).h[1:] - out.numpy()).max() > 1e-3
    # gradients of the torch variant: nn.GRU + autograd against rnnlib's backward
    xt = torch.tensor(x)
    h0t = torch.tensor(h0, requires_grad=True)
    out, _ = cell(xt, h0t[None])
    Vt = torch.tensor(p.V, requires_grad=True)
    ct = torch.tensor(p.c, requires_grad=True)
    o = out @ Vt.T + ct
    loss = torch.nn.functional.cross_entropy(o.reshape(-1, p.n_out),
                                             torch.tensor(y).reshape(-1),
                                             reduction="sum")
    loss.backward()
    r = gru.backward(p, f, y)
    np.testing.assert_allclose(r.loss, loss.item(), rtol=TORCH_TOL)
    gi, gh = cell.weight_ih_l0.grad.numpy(), cell.weight_hh_l0.grad.numpy()
    gb = cell.bias_ih_l0.grad.numpy()
    want = {"Ur": gi[:H], "Uu": gi[H:2 * H], "U": gi[2 * H:],
            "Wr": gh[:H], "Wu": gh[H:2 * H], "W": gh[2 * H:],
            "br": gb[:H], "bu": gb[H:2 * H], "b": gb[2 * H:],
            "V": Vt.grad.numpy(), "c": ct.grad.numpy()}
    for n in NAMES:
        assert_arrays_close(getattr(r.grads, n), want[n], TORCH_TOL, n)
    assert_arrays_close(r.dh0, h0t.grad.numpy(), TORCH_TOL, "dh0")


# ---------------------------------------------------------------- gradients

CONFIGS = [  # (T, B, n_in, H, n_out, dense); n_out >= 2, else L ≡ 0
    (1, 1, 1, 1, 2, False),
    (1, 1, 2, 1, 2, True),
    (3, 1, 4, 2, 3, False),
    (1, 3, 3, 2, 2, True),
    (5, 2, 6, 4, 3, False),
    (4, 3, 5, 3, 4, True),
]


def _fd_check(p, x, y, h0, result, variant):
    inputs = {**p.arrays(), "h0": h0}
    analytic = {**result.grads.arrays(), "h0": result.dh0}
    assert all(np.abs(g).max() > 1e-6 for g in analytic.values())  # can fail

    def f(d):
        q = GRUParams(**{n: d[n] for n in NAMES})
        fwd = gru.forward(q, x, d["h0"], variant=variant)
        return -float(np.take_along_axis(fwd.log_yhat, y[..., None], -1).sum())

    errors = gradcheck(f, inputs, analytic, eps=1e-5, tol=FD_TOL)
    assert set(errors) == set(NAMES) | {"h0"}


@pytest.mark.equation("10.45", "10.46", "10.47")
@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS)
def test_fast_path_matches_finite_differences(T, B, n_in, H, n_out, dense):
    p, x, y, h0 = make_problem(T, B, n_in, H, n_out, seed=T * 7 + B, dense=dense)
    _fd_check(p, x, y, h0, gru.loss_and_grads(p, x, y, h0), "standard")


@pytest.mark.equation("10.45", "10.46", "10.47")
@pytest.mark.parametrize("variant", gru.VARIANTS)
@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS[::2] + CONFIGS[5:])
def test_step_backward_matches_finite_differences(T, B, n_in, H, n_out, dense,
                                                  variant):
    p, x, y, h0 = make_problem(T, B, n_in, H, n_out, seed=T + 3 * B, dense=dense)
    r = gru.backward(p, gru.forward(p, x, h0, variant=variant), y)
    _fd_check(p, x, y, h0, r, variant)


@pytest.mark.equation("10.45", "10.46", "10.47")
@pytest.mark.parametrize("variant", gru.VARIANTS)
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_autograd(variant, dense, seed):
    p, x, y, h0 = make_problem(T=5, B=3, n_in=4, H=3, n_out=3, seed=seed,
                               dense=dense)
    arrs = arrs_of(p, h0)
    want_loss = autograd_gru_loss(arrs, x, y, p.n_in, variant)
    want = autograd_grad(autograd_gru_loss)(arrs, x, y, p.n_in, variant)
    results = [gru.backward(p, gru.forward(p, x, h0, variant=variant), y)]
    if variant == "standard":
        results.append(gru.loss_and_grads(p, x, y, h0))
    for r in results:
        np.testing.assert_allclose(r.loss, want_loss, rtol=AUTOGRAD_TOL)
        for n, w in zip(NAMES, want, strict=False):
            assert_arrays_close(getattr(r.grads, n), w, AUTOGRAD_TOL, n)
        assert_arrays_close(r.dh0, want[-1], AUTOGRAD_TOL, "dh0")


@pytest.mark.equation("10.45")
def test_step_backward_of_one_step_matches_autograd():
    """gru_step_backward alone: ∇h_prev and ∇W of one step for an arbitrary
    upstream gradient dh, against autograd of <dh, h(h_prev)>."""
    import autograd.numpy as anp

    p, x, _, h0 = make_problem(T=1, B=2, n_in=3, H=3, n_out=2, seed=12, dense=True)
    rng = np.random.default_rng(3)
    dh = rng.standard_normal(h0.shape)
    for variant in gru.VARIANTS:
        def f(hp, W, variant=variant):
            def sig(a):
                return 1 / (1 + anp.exp(-a))
            u = sig(x[0] @ p.Uu.T + hp @ p.Wu.T + p.bu)
            r = sig(x[0] @ p.Ur.T + hp @ p.Wr.T + p.br)
            if variant == "torch":
                a = x[0] @ p.U.T + r * (hp @ W.T) + p.b
            else:
                a = x[0] @ p.U.T + (r * hp) @ W.T + p.b
            hc = sig(a) if variant == "book" else anp.tanh(a)
            return anp.sum(dh * (u * hp + (1 - u) * hc))

        fw = gru.forward(p, x, h0, variant=variant)
        s = rnnlib.gru_step_backward(p, h0, fw.u[0], fw.r[0], fw.h_tilde[0], dh,
                                     variant=variant)
        assert_arrays_close(s.dh_prev, autograd_grad(f, 0)(h0, p.W), AUTOGRAD_TOL,
                            variant)
        assert_arrays_close(s.dW, autograd_grad(f, 1)(h0, p.W), AUTOGRAD_TOL, variant)


@pytest.mark.equation("10.45", "10.46")
def test_update_gate_near_one_passes_the_state_through():
    """u → 1: h^(t) → h^(t-1) and ∂h^(t)/∂h^(t-1) → I (the GRU's carousel)."""
    p, x, _, h0 = make_problem(T=1, B=1, n_in=3, H=3, n_out=2, seed=5)
    p = p.replace(bu=np.full(3, 40.0))                  # σ(40) = 1 - 4e-18
    f = gru.forward(p, x, h0)
    np.testing.assert_allclose(f.h[1], h0, rtol=0, atol=1e-15)
    J = np.stack([rnnlib.gru_step_backward(p, h0, f.u[0], f.r[0], f.h_tilde[0],
                                           e[None]).dh_prev[0] for e in np.eye(3)])
    np.testing.assert_allclose(J, np.eye(3), rtol=0, atol=1e-15)


# ---------------------------------------------------------------- fast path, properties

problems = st.builds(
    lambda T, B, n_in, H, n_out, seed, dense, dtype: make_problem(
        T, B, n_in, H, n_out, seed, dense, dtype),
    T=st.integers(1, 6), B=st.integers(1, 4), n_in=st.integers(1, 5),
    H=st.integers(1, 5),
    n_out=st.integers(2, 4),  # n_out = 1 makes L ≡ 0 and every gradient 0
    seed=st.integers(0, 2**16), dense=st.booleans(),
    dtype=st.sampled_from([np.float32, np.float64]),
)


@pytest.mark.equation("10.45", "10.46", "10.47")
@settings(max_examples=examples(60), deadline=None)
@given(problems)
def test_fast_path_equals_composition_of_equation_functions(prob):
    p, x, y, h0 = prob
    rtol = COMPOSITION_RTOL[p.dtype.type]
    fast = gru.loss_and_grads(p, x, y, h0)
    f = gru.forward(p, x, h0)
    slow = gru.backward(p, f, y)
    assert isinstance(fast.loss, float)
    assert_arrays_close(fast.loss, slow.loss, rtol, "loss")
    for n in NAMES:
        g = getattr(fast.grads, n)
        assert g.dtype == p.dtype and g.shape == getattr(p, n).shape, n
        assert_arrays_close(g, getattr(slow.grads, n), rtol, n)
    assert fast.dh0.dtype == fast.h_last.dtype == p.dtype
    assert_arrays_close(fast.dh0, slow.dh0, rtol, "dh0")
    assert_arrays_close(fast.h_last, f.h[-1], rtol, "h_last")
    assert gru.bptt(p, x, y, h0)[0] == fast.loss


@settings(max_examples=examples(30), deadline=None)
@given(problems)
def test_batch_is_sum_of_sequences(prob):
    p, x, y, h0 = prob
    p, h0 = p.astype(np.float64), h0.astype(np.float64)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    back = gru.loss_and_grads(p, x, y, h0)
    parts = [gru.loss_and_grads(p, x[:, i:i + 1], y[:, i:i + 1], h0[i:i + 1])
             for i in range(x.shape[1])]
    np.testing.assert_allclose(back.loss, sum(q.loss for q in parts), rtol=1e-10)
    for n in NAMES:
        total = sum(getattr(q.grads, n) for q in parts)
        np.testing.assert_allclose(getattr(back.grads, n), total, rtol=1e-9,
                                   atol=1e-12, err_msg=n)
    np.testing.assert_allclose(back.dh0, np.concatenate([q.dh0 for q in parts]),
                               rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("variant", gru.VARIANTS)
def test_float32_stays_float32_and_is_close_to_float64(variant):
    p, x, y, h0 = make_problem(T=8, B=4, n_in=6, H=5, n_out=4, seed=5)
    p32, h32 = p.astype(np.float32), h0.astype(np.float32)
    f32 = gru.forward(p32, x, h32, variant=variant)
    assert all(a.dtype == np.float32 for a in (f32.u, f32.r, f32.h_tilde, f32.h,
                                                f32.o, f32.log_yhat))
    r32 = gru.backward(p32, f32, y)
    r64 = gru.backward(p, gru.forward(p, x, h0, variant=variant), y)
    for n in NAMES:
        g = getattr(r32.grads, n)
        assert g.dtype == np.float32
        assert_arrays_close(g, getattr(r64.grads, n), 1e-4, n)
    assert r32.dh0.dtype == np.float32


def test_fast_path_results_survive_later_calls():
    p, x, y, h0 = make_problem(seed=3)
    first = gru.loss_and_grads(p, x, y, h0)
    saved = {n: a.copy() for n, a in first.grads.arrays().items()}
    dh0, h_last = first.dh0.copy(), first.h_last.copy()
    q, x2, y2, h2 = make_problem(seed=4)
    gru.loss_and_grads(q, x2, y2, h2)                   # same sizes: same workspace
    for n in NAMES:
        np.testing.assert_array_equal(getattr(first.grads, n), saved[n])
    np.testing.assert_array_equal(first.dh0, dh0)
    np.testing.assert_array_equal(first.h_last, h_last)
    again = gru.loss_and_grads(p, x, y, h0)
    assert again.loss == first.loss


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("x, y, exc, match", [
    (np.zeros((4, 3), int), np.zeros((5, 3), int), ValueError,
     r"y must have shape \(4, 3\); got \(5, 3\)"),
    (np.zeros((4, 3), int), np.full((4, 3), 3), ValueError,
     r"y must hold ids in \[0, 3\); got values in \[3, 3\]"),
    (np.zeros((4, 3), int), np.zeros((4, 3)), TypeError,
     "y must hold integer token ids; got dtype float64"),
    (np.zeros((0, 3), int), np.zeros((0, 3), int), ValueError,
     "x must have at least one time step; got T=0"),
    (np.full((4, 3), 9), np.zeros((4, 3), int), ValueError,
     r"x must hold ids in \[0, 5\); got values in \[9, 9\]"),
    (np.zeros((4, 3, 4)), np.zeros((4, 3), int), ValueError,
     r"x must have shape \(T, B\) of int ids or \(T, B, 5\) of floats; "
     r"got \(4, 3, 4\)"),
    (np.full((4, 3, 5), np.nan), np.zeros((4, 3), int), ValueError,
     "x must be finite"),
    ("abc", np.zeros((4, 3), int), TypeError, "x must be a numpy array"),
])
def test_bptt_rejects_bad_input(x, y, exc, match):
    p, *_ = make_problem()
    with pytest.raises(exc, match=match):
        gru.bptt(p, x, y)


def test_rejects_bad_params_h0_and_variant():
    p, x, y, h0 = make_problem()
    with pytest.raises(ValueError, match="parameter Wu must be finite"):
        gru.bptt(p.replace(Wu=np.full_like(p.Wu, np.inf)), x, y)
    with pytest.raises(TypeError, match="p must be rnnlib.gru.GRUParams; got Params"):
        gru.bptt(rnnlib.init_params(5, 4, 3), x, y)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 4\); got \(4,\)"):
        gru.loss_and_grads(p, x, y, np.zeros(4))
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 4\); got \(2, 4\)"):
        gru.forward(p, x, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="variant must be one of 'standard', 'book', "
                                         "'torch'; got 'cho'"):
        gru.forward(p, x, h0, variant="cho")
    with pytest.raises(ValueError, match=r"h_prev must have shape \(3, 4\); "
                                         r"got \(3, 2\)"):
        rnnlib.gru_update_gate(p, x[0], np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"r must have shape \(3, 4\); got \(4,\)"):
        rnnlib.gru_candidate(p, x[0], h0, np.zeros(4))


# ---------------------------------------------------------------- benchmark


def test_benchmark_torch_contender_computes_rnnlib_gru():
    """benchmarks/bench_gru.py times a torch GRU against rnnlib.gru.bptt: it must
    compute the same loss and gradients, or its speed ratio means nothing."""
    _torch()
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gru.py"
    spec = importlib.util.spec_from_file_location("bench_gru", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    p, x, y, _ = make_problem(T=6, B=3, n_in=5, H=4, n_out=5, seed=2)
    loss, grads = bench.make_torch_cho(p, np.float64)(x, y)
    want_loss, want = gru.bptt(p, x, y)
    np.testing.assert_allclose(loss, want_loss, rtol=TORCH_TOL)
    for n in NAMES:
        assert_arrays_close(grads[n], getattr(want, n), TORCH_TOL, n)
