"""Forward pass (10.8)–(10.11) against hand-computed values."""

import numpy as np
import pytest
from conftest import examples, make_problem
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlib import Params, forward, hidden, log_softmax, output, pre_activation, softmax

RTOL = 1e-12


def tiny_params():
    # H = 2, n_in = 3, n_out = 2; integers so the hand computation is exact.
    return Params(
        U=np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]]),
        W=np.array([[0.5, 0.0], [1.0, -0.5]]),
        V=np.array([[1.0, 2.0], [-1.0, 0.0]]),
        b=np.array([0.1, -0.2]),
        c=np.array([0.0, 1.0]),
    )


@pytest.mark.equation("10.8")
def test_pre_activation_matches_hand_computed_case():
    p = tiny_params()
    h_prev = np.array([[2.0, 4.0]])
    # ids: x = 2 selects column 2 of U = (2, 1).  W h = (1, 2 - 2) = (1, 0).
    # a = b + W h + U x = (0.1 + 1 + 2, -0.2 + 0 + 1) = (3.1, 0.8)
    np.testing.assert_allclose(
        pre_activation(p, np.array([2]), h_prev), [[3.1, 0.8]], rtol=RTOL
    )
    # dense x = (1, 1, 0): U x = (1, -1) -> a = (0.1 + 1 + 1, -0.2 + 0 - 1)
    np.testing.assert_allclose(
        pre_activation(p, np.array([[1.0, 1.0, 0.0]]), h_prev), [[2.1, -1.2]], rtol=RTOL
    )


@pytest.mark.equation("10.9")
def test_hidden_is_tanh():
    a = np.array([[0.0, 1.0, -2.0]])
    e = np.exp(2 * a)
    np.testing.assert_allclose(hidden(a), (e - 1) / (e + 1), rtol=RTOL)


@pytest.mark.equation("10.10")
def test_output_matches_hand_computed_case():
    p = tiny_params()
    # o = c + V h with h = (1, -1): V h = (1 - 2, -1) -> o = (-1, 0)
    np.testing.assert_allclose(output(p, np.array([[1.0, -1.0]])), [[-1.0, 0.0]])


@pytest.mark.equation("10.11")
def test_softmax_matches_definition():
    o = np.array([[1.0, 2.0, 3.0]])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(o), [e / e.sum()], rtol=RTOL)
    np.testing.assert_allclose(log_softmax(o), np.log([e / e.sum()]), rtol=RTOL)


@pytest.mark.equation("10.11")
def test_log_softmax_is_finite_for_huge_logits():
    o = np.array([[1e4, 0.0, -1e4]])
    ls = log_softmax(o)
    assert np.isfinite(ls).all()
    np.testing.assert_allclose(ls, [[0.0, -1e4, -2e4]])
    np.testing.assert_allclose(softmax(o).sum(), 1.0)


@pytest.mark.equation("10.8", "10.9", "10.10", "10.11")
@pytest.mark.parametrize("dense", [False, True])
def test_forward_matches_step_functions(dense):
    p, x, _, h0 = make_problem(dense=dense)
    f = forward(p, x, h0)
    h = h0
    for t in range(x.shape[0]):
        a = pre_activation(p, x[t], h)
        h = hidden(a)
        np.testing.assert_allclose(f.a[t], a, rtol=RTOL)
        np.testing.assert_allclose(f.h[t + 1], h, rtol=RTOL)
        np.testing.assert_allclose(f.o[t], output(p, h), rtol=RTOL)
        np.testing.assert_allclose(f.yhat[t], softmax(output(p, h)), rtol=1e-10)
    np.testing.assert_array_equal(f.h[0], h0)


@pytest.mark.equation("10.8", "10.9", "10.10", "10.11")
@settings(max_examples=examples(30), deadline=None)
@given(st.builds(make_problem, T=st.integers(1, 5), B=st.integers(1, 4),
                 n_in=st.integers(1, 5), H=st.integers(1, 5), n_out=st.integers(2, 4),
                 seed=st.integers(0, 2**16), dense=st.booleans(),
                 dtype=st.sampled_from([np.float32, np.float64])))
