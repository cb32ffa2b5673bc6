"""Forward pass of the RNN, Deep Learning eqs (10.8)–(10.11).

Sizes: ``T`` time steps, ``B`` sequences in the batch, ``H`` hidden units,
``n_in`` inputs, ``n_out`` outputs. Arrays are time-major row vectors:

* inputs ``x``: token ids ``(T, B)`` in ``[0, n_in)`` (a one-hot input handled by
  indexing a column of ``U``), or dense ``(T, B, n_in)`` floats;
* ``a (T, B, H)``, ``h (T+1, B, H)``, ``o (T, B, n_out)``, ``yhat (T, B, n_out)``.

Indexing: ``h[0]`` holds the initial state ``h^(0)``, so ``h[t]`` is the book's
``h^(t)``; the other arrays start at the book's ``t = 1``, so ``a[t-1]`` is
``a^(t)``. The book's column-vector ``W h`` is ``h @ W.T`` on row vectors.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import check_float, check_ids, check_nonempty_time, check_shape
from ._workspace import Workspace
from .equations import implements
from .params import Params


class Forward(NamedTuple):
    """Everything the forward pass computes, kept for back-propagation."""

    x: np.ndarray         # (T, B) ids or (T, B, n_in) dense
    a: np.ndarray         # (T, B, H)      a[t-1] = a^(t)        (10.8)
    h: np.ndarray         # (T+1, B, H)    h[t]   = h^(t), h[0] = h^(0)  (10.9)
    o: np.ndarray         # (T, B, n_out)  o[t-1] = o^(t)        (10.10)
    log_yhat: np.ndarray  # (T, B, n_out)  log softmax(o)        (10.11)
    yhat: np.ndarray      # (T, B, n_out)  softmax(o)            (10.11)


# ---------------------------------------------------------------- one equation each


@implements("10.8")
def pre_activation(p: Params, x_t, h_prev) -> np.ndarray:
    """a = b + W h_prev + U x_t, for one time step and a batch of rows.

    Parameters
    ----------
    p : Params
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)
        ``h^(t-1)``.

    Returns
    -------
    a : ndarray, shape (B, H)
        ``a^(t)``.

    Notes
    -----
    Deep Learning eq. (10.8); derived in chapter "The forward pass". For ids,
    ``U x_t`` with one-hot ``x_t`` is column ``x_t`` of ``U``, taken by indexing.
    """
    _check_params(p)
    x_t = _check_x(p, x_t, batch_ndim=1)
    B = x_t.shape[0]
    h_prev = check_float("h_prev", h_prev, (B, p.n_hidden), dtype=p.dtype)
    return _input_term(p, x_t) + h_prev @ p.W.T     # (10.8)


@implements("10.9")
def hidden(a) -> np.ndarray:
    """h = tanh(a), elementwise.

    Parameters
    ----------
    a : ndarray, any shape, e.g. (B, H) or (T, B, H)

    Returns
    -------
    h : ndarray, same shape and dtype as ``a``

    Notes
    -----
    Deep Learning eq. (10.9).
    """
    return np.tanh(check_float("a", a, finite=False))


@implements("10.10")
def output(p: Params, h) -> np.ndarray:
    """o = c + V h, for hidden rows of any leading shape.

    Parameters
    ----------
    p : Params
    h : ndarray, shape (..., H)

    Returns
    -------
    o : ndarray, shape (..., n_out)

    Notes
    -----
    Deep Learning eq. (10.10).
    """
    _check_params(p)
    h = check_float("h", h, dtype=p.dtype)
    if h.ndim == 0 or h.shape[-1] != p.n_hidden:
        raise ValueError(
            f"h must have shape (..., {p.n_hidden}); got {tuple(h.shape)}"
        )
    return _output(p, h)


@implements("10.11")
def log_softmax(o) -> np.ndarray:
    """log softmax(o) over the last axis, computed stably as o - max - log Σ exp.

    Parameters
    ----------
    o : ndarray, shape (..., n_out)

    Returns
    -------
    ndarray, shape (..., n_out)

    Notes
    -----
    Deep Learning eq. (10.11). Subtracting the row maximum before ``exp`` keeps
    every exponent ≤ 0, so logits of ±1e4 give finite results where the naive
    formula overflows:

    >>> import numpy as np
    >>> o = np.array([1e4, 0.0])
    >>> np.log(np.exp(o) / np.exp(o).sum())  # doctest: +SKIP
    array([nan, -inf])
    >>> log_softmax(o)
    array([     0., -10000.])
    """
    o = check_float("o", o)
    if o.ndim == 0:
        raise ValueError(
            "o must have at least one axis (the n_out classes); got a scalar"
        )
    return _log_softmax(o)


@implements("10.11")
def softmax(o) -> np.ndarray:
    """yhat = softmax(o) = exp(o) / Σ exp(o) over the last axis (stable).

    Parameters
    ----------
    o : ndarray, shape (..., n_out)

    Returns
    -------
    yhat : ndarray, shape (..., n_out), rows sum to one

    Notes
    -----
    Deep Learning eq. (10.11); computed as ``exp(log_softmax(o))``.
    """
    return np.exp(log_softmax(o))


# ---------------------------------------------------------------- whole sequence


def forward(p: Params, x, h0=None) -> Forward:
    """Run (10.8)–(10.11) over a batch of sequences.

    Parameters
    ----------
    p : Params
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
    h0 : ndarray, shape (B, H), optional
        Initial state ``h^(0)``; zeros if omitted.

    Returns
    -------
    Forward
        ``x``, ``a (T, B, H)``, ``h (T+1, B, H)``, ``o``, ``log_yhat`` and
        ``yhat``, each ``(T, B, n_out)``.

    Notes
    -----
    The input term ``U x^(t) + b`` of (10.8) does not depend on the recurrence, so
    it is computed for all ``T·B`` rows at once; only ``W h^(t-1)`` and the tanh
    (10.9) run in the loop over time. (10.10) and (10.11) are then applied to all
    ``T·B`` rows in one matrix product.
    """
    _check_params(p)
    x = _check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0 = _check_h0(p, h0, B)
    return _forward(p, x, h0, Workspace.new(T, B, p.n_hidden, p.n_out, p.dtype))


# ---------------------------------------------------------------- private kernels


def _forward(p: Params, x, h0, ws: Workspace) -> Forward:
    """(10.8)–(10.11) over the sequence, written into the arrays of ``ws``."""
    a, h = ws.a, ws.h
    _input_term(p, x, out=a)                   # U x^(t) + b for all t at once
    h[0] = h0
    Wt = np.ascontiguousarray(p.W.T)           # BLAS is faster on a contiguous W^T
    for t in range(x.shape[0]):
        np.matmul(h[t], Wt, out=ws.step)
        np.add(a[t], ws.step, out=a[t])        # (10.8) a = b + W h(t-1) + U x(t)
        np.tanh(a[t], out=h[t + 1])            # (10.9) h = tanh(a)
    _output(p, h[1:], out=ws.o)                # (10.10) o = c + V h
    _log_softmax(ws.o, out=ws.log_yhat)        # (10.11) log softmax(o)
    np.exp(ws.log_yhat, out=ws.yhat)           # (10.11) ŷ = softmax(o)
    return Forward(x, a, h, ws.o, ws.log_yhat, ws.yhat)


def _input_term(p: Params, x, out=None) -> np.ndarray:
    """U x + b for ids ``(...)`` or dense ``(..., n_in)`` rows, shape ``(..., H)``."""
    if x.dtype.kind in "iu":                   # one-hot x: column x of U
        out = np.take(np.ascontiguousarray(p.U.T), x, axis=0, out=out)
    else:
        out = rows_matmul(x, p.U.T, out=out)
    out += p.b
    return out


def _output(p: Params, h: np.ndarray, out=None) -> np.ndarray:
    out = rows_matmul(h, p.V.T, out=out)
    out += p.c
    return out


def rows_matmul(x: np.ndarray, M: np.ndarray, out=None) -> np.ndarray:
    """``x @ M`` for ``x (..., k)`` as one 2-D product over all leading rows.

    numpy runs a 3-D ``@`` as a loop of small products; flattening ``(T, B)`` to
    ``T·B`` rows gives BLAS one large matrix instead (several times faster).
    """
    shape = (*x.shape[:-1], M.shape[-1])
    if out is None:
        out = np.empty(shape, np.result_type(x, M))
    np.matmul(rows(x), M, out=rows(out))
    return out


def rows(arr: np.ndarray) -> np.ndarray:
    """View ``(T, B, k)`` (or any ``(..., k)``) as ``(T·B, k)`` rows."""
    return arr.reshape(-1, arr.shape[-1])


def _log_softmax(o: np.ndarray, out=None) -> np.ndarray:
    """o - max(o) - log Σ exp(o - max(o)) over the last axis; every exponent ≤ 0."""
    out = np.subtract(o, o.max(axis=-1, keepdims=True), out=out)
    out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
    return out


def _check_params(p) -> None:
    if not isinstance(p, Params):
        raise TypeError(f"p must be rnnlib.Params; got {type(p).__name__}")
    for name, arr in p.arrays().items():
        if not np.isfinite(arr).all():
            raise ValueError(f"parameter {name} must be finite; got NaN or inf values")


def _check_x(p: Params, x, batch_ndim: int) -> np.ndarray:
    """Validate ids ``(T, B)`` / dense ``(T, B, n_in)`` (``batch_ndim`` = 2) or one
    step's ``(B,)`` / ``(B, n_in)`` (``batch_ndim`` = 1)."""
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


def _check_h0(p: Params, h0, B: int) -> np.ndarray:
    if h0 is None:
        return np.zeros((B, p.n_hidden), p.dtype)
    h0 = check_float("h0", h0, dtype=p.dtype)
    check_shape("h0", h0, (B, p.n_hidden))
    return h0
