"""Optimizers against steps computed by hand; clipping by global norm."""

import math

import numpy as np
import pytest

from rnnlib import Params
from rnnlib.optim import (
    SGD,
    Adagrad,
    Adam,
    check_state,
    clip_by_global_norm,
    global_norm,
    make_optimizer,
)


def scalar_params(u, w=0.0, v=0.0, b=0.0, c=0.0):
    return Params(
        U=np.array([[u]]),
        W=np.array([[w]]),
        V=np.array([[v]]),
        b=np.array([b]),
        c=np.array([c]),
    )


def test_sgd_step():
    p, g = scalar_params(1.0, 2.0), scalar_params(0.5, -1.0)
    q, _ = SGD(lr=0.1).update(p, g, SGD(lr=0.1).init(p))
    assert q.U[0, 0] == pytest.approx(0.95) and q.W[0, 0] == pytest.approx(2.1)


def test_adagrad_two_steps_by_hand():
    opt = Adagrad(lr=0.5, eps=1e-12)
    p = scalar_params(1.0)
    s = opt.init(p)
    p, s = opt.update(p, scalar_params(2.0), s)  # s = 4: 1 - 0.5 * 2/2 = 0.5
    assert p.U[0, 0] == pytest.approx(0.5)
    p, s = opt.update(p, scalar_params(1.0), s)  # s = 5: 0.5 - 0.5/sqrt(5)
    assert p.U[0, 0] == pytest.approx(0.5 - 0.5 / math.sqrt(5))
    assert s["sum_sq.U"][0, 0] == pytest.approx(5.0)


def test_adam_two_steps_by_hand():
    opt = Adam(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-12)
    p = scalar_params(1.0)
    s = opt.init(p)
    p, s = opt.update(p, scalar_params(2.0), s)
    # k=1: m=0.2, v=0.04; m̂=2, v̂=4 -> step 0.1 * 2/2 = 0.1
    assert p.U[0, 0] == pytest.approx(0.9)
    p, s = opt.update(p, scalar_params(-1.0), s)
    m = 0.9 * 0.2 + 0.1 * -1.0  # 0.08
    v = 0.99 * 0.04 + 0.01 * 1.0  # 0.0496
    step = 0.1 * (m / (1 - 0.9**2)) / math.sqrt(v / (1 - 0.99**2))
    assert p.U[0, 0] == pytest.approx(0.9 - step)
    assert int(s["step"]) == 2


def test_optimizers_keep_dtype_and_do_not_mutate():
    p = scalar_params(1.0).astype(np.float32)
    g = scalar_params(0.5).astype(np.float32)
    for opt in (SGD(0.1), Adagrad(0.1), Adam(0.1)):
        before = p.U.copy()
        q, _ = opt.update(p, g, opt.init(p))
        assert q.dtype == np.float32
        np.testing.assert_array_equal(p.U, before)


@pytest.mark.parametrize("lr", [0, -1.0, float("nan")])
def test_optimizers_reject_bad_learning_rate(lr):
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        Adam(lr=lr)
    with pytest.raises(ValueError, match="learning rate must be a positive number"):
        make_optimizer("adagrad", lr)


def test_make_optimizer_rejects_unknown_name():
    with pytest.raises(
        ValueError, match=r"optimizer must be one of \['adagrad', 'adam'"
    ):
        make_optimizer("rmsprop", 0.1)


def test_clipping_leaves_small_gradients_untouched():
    g = scalar_params(0.3, 0.4)  # norm 0.5
    clipped, norm = clip_by_global_norm(g, 1.0)
    assert norm == pytest.approx(0.5)
    assert clipped is g


def test_clipping_rescales_large_gradients_to_the_threshold():
    g = scalar_params(3.0, 4.0, 0.0, 12.0)  # norm 13
    clipped, norm = clip_by_global_norm(g, 2.0)
    assert norm == pytest.approx(13.0)
    assert global_norm(clipped) == pytest.approx(2.0, rel=1e-12)
    assert clipped.U[0, 0] / clipped.W[0, 0] == pytest.approx(3.0 / 4.0)  # direction
    with pytest.raises(ValueError, match="max_norm must be a positive number"):
        clip_by_global_norm(g, 0)


