"""Forward pass of the RNN, Deep Learning eqs (10.8)–(10.11).

Sizes: ``T`` time steps, ``B`` sequences in the batch, ``H`` hidden units,
``n_in`` inputs, ``n_out`` outputs. Arrays are time-major row vectors:

* inputs ``x``: token ids ``(T, B)`` in ``[0, n_in)`` (a one-hot input handled by
  indexing a column of ``U``), or dense ``(T, B, n_in)`` floats;
* ``a (T, B, H)``, ``h (T+1, B, H)``, ``o (T, B, n_out)``, ``yhat (T, B, n_out)``.

Indexing: ``h[0]`` holds the initial state ``h^(0)``, so ``h[t]`` is the book's
``h^(t)``; the other arrays start at the book's ``t = 1``, so ``a[t-1]`` is
``a^(t)``. The book's column-vector ``W h`` is ``h @ W.T`` on row vectors.

Each equation is one function; :func:`rnnlib.forward` runs them over a sequence. The
training loop's faster copy of this pass is in :mod:`rnnlib.fast`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._arrays import rows_matmul, times_U
from ._validate import check_float, check_h0, check_params, check_x
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
    check_params(p)
    x_t = check_x(p, x_t, batch_ndim=1)
    h_prev = check_float("h_prev", h_prev, (x_t.shape[0], p.n_hidden), dtype=p.dtype)
    return times_U(p.U, x_t) + p.b + h_prev @ p.W.T    # (10.8) a = U x + b + W h


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
    a = check_float("a", a, finite=False)
    return np.tanh(a)                                   # (10.9) h = tanh(a)


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
    Deep Learning eq. (10.10). All leading rows (e.g. every ``t`` and ``b``) go
    through one matrix product.
    """
    check_params(p)
    h = check_float("h", h, dtype=p.dtype)
    if h.ndim == 0 or h.shape[-1] != p.n_hidden:
        raise ValueError(
            f"h must have shape (..., {p.n_hidden}); got {tuple(h.shape)}"
        )
    return rows_matmul(h, p.V.T) + p.c                  # (10.10) o = V h + c


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
    The logarithm of Deep Learning eq. (10.11), which the loss (10.14) needs.
    Subtracting the row maximum before ``exp`` keeps every exponent ≤ 0, so
    logits of ±1e4 give finite results where the naive formula overflows:

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
    shifted = o - o.max(axis=-1, keepdims=True)         # every exponent <= 0
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


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
    return np.exp(log_softmax(o))                       # (10.11) ŷ = softmax(o)


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
    (10.8) and (10.9) run step by step, because ``h^(t)`` needs ``h^(t-1)``;
    (10.10) and (10.11) then take all ``T·B`` rows at once. The loop writes
    :func:`rnnlib.pre_activation` and :func:`rnnlib.hidden` out instead of calling
    them, so that the inputs are checked once rather than at every step; the term
    ``U x^(t) + b`` does not depend on the recurrence and is computed for all ``t``
    first. The tests check that the result equals calling the step functions.
    """
    check_params(p)
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h = np.empty((T + 1, B, p.n_hidden), p.dtype)
    h[0] = check_h0(p, h0, B)
    a = times_U(p.U, x) + p.b                           # U x(t) + b, every t
    Wt = np.ascontiguousarray(p.W.T)                    # BLAS is faster on it
    for t in range(T):
        a[t] += h[t] @ Wt                               # (10.8) a = b + W h + U x
        h[t + 1] = np.tanh(a[t])                        # (10.9) h = tanh(a)
    o = output(p, h[1:])                                # (10.10)
    log_yhat = log_softmax(o)
    return Forward(x, a, h, o, log_yhat, np.exp(log_yhat))  # (10.11)
