import numpy as np
import pytest
from conftest import make_problem

from rnnlib import (
    GradientCheckError,
    bptt,
    gradcheck,
    numerical_gradient,
    relative_error,
)


def test_numerical_gradient_of_quadratic_is_exact():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.5, -1.0])
    # f = x^T A x / 2 has gradient A x; central differences are exact for quadratics
    num = numerical_gradient(lambda z: 0.5 * z @ A @ z, x, eps=1e-3)
    np.testing.assert_allclose(num, A @ x, rtol=1e-10, atol=1e-12)


def test_relative_error_is_scale_free():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([1e-8, 2e-8], [1e-8, 3e-8]) == pytest.approx(1 / 3)
    assert relative_error([1e8, 2e8], [1e8, 3e8]) == pytest.approx(1 / 3)


def test_gradcheck_passes_correct_gradient():
    p, x, y, h0 = make_problem()
    _, g = bptt(p, x, y, h0)
    errors = gradcheck(lambda q: bptt(q, x, y, h0)[0], p, g)
    assert max(errors.values()) < 1e-6


def test_gradcheck_fails_loudly_on_wrong_gradient():
    p, x, y, h0 = make_problem()
    _, g = bptt(p, x, y, h0)
    wrong = g.replace(W=g.W.T.copy())  # a classic bug: transposed ∇W
    with pytest.raises(GradientCheckError) as info:
        gradcheck(lambda q: bptt(q, x, y, h0)[0], p, wrong)
    msg = str(info.value)
    assert (
        "W FAIL" in msg and "U   ok" in msg and "analytic" in msg and "numeric" in msg
    )


def test_gradcheck_subsamples_entries():
    p, x, y, h0 = make_problem()
    _, g = bptt(p, x, y, h0)
    calls = []

    def f(q):
        calls.append(1)
        return bptt(q, x, y, h0)[0]

    gradcheck(f, p, g, max_entries=2)
    assert len(calls) == 5 * 2 * 2  # 5 arrays x 2 entries x 2 evaluations (±eps)


def test_gradcheck_rejects_bad_arguments():
    p, *_ = make_problem()
    with pytest.raises(TypeError, match="inputs must be rnnlib.Params or a dict"):
        gradcheck(lambda q: 0.0, [1, 2], p)
    with pytest.raises(ValueError, match="analytic must have an array 'a' of shape"):
        gradcheck(lambda d: 0.0, {"a": np.zeros(2)}, {"a": np.zeros(3)})
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        numerical_gradient(lambda z: 0.0, np.zeros(2), eps=0)


def test_assert_agree_reports_the_asserted_tolerance_not_the_observed_error():
    from rnnlib import assert_agree

    # The report must not depend on the last digits (they change with the BLAS kernel).
    exact = assert_agree("x", [1.0, 2.0], [1.0, 2.0])
    assert exact == assert_agree("x", [1.0, 2.0], [1.0, 2.0 + 4e-13])
    assert exact == "x: max relative error < 1e-12"
    msg = assert_agree("close", [1.0, 2.0], [1.0, 2.0 + 3e-11], rtol=1e-9)
    assert msg == "close: max relative error < 1e-09"
    with pytest.raises(
        AssertionError, match="far: relative error 5.00e-01 exceeds 1e-12"
    ):
        assert_agree("far", [1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"shapes differ, \(2,\) vs \(3,\)"):
        assert_agree("bad", [1.0, 2.0], [1.0, 2.0, 3.0])
