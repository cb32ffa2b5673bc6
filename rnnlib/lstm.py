"""The LSTM of Deep Learning §10.10.1, eqs (10.40)–(10.44), and its BPTT.

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units (cells), ``n_in``
inputs, ``n_out`` outputs. Arrays are time-major rows, as for the vanilla RNN
(:mod:`rnnlib.forward_pass`): ids ``x (T, B)`` or dense ``x (T, B, n_in)``;
``h, s (T+1, B, H)`` with ``h[0] = h^(0)``, ``s[0] = s^(0)``, so ``h[t]`` is the
book's ``h^(t)``; the gates ``f, g, q`` and the cell input ``z`` ``(T, B, H)``
with ``f[t-1] = f^(t)``; logits ``o (T, B, n_out)``. The book's column-vector
``W h`` is ``h @ W.T`` on rows.

The cell, with σ the logistic sigmoid and ⊙ the elementwise product:

==========  ==================================================================
(10.40)     forget gate      f = σ(b^f + U^f x^(t) + W^f h^(t-1))
(10.42)     input gate       g = σ(b^g + U^g x^(t) + W^g h^(t-1))
(10.44)     output gate      q = σ(b^o + U^o x^(t) + W^o h^(t-1))
(10.41)     state            s^(t) = f ⊙ s^(t-1) + g ⊙ z,
                             z = tanh(b + U x^(t) + W h^(t-1))   (cell input)
(10.43)     output           h^(t) = tanh(s^(t)) ⊙ q
==========  ==================================================================

and the output layer of the vanilla RNN, ``o = c + V h^(t)``, softmax, and the
loss Σ_t −log ŷ^(t)_{y^(t)} (10.10)–(10.14).

Variants (argument ``variant``):

* ``"standard"`` (default): the cell input ``z`` is ``tanh``, as in Hochreiter &
  Schmidhuber (1997), Gers et al. (2000), Graves (2013), CS231n and PyTorch's
  ``nn.LSTM`` (which equals this cell with its gates i, f, g, o renamed g, f, z, q).
* ``"book"``: eq. (10.41) as printed, with ``z = σ(b + U x^(t) + W h^(t-1))``, so a
  cell can only add to its state, never subtract (chapter "The LSTM" compares the
  two).

Parameter names follow the book, except that the book writes the output gate's
parameters ``b^o, U^o, W^o`` and the gate itself ``q``: here they are ``bq, Uq,
Wq`` (the printed forms keep the book's superscript o).

Each forward equation is one function (``lstm_forget_gate`` … ``lstm_output``), and
one step of back-propagation is :func:`rnnlib.lstm_step_backward`; :func:`forward` and
:func:`backward` compose them. :func:`loss_and_grads` / :func:`bptt` compute the
same thing fast, for training: the four gate matrices stacked into one product per
step, the input products for all ``t`` at once, and a reused workspace.

References: Goodfellow, Bengio & Courville, *Deep Learning* (2016) §10.10.1;
Hochreiter & Schmidhuber (1997); Gers, Schmidhuber & Cummins (2000).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._arrays import rows, rows_matmul, sum_rows_by_id, times_U
from ._validate import (
    FLOAT_DTYPES,
    as_array,
    check_float,
    check_params,
    check_positive_int,
    check_shape,
    check_targets,
    check_x,
    shape_str,
)
from .forward_pass import log_softmax
from .params import as_generator

NAMES = ("Uf", "Wf", "bf", "Ug", "Wg", "bg", "Uq", "Wq", "bq", "U", "W", "b",
         "V", "c")
VARIANTS = ("standard", "book")
FORGET_BIAS = 1.0  # init_params: b^f = 1, so the cells start by remembering


@dataclass(frozen=True, eq=False)
class LSTMParams:
    """The fourteen parameter arrays of (10.40)–(10.44) and the output layer;
    gradients use the same type.

    ======================  ===============  ===================================
    name                    shape            role
    ======================  ===============  ===================================
    ``Uf, Wf, bf``          ``(H, n_in)``,   forget gate f (10.40)
                            ``(H, H)``,
                            ``(H,)``
    ``Ug, Wg, bg``          as above         external input gate g (10.42)
    ``Uq, Wq, bq``          as above         output gate q (10.44); the book's
                                             ``U^o, W^o, b^o``
    ``U, W, b``             as above         cell input (10.41)
    ``V, c``                ``(n_out, H)``,  output layer (10.10)
                            ``(n_out,)``
    ======================  ===============  ===================================

    All arrays share one floating dtype (float32 or float64); the constructor
    checks dtypes and shapes and raises ``TypeError``/``ValueError`` naming the
    offending field.
    """

    Uf: np.ndarray  # (H, n_in)
    Wf: np.ndarray  # (H, H)
    bf: np.ndarray  # (H,)
    Ug: np.ndarray
    Wg: np.ndarray
    bg: np.ndarray
    Uq: np.ndarray
    Wq: np.ndarray
    bq: np.ndarray
    U: np.ndarray
    W: np.ndarray
    b: np.ndarray
    V: np.ndarray   # (n_out, H)
    c: np.ndarray   # (n_out,)

    def __post_init__(self):
        arrays = {name: as_array(name, getattr(self, name)) for name in NAMES}
        for name, arr in arrays.items():
            if arr.dtype not in FLOAT_DTYPES:
                raise TypeError(
                    f"{name} must have dtype float32 or float64; got {arr.dtype}"
                )
            object.__setattr__(self, name, arr)
        if len({arr.dtype for arr in arrays.values()}) > 1:
            got = ", ".join(f"{n}: {a.dtype}" for n, a in arrays.items())
            raise TypeError(f"parameters must share one dtype; got {got}")
        U, V = arrays["U"], arrays["V"]
        if U.ndim != 2 or V.ndim != 2:
            name, arr = ("U", U) if U.ndim != 2 else ("V", V)
            raise ValueError(f"{name} must be 2-D; got shape {shape_str(arr.shape)}")
        H, n_in = U.shape
        n_out = V.shape[0]
        expected = {"V": (n_out, H), "c": (n_out,)}
        for gate in ("f", "g", "q", ""):
            expected.update({"U" + gate: (H, n_in), "W" + gate: (H, H),
                             "b" + gate: (H,)})
        for name in NAMES:
            if arrays[name].shape != expected[name]:
                raise ValueError(
                    f"{name} must have shape {shape_str(expected[name])} given U "
                    f"{shape_str(U.shape)} and V {shape_str(V.shape)}; "
                    f"got {shape_str(arrays[name].shape)}"
                )

    @property
    def n_in(self) -> int:
        return self.U.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.U.shape[0]

    @property
    def n_out(self) -> int:
        return self.V.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.U.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        """The fourteen arrays by name, in field order (Uf, Wf, bf, Ug, …, V, c)."""
        return {name: getattr(self, name) for name in NAMES}

    def replace(self, **arrays) -> LSTMParams:
        """A copy with some arrays replaced (checked like the constructor)."""
        return dataclasses.replace(self, **arrays)

    def astype(self, dtype) -> LSTMParams:
        """A copy with every array cast to ``dtype`` (float32 or float64)."""
        return LSTMParams(**{n: a.astype(dtype) for n, a in self.arrays().items()})


def init_params(n_in: int, n_hidden: int, n_out: int, seed=0, dtype=np.float64,
                scale: float | None = None) -> LSTMParams:
    """Draw Gaussian weights, zero biases and a forget-gate bias of 1.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size (vocabulary size for ids), hidden size ``H``, output size.
    seed : int or numpy.random.Generator, default 0
    dtype : float32 or float64, default float64
    scale : float, optional
        Standard deviation of the weights; default ``1/sqrt(H)``.

    Returns
    -------
    rnnlib.lstm.LSTMParams
        Every ``U*``, ``W*`` and ``V`` Gaussian (drawn in field order), ``bf = 1``
        (``FORGET_BIAS``: f ≈ σ(1) ≈ 0.73 at the start, so the state is carried
        rather than forgotten; Gers et al., 2000, Jozefowicz et al., 2015), the
        other biases zero.
    """
    n_in = check_positive_int("n_in", n_in)
    H = check_positive_int("n_hidden", n_hidden)
    n_out = check_positive_int("n_out", n_out)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    if scale is None:
        scale = 1.0 / np.sqrt(H)
    if not (isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number; got {scale!r}")
    rng = as_generator(seed)
    arrays = {}
    for gate in ("f", "g", "q", ""):
        arrays["U" + gate] = (scale * rng.standard_normal((H, n_in))).astype(dtype)
        arrays["W" + gate] = (scale * rng.standard_normal((H, H))).astype(dtype)
        arrays["b" + gate] = np.zeros(H, dtype)
    arrays["bf"][:] = FORGET_BIAS
    arrays["V"] = (scale * rng.standard_normal((n_out, H))).astype(dtype)
    arrays["c"] = np.zeros(n_out, dtype)
    return LSTMParams(**{n: arrays[n] for n in NAMES})


def zeros_like(p: LSTMParams) -> LSTMParams:
    """An ``LSTMParams`` of zeros with the shapes and dtype of ``p``."""
    return LSTMParams(**{n: np.zeros_like(a) for n, a in p.arrays().items()})


# ---------------------------------------------------------------- one equation each


def sigmoid(a) -> np.ndarray:
    """σ(a) = 1 / (1 + exp(−a)), elementwise.

    For a ≪ 0, exp(−a) overflows to inf and σ(a) is 0, as it should be; the
    overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-a))


