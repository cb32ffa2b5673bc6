import numpy as np
import pytest
from conftest import make_problem

from rnnlib import (
    GradientCheckError,
    assert_agree,
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


# ---------------------------------------------------------------- pinned behaviour


def half_square(d):
    """f(a) = Σ a² / 2, whose gradient is a; central differences are exact."""
    return float(0.5 * np.sum(np.asarray(d["a"], np.float64) ** 2))


def test_relative_error_of_zeros_and_empty_arrays_is_zero():
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0


def test_relative_error_does_not_overflow_for_large_float32():
    big = np.float32(3e38)
    assert relative_error(np.array([big]), np.array([-big])) == 2.0


def test_assert_agree_accepts_an_error_equal_to_rtol():
    a, d = [1.0, 2.0], [1.0, 2.5]
    err = relative_error(a, d)
    assert assert_agree("x", a, d, rtol=err) == "x: max relative error < 2e-01"


def test_gradcheck_report_is_exact():
    wrong = {"a": np.array([1.0, 3.0])}  # the true gradient is a = (1, 2)
    with pytest.raises(GradientCheckError) as info:
        gradcheck(half_square, {"a": np.array([1.0, 2.0])}, wrong)
    assert str(info.value) == (
        "gradient check failed (tol 1e-06, eps 1e-05):\n"
        "     a FAIL  rel. error 3.33e-01  worst entry (1,): "
        "analytic +3.00000000e+00, numeric +2.00000000e+00"
    )


def test_gradcheck_default_tolerance_is_1e_6():
    x = {"a": np.array([1.0, 2.0])}
    slightly_wrong = {"a": np.array([1.0, 2.0 + 2e-5])}  # relative error 1e-5
    with pytest.raises(GradientCheckError):
        gradcheck(half_square, x, slightly_wrong)
    errors = gradcheck(half_square, x, slightly_wrong, tol=1e-4)
    assert errors["a"] == pytest.approx(1e-5, rel=1e-3)


def test_gradcheck_subsample_is_seeded_with_default_0_and_distinct():
    x = {"a": np.arange(1.0, 11.0)}
    seen = []

    def f(d):
        changed = np.flatnonzero(d["a"] != x["a"])
        seen.extend(changed.tolist())
        return half_square(d)

    wrong = {"a": x["a"] + np.arange(10) * 1e-3}  # a different error per entry
    by_default = gradcheck(f, x, wrong, tol=1.0, max_entries=4)
    checked = sorted(set(seen))
    assert len(checked) == 4 and len(seen) == 8  # 4 distinct entries, ±eps each
    seen.clear()
    assert gradcheck(f, x, wrong, tol=1.0, max_entries=4, seed=0) == by_default
    assert sorted(set(seen)) == checked
    seen.clear()
    gradcheck(f, x, wrong, tol=1.0, max_entries=4, seed=1)
    assert sorted(set(seen)) != checked


def test_gradcheck_passes_inputs_in_their_own_dtype():
    x = {"a": np.array([1.0, 2.0], np.float32)}
    dtypes = []

    def f(d):
        dtypes.append(d["a"].dtype)
        return half_square(d)

    gradcheck(f, x, {"a": np.array([1.0, 2.0])}, eps=1e-2, tol=1e-5)
    assert set(dtypes) == {np.dtype(np.float32)}


def test_numerical_gradient_works_in_float64_for_float32_input():
    x = np.array([1.0, 2.0, 3.0], np.float32)
    num = numerical_gradient(lambda z: 0.5 * float(z @ z), x)
    assert num.dtype == np.float64
    np.testing.assert_allclose(num, x, rtol=1e-9)


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: gradcheck(half_square, {"a": np.zeros(2)}, [1.0]), TypeError,
         "analytic must be rnnlib.Params or a dict of arrays; got list"),
        (lambda: gradcheck(half_square, (1, 2), {}), TypeError,
         "inputs must be rnnlib.Params or a dict of arrays; got tuple"),
        (lambda: gradcheck(half_square, {"a": "no"}, {"a": "no"}), TypeError,
         "inputs['a'] must be a numpy array; got str"),
        (lambda: gradcheck(half_square, {"a": np.zeros(2)}, {"b": np.zeros(2)}),
         ValueError, "analytic must have an array 'a' of shape (2,); got nothing"),
        (lambda: gradcheck(half_square, {"a": np.zeros(2)}, {"a": np.zeros(3)}),
         ValueError, "analytic must have an array 'a' of shape (2,); got (3,)"),
        (lambda: numerical_gradient(half_square, "abc"), TypeError,
         "x must be a numpy array; got str"),
        (lambda: numerical_gradient(half_square, np.zeros(2), eps=np.inf), ValueError,
         "eps must be a positive finite number; got inf"),
    ],
)
def test_gradcheck_error_messages_are_exact(call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert str(info.value) == message
