"""The LSTM, rnnlib.lstm (10.40)–(10.44): each equation's function on a case
written out in scalars; the forward pass and every gradient against an independent
HIPS autograd implementation (both variants), PyTorch's nn.LSTM (standard variant)
and finite differences; the fast path against the per-equation composition; batch
and dtype properties; bad input."""

import math

import numpy as np
import pytest
from autograd import grad as autograd_grad
from conftest import examples
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlib
from rnnlib import gradcheck, lstm
from rnnlib.lstm import LSTMParams

FD_TOL = 1e-6          # central finite differences, float64
AUTOGRAD_TOL = 1e-9    # independent autodiff, float64
TORCH_TOL = 1e-10      # PyTorch in float64
# fast path vs the per-equation composition: the same sums in another order
COMPOSITION_RTOL = {np.float64: 1e-10, np.float32: 5e-4}
NAMES = lstm.NAMES
GATES = ("f", "g", "q", "")


def assert_arrays_close(got, want, rtol, name):
    """Max-norm relative agreement: |got - want| <= rtol * max|want| elementwise."""
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=name)


def make_problem(T=4, B=3, n_in=5, H=4, n_out=3, seed=0, dense=False,
                 dtype=np.float64):
    """Seeded LSTM parameters with random (nonzero) biases, inputs, targets, h0, s0."""
    rng = np.random.default_rng(seed)
    p = lstm.init_params(n_in, H, n_out, seed=rng, dtype=dtype, scale=0.8)
    p = p.replace(**{n: (0.5 * rng.standard_normal(a.shape)).astype(dtype)
                     for n, a in p.arrays().items() if n.startswith(("b", "c"))})
    if dense:
        x = rng.standard_normal((T, B, n_in)).astype(dtype)
    else:
        x = rng.integers(0, n_in, (T, B))
    y = rng.integers(0, n_out, (T, B))
    h0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
    s0 = (0.5 * rng.standard_normal((B, H))).astype(dtype)
    return p, x, y, h0, s0


# ---------------------------------------------------------------- the oracle


def autograd_lstm(arrs, x, y, n_in, variant="standard", states=False):
    """The LSTM and its loss written directly in HIPS autograd, one gate at a time,
    from the book's equations (an implementation independent of rnnlib)."""
    import autograd.numpy as anp

    (Uf, Wf, bf, Ug, Wg, bg, Uq, Wq, bq, U, W, b, V, c, h, s) = arrs

    def sig(a):
        return 1 / (1 + anp.exp(-a))

    squash = anp.tanh if variant == "standard" else sig
    total, hs, ss = 0.0, [h], [s]
    for t in range(x.shape[0]):
        xt = anp.eye(n_in)[x[t]] if x.dtype.kind in "iu" else x[t]
        f = sig(bf + anp.dot(xt, Uf.T) + anp.dot(h, Wf.T))          # (10.40)
        g = sig(bg + anp.dot(xt, Ug.T) + anp.dot(h, Wg.T))          # (10.42)
        q = sig(bq + anp.dot(xt, Uq.T) + anp.dot(h, Wq.T))          # (10.44)
        s = f * s + g * squash(b + anp.dot(xt, U.T) + anp.dot(h, W.T))  # (10.41)
        h = anp.tanh(s) * q                                          # (10.43)
        o = anp.dot(h, V.T) + c
        logp = o - anp.log(anp.sum(anp.exp(o), axis=1, keepdims=True))
        total = total - anp.sum(logp[anp.arange(x.shape[1]), y[t]])
        hs.append(h)
        ss.append(s)
    if states:
        return np.array(hs), np.array(ss)
    return total


def oracle_args(p, h0, s0):
    return [*p.arrays().values(), h0, s0]


# ---------------------------------------------------------------- params


