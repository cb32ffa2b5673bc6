"""Long-term dependencies, Deep Learning §10.7, eqs (10.36)–(10.39), and the Jacobian
products that make gradients vanish or explode.

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units. Arrays are time-major
rows as in :mod:`rnnlib.forward`: ``h (T+1, B, H)`` with ``h[t] = h^(t)``.

§10.7 studies the recurrence ``h^(t) = W^T h^(t-1)`` (10.36), a network with no
inputs and no nonlinearity. Note the transpose: §10.7 writes ``W^T h``, while the
RNN of (10.8) writes ``W h``. For the row vectors stored here (10.36) reads
``h[t] = h[t-1] @ W``. Its solution is ``h^(t) = (W^t)^T h^(0)`` (10.37); for a
symmetric ``W = Q Λ Q^T`` with orthogonal ``Q`` (10.38) the power is
``W^t = Q Λ^t Q^T``, so ``h^(t) = Q Λ^t Q^T h^(0)`` (10.39): each eigen-direction is
scaled by ``λ_i^t``, which vanishes for ``|λ_i| < 1`` and explodes for
``|λ_i| > 1``. The book prints (10.39) as ``Q^T Λ^t Q h^(0)``, which is a different
vector whenever ``Q`` is not symmetric; this module implements the form that follows
from (10.37)–(10.38), and chapter "Long-term dependencies" shows both with SymPy.

For the tanh RNN (10.8)–(10.9) the Jacobian of one step is
``∂h^(k)/∂h^(k-1) = diag(1 - h^(k)²) W``, and over a distance ``τ - t`` the
chain rule multiplies them (:func:`rnnlib.jacobian_products`). Since every tanh
slope is at most 1, its spectral norm is bounded by
``Π_k ‖diag(1 - h^(k)²)‖ ‖W‖ ≤ ‖W‖^(τ-t)`` (:func:`rnnlib.jacobian_norm_bound`);
Bengio et al. (1994), Pascanu et al. (2013).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_float, check_shape
from .params import Params

__all__ = [
    "linear_states", "linear_state_at", "eigendecompose", "eigen_state_at",
    "jacobian_products", "jacobian_norm_bound",
]

SYMMETRY_RTOL = 1e-10  # |W - W^T| <= SYMMETRY_RTOL · |W| counts as symmetric


# ------------------------------------------------------------------ input checks


def _check_W(W) -> np.ndarray:
    W = check_float("W", W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be a square matrix of shape (H, H); got {W.shape}")
    return W


def _check_h0(h0, W: np.ndarray) -> np.ndarray:
    h0 = check_float("h0", h0, dtype=W.dtype)
    check_shape("h0", h0, (None, W.shape[0]))
    return h0


def _check_steps(name: str, value, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value}")
    return int(value)


def _check_params(p) -> None:
    if not isinstance(p, Params):
        raise TypeError(f"p must be rnnlib.Params; got {type(p).__name__}")
    if not np.isfinite(p.W).all():
        raise ValueError("parameter W must be finite; got NaN or inf values")


def _check_h_tau(p: Params, h, tau):
    h = check_float("h", h, (None, None, p.n_hidden), dtype=p.dtype)
    if h.shape[1] == 0:
        raise ValueError("h must have at least one sequence; got B=0")
    T = h.shape[0] - 1
    if T < 0:
        raise ValueError("h must hold h^(0) at least; got 0 time steps")
    tau = T if tau is None else _check_steps("tau", tau)
    if tau > T:
        raise ValueError(f"tau must be <= T = {T} (h has shape {h.shape}); got {tau}")
    return h, tau


# ---------------------------------------------------------------- (10.36)–(10.39)


def linear_states(W, h0, T) -> np.ndarray:
    """Iterate h^(t) = W^T h^(t-1) for t = 1 … T.

    Parameters
    ----------
    W : ndarray, shape (H, H)
    h0 : ndarray, shape (B, H)
        ``h^(0)`` for each of ``B`` sequences (rows).
    T : int
        Number of steps.

    Returns
    -------
    h : ndarray, shape (T+1, B, H)
        ``h[t] = h^(t)``, ``h[0] = h0``; dtype of ``W``.

    Notes
    -----
    Deep Learning eq (10.36), §10.7: the RNN without inputs or nonlinearity. For
    row vectors ``(W^T h)^T = h^T W``, so the loop reads ``h[t] = h[t-1] @ W``.
    Derived in chapter "Long-term dependencies".
    """
    W = _check_W(W)
    h0 = _check_h0(h0, W)
    T = _check_steps("T", T)
    h = np.empty((T + 1,) + h0.shape, W.dtype)
    h[0] = h0
    for t in range(1, T + 1):
        h[t] = h[t - 1] @ W                      # (10.36) h(t) = W^T h(t-1)
    return h


def linear_state_at(W, h0, t) -> np.ndarray:
    """h^(t) = (W^t)^T h^(0), the solution of (10.36), through the matrix power.

    Parameters
    ----------
    W : ndarray, shape (H, H)
    h0 : ndarray, shape (B, H)
    t : int

    Returns
    -------
    h_t : ndarray, shape (B, H)
        ``h^(t)`` for each row of ``h0``. With ``h0`` the identity (``B = H``) it is
        ``W^t``, the transposed Jacobian ``(∂h^(t)/∂h^(0))^T``.

    Notes
    -----
    Deep Learning eq (10.37). For rows, ``((W^t)^T h)^T = h^T W^t``; ``W^t`` is
    computed by repeated squaring (``numpy.linalg.matrix_power``), not by stepping.
    """
    W = _check_W(W)
    h0 = _check_h0(h0, W)
    t = _check_steps("t", t)
    return h0 @ np.linalg.matrix_power(W, t)     # (10.37) h(t) = (W^t)^T h(0)


def eigendecompose(W) -> tuple[np.ndarray, np.ndarray]:
    """W = Q Λ Q^T with orthogonal Q, for a symmetric W.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        Symmetric: ``|W - W^T| <= 1e-10 |W|`` entrywise (max-norm).

    Returns
    -------
    Q : ndarray, shape (H, H)
        Orthogonal; column ``i`` is the eigenvector of ``lam[i]``.
    lam : ndarray, shape (H,)
        The eigenvalues in ascending order, the diagonal of Λ.

    Raises
    ------
    ValueError
        If ``W`` is not symmetric: a real orthogonal eigendecomposition exists
        only for symmetric matrices (the spectral theorem).

    Notes
    -----
    Deep Learning eq (10.38), computed with ``numpy.linalg.eigh``. Eigenvectors
    are unique only up to sign (and rotation within repeated eigenvalues); ``Q Λ Q^T``
    is unique.
    """
    W = _check_W(W)
    scale = np.abs(W).max(initial=0.0)
    if np.abs(W - W.T).max(initial=0.0) > SYMMETRY_RTOL * scale:
        raise ValueError(
            "W must be symmetric for W = Q Λ Q^T with orthogonal Q (10.38); "
            f"got max |W - W^T| = {np.abs(W - W.T).max():.3g}"
        )
    lam, Q = np.linalg.eigh(W)                   # (10.38) W = Q Λ Q^T
    return Q, lam


def eigen_state_at(W, h0, t) -> np.ndarray:
    """h^(t) = Q Λ^t Q^T h^(0) for a symmetric W = Q Λ Q^T.

    Parameters
    ----------
    W : ndarray, shape (H, H)
        Symmetric (see :func:`eigendecompose`).
    h0 : ndarray, shape (B, H)
    t : int

    Returns
    -------
    h_t : ndarray, shape (B, H)
        Equal to :func:`linear_state_at` up to round-off.

    Notes
    -----
    Deep Learning eq (10.39) in the form implied by (10.37) and (10.38):
    ``(W^t)^T = (Q Λ^t Q^T)^T = Q Λ^t Q^T``. The book prints ``Q^T Λ^t Q h^(0)``,
    which equals this only when ``Q`` is symmetric. For rows,
    ``h^T Q Λ^t Q^T``: rotate into the eigenbasis, scale coordinate ``i`` by
    ``λ_i^t``, rotate back.
    """
    W = _check_W(W)
    h0 = _check_h0(h0, W)
    t = _check_steps("t", t)
    Q, lam = eigendecompose(W)
    return ((h0 @ Q) * lam**t) @ Q.T             # (10.39) h(t) = Q Λ^t Q^T h(0)


# ------------------------------------------------------ Jacobians of the tanh RNN


def jacobian_products(p: Params, h, tau=None) -> np.ndarray:
    """∂h^(τ)/∂h^(t) = Π_{k=t+1}^{τ} diag(1 - h^(k)²) W, for every t = 0 … τ.

    Parameters
    ----------
    p : Params
        Only ``W`` is used.
    h : ndarray, shape (T+1, B, H)
        Hidden states from :func:`rnnlib.forward`, ``h[0] = h^(0)``.
    tau : int, optional
        The later step, ``0 <= tau <= T``; default ``T``.

    Returns
    -------
    J : ndarray, shape (tau+1, B, H, H)
        ``J[t, b]`` is the Jacobian ``∂h^(τ)/∂h^(t)`` of sequence ``b`` (numerator
        layout: row ``i`` is unit ``i`` of ``h^(τ)``); ``J[tau]`` is the identity.
        The distance is ``τ - t``.

    Notes
    -----
    The chain rule through (10.8)–(10.9): one step back multiplies by
    ``∂h^(k)/∂h^(k-1) = diag(1 - h^(k)²) W``, the Jacobian whose transpose appears
    in (10.21). The product is accumulated from ``t = τ`` downwards,
    ``J[t-1] = J[t] diag(1 - h^(t)²) W``, as BPTT does, and batched over the
    sequences (one ``(B·H, H) @ (H, H)`` product per step). ``∇_{h^(t)} L^(τ) =
    J[t]^T ∇_{h^(τ)} L^(τ)``, so these products decide how much of the gradient of
    a late loss reaches an early state (Deep Learning §10.7). Derived in chapter
    "Long-term dependencies".
    """
    _check_params(p)
    h, tau = _check_h_tau(p, h, tau)
    B, H = h.shape[1:]
    J = np.empty((tau + 1, B, H, H), p.dtype)
    J[tau] = np.eye(H, dtype=p.dtype)
    for t in range(tau, 0, -1):
        dtanh = 1 - h[t] ** 2                    # (B, H) diagonal of diag(1 - h(t)²)
        # J[t] diag(1 - h(t)²): scale column j by dtanh[:, j]; then @ W, all rows
        scaled = (J[t] * dtanh[:, None, :]).reshape(B * H, H)
        J[t - 1] = (scaled @ p.W).reshape(B, H, H)
    return J


def jacobian_norm_bound(p: Params, h, tau=None) -> np.ndarray:
    """Π_{k=t+1}^{τ} ‖diag(1 - h^(k)²)‖ ‖W‖ ≥ ‖∂h^(τ)/∂h^(t)‖, for every t = 0 … τ.

    Parameters
    ----------
    p : Params
    h : ndarray, shape (T+1, B, H)
    tau : int, optional
        Default ``T``.

    Returns
    -------
    bound : ndarray, shape (tau+1, B)
        ``bound[t, b]`` bounds the spectral norm of ``jacobian_products(p, h,
        tau)[t, b]``; ``bound[tau] = 1``.

    Notes
    -----
    Sub-multiplicativity of the spectral norm ``‖·‖`` applied to the product of
    :func:`rnnlib.jacobian_products`; ``‖diag(v)‖ = max_i |v_i|`` and the tanh slopes
    ``1 - h²`` lie in ``(0, 1]``, so the bound is at most ``‖W‖^(τ-t)``: if the
    largest singular value of ``W`` is below 1, the gradient must vanish
    geometrically (Pascanu et al. 2013, §3).
    """
    _check_params(p)
    h, tau = _check_h_tau(p, h, tau)
    w_norm = np.linalg.norm(p.W, 2)                 # largest singular value of W
    step = np.abs(1 - h[1 : tau + 1] ** 2).max(axis=2) * w_norm  # (tau, B)
    bound = np.ones((tau + 1, h.shape[1]), p.dtype)
    # bound[t] = Π_{k=t+1}^{τ} step[k-1]: a reversed cumulative product
    bound[:tau] = np.cumprod(step[::-1], axis=0)[::-1]
    return bound