def _affine(Ugate, Wgate, bgate, x_t, h_prev):
    """b + U x^(t) + W h^(t-1) on rows: ``(B, H)``."""
    return bgate + times_U(Ugate, x_t) + h_prev @ Wgate.T


def lstm_forget_gate(p: LSTMParams, x_t, h_prev) -> np.ndarray:
    """f^(t) = σ(b^f + U^f x^(t) + W^f h^(t-1)).

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)
        ``h^(t-1)``.

    Returns
    -------
    f : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.40); derived in chapter "The LSTM".
    """
    return sigmoid(_affine(p.Uf, p.Wf, p.bf, x_t, h_prev))      # (10.40)


def lstm_input_gate(p: LSTMParams, x_t, h_prev) -> np.ndarray:
    """g^(t) = σ(b^g + U^g x^(t) + W^g h^(t-1)), the external input gate.

    Parameters and shapes as :func:`lstm_forget_gate`; returns ``g (B, H)``.

    Notes
    -----
    Deep Learning eq. (10.42); derived in chapter "The LSTM".
    """
    return sigmoid(_affine(p.Ug, p.Wg, p.bg, x_t, h_prev))      # (10.42)


def lstm_output_gate(p: LSTMParams, x_t, h_prev) -> np.ndarray:
    """q^(t) = σ(b^o + U^o x^(t) + W^o h^(t-1)), the output gate (fields ``bq, Uq,
    Wq``).

    Parameters and shapes as :func:`lstm_forget_gate`; returns ``q (B, H)``.

    Notes
    -----
    Deep Learning eq. (10.44); derived in chapter "The LSTM".
    """
    return sigmoid(_affine(p.Uq, p.Wq, p.bq, x_t, h_prev))      # (10.44)


