"""Back-propagation through time, Deep Learning §10.2.2, eqs (10.18)–(10.28).

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units, ``n_in`` inputs,
``n_out`` outputs. Arrays are time-major rows, indexed as in :mod:`rnnlib.forward`:
``h (T+1, B, H)`` with ``h[t] = h^(t)``; ``do``, ``dh``, ``da`` are
``(T, B, ·)`` with index ``t-1`` holding step ``t``. Gradients are named
``d<thing>``: ``do[t-1]`` is ∇_{o^(t)} L, ``dh[t-1]`` is ∇_{h^(t)} L and
``da[t-1] = diag(1 - h^(t)²) ∇_{h^(t)} L`` is ∇_{a^(t)} L.

Each equation has its own public function, checked on its inputs; :func:`bptt`
is composed of the same private kernels, so there is one copy of the math.
Parameter gradients sum over time and batch in one matrix product over the
flattened ``T·B`` rows.

The book prints (10.21) as ``W^T (∇_{h(t+1)} L) diag(1 - h(t+1)²)``: for column
vectors that multiplies an ``H×1`` vector by an ``H×H`` matrix, which does not
type-check. The code implements the dimensionally correct
``W^T diag(1 - h(t+1)²) ∇_{h(t+1)} L`` (see :func:`hidden_grad_step`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import as_array, check_float, check_ids, check_positive_int
from ._workspace import Workspace
from ._workspace import cached as cached_workspace
from .equations import implements
from .forward import (
    Forward,
    _check_h0,
    _check_params,
    _check_x,
    _forward,
    rows,
    rows_matmul,
)
from .loss import _step_losses, check_y
from .params import Params


class Backward(NamedTuple):
    """Result of :func:`backward`: the parameter gradients and ∇_{h^(0)} L."""

    grads: Params     # dU, dW, dV, db, dc in the shapes of U, W, V, b, c
    dh0: np.ndarray   # (B, H) gradient w.r.t. the initial state h^(0)


class HiddenGrads(NamedTuple):
    """Result of :func:`hidden_grads`."""

    dh: np.ndarray    # (T, B, H)  dh[t-1] = ∇_{h^(t)} L   (10.19)–(10.21)
    dh0: np.ndarray   # (B, H)     ∇_{h^(0)} L


# ---------------------------------------------------------------- one equation each


@implements("10.18")
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
    yhat = check_float("yhat", yhat)
    if yhat.ndim != 3:
        raise ValueError(f"yhat must have shape (T, B, n_out); got {tuple(yhat.shape)}")
    y = check_y(y, yhat.shape[:2], yhat.shape[2])
    return _output_grad(yhat, y)


@implements("10.19")
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
    _check_params(p)
    do_last = check_float("do_last", do_last, (None, p.n_out), dtype=p.dtype)
    return do_last @ p.V                          # (10.19)


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
    return _tanh_backward(dh, h, np.empty_like(dh))


@implements("10.20", "10.21")
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
    _check_params(p)
    dh_next = check_float("dh_next", dh_next, (None, p.n_hidden), dtype=p.dtype)
    B = dh_next.shape[0]
    h_next = check_float("h_next", h_next, (B, p.n_hidden), dtype=p.dtype)
    do_t = check_float("do_t", do_t, (B, p.n_out), dtype=p.dtype)
    dh = do_t @ p.V                                     # V^T ∇o(t) L
    dtanh = _tanh_backward(1, h_next, np.empty_like(dh))  # 1 - h(t+1)²
    scratch = (np.empty_like(dh), np.empty_like(dh))
    return _hidden_grad_step(p.W, dh_next, dtanh, scratch[0], dh, scratch[1])


@implements("10.19", "10.20", "10.21")
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
    Deep Learning eqs (10.19)–(10.21): (10.19) at ``t = τ``, then the chain rule
    (10.20) in the form (10.21) for ``t = τ-1, …, 1``. The terms ``V^T ∇_{o^(t)} L``
    are computed for all t in one matrix product before the loop. Derived in
    chapter "Back through time".
    """
    _check_params(p)
    do = check_float("do", do, (None, None, p.n_out), dtype=p.dtype)
    T, B = do.shape[:2]
    h = check_float("h", h, (T + 1, B, p.n_hidden), dtype=p.dtype)
    dh, da, dtanh = (np.empty((T, B, p.n_hidden), p.dtype) for _ in range(3))
    dh0 = _hidden_grads(p, h, do, dh, da, dtanh, np.empty((B, p.n_hidden), p.dtype))
    return HiddenGrads(dh, dh0)


@implements("10.22")
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
    return _grad_c(do)