def test_forward_equals_composition_of_step_functions(prob):
    """forward writes (10.8)-(10.9) out in its loop; it must equal the calls."""
    p, x, _, h0 = prob
    rtol = 1e-5 if p.dtype == np.float32 else 1e-12
    f = forward(p, x, h0)
    h = [h0]
    for t in range(x.shape[0]):
        a = pre_activation(p, x[t], h[-1])
        np.testing.assert_allclose(f.a[t], a, rtol=rtol, atol=rtol)
        h.append(hidden(a))
    np.testing.assert_allclose(f.h, np.stack(h), rtol=rtol, atol=rtol)
    o = output(p, np.stack(h[1:]))
    np.testing.assert_allclose(f.o, o, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(f.log_yhat, log_softmax(o), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(f.yhat, softmax(o), rtol=rtol, atol=rtol)
    assert all(arr.dtype == p.dtype for arr in f[1:])


def test_forward_ids_equal_dense_one_hot():
    p, x, _, h0 = make_problem()
    one_hot = np.eye(p.n_in)[x]
    np.testing.assert_allclose(
        forward(p, x, h0).o, forward(p, one_hot, h0).o, rtol=1e-12
    )


def test_forward_zero_h0_by_default_and_shapes():
    p, x, _, _ = make_problem(T=3, B=2)
    f = forward(p, x)
    assert f.a.shape == (3, 2, 4) and f.h.shape == (4, 2, 4)
    assert f.o.shape == f.yhat.shape == f.log_yhat.shape == (3, 2, 3)
    assert not f.h[0].any()


def test_forward_keeps_float32():
    p, x, _, _ = make_problem(dtype=np.float32)
    f = forward(p, x)
    assert all(arr.dtype == np.float32 for arr in (f.a, f.h, f.o, f.yhat))
    f64 = forward(p.astype(np.float64), x)
    np.testing.assert_allclose(f.yhat, f64.yhat, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "x, exc, match",
    [
        (
            np.zeros(3, int),
            ValueError,
            r"x must have shape \(T, B\) of int ids or \(T, B, 5\) of floats; "
            r"got \(3,\)",
        ),
        (
            np.zeros((2, 3, 4)),
            ValueError,
            r"x must have shape .*\(T, B, 5\).*got \(2, 3, 4\)",
        ),
        (
            np.full((2, 3), 5),
            ValueError,
            r"x must hold ids in \[0, 5\); got values in \[5, 5\]",
        ),
        (
            np.full((2, 3), -1),
            ValueError,
            r"x must hold ids in \[0, 5\); got values in",
        ),
        (
            np.zeros((2, 3), bool),
            TypeError,
            "x must hold int ids or floats; got dtype bool",
        ),
        (
            np.zeros((0, 3), int),
            ValueError,
            "x must have at least one time step; got T=0",
        ),
        (np.full((2, 3, 5), np.nan), ValueError, "x must be finite; got 30 NaN or inf"),
        ("abc", TypeError, "x must be a numpy array"),
    ],
)
def test_forward_rejects_bad_x(x, exc, match):
    p, *_ = make_problem()
    with pytest.raises(exc, match=match):
        forward(p, x)


def test_forward_rejects_bad_h0_and_params():
    p, x, _, _ = make_problem(B=3)
    with pytest.raises(ValueError, match=r"h0 must have shape \(3, 4\); got \(2, 4\)"):
        forward(p, x, np.zeros((2, 4)))
    with pytest.raises(TypeError, match="p must be rnnlib.Params; got dict"):
        forward({}, x)
    bad = p.replace(W=np.full_like(p.W, np.inf))
    with pytest.raises(ValueError, match="parameter W must be finite"):
        forward(bad, x)


def test_step_functions_reject_bad_input():
    p = tiny_params()
    with pytest.raises(
        ValueError, match=r"h_prev must have shape \(1, 2\); got \(1, 3\)"
    ):
        pre_activation(p, np.array([0]), np.zeros((1, 3)))
    with pytest.raises(
        ValueError, match=r"h must have shape \(\.\.\., 2\); got \(1, 3\)"
    ):
        output(p, np.zeros((1, 3)))
    with pytest.raises(TypeError, match="o must hold real floating-point numbers"):
        log_softmax(np.array(["a"]))
    with pytest.raises(ValueError, match="o must have at least one axis"):
        softmax(np.float64(1.0))
    with pytest.raises(
        TypeError, match="a must have dtype float32 or float64; got int64"
    ):
        hidden(np.array([1, 2]))


def test_hidden_saturates_for_infinite_pre_activation():
    np.testing.assert_array_equal(hidden(np.array([np.inf, -np.inf])), [1.0, -1.0])


def test_step_functions_keep_the_dtype_of_the_parameters():
    p = tiny_params().astype(np.float32)
    h64 = np.array([[2.0, 4.0]])
    assert pre_activation(p, np.array([2]), h64).dtype == np.float32
    assert output(p, h64).dtype == np.float32
    assert forward(p, np.array([[2]]), h64).h.dtype == np.float32


def test_log_softmax_shifts_each_row_by_its_own_maximum():
    o = np.array([[1e4, 0.0], [-1e4, -1e4 - 1.0]])
    ls = log_softmax(o)
    assert np.isfinite(ls).all()
    np.testing.assert_allclose(ls[1], [-np.log1p(np.exp(-1.0)), -np.log1p(np.e)])


def test_output_accepts_one_hidden_vector_and_names_bad_input():
    p = tiny_params()
    np.testing.assert_allclose(output(p, np.array([1.0, -1.0])), [-1.0, 0.0])
    with pytest.raises(TypeError) as info:
        output(p, "h")
    assert str(info.value) == "h must be a numpy array; got str"
    with pytest.raises(ValueError) as info:
        log_softmax(np.float64(1.0))
    assert str(info.value) == (
        "o must have at least one axis (the n_out classes); got a scalar"
    )