def lstm_cell_input(p: LSTMParams, x_t, h_prev, *, variant="standard") -> np.ndarray:
    """z^(t) = tanh(b + U x^(t) + W h^(t-1)) (``variant="book"``: σ instead of tanh).

    The term that (10.41) adds to the state through the input gate. Parameters
    and shapes as :func:`lstm_forget_gate`; returns ``z (B, H)``.

    Notes
    -----
    Deep Learning eq. (10.41), whose printed form uses σ (``variant="book"``).
    """
    a = _affine(p.U, p.W, p.b, x_t, h_prev)
    return np.tanh(a) if _check_variant(variant) == "standard" else sigmoid(a)


def lstm_state(p: LSTMParams, x_t, h_prev, s_prev, f, g, *,
               variant="standard") -> np.ndarray:
    """s^(t) = f^(t) ⊙ s^(t-1) + g^(t) ⊙ tanh(b + U x^(t) + W h^(t-1)).

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev, s_prev : ndarray, shape (B, H)
        ``h^(t-1)`` and ``s^(t-1)``.
    f, g : ndarray, shape (B, H)
        The forget gate (10.40) and the input gate (10.42) at ``t``.
    variant : str
        ``"standard"`` (default): tanh cell input; ``"book"`` squashes it with σ,
        as (10.41) is printed.

    Returns
    -------
    s : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.41); derived in chapter "The LSTM".
    """
    z = lstm_cell_input(p, x_t, h_prev, variant=variant)
    return f * s_prev + g * z                                     # (10.41)


def lstm_output(s, q) -> np.ndarray:
    """h^(t) = tanh(s^(t)) ⊙ q^(t).

    Parameters
    ----------
    s, q : ndarray, shape (B, H)
        The state (10.41) and the output gate (10.44) at ``t``.

    Returns
    -------
    h : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.43); derived in chapter "The LSTM".
    """
    return np.tanh(s) * q                                         # (10.43)


# ---------------------------------------------------------------- the sequence