@implements("10.23")
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
    dh, h = _check_dh_h(dh, h)
    return _grad_b(_tanh_backward(dh, h[1:], np.empty_like(dh)))


@implements("10.24")
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
    Deep Learning eq. (10.24); the sum over t and the batch is one product of
    the ``(n_out, T·B)`` and ``(T·B, H)`` matrices.
    """
    do = check_float("do", do, (None, None, None))
    T, B = do.shape[:2]
    h = check_float("h", h, (T + 1, B, None), dtype=do.dtype)
    return _grad_V(do, h)


@implements("10.25", "10.26")
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
    dh, h = _check_dh_h(dh, h)
    return _grad_W(_tanh_backward(dh, h[1:], np.empty_like(dh)), h)


@implements("10.27", "10.28")
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
    Deep Learning eqs (10.27)–(10.28). With one-hot ``x^(t)`` the outer product
    adds ``da^(t)`` to column ``x^(t)`` of ``dU``: a scatter-add, no one-hot matrix.
    """
    dh, h = _check_dh_h(dh, h)
    T, B = dh.shape[:2]
    x = as_array("x", x)
    if x.dtype.kind in "iu":
        if n_in is None:
            raise TypeError("n_in must be given when x holds token ids")
        n = check_positive_int("n_in", n_in)
        x = check_ids("x", x, n, shape=(T, B))
    else:
        x = check_float("x", x, (T, B, None), dtype=dh.dtype)
        n = x.shape[2]
    return _grad_U(_tanh_backward(dh, h[1:], np.empty_like(dh)), x, n)


