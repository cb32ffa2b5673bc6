"""Loss (10.12)–(10.14) and (10.17) against hand-computed values."""

import numpy as np
import pytest
from conftest import make_problem

from rnnlib import dL_dLt, forward, numerical_gradient, sequence_loss, step_losses

RTOL = 1e-12


@pytest.mark.equation("10.14")
def test_step_losses_match_hand_computed_case():
    # o = (0, log 3): softmax = (1/4, 3/4). Target 1 -> -log(3/4); target 0 -> log 4.
    o = np.array([[[0.0, np.log(3.0)]], [[0.0, np.log(3.0)]]])
    y = np.array([[1], [0]])
    np.testing.assert_allclose(
        step_losses(o, y), [[-np.log(0.75)], [np.log(4.0)]], rtol=RTOL
    )


@pytest.mark.equation("10.12", "10.13")
def test_sequence_loss_is_sum_of_step_losses():
    p, x, y, h0 = make_problem(T=5, B=2)
    o = forward(p, x, h0).o
    L = sequence_loss(o, y)
    assert isinstance(L, float)
    # (10.13): L = sum_t L(t); here also summed over the batch
    by_hand = sum(
        -np.log(np.exp(o[t, b, y[t, b]]) / np.exp(o[t, b]).sum())
        for t in range(5)
        for b in range(2)
    )
    np.testing.assert_allclose(L, by_hand, rtol=1e-12)


@pytest.mark.equation("10.17")
def test_dL_dLt_is_one_by_finite_differences():
    step = np.array([[0.3, 1.2], [0.7, 2.0]])
    num = numerical_gradient(lambda s: s.sum(), step)  # L = sum_t L(t)  (10.13)
    np.testing.assert_allclose(dL_dLt(step), num, rtol=1e-9)
    assert dL_dLt(step.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "o, y, exc, match",
    [
        (
            np.zeros((2, 3)),
            np.zeros((2, 3), int),
            ValueError,
            r"o must have shape \(T, B, n_out\); got \(2, 3\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((3, 2), int),
            ValueError,
            r"y must have shape \(2, 3\); got \(3, 2\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.full((2, 3), 4),
            ValueError,
            r"y must hold ids in \[0, 4\); got values in \[4, 4\]",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3)),
            TypeError,
            "y must hold integer token ids; got dtype float64",
        ),
        (
            np.zeros((0, 3, 4)),
            np.zeros((0, 3), int),
            ValueError,
            "o must have at least one time step; got T=0",
        ),
        (
            np.full((1, 1, 2), np.nan),
            np.zeros((1, 1), int),
            ValueError,
            "o must be finite",
        ),
    ],
)
def test_loss_rejects_bad_input(o, y, exc, match):
    with pytest.raises(exc, match=match):
        sequence_loss(o, y)


def test_dL_dLt_is_one_even_for_infinite_step_losses():
    np.testing.assert_array_equal(dL_dLt(np.array([[np.inf, 1.0]])), [[1.0, 1.0]])


def test_dL_dLt_rejects_non_arrays_with_an_exact_message():
    with pytest.raises(TypeError) as info:
        dL_dLt("abc")
    assert str(info.value) == "step_loss must be a numpy array; got str"
