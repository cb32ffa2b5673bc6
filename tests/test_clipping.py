"""Gradient clipping, (10.48)-(10.49) and element-wise, and the cliff network.

Expected values come from hand-worked cases, plain-Python re-statements of the
rules written here (min/max per entry, a norm summed in a loop), the Lagrange
identity for the angle, finite differences, HIPS autograd and SymPy; never from the
functions' own earlier output.
"""

import math

import autograd.numpy as anp
import numpy as np
import pytest
import sympy as sp
from autograd import grad as autograd_grad
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import (
    Params,
    cliff_loss_and_grad,
    cliff_states,
    clip_by_global_norm,
    clip_elementwise,
    global_norm,
    numerical_gradient,
)

REL = 1e-12      # float64 agreement with hand values and re-statements
FD_REL = 1e-6    # central finite differences
AD_REL = 1e-10   # autograd and SymPy, float64


def params_from(values, dtype=np.float64):
    """Params (n_in = 2, H = 2, n_out = 1) filled from 13 numbers in the order
    U (2×2), W (2×2), V (1×2), b (2), c (1): a gradient of 13 entries."""
    v = np.asarray(values, dtype=dtype)
    return Params(U=v[0:4].reshape(2, 2), W=v[4:8].reshape(2, 2),
                  V=v[8:10].reshape(1, 2), b=v[10:12], c=v[12:13])


def flat(p):
    return np.concatenate([a.ravel() for a in p.arrays().values()])


def python_norm(values):
    total = 0.0
    for x in values:
        total += float(x) * float(x)
    return math.sqrt(total)


# ------------------------------------------------------------ element-wise clipping


def test_clip_elementwise_by_hand():
    g = params_from([6.0, -7.0, 0.5, -5.0, 5.0, 4.999, -5.001, 0.0,
                     1e9, -1e-9, 2.0, -2.0, 5.5])
    clipped, n = clip_elementwise(g, 5.0)
    np.testing.assert_array_equal(flat(clipped), [
        5.0, -5.0, 0.5, -5.0, 5.0, 4.999, -5.0, 0.0, 5.0, -1e-9, 2.0, -2.0, 5.0])
    assert n == 5  # 6, -7, -5.001, 1e9, 5.5; exactly ±5 is not clipped
    np.testing.assert_array_equal(flat(g)[:2], [6.0, -7.0])  # input untouched


def test_clip_elementwise_matches_min_max_per_entry_in_python():
    rng = np.random.default_rng(0)
    for v in (0.1, 1.0, 3.0):
        g = params_from(rng.normal(scale=2.0, size=13))
        clipped, n = clip_elementwise(g, v)
        want = [min(max(float(x), -v), v) for x in flat(g)]
        np.testing.assert_array_equal(flat(clipped), want)
        assert n == sum(abs(float(x)) > v for x in flat(g))


def test_clip_elementwise_leaves_small_gradients_untouched():
    g = params_from(np.linspace(-1, 1, 13))
    clipped, n = clip_elementwise(g, 1.0)
    assert clipped is g and n == 0


def test_clip_elementwise_keeps_float32():
    g = params_from(np.linspace(-8, 8, 13), dtype=np.float32)
    clipped, n = clip_elementwise(g, 5)
    assert clipped.dtype == np.float32 and n == 6
    assert flat(clipped).max() == np.float32(5.0) and flat(clipped).min() == -5.0


def test_clip_elementwise_turns_inf_into_the_threshold_and_keeps_nan():
    g = params_from([np.inf, -np.inf, np.nan] + [0.0] * 10)
    clipped, n = clip_elementwise(g, 2.0)
    assert flat(clipped)[0] == 2.0 and flat(clipped)[1] == -2.0
    assert np.isnan(flat(clipped)[2]) and n == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=13, max_size=13),
       st.floats(1e-3, 1e3))
def test_clip_elementwise_bounds_each_entry_and_keeps_the_small_ones(values, v):
    g = params_from(values)
    clipped, n = clip_elementwise(g, v)
    out, inp = flat(clipped), flat(g)
    assert np.all(np.abs(out) <= v)
    small = np.abs(inp) <= v
    np.testing.assert_array_equal(out[small], inp[small])
    np.testing.assert_array_equal(np.sign(out[~small]), np.sign(inp[~small]))
    assert n == int((~small).sum())


