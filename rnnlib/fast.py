"""The fast path: loss and all gradients of a batch in one call, for training.

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units, ``n_in`` inputs,
``n_out`` outputs; arrays are time-major rows indexed as in
:mod:`rnnlib.forward_pass` and :mod:`rnnlib.gradients`.

:func:`rnnlib.loss_and_grads` computes exactly what the per-equation functions compute
when composed (:func:`rnnlib.forward`, :func:`rnnlib.step_losses`,
:func:`rnnlib.backward`); the tests check that on random shapes in float32 and
float64. It differs only in how it spends memory and time:

* a per-thread ``Workspace`` of ``(T, B, ·)`` arrays, reused while the shapes
  stay the same, written with ``out=``. A training loop calls this thousands of
  times with the same shapes; allocating the arrays afresh each time cost more
  than the arithmetic at typical sizes (the C allocator returns large blocks to
  the operating system and every new block is page-faulted in again: 11.3 ms →
  7.3 ms per call at T=50, B=32, H=256, float32). Nothing returned lives in the
  workspace.
* the terms that do not depend on the recurrence (``U x^(t) + b``, ``V^T ∇o(t) L``,
  ``1 - h(t)²``) for all ``t`` at once, and the parameter gradients as one matrix
  product over the ``T·B`` rows;
* a contiguous copy of ``W^T`` for the per-step products;
* ∇U for token ids as one sum per distinct id over id-sorted rows.

Read :mod:`rnnlib.gradients` for the mathematics; read this module for speed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._arrays import rows, rows_matmul, sum_rows_by_id, times_U
from ._validate import check_h0, check_params, check_targets, check_x
from .params import Params

_local = threading.local()


@dataclass(eq=False)
class Workspace:
    """Scratch arrays of :func:`rnnlib.loss_and_grads`, reused across calls."""

    a: np.ndarray         # (T, B, H)
    h: np.ndarray         # (T+1, B, H)
    o: np.ndarray         # (T, B, n_out)
    log_yhat: np.ndarray  # (T, B, n_out)
    yhat: np.ndarray      # (T, B, n_out), then ∇o L in place
    dh: np.ndarray        # (T, B, H)
    da: np.ndarray        # (T, B, H)
    dtanh: np.ndarray     # (T, B, H)    1 - h(t)²
    step: np.ndarray      # (B, H)       scratch for one time step
    key: tuple = ()

    @classmethod
    def new(cls, T, B, H, n_out, dtype) -> Workspace:
        def e(*shape):
            return np.empty(shape, dtype)

        return cls(e(T, B, H), e(T + 1, B, H), e(T, B, n_out), e(T, B, n_out),
                   e(T, B, n_out), e(T, B, H), e(T, B, H), e(T, B, H), e(B, H),
                   (T, B, H, n_out, np.dtype(dtype)))


def cached_workspace(T, B, H, n_out, dtype) -> Workspace:
    """This thread's workspace for these sizes (the previous one is dropped)."""
    key = (T, B, H, n_out, np.dtype(dtype))
    ws = getattr(_local, "ws", None)
    if ws is None or ws.key != key:
        ws = _local.ws = Workspace.new(T, B, H, n_out, dtype)
    return ws


class BPTTResult(NamedTuple):
    """Result of :func:`rnnlib.loss_and_grads`."""

    loss: float         # Σ over the batch of Σ_t L^(t)
    grads: Params       # dU, dW, dV, db, dc
    dh0: np.ndarray     # (B, H) ∇_{h^(0)} L
    h_last: np.ndarray  # (B, H) h^(τ), the state to carry into the next chunk