class LSTMForward(NamedTuple):
    """Everything the forward pass computes, kept for back-propagation."""

    x: np.ndarray         # (T, B) ids or (T, B, n_in) dense
    f: np.ndarray         # (T, B, H)      f[t-1] = f^(t)   (10.40)
    g: np.ndarray         # (T, B, H)      g[t-1] = g^(t)   (10.42)
    q: np.ndarray         # (T, B, H)      q[t-1] = q^(t)   (10.44)
    z: np.ndarray         # (T, B, H)      cell input at t  (10.41)
    s: np.ndarray         # (T+1, B, H)    s[t] = s^(t)     (10.41)
    h: np.ndarray         # (T+1, B, H)    h[t] = h^(t)     (10.43)
    o: np.ndarray         # (T, B, n_out)  o[t-1] = o^(t)   (10.10)
    log_yhat: np.ndarray  # (T, B, n_out)  log softmax(o)   (10.11)
    yhat: np.ndarray      # (T, B, n_out)  softmax(o)
    variant: str = "standard"


def forward(p: LSTMParams, x, h0=None, s0=None, *, variant="standard") -> LSTMForward:
    """Run (10.40)–(10.44) and the output layer over a batch of sequences.

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
    h0, s0 : ndarray, shape (B, H), optional
        Initial output and state; zeros if omitted.
    variant : str
        ``"standard"``: tanh cell input (PyTorch's ``nn.LSTM``); ``"book"``: σ cell
        input, (10.41) as printed.

    Returns
    -------
    rnnlib.lstm.LSTMForward
        ``f, g, q, z (T, B, H)``, ``s, h (T+1, B, H)`` (``[0]`` the initial
        values), ``o, log_yhat, yhat (T, B, n_out)``, ``x`` and ``variant``.
    """
    variant = _check_variant(variant)
    check_params(p, LSTMParams, "rnnlib.lstm.LSTMParams")
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0, s0 = _initial(p, h0, B, "h0"), _initial(p, s0, B, "s0")
    H = p.n_hidden
    f, g, q, z = (np.empty((T, B, H), p.dtype) for _ in range(4))
    s = np.empty((T + 1, B, H), p.dtype)
    h = np.empty((T + 1, B, H), p.dtype)
    s[0], h[0] = s0, h0
    for t in range(T):
        f[t] = lstm_forget_gate(p, x[t], h[t])                    # (10.40)
        g[t] = lstm_input_gate(p, x[t], h[t])                     # (10.42)
        q[t] = lstm_output_gate(p, x[t], h[t])                    # (10.44)
        z[t] = lstm_cell_input(p, x[t], h[t], variant=variant)
        s[t + 1] = lstm_state(p, x[t], h[t], s[t], f[t], g[t],
                              variant=variant)                    # (10.41)
        h[t + 1] = lstm_output(s[t + 1], q[t])                    # (10.43)
    o = rows_matmul(h[1:], p.V.T) + p.c                           # (10.10)
    log_yhat = log_softmax(o)                                     # (10.11)
    return LSTMForward(x, f, g, q, z, s, h, o, log_yhat, np.exp(log_yhat), variant)


# ---------------------------------------------------------------- backward


class LSTMStepGrads(NamedTuple):
    """Result of :func:`rnnlib.lstm_step_backward` for one time step ``t``."""

    dh_prev: np.ndarray   # (B, H) ∇_{h^(t-1)} L through step t's gates
    ds_prev: np.ndarray   # (B, H) ∇_{s^(t-1)} L through f^(t) ⊙ s^(t-1)
    grads: LSTMParams     # step t's share of ∇L (dV, dc zero: the output layer)


