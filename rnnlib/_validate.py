"""Input checks shared by every public entry point of :mod:`rnnlib`.

Each helper raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(wrong shape or value) with a message that names the argument, what was received
and what was expected, e.g. ``x must have shape (T, B) or (T, B, 5); got (3,)``.
Checks are explicit ``raise`` statements, never ``assert`` (which ``python -O``
removes). Every input check of the package lives here; the other modules import
only the public helpers below.
"""

from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def shape_str(shape) -> str:
    """Format a shape the way the messages print it: ``(T, B, 5)``, ``(3,)``."""
    parts = [str(s) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def as_array(name: str, value) -> np.ndarray:
    """Return ``value`` as an ndarray, or raise ``TypeError`` for non-array input."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple, int, float, np.generic)):
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(
                f"{name} must be a numeric array; got ragged or object data"
            )
        return arr
    raise TypeError(f"{name} must be a numpy array; got {type(value).__name__}")


def check_float(name: str, value, shape=None, dtype=None, finite=True) -> np.ndarray:
    """Check a floating-point array.

    ``shape`` is a tuple whose entries are ints or ``None`` (any size). ``dtype``,
    if given, is the dtype the array is cast to (so float64 data can feed float32
    parameters); without it the array must already be float32 or float64.
    """
    arr = as_array(name, value)
    if arr.dtype.kind not in "fiub" or arr.dtype == np.bool_:
        raise TypeError(
            f"{name} must hold real floating-point numbers; got dtype {arr.dtype}"
        )
    if dtype is None and arr.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64; got {arr.dtype}")
    if shape is not None:
        check_shape(name, arr, shape)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    if finite and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} must be finite; got {bad} NaN or inf value(s)")
    return arr


def check_shape(name: str, arr: np.ndarray, shape) -> None:
    """Raise ``ValueError`` unless ``arr.shape`` matches ``shape`` (``None`` = any)."""
    ok = arr.ndim == len(shape) and all(
        s is None or s == n for s, n in zip(shape, arr.shape, strict=True)
    )
    if not ok:
        want = shape_str("·" if s is None else s for s in shape)
        raise ValueError(f"{name} must have shape {want}; got {shape_str(arr.shape)}")


def check_ids(name: str, value, high: int, shape=None) -> np.ndarray:
    """Check an integer array of token ids in ``[0, high)``."""
    arr = as_array(name, value)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids; got dtype {arr.dtype}")
    if shape is not None:
        check_shape(name, arr, shape)
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi >= high:
            raise ValueError(
                f"{name} must hold ids in [0, {high}); got values in [{lo}, {hi}]"
            )
    return arr


def check_positive_int(name: str, value) -> int:
    """Check a size argument: a Python or numpy integer ≥ 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}")
    return int(value)


def check_nonempty_time(name: str, arr: np.ndarray) -> None:
    """Raise ``ValueError`` for an empty sequence (T = 0) or empty batch (B = 0)."""
    if arr.ndim >= 1 and arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one time step; got T=0")
    if arr.ndim >= 2 and arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sequence; got B=0")


def check_params(p, kind=None, kind_name="rnnlib.Params") -> None:
    """``p`` must be :class:`rnnlib.Params` (or ``kind``, another cell's parameter
    class, printed as ``kind_name``) with finite values."""
    from .params import Params  # here, not at the top: params imports this module

    if not isinstance(p, Params if kind is None else kind):
        raise TypeError(f"p must be {kind_name}; got {type(p).__name__}")
    for name, arr in p.arrays().items():
        if not np.isfinite(arr).all():
            raise ValueError(f"parameter {name} must be finite; got NaN or inf values")


def check_x(p, x, batch_ndim: int) -> np.ndarray:
    """Validate inputs for ``p``: ids ``(T, B)`` / dense ``(T, B, n_in)``
    (``batch_ndim`` = 2) or one step's ``(B,)`` / ``(B, n_in)`` (``batch_ndim`` = 1).
    """
    dims = "(T, B)" if batch_ndim == 2 else "(B,)"
    dense = "(T, B, " if batch_ndim == 2 else "(B, "
    want = f"{dims} of int ids or {dense}{p.n_in}) of floats"
    arr = np.asarray(x) if isinstance(x, (list, tuple)) else x
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"x must be a numpy array of shape {want}; got {type(x).__name__}"
        )
    if arr.dtype.kind in "iu":
        if arr.ndim != batch_ndim:
            raise ValueError(f"x must have shape {want}; got {tuple(arr.shape)}")
        arr = check_ids("x", arr, p.n_in)
    elif arr.dtype.kind == "f":
        if arr.ndim != batch_ndim + 1 or arr.shape[-1] != p.n_in:
            raise ValueError(f"x must have shape {want}; got {tuple(arr.shape)}")
        arr = check_float("x", arr, dtype=p.dtype)
    else:
        raise TypeError(f"x must hold int ids or floats; got dtype {arr.dtype}")
    if batch_ndim == 2:
        check_nonempty_time("x", arr)
    return arr


def check_h0(p, h0, B: int) -> np.ndarray:
    """The initial state ``h0 (B, H)`` in the dtype of ``p``; zeros if ``None``."""
    if h0 is None:
        return np.zeros((B, p.n_hidden), p.dtype)
    h0 = check_float("h0", h0, dtype=p.dtype)
    check_shape("h0", h0, (B, p.n_hidden))
    return h0


def check_targets(y, TB, n_out: int) -> np.ndarray:
    """Targets ``y``: int ids of shape ``TB`` = (T, B) in ``[0, n_out)``."""
    return check_ids("y", y, n_out, shape=TB)


def check_sequence(name: str, arr, last: str = "n_out") -> np.ndarray:
    """A float ``(T, B, ·)`` array with ``T, B >= 1``; ``last`` names the last axis
    in the message."""
    arr = check_float(name, arr)
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must have shape (T, B, {last}); got {shape_str(arr.shape)}"
        )
    check_nonempty_time(name, arr)
    return arr


def check_dh_h(dh, h):
    """``dh (T, B, H)`` and ``h (T+1, B, H)`` of one dtype, as the gradients use."""
    dh = check_float("dh", dh, (None, None, None))
    T, B, H = dh.shape
    h = check_float("h", h, (T + 1, B, H), dtype=dh.dtype)
    return dh, h