def test_init_params_shapes_dtype_and_forget_bias():
    p = lstm.init_params(5, 4, 3, seed=1, dtype=np.float32)
    assert p.n_in == 5 and p.n_hidden == 4 and p.n_out == 3
    assert p.dtype == np.float32
    assert list(p.arrays()) == list(NAMES)
    for gate in GATES:
        assert p.arrays()["U" + gate].shape == (4, 5)
        assert p.arrays()["W" + gate].shape == (4, 4)
    assert p.V.shape == (3, 4) and p.c.shape == (3,)
    np.testing.assert_array_equal(p.bf, np.ones(4, np.float32))
    for name in ("bg", "bq", "b", "c"):
        np.testing.assert_array_equal(p.arrays()[name], 0)
    # weights are distinct draws, seeded
    assert not np.array_equal(p.Uf, p.Ug)
    q = lstm.init_params(5, 4, 3, seed=1, dtype=np.float32)
    assert all(np.array_equal(a, q.arrays()[n]) for n, a in p.arrays().items())


def test_init_params_default_scale_is_one_over_sqrt_H():
    p = lstm.init_params(50, 400, 30, seed=0)
    assert abs(np.std(p.W) - 1 / 20) < 0.002


def test_params_replace_astype_and_keyword_construction():
    p = lstm.init_params(3, 2, 2)
    q = LSTMParams(**p.arrays())
    assert q.n_hidden == 2
    r = p.replace(Wq=np.ones((2, 2)))
    np.testing.assert_array_equal(r.Wq, 1)
    assert p.astype(np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"Wq must have shape \(2, 2\) given U "
                                         r"\(2, 3\) and V \(2, 2\); got \(3, 2\)"):
        p.replace(Wq=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"bg must have shape \(2,\)"):
        p.replace(bg=np.ones(3))
    with pytest.raises(TypeError, match="parameters must share one dtype"):
        p.replace(Uf=p.Uf.astype(np.float32))
    with pytest.raises(TypeError, match="Ug must have dtype float32 or float64"):
        p.replace(Ug=p.Ug.astype(np.int64))


# ---------------------------------------------------------------- one equation each

# A case written out in scalars: H = 2, n_in = 3, one sequence; non-symmetric
# matrices so a transposed U or W fails.
Hs, NIN = 2, 3


def _small_params():
    rng = np.random.default_rng(7)
    p = lstm.init_params(NIN, Hs, 2, seed=rng, scale=0.9)
    return p.replace(**{n: rng.standard_normal(a.shape)
                        for n, a in p.arrays().items() if n.startswith("b")})


def _scalar_affine(Um, Wm, bv, x, h):
    return [bv[i] + sum(Um[i][j] * x[j] for j in range(NIN))
            + sum(Wm[i][j] * h[j] for j in range(Hs)) for i in range(Hs)]


def _sig(a):
    return 1 / (1 + math.exp(-a))


X1 = np.array([[0.3, -1.2, 0.7]])
H1 = np.array([[0.4, -0.9]])
S1 = np.array([[1.5, -0.2]])


@pytest.mark.parametrize("func, gate", [("lstm_forget_gate", "f"),
                                        ("lstm_input_gate", "g"),
                                        ("lstm_output_gate", "q")])
def test_gate_matches_scalar_formula(func, gate):
    p = _small_params()
    Um, Wm, bv = (p.arrays()[k + gate].tolist() for k in ("U", "W", "b"))
    want = [_sig(a) for a in _scalar_affine(Um, Wm, bv, X1[0], H1[0])]
    got = getattr(rnnlib, func)(p, X1, H1)
    np.testing.assert_allclose(got[0], want, rtol=1e-14)


def test_gate_takes_ids_as_one_hot_columns():
    p = _small_params()
    ids = np.array([2, 0])
    dense = np.eye(NIN)[ids]
    hp = np.vstack([H1, -H1])
    for func in (rnnlib.lstm_forget_gate, rnnlib.lstm_input_gate,
                 rnnlib.lstm_output_gate):
        np.testing.assert_allclose(func(p, ids, hp), func(p, dense, hp), rtol=1e-15)


