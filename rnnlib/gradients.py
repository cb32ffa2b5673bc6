"""Back-propagation through time, Deep Learning §10.2.2, eqs (10.18)–(10.28).

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units, ``n_in`` inputs,
``n_out`` outputs. Arrays are time-major rows, indexed as in
:mod:`rnnlib.forward_pass`: ``h (T+1, B, H)`` with ``h[t] = h^(t)``; ``do`` and
``dh`` are ``(T, B, ·)`` with index ``t-1`` holding step ``t``. Gradients are named
``d<thing>``: ``do[t-1]`` is ∇_{o^(t)} L, ``dh[t-1]`` is ∇_{h^(t)} L and
``da[t-1] = diag(1 - h^(t)²) ∇_{h^(t)} L`` is ∇_{a^(t)} L. On row vectors the
book's ``V^T g`` is ``g @ V``, and an outer product summed over t and the batch,
``Σ_t g^(t) h^(t)T``, is ``einsum("tbi,tbj->ij", g, h)``.

Each equation is one function in plain numpy; :func:`rnnlib.hidden_grads` and
:func:`rnnlib.backward` compose them. The training loop's faster copy of the same
computation, :func:`rnnlib.loss_and_grads`, is in :mod:`rnnlib.fast` and is tested
equal to this composition.

The book prints (10.21) as ``W^T (∇_{h(t+1)} L) diag(1 - h(t+1)²)``: for column
vectors that multiplies an ``H×1`` vector by an ``H×H`` matrix, which does not
type-check. The code implements the dimensionally correct
``W^T diag(1 - h(t+1)²) ∇_{h(t+1)} L`` (see :func:`rnnlib.hidden_grad_step`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._arrays import one_hot
from ._validate import (
    as_array,
    check_dh_h,
    check_float,
    check_ids,
    check_params,
    check_positive_int,
    check_sequence,
    check_targets,
)
from .forward_pass import Forward
from .params import Params


class Backward(NamedTuple):
    """Result of :func:`rnnlib.backward`: the parameter gradients and ∇_{h^(0)} L."""

    grads: Params     # dU, dW, dV, db, dc in the shapes of U, W, V, b, c
    dh0: np.ndarray   # (B, H) gradient w.r.t. the initial state h^(0)


class HiddenGrads(NamedTuple):
    """Result of :func:`rnnlib.hidden_grads`."""

    dh: np.ndarray    # (T, B, H)  dh[t-1] = ∇_{h^(t)} L   (10.19)–(10.21)
    dh0: np.ndarray   # (B, H)     ∇_{h^(0)} L


# ---------------------------------------------------------------- one equation each


def output_grad(yhat, y) -> np.ndarray:
    """∇_o L = ŷ - 1_y: the softmax probabilities minus the one-hot target.

    Parameters
    ----------
    yhat : ndarray, shape (T, B, n_out)
        Softmax outputs ``ŷ^(t)``.
    y : ndarray of int, shape (T, B)
        Targets in ``[0, n_out)``.

    Returns
    -------
    do : ndarray, shape (T, B, n_out)
        ``do[t-1] = ∇_{o^(t)} L``.

    Notes
    -----
    Deep Learning eq. (10.18), using ∂L/∂L^(t) = 1 (10.17). Derived in chapter
    "Loss and the output gradient".
    """
    yhat = check_sequence("yhat", yhat)
    n_out = yhat.shape[2]
    y = check_targets(y, yhat.shape[:2], n_out)
    return yhat - one_hot(y, n_out, yhat.dtype)         # (10.18) ŷ - 1_y


def last_hidden_grad(p: Params, do_last) -> np.ndarray:
    """∇_{h^(τ)} L = V^T ∇_{o^(τ)} L: at the last step only the output depends on h.

    Parameters
    ----------
    p : Params
    do_last : ndarray, shape (B, n_out)
        ∇_{o^(τ)} L.

    Returns
    -------
    dh_last : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.19). Row vectors: ``V^T g`` is ``g @ V``.
    """
    check_params(p)
    do_last = check_float("do_last", do_last, (None, p.n_out), dtype=p.dtype)
    return do_last @ p.V                                # (10.19) V^T ∇o(τ) L


def tanh_backward(dh, h) -> np.ndarray:
    """∇_a L = diag(1 - h²) ∇_h L: back through h = tanh(a), given h.

    Parameters
    ----------
    dh : ndarray, shape (..., H)
        ∇_h L.
    h : ndarray, same shape
        ``h = tanh(a)``; the Jacobian ∂h/∂a = diag(1 - h²) needs only ``h``.

    Returns
    -------
    da : ndarray, same shape

    Notes
    -----
    The Jacobian of (10.9) that appears in (10.21), (10.23), (10.26) and (10.28).
    """
    dh = check_float("dh", dh)
    h = check_float("h", h, dh.shape, dtype=dh.dtype)
    return (1 - h**2) * dh                              # diag(1 - h²) ∇h L


def hidden_grad_step(p: Params, dh_next, h_next, do_t) -> np.ndarray:
    """∇_{h^(t)} L = W^T diag(1 - h^(t+1)²) ∇_{h^(t+1)} L + V^T ∇_{o^(t)} L.

    Parameters
    ----------
    p : Params
    dh_next : ndarray, shape (B, H)
        ∇_{h^(t+1)} L.
    h_next : ndarray, shape (B, H)
        ``h^(t+1)``.
    do_t : ndarray, shape (B, n_out)
        ∇_{o^(t)} L.

    Returns
    -------
    dh : ndarray, shape (B, H)
        ∇_{h^(t)} L.

    Notes
    -----
    Deep Learning eqs (10.20)–(10.21). (10.20) is the chain rule over the two
    paths out of ``h^(t)``, to ``h^(t+1)`` and to ``o^(t)``; (10.21) fills in
    their Jacobians ``diag(1 - h^(t+1)²) W`` and ``V``.

    The book prints the first term as ``W^T (∇_{h^(t+1)} L) diag(1 - h^(t+1)²)``,
    an (H×H)(H×1)(H×H) product that is undefined for column vectors. The
    transpose of the Jacobian ``diag(1 - h²) W`` is ``W^T diag(1 - h²)``, applied
    to the gradient vector, which is what this function computes; chapter "Back
    through time" shows both forms with SymPy.
    """
    check_params(p)
    dh_next = check_float("dh_next", dh_next, (None, p.n_hidden), dtype=p.dtype)
    B = dh_next.shape[0]
    h_next = check_float("h_next", h_next, (B, p.n_hidden), dtype=p.dtype)
    do_t = check_float("do_t", do_t, (B, p.n_out), dtype=p.dtype)
    da_next = (1 - h_next**2) * dh_next                 # diag(1 - h(t+1)²) ∇h(t+1) L
    return da_next @ p.W + do_t @ p.V                   # (10.21) W^T (...) + V^T ∇o(t)


def grad_c(do) -> np.ndarray:
    """∇_c L = Σ_t ∇_{o^(t)} L (summed over the batch too).

    Parameters
    ----------
    do : ndarray, shape (T, B, n_out)

    Returns
    -------
    dc : ndarray, shape (n_out,)

    Notes
    -----
    Deep Learning eq. (10.22): ∂o^(t)/∂c is the identity.
    """
    do = check_float("do", do, (None, None, None))
    return do.sum(axis=(0, 1))                          # (10.22) Σ_t ∇o(t) L


def grad_b(dh, h) -> np.ndarray:
    """∇_b L = Σ_t diag(1 - h^(t)²) ∇_{h^(t)} L.

    Parameters
    ----------
    dh : ndarray, shape (T, B, H)
        ``dh[t-1] = ∇_{h^(t)} L``.
    h : ndarray, shape (T+1, B, H)

    Returns
    -------
    db : ndarray, shape (H,)

    Notes
    -----
    Deep Learning eq. (10.23).
    """
    dh, h = check_dh_h(dh, h)
    da = (1 - h[1:] ** 2) * dh                          # ∇a(t) L, every t
    return da.sum(axis=(0, 1))                          # (10.23) Σ_t ∇a(t) L


def grad_V(do, h) -> np.ndarray:
    """∇_V L = Σ_t (∇_{o^(t)} L) h^(t)T.

    Parameters
    ----------
    do : ndarray, shape (T, B, n_out)
    h : ndarray, shape (T+1, B, H)

    Returns
    -------
    dV : ndarray, shape (n_out, H)

    Notes
    -----
    Deep Learning eq. (10.24); the outer products are summed over t and the batch.
    """
    do = check_float("do", do, (None, None, None))
    T, B = do.shape[:2]
    h = check_float("h", h, (T + 1, B, None), dtype=do.dtype)
    return np.einsum("tbi,tbj->ij", do, h[1:])  # (10.24)


def grad_W(dh, h) -> np.ndarray:
    """∇_W L = Σ_t diag(1 - h^(t)²) (∇_{h^(t)} L) h^(t-1)T.

    Parameters
    ----------
    dh : ndarray, shape (T, B, H)
    h : ndarray, shape (T+1, B, H)

    Returns
    -------
    dW : ndarray, shape (H, H)

    Notes
    -----
    Deep Learning eqs (10.25)–(10.26): the gradient of the copy ``W^(t)`` used at
    step t, summed over t.
    """
    dh, h = check_dh_h(dh, h)
    da = (1 - h[1:] ** 2) * dh                          # ∇a(t) L, every t
    return np.einsum("tbi,tbj->ij", da, h[:-1])  # (10.26)


def grad_U(dh, h, x, n_in=None) -> np.ndarray:
    """∇_U L = Σ_t diag(1 - h^(t)²) (∇_{h^(t)} L) x^(t)T.

    Parameters
    ----------
    dh : ndarray, shape (T, B, H)
    h : ndarray, shape (T+1, B, H)
    x : ndarray, shape (T, B) of int ids, or (T, B, n_in) float
    n_in : int, optional
        Input size; required for ids (the largest id may be unused).

    Returns
    -------
    dU : ndarray, shape (H, n_in)

    Notes
    -----
    Deep Learning eqs (10.27)–(10.28). Token ids stand for the one-hot vectors
    ``x^(t)`` of the book.
    """
    dh, h = check_dh_h(dh, h)
    T, B = dh.shape[:2]
    x = as_array("x", x)
    if x.dtype.kind in "iu":
        if n_in is None:
            raise TypeError("n_in must be given when x holds token ids")
        n_in = check_positive_int("n_in", n_in)
        x = one_hot(check_ids("x", x, n_in, shape=(T, B)), n_in, dh.dtype)  # x(t)
    else:
        x = check_float("x", x, (T, B, None), dtype=dh.dtype)
    da = (1 - h[1:] ** 2) * dh                          # ∇a(t) L, every t
    return np.einsum("tbi,tbj->ij", da, x)  # (10.28)


# ---------------------------------------------------------------- composed


def hidden_grads(p: Params, h, do) -> HiddenGrads:
    """Run (10.19) then (10.21) backwards from t = τ to t = 1, and on to h^(0).

    Parameters
    ----------
    p : Params
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`rnnlib.forward`, ``h[0] = h^(0)``.
    do : ndarray, shape (T, B, n_out)
        Output gradients (10.18).

    Returns
    -------
    HiddenGrads
        ``dh (T, B, H)`` with ``dh[t-1] = ∇_{h^(t)} L``, and ``dh0 (B, H)``.

    Notes
    -----
    Deep Learning eqs (10.19)–(10.21): :func:`rnnlib.last_hidden_grad` at ``t = τ``,
    then :func:`rnnlib.hidden_grad_step` for ``t = τ-1, …, 1``. ``h^(0)`` feeds only
    ``h^(1)``, so ∇_{h^(0)} L is (10.21) without the output term. Derived in
    chapter "Back through time".
    """
    check_params(p)
    do = check_float("do", do, (None, None, p.n_out))
    T, B = do.shape[:2]
    h = check_float("h", h, (T + 1, B, p.n_hidden))
    dh = np.empty((T, B, p.n_hidden), p.dtype)          # the steps cast to p.dtype
    dh[T - 1] = last_hidden_grad(p, do[T - 1])          # (10.19), t = τ
    for t in range(T - 1, 0, -1):                       # t = τ-1, …, 1
        dh[t - 1] = hidden_grad_step(p, dh[t], h[t + 1], do[t - 1])  # (10.21)
    dh0 = tanh_backward(dh[0], h[1]) @ p.W              # W^T diag(1 - h(1)²) ∇h(1) L
    return HiddenGrads(dh, dh0)


def backward(p: Params, fwd: Forward, y) -> Backward:
    """All gradients of L (10.12–10.14) from a forward pass: (10.18)–(10.28).

    Parameters
    ----------
    p : Params
        The parameters ``fwd`` was computed with.
    fwd : Forward
        Result of :func:`rnnlib.forward`.
    y : ndarray of int, shape (T, B)

    Returns
    -------
    Backward
        ``grads`` (a :class:`rnnlib.Params` of dU, dW, dV, db, dc) and ``dh0 (B, H)``.

    Notes
    -----
    The composition of the per-equation functions of this module, one call per
    equation; :func:`rnnlib.loss_and_grads` computes the same faster.
    """
    check_params(p)
    if not isinstance(fwd, Forward):
        raise TypeError(f"fwd must be rnnlib.Forward; got {type(fwd).__name__}")
    T, B = fwd.o.shape[:2]
    if fwd.h.shape != (T + 1, B, p.n_hidden) or fwd.o.shape[2] != p.n_out:
        raise ValueError("fwd does not match p: it was computed with other sizes")
    h = fwd.h
    do = output_grad(fwd.yhat, y)                       # (10.18)
    dh, dh0 = hidden_grads(p, h, do)                    # (10.19)–(10.21)
    grads = Params(U=grad_U(dh, h, fwd.x, p.n_in),      # (10.28)
                   W=grad_W(dh, h),                     # (10.26)
                   V=grad_V(do, h),                     # (10.24)
                   b=grad_b(dh, h),                     # (10.23)
                   c=grad_c(do))                        # (10.22)
    return Backward(grads, dh0)