def test_clip_elementwise_changes_the_direction_when_some_entries_clip():
    """Lagrange: ‖g‖²‖c‖² - (g·c)² = Σ_{i<j} (g_i c_j - g_j c_i)², > 0 here."""
    values = [3.0, 0.5, -0.2] + [0.0] * 10
    g = params_from(values)
    clipped, n = clip_elementwise(g, 1.0)
    gv, cv = flat(g), flat(clipped)
    assert n == 1
    cos = gv @ cv / (np.linalg.norm(gv) * np.linalg.norm(cv))
    lagrange = sum((gv[i] * cv[j] - gv[j] * cv[i]) ** 2
                   for i in range(13) for j in range(i + 1, 13))
    # by hand: pairs (0, 1) and (0, 2): (3·0.5 - 0.5·1)² + (3·(-0.2) + 0.2·1)²
    assert lagrange == pytest.approx(1.0 + 0.16, rel=REL)
    assert 1 - cos**2 == pytest.approx(lagrange / (gv @ gv * (cv @ cv)), rel=1e-9)
    assert cos < 0.99


@pytest.mark.parametrize("threshold", [0, -1.0, float("nan"), float("inf"), True,
                                       "5", None])
def test_clip_elementwise_rejects_bad_thresholds(threshold):
    with pytest.raises(ValueError, match=r"threshold must be a positive finite "
                                         r"number; got"):
        clip_elementwise(params_from(np.ones(13)), threshold)


@pytest.mark.parametrize("clip", [clip_elementwise, clip_by_global_norm])
@pytest.mark.parametrize("g", [np.ones(3), {"U": np.ones((1, 1))}, None])
def test_clipping_rejects_a_gradient_that_is_not_params(clip, g):
    with pytest.raises(TypeError, match=r"g must be the gradient of one of the cells "
                       r"\(Params, LSTMParams, GRUParams\); got"):
        clip(g, 1.0)


@pytest.mark.parametrize("clip", [clip_elementwise, clip_by_global_norm])
def test_clipping_keeps_the_type_of_a_gated_cells_gradient(clip):
    from rnnlib import gru, lstm

    for module in (lstm, gru):
        g = module.init_params(3, 4, 5, seed=1, scale=10.0)
        got, _ = clip(g, 0.5)
        assert type(got) is type(g)
        entries = np.concatenate([a.ravel() for a in got.arrays().values()])
        if clip is clip_elementwise:
            assert np.abs(entries).max() == 0.5
        else:
            assert np.linalg.norm(entries) == pytest.approx(0.5, rel=1e-12)
        for name, a in got.arrays().items():
            np.testing.assert_array_equal(np.sign(a), np.sign(getattr(g, name)))


# ------------------------------------------------------- norm clipping (10.48)-(10.49)


@pytest.mark.equation("10.48", "10.49")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=13, max_size=13),
       st.floats(1e-2, 1e2))
def test_norm_clipping_fires_iff_norm_exceeds_v_and_keeps_the_direction(values, v):
    g = params_from(values)
    n = python_norm(values)
    clipped, norm = clip_by_global_norm(g, v)
    assert norm == pytest.approx(n, rel=REL, abs=1e-300)
    if n <= v:  # (10.48) false: g untouched
        assert clipped is g
        return
    c = flat(clipped)  # (10.49): g v / ‖g‖, entry by entry in Python
    np.testing.assert_allclose(c, [x * v / n for x in values], rtol=REL, atol=0)
    assert python_norm(c) == pytest.approx(v, rel=1e-10)
    cos = float(np.dot(c, values)) / (python_norm(c) * n)
    assert cos == pytest.approx(1.0, abs=1e-12)


@pytest.mark.equation("10.48", "10.49")
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=13, max_size=13),
       st.floats(1e-2, 1e2))
def test_norm_clipping_never_increases_the_norm(values, v):
    clipped, norm = clip_by_global_norm(params_from(values), v)
    assert global_norm(clipped) <= min(norm, v) * (1 + 1e-12) + 1e-300


@pytest.mark.equation("10.48", "10.49")
def test_norm_clipping_agrees_with_sympy_on_a_symbolic_rule():
    """(10.49) from the forms, evaluated with SymPy on 13 symbolic entries."""
    from rnnlib import forms as F
    from rnnlib.notation import evaluate

    gs = sp.Matrix(sp.symbols("g0:13", real=True))
    v = F.v
    fires = evaluate(F.FORMS["10.48"].condition, {F.g: gs, v: v})
    rule = evaluate(F.FORMS["10.49"].rhs, {F.g: gs, v: v})
    values = np.random.default_rng(3).normal(scale=3.0, size=13)
    subs = dict(zip(gs, values, strict=True))
    for threshold in (0.5, 2.0, 100.0):
        clipped, _ = clip_by_global_norm(params_from(values), threshold)
        if bool(fires.subs({**subs, v: threshold})):
            want = np.array(rule.subs({**subs, v: threshold}), dtype=float).ravel()
        else:
            want = values
        np.testing.assert_allclose(flat(clipped), want, rtol=REL)