def lstm_step_backward(p: LSTMParams, x_t, h_prev, s_prev, f, g, q, z, s, dh, ds,
                       *, variant="standard") -> LSTMStepGrads:
    """One step of BPTT through (10.40)–(10.44): from ∇_{h^(t)} L and the part of
    ∇_{s^(t)} L that comes from step t+1, to ∇_{h^(t-1)} L, ∇_{s^(t-1)} L and the
    step's share of the parameter gradients.

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev, s_prev : ndarray, shape (B, H)
        ``h^(t-1)``, ``s^(t-1)``.
    f, g, q, z, s : ndarray, shape (B, H)
        The gates, the cell input and the state at ``t`` (from
        :func:`rnnlib.lstm.forward`).
    dh : ndarray, shape (B, H)
        ∇_{h^(t)} L, all of it: ``V^T ∇_{o^(t)} L`` plus what step t+1 sends back.
    ds : ndarray, shape (B, H)
        ∇_{s^(t)} L through ``s^(t+1)`` only, ``f^(t+1) ⊙ ∇_{s^(t+1)} L``
        (zeros at the last step).
    variant : str
        The cell input's squashing, as in :func:`rnnlib.lstm.forward`.

    Returns
    -------
    rnnlib.lstm.LSTMStepGrads
        ``dh_prev``, ``ds_prev (B, H)`` and ``grads`` (an
        :class:`rnnlib.lstm.LSTMParams`).

    Notes
    -----
    Back-propagates (10.40)–(10.44), derived in chapter "The LSTM". With σ' = σ(1−σ)
    and tanh' = 1 − tanh², and ``a^f, a^g, a^q, a`` the four affine maps:

    * (10.43) ∇q = ∇h ⊙ tanh(s);  ∇s = ∇s + ∇h ⊙ q ⊙ (1 − tanh²(s))
    * (10.41) ∇f = ∇s ⊙ s^(t-1);  ∇g = ∇s ⊙ z;  ∇z = ∇s ⊙ g;
      ∇s^(t-1) = ∇s ⊙ f (the constant error carousel: ∂s^(t)/∂s^(t-1) = diag(f))
    * (10.40), (10.42), (10.44): ∇a^f = ∇f ⊙ f(1−f), … ; ∇a = ∇z ⊙ (1 − z²)
    * each affine map gives ∇U = Σ_rows ∇a x^T, ∇W = Σ_rows ∇a h^(t-1)^T, ∇b = Σ ∇a
      and sends W^T ∇a back to h^(t-1).
    """
    variant = _check_variant(variant)
    tanh_s = np.tanh(s)
    dq = dh * tanh_s                                  # (10.43) h = tanh(s) q
    ds = ds + dh * q * (1 - tanh_s**2)                # (10.43)
    df = ds * s_prev                                  # (10.41) s = f s_prev + g z
    dg = ds * z                                       # (10.41)
    dz = ds * g                                       # (10.41)
    ds_prev = ds * f                                  # (10.41)
    da_f = df * f * (1 - f)                           # (10.40) f = σ(a^f)
    da_g = dg * g * (1 - g)                           # (10.42) g = σ(a^g)
    da_q = dq * q * (1 - q)                           # (10.44) q = σ(a^o)
    if variant == "standard":
        da = dz * (1 - z**2)                          # (10.41) z = tanh(a)
    else:
        da = dz * z * (1 - z)                         # (10.41) as printed: z = σ(a)
    grads = {}
    for gate, da_gate in (("f", da_f), ("g", da_g), ("q", da_q), ("", da)):
        grads["U" + gate] = _times_x(da_gate, x_t, p.n_in)
        grads["W" + gate] = da_gate.T @ h_prev
        grads["b" + gate] = da_gate.sum(axis=0)
    grads["V"], grads["c"] = np.zeros_like(p.V), np.zeros_like(p.c)
    dh_prev = da_f @ p.Wf + da_g @ p.Wg + da_q @ p.Wq + da @ p.W
    return LSTMStepGrads(dh_prev, ds_prev, LSTMParams(**grads))


class LSTMBackward(NamedTuple):
    """Result of :func:`backward`."""

    grads: LSTMParams
    dh0: np.ndarray  # (B, H)
    ds0: np.ndarray  # (B, H)


def backward(p: LSTMParams, fwd: LSTMForward, y) -> LSTMBackward:
    """∇L for every parameter and for ``h^(0)``, ``s^(0)``, by composing
    :func:`rnnlib.lstm_step_backward` from t = τ down to 1.

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    fwd : rnnlib.lstm.LSTMForward
        From :func:`forward` (its ``variant`` is used).
    y : ndarray of int, shape (T, B)

    Returns
    -------
    rnnlib.lstm.LSTMBackward
        ``grads`` (:class:`rnnlib.lstm.LSTMParams`), ``dh0``, ``ds0 (B, H)``.

    Notes
    -----
    The output layer is that of the vanilla RNN: ∇o = ŷ − 1_y (10.18), ∇V, ∇c
    (10.22), (10.24); the rest is (10.40)–(10.44) backwards, chapter "The LSTM".
    """
    check_params(p, LSTMParams, "rnnlib.lstm.LSTMParams")
    x, f, g, q, z, s, h = fwd.x, fwd.f, fwd.g, fwd.q, fwd.z, fwd.s, fwd.h
    T, B = x.shape[:2]
    y = check_targets(y, (T, B), p.n_out)
    do = fwd.yhat.copy()
    np.put_along_axis(do, y[..., None],
                      np.take_along_axis(do, y[..., None], -1) - 1, -1)  # (10.18)
    total = {n: np.zeros_like(a) for n, a in p.arrays().items()}
    total["V"] = rows(do).T @ rows(h[1:])                         # (10.24)
    total["c"] = rows(do).sum(axis=0)                             # (10.22)
    dh_next = np.zeros((B, p.n_hidden), p.dtype)                  # from step t+1
    ds_next = np.zeros((B, p.n_hidden), p.dtype)
    for t in range(T - 1, -1, -1):
        dh = do[t] @ p.V + dh_next                                # V^T ∇o + ...
        step = lstm_step_backward(p, x[t], h[t], s[t], f[t], g[t], q[t], z[t],
                                  s[t + 1], dh, ds_next, variant=fwd.variant)
        for name, d in step.grads.arrays().items():
            total[name] += d
        dh_next, ds_next = step.dh_prev, step.ds_prev
    return LSTMBackward(LSTMParams(**total), dh_next, ds_next)


