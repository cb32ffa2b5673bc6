"""Optimizers against steps computed by hand; clipping by global norm."""

import math

import numpy as np
import pytest

from rnnlib import Params
from rnnlib.optim import (
    SGD,
    Adagrad,
    Adam,
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