# ---------------------------------------------------------------- composed


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
        ``grads`` (a :class:`Params` of dU, dW, dV, db, dc) and ``dh0 (B, H)``.
    """
    _check_params(p)
    if not isinstance(fwd, Forward):
        raise TypeError(f"fwd must be rnnlib.Forward; got {type(fwd).__name__}")
    T, B = fwd.o.shape[:2]
    if fwd.h.shape != (T + 1, B, p.n_hidden) or fwd.o.shape[2] != p.n_out:
        raise ValueError("fwd does not match p: it was computed with other sizes")
    y = check_y(y, (T, B), p.n_out)
    return _backward(p, fwd, y)


def bptt(p: Params, x, y, h0=None) -> tuple[float, Params]:
    """Loss L (10.12–10.14) of a batch and its gradient by BPTT (10.17–10.28).

    Parameters
    ----------
    p : Params
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
    y : ndarray of int, shape (T, B)
        Targets in ``[0, n_out)``.
    h0 : ndarray, shape (B, H), optional
        Initial state; zeros if omitted.

    Returns
    -------
    loss : float
        Σ over the batch of Σ_t L^(t).
    grads : Params
        ∇L with the fields and shapes of ``p`` (dU, dW, dV, db, dc).

    Notes
    -----
    For ∇_{h^(0)} L and the last state (truncated BPTT) use :func:`loss_and_grads`;
    for the forward arrays, :func:`rnnlib.forward` then :func:`backward`.
    """
    r = loss_and_grads(p, x, y, h0)
    return r.loss, r.grads


class BPTTResult(NamedTuple):
    """Result of :func:`loss_and_grads`."""

    loss: float         # Σ over the batch of Σ_t L^(t)
    grads: Params       # dU, dW, dV, db, dc
    dh0: np.ndarray     # (B, H) ∇_{h^(0)} L
    h_last: np.ndarray  # (B, H) h^(τ), the state to carry into the next chunk


def loss_and_grads(p: Params, x, y, h0=None) -> BPTTResult:
    """Like :func:`bptt`, also returning ∇_{h^(0)} L and the last state h^(τ).

    Parameters and the loss and gradients are as in :func:`bptt`. Truncated BPTT
    passes ``h_last`` as the next chunk's ``h0``.
    """
    _check_params(p)
    x = _check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0 = _check_h0(p, h0, B)
    y = check_y(y, (T, B), p.n_out)
    ws = cached_workspace(T, B, p.n_hidden, p.n_out, p.dtype)
    fwd = _forward(p, x, h0, ws)
    loss = float(_step_losses(fwd.log_yhat, y).sum())
    back = _backward(p, fwd, y, ws)
    return BPTTResult(loss, back.grads, back.dh0, fwd.h[-1].copy())


# ---------------------------------------------------------------- private kernels


def _backward(p: Params, fwd: Forward, y: np.ndarray, ws=None) -> Backward:
    """(10.18)–(10.28); scratch arrays come from ``ws`` (a Workspace) if given."""
    if ws is None:
        T, B, n_out = fwd.o.shape
        ws = Workspace.new(T, B, p.n_hidden, n_out, p.dtype)
    do, dh, da, dtanh = ws.backward_arrays()
    _output_grad(fwd.yhat, y, out=do)                   # (10.18)
    dh0 = _hidden_grads(p, fwd.h, do, dh, da, dtanh, ws.step)  # (10.19)–(10.21)
    grads = Params(U=_grad_U(da, fwd.x, p.n_in),        # (10.28)
                   W=_grad_W(da, fwd.h),                # (10.26)
                   V=_grad_V(do, fwd.h),                # (10.24)
                   b=_grad_b(da),                       # (10.23)
                   c=_grad_c(do))                       # (10.22)
    return Backward(grads, dh0)


def _output_grad(yhat, y, out=None):
    if out is None:
        out = np.empty_like(yhat)
    np.copyto(out, yhat)                                # (10.18) ŷ - 1_y
    target = y[..., None]
    np.put_along_axis(out, target, np.take_along_axis(out, target, -1) - 1, -1)
    return out


def _tanh_backward(dh, h, out):
    np.multiply(h, h, out=out)
    np.subtract(1, out, out=out)                        # ∂h/∂a = diag(1 - h²)
    out *= dh                                           # diag(1 - h²) ∇h L
    return out


def _hidden_grad_step(W, dh_next, dtanh_next, da_out, dh_out, scratch):
    """(10.21), with ``dh_out`` holding V^T ∇o(t) L on entry and ∇h(t) L on exit.

    ``dtanh_next = 1 - h(t+1)²``; ``da_out`` receives ∇a(t+1) L.
    """
    np.multiply(dtanh_next, dh_next, out=da_out)        # diag(1 - h(t+1)²) ∇h(t+1)
    np.matmul(da_out, W, out=scratch)                   # W^T (...) [rows: @ W]
    np.add(dh_out, scratch, out=dh_out)                 # + V^T ∇o(t) L
    return dh_out


def _hidden_grads(p, h, do, dh, da, dtanh, scratch):
    """Fill ``dh`` with ∇h(t) L, ``da`` with ∇a(t) L (t = τ … 1); return ∇h(0) L."""
    T = do.shape[0]
    rows_matmul(do, p.V, out=dh)                        # V^T ∇o(t) L, all t at once
    _tanh_backward(1, h[1:], dtanh)                     # 1 - h(t)², all t at once
    # dh[T-1] = V^T ∇o(τ) L is (10.19). Then (10.21) from t = τ-1 down to 1,
    # with dh[t] holding ∇h(t+1) L:
    for t in range(T - 1, 0, -1):
        _hidden_grad_step(p.W, dh[t], dtanh[t], da[t], dh[t - 1], scratch)
    np.multiply(dtanh[0], dh[0], out=da[0])             # ∇a(1) L
    return da[0] @ p.W                                  # h(0) feeds only h(1)


def _grad_c(do):
    return rows(do).sum(axis=0)                         # (10.22)


def _grad_b(da):
    return rows(da).sum(axis=0)                         # (10.23)


def _grad_V(do, h):
    return rows(do).T @ rows(h[1:])                     # (10.24) Σ_t ∇o(t) h(t)^T


def _grad_W(da, h):
    return rows(da).T @ rows(h[:-1])                    # (10.26) Σ_t ∇a(t) h(t-1)^T


def _grad_U(da, x, n_in):
    if x.dtype.kind in "iu":                            # (10.28), one-hot x(t):
        # add ∇a(t) to column x(t) of dU. Sorting the T·B rows by id turns the
        # scatter into one sum per distinct id (faster than np.add.at, and than
        # np.add.reduceat along axis 0, by 5-10x at T=100, B=64, H=512).
        ids = x.ravel()
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        sorted_da = np.take(rows(da), order, axis=0)
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        dUT = np.zeros((n_in, da.shape[-1]), da.dtype)
        for start, end in zip(starts, np.r_[starts[1:], ids.size], strict=True):
            sorted_da[start:end].sum(axis=0, out=dUT[ids[start]])
        return np.ascontiguousarray(dUT.T)
    return rows(da).T @ rows(x)                         # (10.28) Σ_t ∇a(t) x(t)^T


def _check_dh_h(dh, h):
    dh = check_float("dh", dh, (None, None, None))
    T, B, H = dh.shape
    h = check_float("h", h, (T + 1, B, H), dtype=dh.dtype)
    return dh, h


__all__ = [
    "Backward", "HiddenGrads", "output_grad", "last_hidden_grad", "tanh_backward",
    "hidden_grad_step", "hidden_grads", "grad_c", "grad_b", "grad_V", "grad_W",
    "grad_U", "backward", "bptt", "loss_and_grads", "BPTTResult",
]
