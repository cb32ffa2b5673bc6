"""Sequence loss of Deep Learning eqs (10.12)–(10.14) and (10.17).

Sizes: ``T`` time steps, ``B`` sequences, ``n_out`` classes. Logits ``o`` are
``(T, B, n_out)``; targets ``y`` are int ids ``(T, B)`` in ``[0, n_out)``.

The loss of a batch is the book's L summed over the batch: every sequence
contributes its own L, and gradients are gradients of that sum.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float, check_sequence, check_targets
from .forward_pass import log_softmax


def step_losses(o, y) -> np.ndarray:
    """L^(t) = -log ŷ^(t)_{y^(t)} = -log p_model(y^(t) | x^(1..t)) for every t, b.

    Parameters
    ----------
    o : ndarray, shape (T, B, n_out)
        Logits ``o^(t)``.
    y : ndarray of int, shape (T, B)
        Targets ``y^(t)`` in ``[0, n_out)``.

    Returns
    -------
    ndarray, shape (T, B)
        The per-step losses ``L^(t)`` of each sequence.

    Notes
    -----
    Deep Learning eq. (10.14), using the stable log-softmax of (10.11).
    Derived in chapter "Loss and the output gradient".
    """
    o = check_sequence("o", o)
    y = check_targets(y, o.shape[:2], o.shape[2])
    log_yhat = log_softmax(o)                           # log ŷ, stable (10.11)
    return -np.take_along_axis(log_yhat, y[..., None], axis=-1)[..., 0]  # (10.14)


def sequence_loss(o, y) -> float:
    """L = Σ_t L^(t), summed over the batch, as a Python float.

    Parameters
    ----------
    o : ndarray, shape (T, B, n_out)
    y : ndarray of int, shape (T, B)

    Returns
    -------
    float

    Notes
    -----
    Deep Learning eqs (10.12)–(10.13): the loss of a whole sequence is the sum of
    the per-step losses (10.14).
    """
    return float(step_losses(o, y).sum())               # (10.13) L = Σ_t L^(t)


def dL_dLt(step_loss) -> np.ndarray:
    """∂L/∂L^(t) = 1 for every step: the sum (10.13) passes gradients unchanged.

    Parameters
    ----------
    step_loss : ndarray, shape (T, B)
        The per-step losses (only their shape and dtype are used).

    Returns
    -------
    ndarray of ones, shape (T, B)

    Notes
    -----
    Deep Learning eq. (10.17). It is the first factor of every chain rule in
    §10.2.2 and is why the output gradient (10.18) needs no extra weighting.
    """
    step_loss = check_float("step_loss", step_loss, finite=False)
    return np.ones_like(step_loss)                      # (10.17) ∂L/∂L^(t) = 1