@pytest.mark.equation("10.48", "10.49")
def test_norm_clipping_keeps_float32():
    g = params_from(np.full(13, 2.0), dtype=np.float32)  # norm 2 sqrt(13)
    clipped, norm = clip_by_global_norm(g, 1.0)
    assert clipped.dtype == np.float32
    np.testing.assert_allclose(flat(clipped), 1 / math.sqrt(13), rtol=1e-6)


def test_elementwise_and_norm_clipping_agree_for_one_entry():
    """With one nonzero entry both rules give sign(g) v: a sanity link."""
    g = params_from([0.0] * 5 + [-7.0] + [0.0] * 7)
    a, _ = clip_elementwise(g, 2.0)
    b, _ = clip_by_global_norm(g, 2.0)
    np.testing.assert_allclose(flat(a), flat(b), rtol=REL)
    assert flat(a)[5] == -2.0


# ----------------------------------------------------------------- the cliff network


def autograd_cliff_loss(wb, h0, y, tau):
    w, b = wb[0], wb[1]
    h = h0
    for _ in range(tau):
        h = anp.tanh(w * h + b)
    return 0.5 * (h - y) ** 2


def sympy_cliff(tau):
    w, b, h0, y = sp.symbols("w b h0 y", real=True)
    h = h0
    for _ in range(tau):
        h = sp.tanh(w * h + b)
    L = (h - y) ** 2 / 2
    return sp.lambdify([w, b, h0, y], [L, sp.diff(L, w), sp.diff(L, b)])


CLIFF_CASES = [(1, 2.0, -0.5, 0.3, 0.8), (3, 6.0, -1.0, 0.2, 0.9),
               (5, 5.9, -1.0, 0.2, -0.7), (8, 1.5, 0.1, -0.4, 0.0)]


@pytest.mark.parametrize("tau, w, b, h0, y", CLIFF_CASES)
def test_cliff_gradient_matches_sympy_autograd_and_finite_differences(tau, w, b, h0,
                                                                       y):
    L, dw, db = cliff_loss_and_grad(w, b, h0, y, tau)
    Ls, dws, dbs = sympy_cliff(tau)(w, b, h0, y)
    np.testing.assert_allclose([L, dw, db], [Ls, dws, dbs], rtol=AD_REL, atol=1e-300)
    ad = autograd_grad(autograd_cliff_loss)(np.array([w, b]), h0, y, tau)
    np.testing.assert_allclose([dw, db], ad, rtol=AD_REL)
    fd = numerical_gradient(
        lambda wb: float(cliff_loss_and_grad(wb[0], wb[1], h0, y, tau)[0]),
        np.array([w, b]))
    np.testing.assert_allclose([dw, db], fd, rtol=FD_REL, atol=1e-9)


def test_cliff_broadcasts_over_a_grid_like_one_call_per_point():
    w = np.linspace(4, 8, 5)[:, None]  # (5, 1)
    b = np.array([-1.2, -1.0, -0.8])   # (3,)
    L, dw, db = cliff_loss_and_grad(w, b, 0.2, 0.9, 6)
    assert L.shape == dw.shape == db.shape == (5, 3)
    for i in range(5):
        for j in range(3):
            one = cliff_loss_and_grad(float(w[i, 0]), float(b[j]), 0.2, 0.9, 6)
            np.testing.assert_allclose([L[i, j], dw[i, j], db[i, j]], one, rtol=REL)
    h = cliff_states(w, b, 0.2, 6)
    assert h.shape == (7, 5, 3) and np.all(h[0] == 0.2)
    np.testing.assert_allclose(h[1], np.tanh(w * 0.2 + b), rtol=REL)