def params_1x2(U=(1.0, 3.0), W=1.0, V=3.0, b=2.0, c=1.0):
    """H = 1, n_in = 2, n_out = 1: every array has its own value."""
    return Params(U=np.array([U], float), W=np.array([[W]], float),
                  V=np.array([[V]], float), b=np.array([b], float),
                  c=np.array([c], float))


def test_global_norm_sums_every_entry_of_every_array():
    # 1 + 9 + 1 + 9 + 4 + 1 = 25
    assert global_norm(params_1x2()) == pytest.approx(5.0, rel=1e-15)
    assert global_norm(params_1x2(U=(0, 0), W=0, V=0, b=0, c=-2.0)) == 2.0


@pytest.mark.parametrize(
    "g, threshold, expected",
    [
        # norm 0.6 > 0.5, though 0.6**2 = 0.36 < 0.5: clipped to norm 0.5
        ((0.36, 0.48), 0.5, (0.3, 0.4)),
        # norm 2 < 3, though 2**2 = 4 > 3: untouched
        ((1.2, 1.6), 3.0, (1.2, 1.6)),
        # norm 13 > 3: scaled by 3/13
        ((3.0, 4.0, 0.0, 12.0), 3.0, (9 / 13, 12 / 13, 0.0, 36 / 13)),
        # norm 5 > 2.5: halved
        ((3.0, 4.0), 2.5, (1.5, 2.0)),
    ],
)
def test_clipping_at_thresholds_other_than_one(g, threshold, expected):
    grads = scalar_params(*g)
    clipped, norm = clip_by_global_norm(grads, threshold)
    assert norm == pytest.approx(math.sqrt(sum(v * v for v in g)), rel=1e-15)
    got = [clipped.U[0, 0], clipped.W[0, 0], clipped.V[0, 0], clipped.b[0]]
    np.testing.assert_allclose(got[: len(expected)], expected, rtol=1e-14, atol=0)
    if expected == g:
        assert clipped is grads


def test_clipping_exactly_at_the_threshold_keeps_the_gradient():
    g = scalar_params(3.0, 4.0)  # norm exactly 5
    clipped, norm = clip_by_global_norm(g, 5.0)
    assert clipped is g and norm == 5.0


def test_clipping_scales_every_array_and_keeps_float32():
    g = params_1x2().astype(np.float32)  # norm 5
    clipped, norm = clip_by_global_norm(g, 0.5)
    assert clipped.dtype == np.float32 and norm == pytest.approx(5.0, rel=1e-6)
    for name, a in g.arrays().items():
        np.testing.assert_allclose(getattr(clipped, name), a / 10, rtol=1e-6)


def test_sgd_updates_all_five_arrays():
    p, g = params_1x2(), params_1x2(U=(1.0, -1.0), W=2.0, V=-3.0, b=4.0, c=0.5)
    q, s = SGD(lr=0.5).update(p, g, {})
    assert s == {}
    np.testing.assert_allclose(q.U, [[0.5, 3.5]])
    assert (q.W[0, 0], q.V[0, 0], q.b[0], q.c[0]) == (0.0, 4.5, 0.0, 0.75)


def test_adagrad_eps_is_added_to_the_root():
    opt = Adagrad(lr=0.5, eps=1.0)
    zero = opt.init(scalar_params(0.0))
    p, s = opt.update(scalar_params(1.0), scalar_params(2.0), zero)
    assert p.U[0, 0] == pytest.approx(1 - 0.5 * 2 / (2 + 1), rel=1e-15)  # 2/3
    assert s["sum_sq.U"][0, 0] == 4.0 and s["sum_sq.W"][0, 0] == 0.0


