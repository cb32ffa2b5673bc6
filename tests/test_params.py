import numpy as np
import pytest

from rnnlib import Params, init_params, zeros_like


def test_init_params_has_book_shapes():
    p = init_params(7, 5, 3, seed=0)
    assert p.U.shape == (5, 7) and p.W.shape == (5, 5) and p.V.shape == (3, 5)
    assert p.b.shape == (5,) and p.c.shape == (3,)
    assert (p.n_in, p.n_hidden, p.n_out) == (7, 5, 3)
    assert not p.b.any() and not p.c.any()


def test_init_params_is_seeded_and_generator_accepted():
    a, b = init_params(4, 3, 2, seed=1), init_params(4, 3, 2, seed=1)
    c = init_params(4, 3, 2, seed=np.random.default_rng(1))
    for name in "UWVbc":
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_array_equal(getattr(a, name), getattr(c, name))
    assert not np.array_equal(a.W, init_params(4, 3, 2, seed=2).W)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_dtype(dtype):
    p = init_params(4, 3, 2, dtype=dtype)
    assert all(a.dtype == dtype for a in p.arrays().values())
    assert p.astype(np.float64).dtype == np.float64


def test_init_params_default_scale_is_one_over_sqrt_H():
    p = init_params(50, 400, 50, seed=0)
    assert abs(p.W.std() - 1 / np.sqrt(400)) < 0.01 * (1 / np.sqrt(400)) * 5


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((0, 3, 2), ValueError, "n_in must be >= 1; got 0"),
        ((4, -1, 2), ValueError, "n_hidden must be >= 1; got -1"),
        ((4, 3, 2.5), TypeError, "n_out must be an int; got float"),
    ],
)
def test_init_params_rejects_bad_sizes(args, exc, match):
    with pytest.raises(exc, match=match):
        init_params(*args)


def test_init_params_rejects_bad_dtype_seed_scale():
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got int64"):
        init_params(4, 3, 2, dtype=np.int64)
    with pytest.raises(
        TypeError, match="seed must be an int or numpy.random.Generator"
    ):
        init_params(4, 3, 2, seed="x")
    with pytest.raises(ValueError, match="scale must be a positive finite number"):
        init_params(4, 3, 2, scale=-1.0)


def test_params_rejects_inconsistent_shapes():
    p = init_params(4, 3, 2)
    with pytest.raises(ValueError, match=r"W must have shape \(3, 3\).*got \(3, 4\)"):
        p.replace(W=np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"c must have shape \(2,\).*got \(3,\)"):
        p.replace(c=np.zeros(3))
    with pytest.raises(ValueError, match=r"U must be 2-D; got shape \(3,\)"):
        p.replace(U=np.zeros(3))


def test_params_rejects_mixed_or_integer_dtypes():
    p = init_params(4, 3, 2)
    with pytest.raises(TypeError, match="parameters must share one dtype"):
        p.replace(W=p.W.astype(np.float32))
    with pytest.raises(
        TypeError, match="b must have dtype float32 or float64; got int64"
    ):
        p.replace(b=np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="V must be a numpy array; got str"):
        p.replace(V="nope")


def test_params_is_frozen_and_zeros_like():
    p = init_params(4, 3, 2)
    with pytest.raises(AttributeError):
        p.W = p.W
    z = zeros_like(p)
    assert isinstance(z, Params) and all(not a.any() for a in z.arrays().values())


def test_astype_converts_both_ways():
    p = init_params(4, 3, 2, dtype=np.float64)
    assert p.astype(np.float32).dtype == np.float32
    assert p.astype(np.float32).astype(np.float64).dtype == np.float64