@pytest.mark.parametrize("variant", ["standard", "book"])
def test_state_matches_scalar_formula(variant):
    p = _small_params()
    f, g = np.array([[0.2, 0.9]]), np.array([[0.6, 0.3]])
    a = _scalar_affine(p.U.tolist(), p.W.tolist(), p.b.tolist(), X1[0], H1[0])
    squash = math.tanh if variant == "standard" else _sig
    want = [f[0, i] * S1[0, i] + g[0, i] * squash(a[i]) for i in range(Hs)]
    got = rnnlib.lstm_state(p, X1, H1, S1, f, g, variant=variant)
    np.testing.assert_allclose(got[0], want, rtol=1e-14)
    z = rnnlib.lstm_cell_input(p, X1, H1, variant=variant)
    np.testing.assert_allclose(z[0], [squash(v) for v in a], rtol=1e-14)


def test_output_matches_scalar_formula():
    s, q = np.array([[1.5, -0.2]]), np.array([[0.25, 0.8]])
    want = [math.tanh(1.5) * 0.25, math.tanh(-0.2) * 0.8]
    np.testing.assert_allclose(rnnlib.lstm_output(s, q)[0], want, rtol=1e-15)


def test_forget_gate_one_and_input_gate_zero_keep_the_state():
    # the constant error carousel: f = 1, g = 0 carries s unchanged
    p = _small_params()
    ones, zeros = np.ones((1, Hs)), np.zeros((1, Hs))
    np.testing.assert_array_equal(rnnlib.lstm_state(p, X1, H1, S1, ones, zeros), S1)


def test_book_and_standard_variants_differ_only_in_the_cell_input():
    p, x, y, h0, s0 = make_problem(seed=3)
    std = lstm.forward(p, x, h0, s0)
    book = lstm.forward(p, x, h0, s0, variant="book")
    np.testing.assert_array_equal(std.f[0], book.f[0])  # same gates at t = 1
    assert np.all(book.z > 0) and np.any(std.z < 0)      # σ cannot subtract


# ---------------------------------------------------------------- forward vs oracles


@pytest.mark.parametrize("variant", ["standard", "book"])
@pytest.mark.parametrize("dense", [False, True])
def test_forward_matches_autograd_implementation(variant, dense):
    p, x, y, h0, s0 = make_problem(T=5, B=3, seed=11, dense=dense)
    hs, ss = autograd_lstm(oracle_args(p, h0, s0), x, y, p.n_in, variant, states=True)
    fwd = lstm.forward(p, x, h0, s0, variant=variant)
    np.testing.assert_allclose(fwd.h, hs, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fwd.s, ss, rtol=1e-13, atol=1e-15)
    loss = -np.take_along_axis(fwd.log_yhat, y[..., None], -1).sum()
    want = autograd_lstm(oracle_args(p, h0, s0), x, y, p.n_in, variant)
    np.testing.assert_allclose(loss, want, rtol=1e-13)
    np.testing.assert_allclose(fwd.yhat.sum(-1), 1, rtol=1e-14)


def _torch_lstm(p, x, h0, s0):
    """nn.LSTM (+ Linear + cross-entropy summed) with our weights copied in: torch's
    gates i, f, g, o are our g, f, (cell input), q."""
    torch = pytest.importorskip("torch")
    H = p.n_hidden
    net = torch.nn.LSTM(p.n_in, H, dtype=torch.float64)
    lin = torch.nn.Linear(H, p.n_out, dtype=torch.float64)
    def stack(*arrays):
        return torch.from_numpy(np.concatenate(arrays))

    with torch.no_grad():
        net.weight_ih_l0.copy_(stack(p.Ug, p.Uf, p.U, p.Uq))
        net.weight_hh_l0.copy_(stack(p.Wg, p.Wf, p.W, p.Wq))
        net.bias_ih_l0.copy_(stack(p.bg, p.bf, p.b, p.bq))
        net.bias_hh_l0.zero_()
        lin.weight.copy_(torch.from_numpy(p.V))
        lin.bias.copy_(torch.from_numpy(p.c))
    xin = torch.from_numpy(np.eye(p.n_in)[x] if x.dtype.kind in "iu" else x)
    h0t = torch.tensor(h0[None], requires_grad=True)
    s0t = torch.tensor(s0[None], requires_grad=True)
    out, (hT, sT) = net(xin, (h0t, s0t))
    return torch, net, lin, out, hT, sT, h0t, s0t


