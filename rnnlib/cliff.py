"""The cliff of §10.11.1: a one-unit tanh RNN whose loss has a near-vertical wall.

The network has one hidden unit, no input and no output layer:

    h^(t) = tanh(w h^(t-1) + b),  t = 1 … τ,    L = ½ (h^(τ) - y)²

(the RNN of (10.8)-(10.9) with H = 1, U x^(t) = 0), with the two parameters ``w``
(the book's W) and ``b``. For ``w (1 - h²) > 1`` at the unstable fixed point, states
started on either side of it are driven apart by a factor of about ``w (1 - h²)``
per step, so h^(τ), and with it L, jumps between two plateaus across a wall whose
slope grows geometrically with τ: the cliff of Deep Learning Figure 10.17
{Pascanu, Mikolov & Bengio 2013}. Chapter "The cliff and gradient clipping" derives
the gradient with SymPy.

Every function broadcasts over arrays of ``w`` and ``b`` (any shapes numpy can
broadcast together), so one call evaluates the loss on a whole grid of parameters.
Code indexing: ``h[t]`` holds h^(t), ``h[0] = h0``.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float, check_positive_int

__all__ = ["cliff_states", "cliff_loss_and_grad"]


def _check(w, b, h0, tau) -> tuple[np.ndarray, np.ndarray, float, int]:
    w = check_float("w", w, dtype=np.float64)
    b = check_float("b", b, dtype=np.float64)
    try:
        np.broadcast_shapes(w.shape, b.shape)
    except ValueError:
        raise ValueError(f"w and b must have shapes that broadcast together; got "
                         f"{w.shape} and {b.shape}") from None
    h0 = _check_scalar("h0", h0)
    if not -1 < h0 < 1:
        raise ValueError(f"h0 must be in (-1, 1), the range of tanh; got {h0!r}")
    tau = check_positive_int("tau", tau)
    return w, b, h0, tau


def _check_scalar(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating,
                                                         np.integer)):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return float(value)


def cliff_states(w, b, h0: float, tau: int) -> np.ndarray:
    """h^(t) = tanh(w h^(t-1) + b) for t = 1 … τ, from h^(0) = ``h0``.

    Parameters
    ----------
    w, b : float or ndarray
        The recurrent weight and the bias; arrays broadcast together (shape ``S``).
    h0 : float
        The initial state, in (-1, 1).
    tau : int
        The number of steps τ ≥ 1.

    Returns
    -------
    ndarray, shape (τ+1, *S)
        ``h[t]`` is h^(t); ``h[0]`` is ``h0``.

    Notes
    -----
    (10.8)-(10.9) with one hidden unit and no input.
    """
    w, b, h0, tau = _check(w, b, h0, tau)
    shape = np.broadcast_shapes(w.shape, b.shape)
    h = np.empty((tau + 1, *shape))
    h[0] = h0
    for t in range(1, tau + 1):
        h[t] = np.tanh(w * h[t - 1] + b)  # (10.8)-(10.9), H = 1, no input
    return h


def cliff_loss_and_grad(w, b, h0: float, y: float, tau: int):
    """L = ½ (h^(τ) - y)² and its gradient (∂L/∂w, ∂L/∂b), by BPTT.

    Parameters
    ----------
    w, b : float or ndarray
        The two parameters; arrays broadcast together (shape ``S``).
    h0 : float
        The initial state h^(0), in (-1, 1).
    y : float
        The target for h^(τ).
    tau : int
        The number of steps τ ≥ 1.

    Returns
    -------
    (ndarray, ndarray, ndarray), each of shape ``S``
        The loss ``L``, ``dw`` = ∂L/∂w and ``db`` = ∂L/∂b.

    Notes
    -----
    Back-propagation through time for one unit: ∂L/∂h^(τ) = h^(τ) - y, then for
    t = τ … 1 the pre-activation gradient ``da = dh (1 - h^(t)²)`` (10.21, H = 1)
    adds ``da h^(t-1)`` to ∂L/∂w (10.26) and ``da`` to ∂L/∂b (10.23), and
    ``dh ← w da`` carries it one step back.
    """
    y = _check_scalar("y", y)
    h = cliff_states(w, b, h0, tau)  # (τ+1, *S); checks w, b, h0, tau
    w = np.asarray(w, dtype=np.float64)
    loss = 0.5 * (h[tau] - y) ** 2
    dh = h[tau] - y  # ∂L/∂h^(τ)
    dw = np.zeros_like(loss)
    db = np.zeros_like(loss)
    for t in range(tau, 0, -1):
        da = dh * (1.0 - h[t] ** 2)  # through tanh: diag(1 - h²)
        dw = dw + da * h[t - 1]  # (10.26), one unit
        db = db + da  # (10.23)
        dh = w * da  # (10.21): W^T diag(1 - h²) ∇h
    return loss, dw, db