def _times_x(da, x_t, n_in):
    """Σ over the rows of ∇a x^T: ``(H, n_in)``; ids add ∇a to column x."""
    if x_t.dtype.kind in "iu":
        out = np.zeros((n_in, da.shape[-1]), da.dtype)
        np.add.at(out, x_t, da)
        return out.T
    return da.T @ x_t


# ---------------------------------------------------------------- fast path


class LSTMResult(NamedTuple):
    """Result of :func:`loss_and_grads`."""

    loss: float          # Σ over the batch of Σ_t L^(t)
    grads: LSTMParams
    dh0: np.ndarray      # (B, H) ∇_{h^(0)} L
    h_last: np.ndarray   # (B, H) h^(τ), to carry into the next chunk
    ds0: np.ndarray      # (B, H) ∇_{s^(0)} L
    s_last: np.ndarray   # (B, H) s^(τ)


_local = threading.local()
# Gate blocks of the stacked matrices, in this order: sigmoid gates first, then the
# tanh cell input, so one slice holds everything that gets σ.
_GATES = ("f", "g", "q", "")


@dataclass(eq=False)
class _Workspace:
    A: np.ndarray       # (T, B, 4H)  pre-activations, then gate values [f g q z]
    s: np.ndarray       # (T+1, B, H)
    h: np.ndarray       # (T+1, B, H)
    tanh_s: np.ndarray  # (T, B, H)
    o: np.ndarray       # (T, B, n_out), then log ŷ
    do: np.ndarray      # (T, B, n_out)  ŷ, then ∇o L in place
    dh: np.ndarray      # (T, B, H)   V^T ∇o, then all of ∇h
    dA: np.ndarray      # (T, B, 4H)  ∇ of the pre-activations
    ds: np.ndarray      # (B, H)
    tmp: np.ndarray     # (B, H)
    step: np.ndarray    # (B, 4H)
    K: np.ndarray       # (B, 4H)  one step's local derivatives, see _backward
    key: tuple = ()

    @classmethod
    def get(cls, T, B, H, n_out, dtype) -> _Workspace:
        key = (T, B, H, n_out, np.dtype(dtype))
        ws = getattr(_local, "ws", None)
        if ws is None or ws.key != key:
            def e(*shape):
                return np.empty(shape, dtype)

            ws = _local.ws = cls(e(T, B, 4 * H), e(T + 1, B, H), e(T + 1, B, H),
                                 e(T, B, H), e(T, B, n_out), e(T, B, n_out),
                                 e(T, B, H), e(T, B, 4 * H), e(B, H), e(B, H),
                                 e(B, 4 * H), e(B, 4 * H), key)
        return ws


def loss_and_grads(p: LSTMParams, x, y, h0=None, s0=None) -> LSTMResult:
    """Loss (10.12–10.14) of a batch through the LSTM (10.40–10.44), all gradients,
    ∇h^(0) L, ∇s^(0) L and the last output and state: the fast path, standard
    (tanh) variant.

    Parameters
    ----------
    p : rnnlib.lstm.LSTMParams
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
    y : ndarray of int, shape (T, B)
        Targets in ``[0, n_out)``.
    h0, s0 : ndarray, shape (B, H), optional
        Initial output and state; zeros if omitted.

    Returns
    -------
    rnnlib.lstm.LSTMResult
        ``loss`` (float), ``grads`` (:class:`rnnlib.lstm.LSTMParams`), ``dh0``,
        ``h_last``, ``ds0``, ``s_last`` (each ``(B, H)``); truncated BPTT passes
        ``h_last``, ``s_last`` as the next chunk's ``h0``, ``s0``.

    Notes
    -----
    Equal to :func:`forward` then :func:`backward` (tested); the four gate
    matrices are stacked into one ``(4H, H)`` product per step.
    """
    check_params(p, LSTMParams, "rnnlib.lstm.LSTMParams")
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0, s0 = _initial(p, h0, B, "h0"), _initial(p, s0, B, "s0")
    y = check_targets(y, (T, B), p.n_out)
    ws = _Workspace.get(T, B, p.n_hidden, p.n_out, p.dtype)
    # The gates stacked [f g q z] into one (4H, ·) matrix each. The sigmoid gates'
    # rows enter negated (exact), so exp of the product is exp(-a): see _forward.
    Ucat = _stacked(p, "U", negate=True)                 # (4H, n_in)
    Wcat = _stacked(p, "W", negate=True)                 # (4H, H)
    bcat = _stacked(p, "b", negate=True)                 # (4H,)
    _forward(p, x, h0, s0, Ucat, Wcat, bcat, ws)
    log_yhat = ws.o
    loss = -float(np.take_along_axis(log_yhat, y[..., None], axis=-1).sum())
    grads, dh0, ds0 = _backward(p, x, y, Wcat, ws)
    return LSTMResult(loss, grads, dh0, ws.h[-1].copy(), ds0, ws.s[-1].copy())