@pytest.mark.parametrize("dense", [False, True])
def test_forward_and_grads_match_torch_nn_lstm(dense):
    p, x, y, h0, s0 = make_problem(T=6, B=3, n_in=5, H=4, n_out=3, seed=5,
                                   dense=dense)
    torch, net, lin, out, hT, sT, h0t, s0t = _torch_lstm(p, x, h0, s0)
    logits = lin(out)
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, p.n_out), torch.from_numpy(y.ravel()), reduction="sum")
    loss.backward()
    fwd = lstm.forward(p, x, h0, s0)
    np.testing.assert_allclose(fwd.h[1:], out.detach().numpy(), rtol=TORCH_TOL,
                               atol=1e-14)
    np.testing.assert_allclose(fwd.s[-1], sT[0].detach().numpy(), rtol=TORCH_TOL)
    r = lstm.loss_and_grads(p, x, y, h0, s0)
    np.testing.assert_allclose(r.loss, loss.item(), rtol=TORCH_TOL)
    g = r.grads
    H = p.n_hidden
    gih, ghh = net.weight_ih_l0.grad.numpy(), net.weight_hh_l0.grad.numpy()
    gb = net.bias_ih_l0.grad.numpy()
    for k, gate in enumerate(("g", "f", "", "q")):       # torch's order i, f, g, o
        block = slice(k * H, (k + 1) * H)
        for ours, theirs in ((g.arrays()["U" + gate], gih[block]),
                             (g.arrays()["W" + gate], ghh[block]),
                             (g.arrays()["b" + gate], gb[block])):
            assert_arrays_close(ours, theirs, TORCH_TOL, gate)
    assert_arrays_close(g.V, lin.weight.grad.numpy(), TORCH_TOL, "V")
    assert_arrays_close(g.c, lin.bias.grad.numpy(), TORCH_TOL, "c")
    assert_arrays_close(r.dh0, h0t.grad[0].numpy(), TORCH_TOL, "h0")
    assert_arrays_close(r.ds0, s0t.grad[0].numpy(), TORCH_TOL, "s0")


def test_float32_forward_matches_torch_float32():
    torch = pytest.importorskip("torch")
    p, x, y, h0, s0 = make_problem(T=8, B=4, n_in=6, H=5, seed=2, dense=True)
    *_, out, hT, sT, _, _ = _torch_lstm(p, x, h0, s0)
    p32 = p.astype(np.float32)
    fwd = lstm.forward(p32, x.astype(np.float32), h0.astype(np.float32),
                       s0.astype(np.float32))
    assert fwd.h.dtype == np.float32
    np.testing.assert_allclose(fwd.h[1:], out.detach().numpy(), atol=2e-6)
    del torch


# ---------------------------------------------------------------- gradients

CONFIGS = [  # (T, B, n_in, H, n_out, dense); n_out >= 2, else L ≡ 0
    (1, 1, 1, 1, 2, False),
    (1, 1, 2, 1, 2, True),
    (3, 1, 4, 2, 3, False),
    (1, 3, 3, 2, 2, True),
    (5, 2, 6, 4, 3, False),
    (4, 3, 5, 3, 4, True),
]


def _fd_loss(x, y, variant):
    def f(d):
        q = LSTMParams(**{n: d[n] for n in NAMES})
        fw = lstm.forward(q, x, d["h0"], d["s0"], variant=variant)
        return -float(np.take_along_axis(fw.log_yhat, y[..., None], -1).sum())
    return f


