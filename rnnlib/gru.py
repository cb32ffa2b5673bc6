"""The gated recurrent unit (GRU), Deep Learning §10.10.2, eqs (10.45)–(10.47).

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units, ``n_in`` inputs
(vocabulary size for token ids), ``n_out`` outputs. Arrays are time-major rows as
in :mod:`rnnlib.forward_pass`: ``x`` ids ``(T, B)`` or dense ``(T, B, n_in)``,
``h (T+1, B, H)`` with ``h[0] = h^(0)``, so ``h[t]`` is ``h^(t)``; the gates
``u, r`` and the candidate ``h̃`` are ``(T, B, H)`` with ``u[t-1]`` the gate the
step to ``h^(t)`` uses. The book's column-vector ``W h`` is ``h @ W.T`` on rows.

The cell (``variant="standard"``, Cho et al., 2014, with the book's names)::

    u^(t) = σ(b^u + U^u x^(t) + W^u h^(t-1))           update gate (cf. 10.46)
    r^(t) = σ(b^r + U^r x^(t) + W^r h^(t-1))           reset gate  (cf. 10.47)
    h̃^(t) = tanh(b + U x^(t) + W (r^(t) ⊙ h^(t-1)))    candidate
    h^(t) = u^(t) ⊙ h^(t-1) + (1 - u^(t)) ⊙ h̃^(t)      state       (cf. 10.45)
    o^(t) = c + V h^(t)                                 output, as (10.10)

(``rnnlib.forms.GRU_STANDARD``; "cf.": the book's numbered equations print the
``"book"`` variant below.)

``variant="book"`` is (10.45)–(10.47) as printed: the candidate is squashed by
σ, and the step to ``h^(t)`` reads the gates ``u^(t-1), r^(t-1)`` of
(10.46)–(10.47), computed from ``x^(t-1)`` and ``h^(t-1)``, and the input
``x^(t-1)``. Every quantity that step reads is from time ``t-1``; so with the
same arrays (``x[t-1]`` read by the step to ``h^(t)``) it computes the standard
cell with σ in place of tanh, and the printed time indices say that input
``x^(t-1)``, not ``x^(t)``, is the last one ``h^(t)`` (and so ``o^(t)``) sees:
a one-step delay. Chapter "Gated recurrent units" shows both with SymPy.

``variant="torch"`` is PyTorch's ``nn.GRU`` (reset gate after the recurrent
product) with its extra bias ``b_hn`` zero: ``h̃ = tanh(b + U x + r ⊙ (W h))``;
``torch.nn.GRU``'s update gate ``z`` is ``u`` here. It is a different function
from the standard cell whenever ``W`` mixes units (tested, and shown in the
chapter).

Parameters keep the book's names and the vanilla RNN's shapes:
``Uu, Ur, U (H, n_in)``, ``Wu, Wr, W (H, H)``, ``bu, br, b (H,)``,
``V (n_out, H)``, ``c (n_out,)``.

Each forward equation and the backward step is one plain function
(:func:`rnnlib.gru_update_gate` (10.46), :func:`rnnlib.gru_reset_gate` (10.47),
:func:`rnnlib.gru_candidate`, :func:`rnnlib.gru_state` (10.45),
:func:`rnnlib.gru_step_backward`); :func:`rnnlib.gru.forward` and
:func:`rnnlib.gru.backward` compose them over a sequence.
:func:`rnnlib.gru.loss_and_grads` / :func:`rnnlib.gru.bptt` are the fast path
for training (standard variant): the three input projections for all ``t`` in one
matrix product, the two gates' recurrent products stacked into one per step, a
reused per-thread workspace, the parameter gradients as a few matrix products
over all ``T·B`` rows. The tests check that it equals the composition.

References: Cho et al. (2014), *Learning phrase representations using RNN
encoder-decoder for statistical machine translation*; Chung et al. (2014),
*Empirical evaluation of gated recurrent neural networks on sequence modeling*.
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
    check_h0,
    check_positive_int,
    check_targets,
    check_x,
    shape_str,
)
from .forward_pass import log_softmax
from .params import as_generator

NAMES = ("Uu", "Wu", "bu", "Ur", "Wr", "br", "U", "W", "b", "V", "c")
VARIANTS = ("standard", "book", "torch")


@dataclass(frozen=True, eq=False)
class GRUParams:
    """The eleven parameter arrays of the GRU; gradients use the same type.

    ``Uu, Wu, bu``: update gate u (10.46); ``Ur, Wr, br``: reset gate r (10.47);
    ``U, W, b``: candidate state (10.45); ``V, c``: output layer, as (10.10).
    All arrays share one floating dtype (float32 or float64) and consistent
    sizes; the constructor checks both and raises ``ValueError``/``TypeError``
    naming the offending field.
    """

    Uu: np.ndarray  # (H, n_in)
    Wu: np.ndarray  # (H, H)
    bu: np.ndarray  # (H,)
    Ur: np.ndarray  # (H, n_in)
    Wr: np.ndarray  # (H, H)
    br: np.ndarray  # (H,)
    U: np.ndarray   # (H, n_in)
    W: np.ndarray   # (H, H)
    b: np.ndarray   # (H,)
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
        expected = {"Uu": (H, n_in), "Wu": (H, H), "bu": (H,),
                    "Ur": (H, n_in), "Wr": (H, H), "br": (H,),
                    "U": (H, n_in), "W": (H, H), "b": (H,),
                    "V": (n_out, H), "c": (n_out,)}
        for name, want in expected.items():
            if arrays[name].shape != want:
                raise ValueError(
                    f"{name} must have shape {shape_str(want)} given U "
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
        """The arrays by name, in field order (Uu, Wu, bu, Ur, …, V, c)."""
        return {name: getattr(self, name) for name in NAMES}

    def replace(self, **arrays) -> GRUParams:
        """A copy with some arrays replaced (checked like the constructor)."""
        return dataclasses.replace(self, **arrays)

    def astype(self, dtype) -> GRUParams:
        """A copy with every array cast to ``dtype`` (float32 or float64)."""
        return GRUParams(**{n: a.astype(dtype) for n, a in self.arrays().items()})


def init_params(n_in: int, n_hidden: int, n_out: int, seed=0, dtype=np.float64,
                scale: float | None = None) -> GRUParams:
    """Draw Gaussian weights and zero biases for a GRU.

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
    GRUParams
        Every weight matrix Gaussian with std ``scale``, drawn in field order;
        every bias zero (so both gates start near 1/2).
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

    def draw(*shape):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    def zeros(n):
        return np.zeros(n, dtype)

    return GRUParams(Uu=draw(H, n_in), Wu=draw(H, H), bu=zeros(H),
                     Ur=draw(H, n_in), Wr=draw(H, H), br=zeros(H),
                     U=draw(H, n_in), W=draw(H, H), b=zeros(H),
                     V=draw(n_out, H), c=zeros(n_out))