def bptt(p: LSTMParams, x, y, h0=None, s0=None) -> tuple[float, LSTMParams]:
    """Loss of a batch through the LSTM (10.40)–(10.44) and its gradient by BPTT.

    The first two fields of :func:`loss_and_grads` (same arguments): ``loss``
    (float, Σ over the batch of Σ_t L^(t)) and ``grads``
    (:class:`rnnlib.lstm.LSTMParams`).
    """
    r = loss_and_grads(p, x, y, h0, s0)
    return r.loss, r.grads


def _stacked(p, kind, negate):
    """The four gates' ``kind`` arrays ("U", "W" or "b") stacked in the order
    ``_GATES``; with ``negate`` the three sigmoid gates' blocks are negated."""
    blocks = [getattr(p, kind + k) for k in _GATES]
    out = np.concatenate(blocks)
    if negate:
        n = 3 * blocks[0].shape[0]
        np.negative(out[:n], out=out[:n])
    return out


def _forward(p, x, h0, s0, Ucat, Wcat, bcat, ws) -> None:
    """The forward pass into ``ws``; the sigmoid gates' rows of ``Ucat, Wcat,
    bcat`` are negated, so the gates' pre-activations come out as -a and
    σ(a) = 1 / (1 + exp(-a)) takes three in-place calls. (On this project's
    machines np.exp is ~1.7x faster than np.tanh.)"""
    H = p.n_hidden
    A, s, h, tanh_s = ws.A, ws.s, ws.h, ws.tanh_s
    if x.dtype.kind in "iu":                   # b + U x(t), all t: a row lookup
        table = Ucat.T + bcat                  # (n_in, 4H)
        np.take(table, x, axis=0, out=A, mode="clip")   # ids checked; "clip" does
    else:                                      # not buffer the output as "raise" does
        rows_matmul(x, Ucat.T, out=A)
        A += bcat
    s[0], h[0] = s0, h0
    with np.errstate(over="ignore"):           # exp(-a) = inf for a << 0: σ = 0
        for t in range(x.shape[0]):
            At = A[t]
            np.matmul(h[t], Wcat.T, out=ws.step)
            At += ws.step                      # -a (gates), a (cell input)
            sig = At[:, :3 * H]
            np.exp(sig, out=sig)
            sig += 1
            np.reciprocal(sig, out=sig)        # (10.40), (10.42), (10.44) σ(a)
            np.tanh(At[:, 3 * H:], out=At[:, 3 * H:])   # z = tanh(a)
            f, g, q, z = (At[:, :H], At[:, H:2 * H], At[:, 2 * H:3 * H],
                          At[:, 3 * H:])
            np.multiply(f, s[t], out=s[t + 1])
            np.multiply(g, z, out=ws.ds)
            s[t + 1] += ws.ds                  # (10.41) s = f s(t-1) + g z
            np.tanh(s[t + 1], out=tanh_s[t])
            np.multiply(tanh_s[t], q, out=h[t + 1])  # (10.43) h = tanh(s) q
    rows_matmul(h[1:], p.V.T, out=ws.o)
    ws.o += p.c                                # (10.10)
    ws.o -= ws.o.max(axis=-1, keepdims=True)
    np.exp(ws.o, out=ws.do)
    ws.o -= np.log(ws.do.sum(axis=-1, keepdims=True))   # log ŷ (10.11)
    np.exp(ws.o, out=ws.do)                    # ŷ