@pytest.mark.parametrize("variant", ["standard", "book"])
@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS)
def test_backward_matches_finite_differences(T, B, n_in, H, n_out, dense, variant):
    p, x, y, h0, s0 = make_problem(T, B, n_in, H, n_out, seed=T * 7 + B, dense=dense)
    back = lstm.backward(p, lstm.forward(p, x, h0, s0, variant=variant), y)
    analytic = {**back.grads.arrays(), "h0": back.dh0, "s0": back.ds0}
    assert all(np.abs(g).max() > 1e-6 for g in analytic.values())  # can fail
    inputs = {**p.arrays(), "h0": h0, "s0": s0}
    errors = gradcheck(_fd_loss(x, y, variant), inputs, analytic, eps=1e-5,
                       tol=FD_TOL)
    assert set(errors) == set(NAMES) | {"h0", "s0"}


@pytest.mark.parametrize("T, B, n_in, H, n_out, dense", CONFIGS)
def test_fast_path_matches_finite_differences(T, B, n_in, H, n_out, dense):
    p, x, y, h0, s0 = make_problem(T, B, n_in, H, n_out, seed=T * 5 + B, dense=dense)
    r = lstm.loss_and_grads(p, x, y, h0, s0)
    analytic = {**r.grads.arrays(), "h0": r.dh0, "s0": r.ds0}
    inputs = {**p.arrays(), "h0": h0, "s0": s0}
    gradcheck(_fd_loss(x, y, "standard"), inputs, analytic, eps=1e-5, tol=FD_TOL)


@pytest.mark.parametrize("variant", ["standard", "book"])
@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_autograd(variant, dense, seed):
    p, x, y, h0, s0 = make_problem(T=6, B=3, n_in=5, H=4, n_out=3, seed=seed,
                                   dense=dense)
    args = oracle_args(p, h0, s0)
    want = autograd_grad(autograd_lstm)(args, x, y, p.n_in, variant)
    back = lstm.backward(p, lstm.forward(p, x, h0, s0, variant=variant), y)
    got = [*back.grads.arrays().values(), back.dh0, back.ds0]
    for name, g, w in zip([*NAMES, "h0", "s0"], got, want, strict=True):
        assert_arrays_close(g, w, AUTOGRAD_TOL, name)
    if variant == "standard":
        r = lstm.loss_and_grads(p, x, y, h0, s0)
        np.testing.assert_allclose(r.loss, autograd_lstm(args, x, y, p.n_in),
                                   rtol=AUTOGRAD_TOL)
        got = [*r.grads.arrays().values(), r.dh0, r.ds0]
        for name, g, w in zip([*NAMES, "h0", "s0"], got, want, strict=True):
            assert_arrays_close(g, w, AUTOGRAD_TOL, name)


def test_step_backward_of_one_step_matches_autograd():
    """lstm_step_backward alone, for ∇h and ∇s arriving from outside: the
    gradient of ⟨dh, h^(t)⟩ + ⟨ds, s^(t)⟩ by autograd."""
    import autograd.numpy as anp

    p, x, y, h0, s0 = make_problem(T=1, B=2, n_in=3, H=3, seed=4, dense=True)
    rng = np.random.default_rng(0)
    dh, ds = rng.standard_normal((2, 2, 3))

    def project(arrs):
        Uf, Wf, bf, Ug, Wg, bg, Uq, Wq, bq, U, W, b, h, s = arrs

        def sig(a):
            return 1 / (1 + anp.exp(-a))
        xt = x[0]
        f = sig(bf + anp.dot(xt, Uf.T) + anp.dot(h, Wf.T))
        g = sig(bg + anp.dot(xt, Ug.T) + anp.dot(h, Wg.T))
        q = sig(bq + anp.dot(xt, Uq.T) + anp.dot(h, Wq.T))
        s_new = f * s + g * anp.tanh(b + anp.dot(xt, U.T) + anp.dot(h, W.T))
        return anp.sum(dh * anp.tanh(s_new) * q) + anp.sum(ds * s_new)

    names = NAMES[:12]
    arrs = [p.arrays()[n] for n in names] + [h0, s0]
    want = autograd_grad(project)(arrs)
    fw = lstm.forward(p, x, h0, s0)
    step = rnnlib.lstm_step_backward(p, x[0], h0, s0, fw.f[0], fw.g[0], fw.q[0],
                                     fw.z[0], fw.s[1], dh, ds)
    got = [step.grads.arrays()[n] for n in names] + [step.dh_prev, step.ds_prev]
    for name, g, w in zip([*names, "h0", "s0"], got, want, strict=True):
        assert_arrays_close(g, w, AUTOGRAD_TOL, name)
    np.testing.assert_array_equal(step.grads.V, 0)