@pytest.mark.parametrize("tau", [1, 4, 8])
def test_cliff_gradient_at_the_unstable_fixed_point_grows_like_s_to_the_tau(tau):
    """At w* = (atanh(h0) - b) / h0, h0 is a fixed point: h^(t) = h0 for every t.
    By hand, ∂h^(t)/∂w = h0 (1 - h0²) + s ∂h^(t-1)/∂w with s = w* (1 - h0²), so
    ∂L/∂w = (h0 - y) h0 (1 - h0²) (s^τ - 1) / (s - 1), and ∂L/∂b the same
    without the factor h0: geometric growth in τ when s > 1. (The fixed point is
    unstable, so rounding errors grow like s^t too: τ stays small.)"""
    h0, b, y = 0.2, -1.0, 0.9
    w_star = (math.atanh(h0) - b) / h0
    s = w_star * (1 - h0**2)
    geometric = (s**tau - 1) / (s - 1)
    h = cliff_states(w_star, b, h0, tau)
    np.testing.assert_allclose(h, h0, rtol=1e-8)
    L, dw, db = cliff_loss_and_grad(w_star, b, h0, y, tau)
    assert L == pytest.approx(0.5 * (h0 - y) ** 2, rel=1e-8)
    assert dw == pytest.approx((h0 - y) * h0 * (1 - h0**2) * geometric, rel=1e-8)
    assert db == pytest.approx((h0 - y) * (1 - h0**2) * geometric, rel=1e-8)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tau=0), ValueError, "tau must be >= 1; got 0"),
    (dict(tau=2.0), TypeError, "tau must be an int; got float"),
    (dict(h0=1.0), ValueError, r"h0 must be in \(-1, 1\)"),
    (dict(h0=float("nan")), ValueError, "h0 must be finite"),
    (dict(h0="0.5"), TypeError, "h0 must be a real number; got str"),
    (dict(y=None), TypeError, "y must be a real number; got NoneType"),
    (dict(y=float("inf")), ValueError, "y must be finite"),
    (dict(w=float("nan")), ValueError, "w must be finite"),
    (dict(w="big"), TypeError, "w must be a numpy array; got str"),
    (dict(w=np.ones(3), b=np.ones(2)), ValueError,
     "w and b must have shapes that broadcast together"),
])
def test_cliff_rejects_bad_input(kwargs, error, message):
    args = dict(w=2.0, b=0.0, h0=0.5, y=0.0, tau=3) | kwargs
    with pytest.raises(error, match=message):
        cliff_loss_and_grad(**args)


# ------------------------------------------------------------ training with clipping


def test_train_step_with_elementwise_clipping_is_one_sgd_step_on_clipped_g():
    """Against autograd: θ' = θ - lr·clip(g, ±v), g = ∇ mean loss."""
    from test_train import reference_mean_loss, small_state

    from rnnlib.train import TrainConfig, train_step

    state = small_state()
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 4, (6, 3)), rng.integers(0, 4, (6, 3))
    arrays = [a.copy() for a in state.params.arrays().values()]
    before = dict(state.params.arrays())
    g = autograd_grad(lambda a: reference_mean_loss(a, x, y, state.h)[0])(arrays)
    v = 0.05
    assert 0 < sum(int((np.abs(a) > v).sum()) for a in g) < sum(a.size for a in g)
    cfg = TrainConfig(hidden=5, seq_len=6, batch=3, optimizer="sgd", lr=0.1,
                      clip=v, clip_mode="elementwise", dtype="float64")
    new, m = train_step(state, (x, y), cfg)
    assert m.clipped
    assert m.grad_norm == pytest.approx(np.sqrt(sum(np.sum(a * a) for a in g)),
                                        rel=1e-10)
    for (name, a), ga in zip(before.items(), g, strict=True):
        np.testing.assert_allclose(getattr(new.params, name),
                                   a - 0.1 * np.minimum(np.maximum(ga, -v), v),
                                   rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("mode, clip, fired", [
    ("norm", 1e-3, True), ("norm", 1e3, False), ("elementwise", 1e-4, True),
    ("elementwise", 1e3, False), ("elementwise", 0.0, False)])
def test_train_records_whether_clipping_fired(mode, clip, fired):
    from rnnlib.train import TrainConfig, train

    cfg = TrainConfig(hidden=8, seq_len=5, batch=2, steps=3, eval_every=0,
                      sample_every=0, clip=clip, clip_mode=mode, dtype="float64")
    state, _ = train(cfg, "abcabd" * 20, progress=False)
    assert state.history["clipped"] == [int(fired)] * 3


def test_train_config_rejects_an_unknown_clip_mode():
    from rnnlib.train import TrainConfig

    with pytest.raises(ValueError, match="clip_mode must be norm or elementwise; "
                                         "got 'value'"):
        TrainConfig(clip_mode="value")