def test_adam_with_every_hyperparameter_off_its_default():
    """beta1 = 0.5, beta2 = 0.75, eps = 0.5, by hand:
    k=1, g=2: m = 1, v = 1, m̂ = 1/0.5 = 2, v̂ = 1/0.25 = 4, step 0.1·2/(2+0.5) = 0.08;
    k=2, g=1: m = 1, v = 1, m̂ = 1/0.75, v̂ = 1/0.4375, step 0.1·m̂/(sqrt(v̂)+0.5)."""
    opt = Adam(lr=0.1, beta1=0.5, beta2=0.75, eps=0.5)
    p = scalar_params(1.0, 5.0)
    s = opt.init(p)
    p, s = opt.update(p, scalar_params(2.0), s)
    assert p.U[0, 0] == pytest.approx(0.92, rel=1e-15)
    assert p.W[0, 0] == 5.0  # zero gradient: no step
    assert (s["m.U"][0, 0], s["v.U"][0, 0], int(s["step"])) == (1.0, 1.0, 1)
    p, s = opt.update(p, scalar_params(1.0), s)
    step2 = 0.1 * (1 / 0.75) / (math.sqrt(1 / 0.4375) + 0.5)
    assert p.U[0, 0] == pytest.approx(0.92 - step2, rel=1e-15)
    assert int(s["step"]) == 2


def test_adam_steps_every_array():
    opt = Adam(lr=0.01)
    p = params_1x2()
    q, _ = opt.update(p, params_1x2(U=(1, -1), W=1, V=-1, b=1, c=-1), opt.init(p))
    # first Adam step is lr·sign(g) (up to eps): m̂ = g, v̂ = g²
    for name, sign in [("W", 1), ("V", -1), ("b", 1), ("c", -1)]:
        assert getattr(q, name)[0] - getattr(p, name)[0] == pytest.approx(
            -0.01 * sign, rel=1e-6), name
    np.testing.assert_allclose(q.U - p.U, [[-0.01, 0.01]], rtol=1e-6)


def test_documented_defaults():
    assert (Adam().lr, Adam().beta1, Adam().beta2, Adam().eps) == (2e-3, 0.9, 0.999,
                                                                   1e-8)
    assert (Adagrad().lr, Adagrad().eps) == (0.1, 1e-8) and SGD().lr == 0.1
    assert make_optimizer("adam", 0.3) == Adam(lr=0.3)
    assert make_optimizer("sgd", 0.3) == SGD(lr=0.3)
    assert make_optimizer("adagrad", 0.3) == Adagrad(lr=0.3)


@pytest.mark.parametrize("beta", [-0.1, 1.0])
def test_adam_rejects_betas_outside_0_1(beta):
    with pytest.raises(ValueError, match="beta1 must be in"):
        Adam(beta1=beta)
    with pytest.raises(ValueError, match="beta2 must be in"):
        Adam(beta2=beta)


def test_check_state_accepts_a_fresh_state_and_names_problems():
    p = params_1x2()
    for opt in (SGD(), Adagrad(), Adam()):
        check_state(opt, p, opt.init(p))
    with pytest.raises(ValueError,
                       match=r"does not fit Adam: missing \['m.U'.*state of sgd"):
        check_state(Adam(), p, {})
    with pytest.raises(ValueError, match="state of adagrad"):
        check_state(Adam(), p, Adagrad().init(p))
    good = Adam().init(p)
    bad = [({**good, "m.U": np.zeros((2, 1))}, "'m.U' must be a float64 array of "
            r"shape \(1, 2\)"),
           ({**good, "step": np.zeros((), np.float64)}, "'step' must be a int64"),
           ({**good, "v.W": np.full((1, 1), np.nan)}, "'v.W' holds NaN"),
           ({**good, "v.W": np.full((1, 1), -1.0)}, "'v.W' must be >= 0"),
           ({**good, "step": np.array(-1)}, "'step' must be >= 0"),
           ({**good, "m.W": [[0.0]]}, "got list")]
    for state, message in bad:
        with pytest.raises(ValueError, match=message):
            check_state(Adam(), p, state)
    check_state(Adam(), p, {**good, "m.W": np.full((1, 1), -1.0)})  # m may be < 0
    with pytest.raises(ValueError, match="'sum_sq.b' must be >= 0"):
        check_state(Adagrad(), p, {**Adagrad().init(p),
                                   "sum_sq.b": np.array([-1.0])})
    with pytest.raises(TypeError, match="must be a dict"):
        check_state(SGD(), p, [])