def test_cell_path_jacobian_is_diag_f():
    """∂s^(t)/∂s^(t-1) = diag(f^(t)) with h^(t-1) held fixed: the constant error
    carousel. ∇s^(t-1) from a ∇s^(t) alone (dh = 0) is f ⊙ ∇s^(t)."""
    p, x, y, h0, s0 = make_problem(T=1, B=2, seed=6)
    fw = lstm.forward(p, x, h0, s0)
    ds = np.random.default_rng(1).standard_normal((2, 4))
    step = rnnlib.lstm_step_backward(p, x[0], h0, s0, fw.f[0], fw.g[0], fw.q[0],
                                     fw.z[0], fw.s[1], np.zeros_like(ds), ds)
    np.testing.assert_allclose(step.ds_prev, fw.f[0] * ds, rtol=1e-15)


# ---------------------------------------------------------------- fast = composition

shapes = st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(1, 6),
                   st.integers(1, 6), st.integers(2, 6))


@settings(max_examples=examples(40), deadline=None)
@given(shape=shapes, dense=st.booleans(), seed=st.integers(0, 2**16),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_fast_path_equals_per_equation_composition(shape, dense, seed, dtype):
    T, B, n_in, H, n_out = shape
    p, x, y, h0, s0 = make_problem(T, B, n_in, H, n_out, seed=seed, dense=dense,
                                   dtype=dtype)
    fw = lstm.forward(p, x, h0, s0)
    back = lstm.backward(p, fw, y)
    loss = -float(np.take_along_axis(fw.log_yhat, y[..., None], -1).sum())
    r = lstm.loss_and_grads(p, x, y, h0, s0)
    rtol = COMPOSITION_RTOL[dtype]
    np.testing.assert_allclose(r.loss, loss, rtol=rtol)
    for name, g in r.grads.arrays().items():
        assert g.dtype == dtype and g.shape == p.arrays()[name].shape, name
        assert_arrays_close(g, back.grads.arrays()[name], rtol, name)
    assert_arrays_close(r.dh0, back.dh0, rtol, "dh0")
    assert_arrays_close(r.ds0, back.ds0, rtol, "ds0")
    np.testing.assert_allclose(r.h_last, fw.h[-1], rtol=rtol, atol=rtol)
    np.testing.assert_allclose(r.s_last, fw.s[-1], rtol=rtol, atol=rtol)
    for arr in (r.dh0, r.ds0, r.h_last, r.s_last):
        assert arr.dtype == dtype


@settings(max_examples=examples(25), deadline=None)
@given(shape=shapes, dense=st.booleans(), seed=st.integers(0, 2**16))
def test_loss_and_grads_of_a_batch_are_sums_over_its_sequences(shape, dense, seed):
    T, B, n_in, H, n_out = shape
    p, x, y, h0, s0 = make_problem(T, B, n_in, H, n_out, seed=seed, dense=dense)
    whole = lstm.loss_and_grads(p, x, y, h0, s0)
    parts = [lstm.loss_and_grads(p, x[:, k:k + 1], y[:, k:k + 1], h0[k:k + 1],
                                 s0[k:k + 1]) for k in range(B)]
    np.testing.assert_allclose(whole.loss, sum(r.loss for r in parts), rtol=1e-12)
    for name, g in whole.grads.arrays().items():
        assert_arrays_close(g, sum(r.grads.arrays()[name] for r in parts), 1e-12,
                            name)
    np.testing.assert_allclose(whole.dh0, np.vstack([r.dh0 for r in parts]),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(whole.ds0, np.vstack([r.ds0 for r in parts]),
                               rtol=1e-12, atol=1e-15)


def test_results_survive_later_calls_that_reuse_the_workspace():
    p, x, y, h0, s0 = make_problem(T=5, B=3, seed=9)
    first = lstm.loss_and_grads(p, x, y, h0, s0)
    kept = {n: a.copy() for n, a in first.grads.arrays().items()}
    kept_s, kept_h = first.s_last.copy(), first.h_last.copy()
    lstm.loss_and_grads(p, x[::-1].copy(), y, -h0, s0)  # same shapes, new values
    for n, a in first.grads.arrays().items():
        np.testing.assert_array_equal(a, kept[n])
    np.testing.assert_array_equal(first.s_last, kept_s)
    np.testing.assert_array_equal(first.h_last, kept_h)


def test_bptt_is_the_first_two_fields_and_zero_initial_states_are_the_default():
    p, x, y, _, _ = make_problem(seed=8)
    loss, grads = lstm.bptt(p, x, y)
    zeros = np.zeros((x.shape[1], p.n_hidden))
    r = lstm.loss_and_grads(p, x, y, zeros, zeros)
    assert loss == r.loss
    for n, a in grads.arrays().items():
        np.testing.assert_array_equal(a, r.grads.arrays()[n])


def test_truncated_chunks_chain_through_h_last_and_s_last():
    p, x, y, h0, s0 = make_problem(T=6, B=2, seed=12)
    whole = lstm.forward(p, x, h0, s0)
    first = lstm.loss_and_grads(p, x[:3], y[:3], h0, s0)
    second = lstm.forward(p, x[3:], first.h_last, first.s_last)
    np.testing.assert_allclose(second.h[-1], whole.h[-1], rtol=1e-14)
    np.testing.assert_allclose(second.s[-1], whole.s[-1], rtol=1e-14)


# ---------------------------------------------------------------- bad input


def test_rejects_bad_input_naming_the_argument():
    p, x, y, h0, s0 = make_problem(T=3, B=2, n_in=5, H=4, n_out=3)
    with pytest.raises(TypeError, match="p must be rnnlib.lstm.LSTMParams; got Params"):
        lstm.bptt(rnnlib.init_params(5, 4, 3), x, y)
    with pytest.raises(ValueError, match=r"x must have shape \(T, B\) of int ids or "
                                         r"\(T, B, 5\) of floats; got \(3,\)"):
        lstm.bptt(p, x[:, 0], y)
    with pytest.raises(ValueError, match=r"x must hold ids in \[0, 5\); got values "
                                         r"in \[7, 7\]"):
        lstm.forward(p, np.full((3, 2), 7))
    with pytest.raises(ValueError, match=r"y must hold ids in \[0, 3\)"):
        lstm.bptt(p, x, y + 3)
    with pytest.raises(ValueError, match=r"y must have shape \(3, 2\); got \(2, 2\)"):
        lstm.bptt(p, x, y[:2])
    with pytest.raises(ValueError, match=r"s0 must have shape \(2, 4\); got \(2, 3\)"):
        lstm.bptt(p, x, y, h0, s0[:, :3])
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4\); got \(1, 4\)"):
        lstm.forward(p, x, h0[:1])
    with pytest.raises(ValueError, match="s0 must be finite; got 1 NaN"):
        bad = s0.copy()
        bad[0, 0] = np.nan
        lstm.loss_and_grads(p, x, y, h0, bad)
    with pytest.raises(ValueError, match="x must have at least one time step; got T=0"):
        lstm.bptt(p, x[:0], y[:0])
    with pytest.raises(ValueError, match="parameter Wf must be finite"):
        lstm.bptt(p.replace(Wf=p.Wf * np.nan), x, y)
    with pytest.raises(ValueError, match="variant must be 'standard' or 'book'; "
                                         "got 'torch'"):
        lstm.forward(p, x, variant="torch")
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        lstm.init_params(2, 2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="n_hidden must be >= 1; got 0"):
        lstm.init_params(2, 0, 2)