def zeros_like(p: GRUParams) -> GRUParams:
    """A ``GRUParams`` of zeros with the shapes and dtype of ``p``."""
    return GRUParams(**{n: np.zeros_like(a) for n, a in p.arrays().items()})


# ---------------------------------------------------------------- checks


def _check_params(p) -> None:
    if not isinstance(p, GRUParams):
        raise TypeError(f"p must be rnnlib.gru.GRUParams; got {type(p).__name__}")
    for name, arr in p.arrays().items():
        if not np.isfinite(arr).all():
            raise ValueError(f"parameter {name} must be finite; got NaN or inf values")


def _check_variant(variant) -> str:
    if variant not in VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}"
        )
    return variant


def _check_step(p, x_t, h_prev):
    _check_params(p)
    x_t = check_x(p, x_t, batch_ndim=1)
    h_prev = check_float("h_prev", h_prev, (x_t.shape[0], p.n_hidden), dtype=p.dtype)
    return x_t, h_prev


def _check_gate(name, g, like):
    return check_float(name, g, like.shape, dtype=like.dtype)


def sigmoid(a):
    """σ(a) = 1 / (1 + exp(-a)), written as (1 + tanh(a/2)) / 2: no overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


# ---------------------------------------------------------------- one equation each


def gru_update_gate(p: GRUParams, x_t, h_prev) -> np.ndarray:
    """u = σ(b^u + U^u x + W^u h_prev), the update gate.

    Parameters
    ----------
    p : GRUParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)
        The state the gate reads.

    Returns
    -------
    u : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.46), which computes ``u^(t)`` from ``x^(t)`` and ``h^(t)``
    for use at the next step; the standard cell computes the gate of the step to
    ``h^(t)`` from ``x^(t)`` and ``h^(t-1)`` (same formula, names shifted by one).
    Chapter "Gated recurrent units".
    """
    x_t, h_prev = _check_step(p, x_t, h_prev)
    return sigmoid(p.bu + times_U(p.Uu, x_t) + h_prev @ p.Wu.T)   # (10.46)


def gru_reset_gate(p: GRUParams, x_t, h_prev) -> np.ndarray:
    """r = σ(b^r + U^r x + W^r h_prev), the reset gate.

    Parameters
    ----------
    p : GRUParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)

    Returns
    -------
    r : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.47) (time indices as for :func:`rnnlib.gru_update_gate`).
    """
    x_t, h_prev = _check_step(p, x_t, h_prev)
    return sigmoid(p.br + times_U(p.Ur, x_t) + h_prev @ p.Wr.T)   # (10.47)


def gru_candidate(p: GRUParams, x_t, h_prev, r, *, variant="standard") -> np.ndarray:
    """h̃ = tanh(b + U x + W (r ⊙ h_prev)), the candidate state.

    Parameters
    ----------
    p : GRUParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)
    r : ndarray, shape (B, H)
        The reset gate, :func:`rnnlib.gru_reset_gate`.
    variant : str
        ``"standard"`` (default): as above (Cho et al., 2014). ``"book"``: σ in place of
        tanh, as (10.45) prints it. ``"torch"``: ``tanh(b + U x + r ⊙ (W h_prev))``,
        the reset gate applied after the product (``torch.nn.GRU`` with
        ``b_hn = 0``).

    Returns
    -------
    h_tilde : ndarray, shape (B, H)

    Notes
    -----
    The argument of σ in Deep Learning eq. (10.45).
    """
    _check_variant(variant)
    x_t, h_prev = _check_step(p, x_t, h_prev)
    r = _check_gate("r", r, h_prev)
    if variant == "torch":
        a = p.b + times_U(p.U, x_t) + r * (h_prev @ p.W.T)
    else:
        a = p.b + times_U(p.U, x_t) + (r * h_prev) @ p.W.T
    return sigmoid(a) if variant == "book" else np.tanh(a)


def gru_state(p: GRUParams, x_t, h_prev, u, r, *, variant="standard") -> np.ndarray:
    """h = u ⊙ h_prev + (1 - u) ⊙ h̃, the new state.

    Parameters
    ----------
    p : GRUParams
    x_t : ndarray, shape (B,) of int ids, or (B, n_in) float
    h_prev : ndarray, shape (B, H)
    u, r : ndarray, shape (B, H)
        The update and reset gates of this step (10.46), (10.47).
    variant : str
        ``"standard"`` (default), ``"book"`` or ``"torch"``: which candidate, see
        :func:`rnnlib.gru_candidate`.

    Returns
    -------
    h : ndarray, shape (B, H)

    Notes
    -----
    Deep Learning eq. (10.45). The book prints the gates of this step as
    ``u^(t-1), r^(t-1)`` and the input as ``x^(t-1)``; the arrays passed here are
    the ones the step reads, whatever their names (see :mod:`rnnlib.gru`).
    """
    x_t, h_prev = _check_step(p, x_t, h_prev)
    u = _check_gate("u", u, h_prev)
    h_tilde = gru_candidate(p, x_t, h_prev, r, variant=variant)
    return u * h_prev + (1 - u) * h_tilde                          # (10.45)


# ---------------------------------------------------------------- whole sequence


class GRUForward(NamedTuple):
    """Everything the GRU forward pass computes, kept for back-propagation."""

    x: np.ndarray         # (T, B) ids or (T, B, n_in) dense
    u: np.ndarray         # (T, B, H)     u[t-1]: update gate of the step to h^(t)
    r: np.ndarray         # (T, B, H)     r[t-1]: reset gate of the step to h^(t)
    h_tilde: np.ndarray   # (T, B, H)     h_tilde[t-1]: candidate of that step
    h: np.ndarray         # (T+1, B, H)   h[t] = h^(t), h[0] = h^(0)
    o: np.ndarray         # (T, B, n_out) o[t-1] = o^(t)
    log_yhat: np.ndarray  # (T, B, n_out) log softmax(o)
    variant: str


def forward(p: GRUParams, x, h0=None, *, variant="standard") -> GRUForward:
    """Run the GRU (10.45)–(10.47) and the output layer over a batch.

    Parameters
    ----------
    p : GRUParams
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
        ``x[t-1]`` is the input the step to ``h^(t)`` reads.
    h0 : ndarray, shape (B, H), optional
        ``h^(0)``; zeros if omitted.
    variant : str
        ``"standard"`` (default), ``"book"`` or ``"torch"``; see :mod:`rnnlib.gru`.

    Returns
    -------
    GRUForward
        ``x``, gates ``u, r`` and candidate ``h_tilde (T, B, H)``,
        ``h (T+1, B, H)``, logits ``o`` and ``log_yhat (T, B, n_out)``.

    Notes
    -----
    Calls :func:`rnnlib.gru_update_gate`, :func:`rnnlib.gru_reset_gate` and
    :func:`rnnlib.gru_candidate` once per step, then (10.45) as
    :func:`rnnlib.gru_state` writes it.
    """
    _check_params(p)
    _check_variant(variant)
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h = np.empty((T + 1, B, p.n_hidden), p.dtype)
    h[0] = check_h0(p, h0, B)
    u, r, h_tilde = (np.empty((T, B, p.n_hidden), p.dtype) for _ in range(3))
    for t in range(T):
        u[t] = gru_update_gate(p, x[t], h[t])                         # (10.46)
        r[t] = gru_reset_gate(p, x[t], h[t])                          # (10.47)
        h_tilde[t] = gru_candidate(p, x[t], h[t], r[t], variant=variant)
        h[t + 1] = u[t] * h[t] + (1 - u[t]) * h_tilde[t]              # (10.45)
    o = rows_matmul(h[1:], p.V.T) + p.c                               # (10.10)
    return GRUForward(x, u, r, h_tilde, h, o, log_softmax(o), variant)


# ---------------------------------------------------------------- backward


class GRUStepGrads(NamedTuple):
    """What one step back through (10.45)–(10.47) gives."""

    dh_prev: np.ndarray  # (B, H) ∇_{h^(t-1)} L through this step only
    du: np.ndarray       # (B, H) ∇ of the update gate's pre-activation
    dr: np.ndarray       # (B, H) ∇ of the reset gate's pre-activation
    da: np.ndarray       # (B, H) ∇ of the candidate's pre-activation
    dW: np.ndarray       # (H, H) this step's share of ∇W


def gru_step_backward(p: GRUParams, h_prev, u, r, h_tilde, dh, *,
                      variant="standard") -> GRUStepGrads:
    """One step of BPTT through the GRU: from ∇_{h^(t)} L to ∇_{h^(t-1)} L.

    Parameters
    ----------
    p : GRUParams
    h_prev : ndarray, shape (B, H)
        ``h^(t-1)``.
    u, r, h_tilde : ndarray, shape (B, H)
        The gates and candidate of the step to ``h^(t)`` (from the forward pass).
    dh : ndarray, shape (B, H)
        ∇_{h^(t)} L, all of it (through the output and later steps).
    variant : str
        ``"standard"`` (default), ``"book"`` or ``"torch"``, as in the forward pass.

    Returns
    -------
    GRUStepGrads
        ``dh_prev``; the gradients with respect to the pre-activations
        ``du = ∇_{a^u} L``, ``dr = ∇_{a^r} L``, ``da = ∇_a L`` (whose sums over
        ``t`` give ∇b^u, ∇b^r, ∇b and, times ``x^(t)^T`` or ``h^(t-1)^T``, the
        weight gradients); and ``dW``, this step's term of ∇W.

    Notes
    -----
    Back through Deep Learning eqs (10.45)–(10.47), with row vectors:

    * (10.45) ``h = u ⊙ h_prev + (1-u) ⊙ h̃`` gives ∇u = dh ⊙ (h_prev - h̃),
      ∇h̃ = dh ⊙ (1-u) and the direct path dh ⊙ u to ``h_prev``;
    * the candidate: ∇a = ∇h̃ ⊙ (1 - h̃²) (tanh) or ∇h̃ ⊙ h̃(1-h̃) (σ, book);
      ``a = b + U x + W (r ⊙ h_prev)`` gives ∇(r ⊙ h_prev) = W^T ∇a, so
      ∇r = (W^T ∇a) ⊙ h_prev and a path (W^T ∇a) ⊙ r to ``h_prev``
      (torch: ``a = b + U x + r ⊙ W h_prev`` gives ∇r = ∇a ⊙ W h_prev and
      W^T (∇a ⊙ r));
    * the gates (10.46), (10.47): ∇a^u = ∇u ⊙ u(1-u), ∇a^r = ∇r ⊙ r(1-r), and
      the paths W^{uT} ∇a^u + W^{rT} ∇a^r to ``h_prev``.

    Derived with SymPy in chapter "Gated recurrent units".
    """
    _check_params(p)
    _check_variant(variant)
    h_prev = check_float("h_prev", h_prev, (None, p.n_hidden), dtype=p.dtype)
    u, r, h_tilde, dh = (_check_gate(n, v, h_prev) for n, v in
                         (("u", u), ("r", r), ("h_tilde", h_tilde), ("dh", dh)))
    # (10.45) h = u ⊙ h_prev + (1 - u) ⊙ h̃
    d_u = dh * (h_prev - h_tilde)
    d_h_tilde = dh * (1 - u)
    dh_prev = dh * u
    # candidate h̃ = tanh(a) (σ(a) in the book's variant)
    if variant == "book":
        da = d_h_tilde * h_tilde * (1 - h_tilde)
    else:
        da = d_h_tilde * (1 - h_tilde ** 2)
    if variant == "torch":                     # a = b + U x + r ⊙ (W h_prev)
        d_r = da * (h_prev @ p.W.T)
        dh_prev = dh_prev + (da * r) @ p.W
        dW = (da * r).T @ h_prev
    else:                                      # a = b + U x + W (r ⊙ h_prev)
        d_rh = da @ p.W                        # ∇(r ⊙ h_prev) = W^T ∇a
        d_r = d_rh * h_prev
        dh_prev = dh_prev + d_rh * r
        dW = da.T @ (r * h_prev)
    # (10.46), (10.47): u = σ(a^u), r = σ(a^r)
    du = d_u * u * (1 - u)
    dr = d_r * r * (1 - r)
    dh_prev = dh_prev + du @ p.Wu + dr @ p.Wr
    return GRUStepGrads(dh_prev, du, dr, da, dW)


class GRUResult(NamedTuple):
    """Result of :func:`rnnlib.gru.loss_and_grads` and :func:`rnnlib.gru.backward`."""

    loss: float         # Σ over the batch of Σ_t L^(t)
    grads: GRUParams    # ∇L, fields and shapes of the parameters
    dh0: np.ndarray     # (B, H) ∇_{h^(0)} L
    h_last: np.ndarray  # (B, H) h^(τ)


def _x_rows(x, n_in, dtype):
    """``x`` as dense ``(T, B, n_in)`` rows (one-hot for ids)."""
    if x.dtype.kind in "iu":
        return np.eye(n_in, dtype=dtype)[x]
    return x


def backward(p: GRUParams, fwd: GRUForward, y) -> GRUResult:
    """Loss and all gradients from a forward pass, step by step.

    Parameters
    ----------
    p : GRUParams
    fwd : GRUForward
        From :func:`rnnlib.gru.forward` (any variant; the same variant is used back).
    y : ndarray of int, shape (T, B)
        Targets in ``[0, n_out)``.

    Returns
    -------
    GRUResult
        ``loss``, ``grads`` (a :class:`rnnlib.gru.GRUParams`), ``dh0 (B, H)``,
        ``h_last``.

    Notes
    -----
    The output layer as in the vanilla RNN, (10.18) ∇o = ŷ - 1_y, ∇V = Σ ∇o h^T,
    ∇c = Σ ∇o; then :func:`rnnlib.gru_step_backward` from ``t = τ`` down to 1,
    adding ``V^T ∇o^(t)`` to ∇h^(t). This is the readable path the fast
    :func:`rnnlib.gru.loss_and_grads` is tested against.
    """
    _check_params(p)
    x, h = fwd.x, fwd.h
    T, B = h.shape[0] - 1, h.shape[1]
    y = check_targets(y, (T, B), p.n_out)
    loss = -float(np.take_along_axis(fwd.log_yhat, y[..., None], axis=-1).sum())
    do = np.exp(fwd.log_yhat)
    do[np.arange(T)[:, None], np.arange(B)[None, :], y] -= 1      # (10.18)
    xr = _x_rows(x, p.n_in, p.dtype)
    g = {name: np.zeros_like(arr) for name, arr in p.arrays().items()}
    g["V"] = rows(do).T @ rows(h[1:])
    g["c"] = rows(do).sum(axis=0)
    dh_next = np.zeros((B, p.n_hidden), p.dtype)   # ∇h^(t) through step t+1
    for t in range(T, 0, -1):
        dh = dh_next + do[t - 1] @ p.V                # all of ∇_{h^(t)} L
        s = gru_step_backward(p, h[t - 1], fwd.u[t - 1], fwd.r[t - 1],
                              fwd.h_tilde[t - 1], dh, variant=fwd.variant)
        g["Uu"] += s.du.T @ xr[t - 1]
        g["Wu"] += s.du.T @ h[t - 1]
        g["bu"] += s.du.sum(axis=0)
        g["Ur"] += s.dr.T @ xr[t - 1]
        g["Wr"] += s.dr.T @ h[t - 1]
        g["br"] += s.dr.sum(axis=0)
        g["U"] += s.da.T @ xr[t - 1]
        g["W"] += s.dW
        g["b"] += s.da.sum(axis=0)
        dh_next = s.dh_prev
    return GRUResult(loss, GRUParams(**g), dh_next, h[-1].copy())


# ---------------------------------------------------------------- fast path

_local = threading.local()


@dataclass(eq=False)
class _Workspace:
    """Scratch arrays of :func:`rnnlib.gru.loss_and_grads`, reused across calls."""

    a: np.ndarray        # (T, B, 3H) pre-activations [a^u | a^r | a], then ∇
    h: np.ndarray        # (T+1, B, H)
    rh: np.ndarray       # (T, B, H)  r ⊙ h^(t-1)
    g: np.ndarray        # (T, B, 3H) [u | r | h̃]
    o: np.ndarray        # (T, B, n_out) logits, then log ŷ, then ∇o
    dh: np.ndarray       # (B, H)
    d_rh: np.ndarray     # (B, H)
    step: np.ndarray     # (B, 2H)
    key: tuple = ()


def _workspace(T, B, H, n_out, dtype) -> _Workspace:
    key = (T, B, H, n_out, np.dtype(dtype))
    ws = getattr(_local, "ws", None)
    if ws is None or ws.key != key:
        def e(*shape):
            return np.empty(shape, dtype)
        ws = _local.ws = _Workspace(e(T, B, 3 * H), e(T + 1, B, H), e(T, B, H),
                                    e(T, B, 3 * H), e(T, B, n_out), e(B, H),
                                    e(B, H), e(B, 2 * H), key)
    return ws


def _sigmoid_(a):
    """σ in place: (1 + tanh(a/2)) / 2."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def loss_and_grads(p: GRUParams, x, y, h0=None) -> GRUResult:
    """Loss of a batch, all gradients, ∇_{h^(0)} L and h^(τ), fast (standard GRU).

    Parameters
    ----------
    p : GRUParams
    x : ndarray, shape (T, B) of int ids in [0, n_in), or (T, B, n_in) float
    y : ndarray of int, shape (T, B)
        Targets in ``[0, n_out)``.
    h0 : ndarray, shape (B, H), optional
        Initial state; zeros if omitted.

    Returns
    -------
    GRUResult
        ``loss`` (float, Σ over batch and time of -log ŷ_y), ``grads``
        (:class:`rnnlib.gru.GRUParams`), ``dh0 (B, H)``, ``h_last (B, H)``;
        truncated BPTT passes ``h_last`` as the next chunk's ``h0``.

    Notes
    -----
    Computes exactly what :func:`rnnlib.gru.forward` then
    :func:`rnnlib.gru.backward` compute for ``variant="standard"`` (eqs
    (10.45)–(10.47) with tanh, Cho et al.), tested equal in float32 and
    float64. Per step: one product ``h [W^u; W^r]^T`` for both gates, one
    ``(r ⊙ h) W^T`` for the candidate; back, ``∇a W`` and one
    ``[∇a^u, ∇a^r] [W^u; W^r]``.
    """
    _check_params(p)
    x = check_x(p, x, batch_ndim=2)
    T, B = x.shape[:2]
    h0 = check_h0(p, h0, B)
    y = check_targets(y, (T, B), p.n_out)
    H = p.n_hidden
    ws = _workspace(T, B, H, p.n_out, p.dtype)
    U3 = np.concatenate([p.Uu, p.Ur, p.U])                  # (3H, n_in)
    b3 = np.concatenate([p.bu, p.br, p.b])
    W2 = np.concatenate([p.Wu, p.Wr])                       # (2H, H)
    W2t = np.ascontiguousarray(W2.T)
    Wt = np.ascontiguousarray(p.W.T)
    a, h, g, rh = ws.a, ws.h, ws.g, ws.rh

    # forward
    times_U(U3, x, out=a)
    a += b3                                   # b + U x^(t) for all t, 3 blocks
    h[0] = h0
    for t in range(T):
        np.matmul(h[t], W2t, out=ws.step)
        gt = g[t]
        np.add(a[t, :, :2 * H], ws.step, out=gt[:, :2 * H])
        _sigmoid_(gt[:, :2 * H])              # (10.46), (10.47) u, r
        u, r, ht = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:]
        np.multiply(r, h[t], out=rh[t])
        np.matmul(rh[t], Wt, out=ht)
        ht += a[t, :, 2 * H:]
        np.tanh(ht, out=ht)                   # h̃
        # (10.45) h = u ⊙ h_prev + (1 - u) ⊙ h̃ = h̃ + u ⊙ (h_prev - h̃)
        np.subtract(h[t], ht, out=h[t + 1])
        h[t + 1] *= u
        h[t + 1] += ht
    o = ws.o
    rows_matmul(h[1:], p.V.T, out=o)
    o += p.c
    o -= o.max(axis=-1, keepdims=True)
    o -= np.log(np.exp(o).sum(axis=-1, keepdims=True))      # log ŷ
    target = y[..., None]
    loss = -float(np.take_along_axis(o, target, axis=-1).sum())
    np.exp(o, out=o)
    np.put_along_axis(o, target, np.take_along_axis(o, target, -1) - 1, -1)
    do = o                                                  # (10.18) ∇o = ŷ - 1_y
    dV = rows(do).T @ rows(h[1:])
    dc = rows(do).sum(axis=0)

    # backward; a now holds [∇a^u | ∇a^r | ∇a] per step
    dhV = rows_matmul(do, p.V)                              # V^T ∇o(t), all t
    dh, d_rh = ws.dh, ws.d_rh
    dh[...] = 0
    for t in range(T - 1, -1, -1):
        dh += dhV[t]                                        # all of ∇h^(t+1)
        gt, dt = g[t], a[t]
        u, r, ht = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:]
        du, dr, da = dt[:, :H], dt[:, H:2 * H], dt[:, 2 * H:]
        hp = h[t]
        # ∇a = dh ⊙ (1 - u) ⊙ (1 - h̃²)
        np.multiply(ht, ht, out=da)
        np.subtract(1, da, out=da)
        da *= dh
        np.subtract(1, u, out=du)
        da *= du
        # ∇a^u = dh ⊙ (h_prev - h̃) ⊙ u (1 - u)
        du *= u
        np.subtract(hp, ht, out=dr)
        du *= dr
        du *= dh
        # ∇(r ⊙ h_prev) = W^T ∇a
        np.matmul(da, p.W, out=d_rh)
        # ∇a^r = d_rh ⊙ h_prev ⊙ r (1 - r)
        np.subtract(1, r, out=dr)
        dr *= r
        dr *= hp
        dr *= d_rh
        # ∇h_prev = dh ⊙ u + d_rh ⊙ r + [∇a^u, ∇a^r] [W^u; W^r]
        dh *= u
        d_rh *= r
        dh += d_rh
        np.matmul(dt[:, :2 * H], W2, out=d_rh)
        dh += d_rh
    da3 = rows(a)                                           # (T·B, 3H)
    dW2 = da3[:, :2 * H].T @ rows(h[:-1])                   # [∇W^u; ∇W^r]
    dW = da3[:, 2 * H:].T @ rows(rh)
    db3 = da3.sum(axis=0)
    dU3 = _grad_U(da3, x, p.n_in)
    grads = GRUParams(Uu=dU3[:H], Wu=dW2[:H], bu=db3[:H],
                      Ur=dU3[H:2 * H], Wr=dW2[H:], br=db3[H:2 * H],
                      U=dU3[2 * H:], W=dW, b=db3[2 * H:], V=dV, c=dc)
    return GRUResult(loss, grads, dh.copy(), h[-1].copy())


def _grad_U(da, x, n_in):
    """Σ_t ∇a^(t) x^(t)^T for rows ``da (T·B, k)``; ids by sorted segment sums."""
    if x.dtype.kind in "iu":
        return np.ascontiguousarray(sum_rows_by_id(da, x, n_in).T)
    return np.ascontiguousarray(da.T @ rows(x))


def bptt(p: GRUParams, x, y, h0=None) -> tuple[float, GRUParams]:
    """Loss of a batch and its gradient by BPTT through the GRU (10.45)–(10.47).

    Parameters
    ----------
    p : GRUParams
    x : ndarray, shape (T, B) of int ids, or (T, B, n_in) float
    y : ndarray of int, shape (T, B)
    h0 : ndarray, shape (B, H), optional

    Returns
    -------
    loss : float
    grads : GRUParams

    Notes
    -----
    The first two fields of :func:`rnnlib.gru.loss_and_grads`.
    """
    r = loss_and_grads(p, x, y, h0)
    return r.loss, r.grads