def loss_and_grads(p: Params, x, y, h0=None) -> BPTTResult:
    """Loss L (10.12–10.14) of a batch, its gradient (10.17–10.28), ∇_{h^(0)} L
    and the last state h^(τ).

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
    BPTTResult
        ``loss`` (float, Σ over the batch of Σ_t L^(t)), ``grads`` (a
        :class:`rnnlib.Params` of dU, dW, dV, db, dc), ``dh0 (B, H)`` and
        ``h_last (B, H)``; truncated BPTT passes ``h_last`` as the next chunk's
        ``h0``.
    """
    check_params(p)
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0 = check_h0(p, h0, B)
    y = check_targets(y, (T, B), p.n_out)
    ws = cached_workspace(T, B, p.n_hidden, p.n_out, p.dtype)
    _forward(p, x, h0, ws)
    loss = -float(np.take_along_axis(ws.log_yhat, y[..., None], axis=-1).sum())
    grads, dh0 = _backward(p, x, y, ws)
    return BPTTResult(loss, grads, dh0, ws.h[-1].copy())


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
    For ∇_{h^(0)} L and the last state (truncated BPTT) use
    :func:`rnnlib.loss_and_grads`; for the forward arrays, :func:`rnnlib.forward`
    then :func:`rnnlib.backward`.
    """
    r = loss_and_grads(p, x, y, h0)
    return r.loss, r.grads


# ---------------------------------------------------------------- kernels


def _forward(p: Params, x, h0, ws: Workspace) -> None:
    """(10.8)–(10.11) over the sequence, into ``ws.a, h, o, log_yhat, yhat``."""
    a, h = ws.a, ws.h
    times_U(p.U, x, out=a)
    a += p.b                                   # U x(t) + b for all t at once
    h[0] = h0
    Wt = np.ascontiguousarray(p.W.T)           # BLAS is faster on a contiguous W^T
    for t in range(x.shape[0]):
        np.matmul(h[t], Wt, out=ws.step)
        np.add(a[t], ws.step, out=a[t])        # (10.8) a = b + W h(t-1) + U x(t)
        np.tanh(a[t], out=h[t + 1])            # (10.9) h = tanh(a)
    rows_matmul(h[1:], p.V.T, out=ws.o)
    ws.o += p.c                                # (10.10) o = c + V h
    np.subtract(ws.o, ws.o.max(axis=-1, keepdims=True), out=ws.log_yhat)
    ws.log_yhat -= np.log(np.exp(ws.log_yhat).sum(axis=-1, keepdims=True))
    np.exp(ws.log_yhat, out=ws.yhat)           # (10.11) ŷ = softmax(o)


def _backward(p: Params, x, y, ws: Workspace) -> tuple[Params, np.ndarray]:
    """(10.18)–(10.28) from the forward arrays in ``ws``; returns (grads, dh0)."""
    h, do, dh, da, dtanh = ws.h, ws.yhat, ws.dh, ws.da, ws.dtanh
    target = y[..., None]                      # (10.18) ∇o L = ŷ - 1_y, in place
    np.put_along_axis(do, target, np.take_along_axis(do, target, -1) - 1, -1)
    rows_matmul(do, p.V, out=dh)               # V^T ∇o(t) L, all t at once
    np.multiply(h[1:], h[1:], out=dtanh)
    np.subtract(1, dtanh, out=dtanh)           # 1 - h(t)², all t at once
    # dh[T-1] = V^T ∇o(τ) L is (10.19). Then (10.21) from t = τ-1 down to 1,
    # with dh[t] holding ∇h(t+1) L:
    for t in range(x.shape[0] - 1, 0, -1):
        np.multiply(dtanh[t], dh[t], out=da[t])          # ∇a(t+1) L
        np.matmul(da[t], p.W, out=ws.step)               # W^T ∇a(t+1) L
        np.add(dh[t - 1], ws.step, out=dh[t - 1])        # (10.21)
    np.multiply(dtanh[0], dh[0], out=da[0])              # ∇a(1) L
    dh0 = da[0] @ p.W                                    # h(0) feeds only h(1)
    grads = Params(U=_grad_U(da, x, p.n_in),             # (10.28)
                   W=rows(da).T @ rows(h[:-1]),          # (10.26) Σ ∇a(t) h(t-1)^T
                   V=rows(do).T @ rows(h[1:]),           # (10.24) Σ ∇o(t) h(t)^T
                   b=rows(da).sum(axis=0),               # (10.23) Σ ∇a(t)
                   c=rows(do).sum(axis=0))               # (10.22) Σ ∇o(t)
    return grads, dh0


def _grad_U(da, x, n_in):
    if x.dtype.kind in "iu":                   # (10.28), one-hot x(t):
        # add ∇a(t) to column x(t) of dU, one sum per distinct id
        return np.ascontiguousarray(sum_rows_by_id(rows(da), x, n_in).T)
    return rows(da).T @ rows(x)                # (10.28) Σ_t ∇a(t) x(t)^T