def _backward(p, x, y, Wcat, ws):
    """∇ of every parameter from the forward pass in ``ws``; ``Wcat`` has the
    sigmoid gates' rows negated (as in :func:`_forward`), so ``dA`` holds ∇ of
    -a for them and the parameter gradients of those blocks are negated back."""
    H = p.n_hidden
    A, s, h, tanh_s, do, dh, dA = ws.A, ws.s, ws.h, ws.tanh_s, ws.do, ws.dh, ws.dA
    target = y[..., None]                      # (10.18) ∇o L = ŷ - 1_y, in place
    np.put_along_axis(do, target, np.take_along_axis(do, target, -1) - 1, -1)
    rows_matmul(do, p.V, out=dh)               # V^T ∇o(t) L, all t at once
    # One step's local derivatives K = ∂(gate value)/∂(its pre-activation) times
    # the factor ∇s or ∇h meets (10.40)-(10.44), computed per step while A[t] is in
    # cache: with the negated rows, ∇(-a^f) = -∇s ⊙ s(t-1) f(1-f), and so on:
    #   K_f = -s(t-1) f(1-f),  K_g = -z g(1-g),  K_q = -tanh(s) q(1-q),  K_z = g(1-z²)
    # and ∇s(t) gets ∇h ⊙ q (1 - tanh² s) (10.43).
    K, tmp, ds = ws.K, ws.tmp, ws.ds
    Ks, Kf, Kg, Kq, Kz = K[:, :3 * H], K[:, :H], K[:, H:2 * H], K[:, 2 * H:3 * H], \
        K[:, 3 * H:]
    ds[:] = 0
    for t in range(x.shape[0] - 1, -1, -1):
        At, dAt, dht = A[t], dA[t], dh[t]
        f, g, q, z = At[:, :H], At[:, H:2 * H], At[:, 2 * H:3 * H], At[:, 3 * H:]
        if t < x.shape[0] - 1:
            np.matmul(dA[t + 1], Wcat, out=tmp)
            dht += tmp                         # ∇h(t) += Σ_gates W^T ∇a(t+1)
        np.multiply(tanh_s[t], tanh_s[t], out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= q
        tmp *= dht
        ds += tmp                              # (10.43) ∇s(t)
        sig = At[:, :3 * H]
        np.subtract(sig, 1, out=Ks)
        Ks *= sig                              # -σ(1-σ) for f, g, q
        Kf *= s[t]
        Kg *= z
        Kq *= tanh_s[t]
        np.multiply(z, z, out=Kz)
        np.subtract(1, Kz, out=Kz)
        Kz *= g
        np.multiply(ds, Kf, out=dAt[:, :H])    # (10.40)
        np.multiply(ds, Kg, out=dAt[:, H:2 * H])    # (10.42)
        np.multiply(dht, Kq, out=dAt[:, 2 * H:3 * H])  # (10.44)
        np.multiply(ds, Kz, out=dAt[:, 3 * H:])     # (10.41)
        ds *= f                                # (10.41) ∇s(t-1) through f ⊙ s(t-1)
    dh0 = dA[0] @ Wcat
    ds0 = ds.copy()
    dAr = rows(dA)
    dWcat = dAr.T @ rows(h[:-1])               # Σ_t ∇a(t) h(t-1)^T, all gates
    dUcat, dbcat = _grad_Ucat_b(dA, x, p.n_in)
    grads = {}
    for k, gate in enumerate(_GATES):
        block = slice(k * H, (k + 1) * H)
        sign = -1 if gate else 1               # the negated rows, back
        grads["U" + gate] = sign * dUcat[block]
        grads["W" + gate] = sign * dWcat[block]
        grads["b" + gate] = sign * dbcat[block]
    grads["V"] = rows(do).T @ rows(h[1:])      # (10.24)
    grads["c"] = rows(do).sum(axis=0)          # (10.22)
    return LSTMParams(**{n: grads[n] for n in NAMES}), dh0, ds0


def _grad_Ucat_b(dA, x, n_in):
    """Σ_t ∇a(t) x(t)^T ``(4H, n_in)`` and Σ_t ∇a(t) ``(4H,)`` for the stacked gates."""
    if x.dtype.kind in "iu":
        # every row has one id, so ∇b is the sum of the n_in per-id sums
        dUT = sum_rows_by_id(rows(dA), x, n_in)
        return np.ascontiguousarray(dUT.T), dUT.sum(axis=0)
    return rows(dA).T @ rows(x), rows(dA).sum(axis=0)


# ---------------------------------------------------------------- helpers


def _check_variant(variant) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be 'standard' or 'book'; got {variant!r}")
    return variant


def _initial(p, v, B, name):
    """An initial ``(B, H)`` array in the dtype of ``p``; zeros if ``None``."""
    if v is None:
        return np.zeros((B, p.n_hidden), p.dtype)
    v = check_float(name, v, dtype=p.dtype)
    check_shape(name, v, (B, p.n_hidden))
    return v
