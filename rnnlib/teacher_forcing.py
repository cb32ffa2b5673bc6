"""Output recurrence and teacher forcing, Deep Learning §10.2.1, eqs (10.15)–(10.16).

The network of the book's figures 10.4 and 10.6: its **only** recurrence runs from
the output at step t-1 to the hidden units at step t; there is no hidden-to-hidden
connection. Column vectors as in the book:

* ``a^(t) = b + W y^(t-1) + U x^(t)``, ``h^(t) = tanh(a^(t))``,
* ``o^(t) = c + V h^(t)``, ``ŷ^(t) = softmax(o^(t))``,

where the vector fed back, ``y^(t-1)``, is the one-hot **target** of step t-1 when
training with teacher forcing, and the model's own output when it runs free (its
probabilities ŷ^(t-1), or the one-hot of a sample or of the most probable class).
At t = 1 nothing has been emitted yet: the vector fed back is zero.

Sizes: ``T`` time steps, ``B`` sequences, ``H`` hidden units, ``n_in`` inputs,
``n_out`` outputs (classes). **W has shape (H, n_out)**, not (H, H) as in the RNN of
§10.2: it maps an output to the hidden units. Arrays are time-major rows:
``x`` ids ``(T, B)`` or dense ``(T, B, n_in)``, ``fed, o, yhat (T, B, n_out)``,
``a, h (T, B, H)``. Every array starts at the book's t = 1: ``h[t-1]`` is h^(t)
(unlike :func:`rnnlib.forward`, there is no h^(0)).

Why it matters (chapter "Teacher forcing and output recurrence"): by the chain rule
of probability (10.15)–(10.16) the log-likelihood of a target sequence is a sum of
one term per step, each conditioned on the true earlier targets. Under teacher
forcing those are inputs, not functions of the parameters, so the gradient of each
step's loss involves that step only: :func:`rnnlib.teacher_forced_loss_and_grads` has no
loop over time and no back-propagation through time. Fed its own probabilities, the
network is a recurrent net again and :func:`rnnlib.free_running_loss_and_grads`
needs BPTT.

References: Goodfellow, Bengio & Courville (2016) §10.2.1; Williams & Zipser (1989).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._arrays import one_hot, rows, rows_matmul, times_U
from ._validate import (
    FLOAT_DTYPES,
    as_array,
    check_ids,
    check_positive_int,
    check_x,
    shape_str,
)
from .forward_pass import log_softmax
from .params import as_generator

NAMES = ("U", "W", "V", "b", "c")
MODES = ("teacher", "free")
FEEDS = ("probs", "sample", "argmax")


@dataclass(frozen=True, eq=False)
class OutputRecurrentParams:
    """The five parameters of the output-recurrent network; gradients use this type.

    ``U (H, n_in)``, ``W (H, n_out)`` (output-to-hidden: not square), ``V (n_out, H)``,
    ``b (H,)``, ``c (n_out,)``, all float32 or all float64. The constructor checks
    kinds and shapes and raises ``TypeError``/``ValueError`` naming the field.
    """

    U: np.ndarray  # (H, n_in)
    W: np.ndarray  # (H, n_out)   y^(t-1) -> a^(t)
    V: np.ndarray  # (n_out, H)
    b: np.ndarray  # (H,)
    c: np.ndarray  # (n_out,)

    def __post_init__(self):
        arrays = {name: as_array(name, getattr(self, name)) for name in NAMES}
        for name, arr in arrays.items():
            if arr.dtype not in FLOAT_DTYPES:
                raise TypeError(
                    f"{name} must have dtype float32 or float64; got {arr.dtype}"
                )
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} must be finite; got NaN or inf values")
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
        expected = {"U": (H, n_in), "W": (H, n_out), "V": (n_out, H), "b": (H,),
                    "c": (n_out,)}
        for name, want in expected.items():
            if arrays[name].shape != want:
                raise ValueError(
                    f"{name} must have shape {shape_str(want)} given U "
                    f"{shape_str(U.shape)} and V {shape_str(V.shape)} "
                    f"(W is output-to-hidden, (H, n_out)); "
                    f"got {shape_str(arrays[name].shape)}"
                )

    n_in = property(lambda self: self.U.shape[1])
    n_hidden = property(lambda self: self.U.shape[0])
    n_out = property(lambda self: self.V.shape[0])
    dtype = property(lambda self: self.U.dtype)

    def arrays(self) -> dict[str, np.ndarray]:
        """The five arrays by name, in the order U, W, V, b, c."""
        return {name: getattr(self, name) for name in NAMES}

    def replace(self, **arrays) -> OutputRecurrentParams:
        """A copy with some arrays replaced (checked like the constructor)."""
        return dataclasses.replace(self, **arrays)


class OutputForward(NamedTuple):
    """What the forward pass computes; every array starts at the book's t = 1."""

    x: np.ndarray         # (T, B) ids or (T, B, n_in) dense
    fed: np.ndarray       # (T, B, n_out) fed[t-1]: the y^(t-1) fed to step t
    a: np.ndarray         # (T, B, H)     a[t-1] = a^(t)
    h: np.ndarray         # (T, B, H)     h[t-1] = h^(t)
    o: np.ndarray         # (T, B, n_out) o[t-1] = o^(t)
    log_yhat: np.ndarray  # (T, B, n_out) log softmax(o)
    yhat: np.ndarray      # (T, B, n_out) softmax(o)


def init_output_recurrent(n_in: int, n_hidden: int, n_out: int, seed=0,
                          dtype=np.float64, scale: float | None = None
                          ) -> OutputRecurrentParams:
    """Random weights ``N(0, scale²)``, zero biases: the output-recurrent network.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size (vocabulary size for ids), hidden size ``H``, number of classes.
    seed : int or numpy.random.Generator, default 0
    dtype : float32 or float64, default float64
    scale : float, optional
        Standard deviation of the weights; default ``1/sqrt(H)``.

    Returns
    -------
    OutputRecurrentParams
        ``U (H, n_in)``, ``W (H, n_out)``, ``V (n_out, H)``; ``b``, ``c`` zero.
    """
    n_in = check_positive_int("n_in", n_in)
    H = check_positive_int("n_hidden", n_hidden)
    n_out = check_positive_int("n_out", n_out)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    if scale is None:
        scale = 1.0 / np.sqrt(H)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)):
        raise TypeError(f"scale must be a number; got {type(scale).__name__}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number; got {scale!r}")
    rng = as_generator(seed)

    def draw(*shape):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return OutputRecurrentParams(U=draw(H, n_in), W=draw(H, n_out), V=draw(n_out, H),
                                 b=np.zeros(H, dtype), c=np.zeros(n_out, dtype))


# ------------------------------------------------------------------- validation


def _check_params(p) -> None:
    if not isinstance(p, OutputRecurrentParams):
        raise TypeError(
            f"p must be rnnlib.OutputRecurrentParams; got {type(p).__name__}"
        )


def _check_xy(p, x, y):
    """Inputs ``x`` for ``p`` and targets ``y (T, B)`` with x's T and B."""
    _check_params(p)
    x = check_x(p, x, batch_ndim=2)
    y = check_ids("y", y, p.n_out, shape=x.shape[:2])
    return x, y


# ------------------------------------------------------------------ forward pass


def _step_outputs(p, a):
    """(10.9)-(10.11) on ``a (..., H)``: h, o, log ŷ, ŷ."""
    h = np.tanh(a)                              # h = tanh(a)
    o = rows_matmul(h, p.V.T) + p.c             # o = c + V h
    log_yhat = log_softmax(o)
    return h, o, log_yhat, np.exp(log_yhat)     # ŷ = softmax(o)


def output_recurrent_forward(p: OutputRecurrentParams, x, y=None, mode="teacher",
                             feed="sample", rng=None) -> OutputForward:
    """``a^(t) = b + W y^(t-1) + U x^(t)``, ``h = tanh(a)``, ``o = c + V h``, ``ŷ``.

    Parameters
    ----------
    p : OutputRecurrentParams
    x : ndarray, shape (T, B) or (T, B, n_in)
        Token ids, or dense float inputs.
    y : ndarray, shape (T, B), optional
        Integer targets in ``[0, n_out)``, only with ``mode="teacher"``: row ``t``
        of the arrays is fed the one-hot of ``y[t-1]`` (the book's y^(t-1) at its
        step t = row + 1), row 0 a zero vector.
    mode : str, default "teacher"
        ``"teacher"``: teacher forcing, the true previous output is fed back (every
        step at once: nothing depends on an earlier step's result). ``"free"``: the
        model's own previous output is fed back, one step after the other.
    feed : str, default "sample"
        ``"sample"``, ``"probs"`` or ``"argmax"``; free-running only: what of its
        own output the network feeds back — the one-hot of a class drawn from
        ŷ^(t-1) (needs ``rng``), the probabilities ŷ^(t-1) themselves
        (differentiable), or the one-hot of the most probable class.
    rng : numpy.random.Generator or int, optional
        The random source for ``feed="sample"``.

    Returns
    -------
    OutputForward
        ``fed, o, log_yhat, yhat (T, B, n_out)``, ``a, h (T, B, H)``; ``fed[0]`` is 0.

    Notes
    -----
    Figure 10.6 of the book: at train time the true output is fed back, at test time
    the model's. The log-likelihood this pass gives the targets is (10.15)–(10.16),
    see :func:`teacher_forced_log_probs`. Chapter "Teacher forcing and output
    recurrence".
    """
    if mode not in MODES:
        raise ValueError(f"mode must be 'teacher' or 'free'; got {mode!r}")
    if mode == "teacher":
        if y is None:
            raise ValueError("y (the targets, shape (T, B)) is needed in mode "
                             "'teacher': they are what is fed back")
        x, y = _check_xy(p, x, y)
        fed = np.zeros((*y.shape, p.n_out), p.dtype)        # (T, B, n_out)
        fed[1:] = one_hot(y[:-1], p.n_out, p.dtype)         # y^(t-1), the truth
        a = times_U(p.U, x) + p.b + rows_matmul(fed, p.W.T)  # a = b + W y + U x
        return OutputForward(x, fed, a, *_step_outputs(p, a))
    if y is not None:
        raise ValueError("y must be None in mode 'free': the network feeds back its "
                         "own outputs (score targets with "
                         "rnnlib.step_losses(fwd.o, y))")
    if feed not in FEEDS:
        raise ValueError(f"feed must be 'sample', 'probs' or 'argmax'; got {feed!r}")
    _check_params(p)
    x = check_x(p, x, batch_ndim=2)
    if feed == "sample":
        if rng is None:
            raise ValueError("rng (a numpy.random.Generator or int seed) is needed "
                             "with feed='sample'")
        rng = as_generator(rng)
    T, B = x.shape[:2]
    Ux = times_U(p.U, x) + p.b                              # (T, B, H)
    fed = np.zeros((T, B, p.n_out), p.dtype)
    a = np.empty((T, B, p.n_hidden), p.dtype)
    h, o, log_yhat, yhat = (np.empty_like(arr) for arr in (a, fed, fed, fed))
    for t in range(T):
        if t > 0:
            fed[t] = _feed_back(yhat[t - 1], feed, rng)     # the model's y^(t-1)
        a[t] = Ux[t] + fed[t] @ p.W.T                       # a = b + W y + U x
        h[t], o[t], log_yhat[t], yhat[t] = _step_outputs(p, a[t])
    return OutputForward(x, fed, a, h, o, log_yhat, yhat)


def _feed_back(yhat_prev, feed, rng):
    """What the free-running network feeds back of its output ŷ (B, n_out)."""
    if feed == "probs":
        return yhat_prev
    n_out = yhat_prev.shape[-1]
    if feed == "argmax":
        k = yhat_prev.argmax(axis=-1)
    else:  # one draw per sequence by inverting the cumulative distribution
        u = rng.random(yhat_prev.shape[0])[:, None]
        k = np.minimum((np.cumsum(yhat_prev, axis=-1) < u).sum(axis=-1), n_out - 1)
    return one_hot(k, n_out, yhat_prev.dtype)


# ------------------------------------------------------------- log-likelihood


def teacher_forced_log_probs(p: OutputRecurrentParams, x, y) -> np.ndarray:
    """``log p(y^(t) | y^(1), …, y^(t-1), x^(1), …, x^(t))`` for every step (10.16).

    Parameters
    ----------
    p : OutputRecurrentParams
    x : ndarray, shape (T, B) or (T, B, n_in)
        Token ids, or dense float inputs.
    y : ndarray, shape (T, B)
        Integer targets in ``[0, n_out)``.

    Returns
    -------
    ndarray, shape (T, B)
        The conditional log-probability of each target given the true earlier
        targets: entry ``y^(t)`` of log ŷ^(t) from the teacher-forced pass.

    Notes
    -----
    (10.16) splits the log-likelihood of a sequence into these terms, one per step;
    each conditions on the earlier **targets**, which is exactly what the
    teacher-forced network is fed. Their sum over t is (10.15),
    :func:`sequence_log_prob`. Chapter "Teacher forcing and output recurrence".
    """
    x, y = _check_xy(p, x, y)
    fwd = output_recurrent_forward(p, x, y, mode="teacher")
    return np.take_along_axis(fwd.log_yhat, y[..., None], axis=-1)[..., 0]  # (10.16)


def sequence_log_prob(p: OutputRecurrentParams, x, y) -> np.ndarray:
    """``log p(y^(1), …, y^(T) | x^(1), …, x^(T))`` of each sequence (10.15).

    Parameters
    ----------
    p : OutputRecurrentParams
    x : ndarray, shape (T, B) or (T, B, n_in)
        Token ids, or dense float inputs.
    y : ndarray, shape (T, B)
        Integer targets in ``[0, n_out)``.

    Returns
    -------
    ndarray, shape (B,)
        The model's log-probability of each whole target sequence: the probability
        that the free-running network, sampling its outputs, emits exactly ``y``.

    Notes
    -----
    (10.15) for T = 2 in the book; by the chain rule of probability (10.16) it is
    the sum over t of :func:`teacher_forced_log_probs`, which is how it is computed.
    """
    return teacher_forced_log_probs(p, x, y).sum(axis=0)    # (10.15) = Σ_t (10.16)


# ------------------------------------------------------------------ gradients


def _input_grad_U(p, x, da):
    """∇_U L = Σ_t da^(t) x^(t)ᵀ, for ids (a sum per id) or dense inputs."""
    if x.dtype.kind in "iu":
        dUT = np.zeros((p.n_in, p.n_hidden), p.dtype)
        np.add.at(dUT, x.ravel(), rows(da))
        return dUT.T
    return rows(da).T @ rows(x)


def _param_grads(p, x, fwd, do, da):
    """Sums over all T·B rows: ∇c, ∇b, ∇V, ∇W, ∇U from do (T,B,n_out), da (T,B,H)."""
    return OutputRecurrentParams(
        U=_input_grad_U(p, x, da),                          # Σ_t da x^T
        W=rows(da).T @ rows(fwd.fed),                       # Σ_t da y^(t-1)T
        V=rows(do).T @ rows(fwd.h),                         # Σ_t do h^T
        b=rows(da).sum(axis=0),                             # Σ_t da
        c=rows(do).sum(axis=0),                             # Σ_t do
    )


def teacher_forced_loss_and_grads(p: OutputRecurrentParams, x, y
                                  ) -> tuple[float, OutputRecurrentParams]:
    """Loss ``L = -Σ_t log ŷ^(t)_{y^(t)}`` under teacher forcing, and ∇L: no BPTT.

    Parameters
    ----------
    p : OutputRecurrentParams
    x : ndarray, shape (T, B) or (T, B, n_in)
        Token ids, or dense float inputs.
    y : ndarray, shape (T, B)
        Integer targets in ``[0, n_out)``.

    Returns
    -------
    loss : float
        ``-Σ_t Σ_b`` of :func:`teacher_forced_log_probs`, i.e. minus (10.15) summed
        over the batch.
    grads : OutputRecurrentParams
        ``dU, dW, dV, db, dc`` in the parameters' shapes.

    Notes
    -----
    Each term of (10.16) depends on the parameters only through its own step: the
    fed-back y^(t-1) is data. So ∇_{o^(t)} L = ŷ^(t) - 1_{y^(t)} (10.18) and
    ∇_{a^(t)} L = (1 - h^(t)²) ⊙ Vᵀ ∇_{o^(t)} L for all t at once, with no
    recursion from later steps (compare (10.21)).
    """
    x, y = _check_xy(p, x, y)
    fwd = output_recurrent_forward(p, x, y, mode="teacher")
    loss = -float(np.take_along_axis(fwd.log_yhat, y[..., None], axis=-1).sum())
    do = fwd.yhat.copy()                                    # (T, B, n_out)
    np.put_along_axis(do, y[..., None],
                      np.take_along_axis(do, y[..., None], axis=-1) - 1, axis=-1)
    da = (1 - fwd.h**2) * rows_matmul(do, p.V)              # step t only: no BPTT
    return loss, _param_grads(p, x, fwd, do, da)


def free_running_loss_and_grads(p: OutputRecurrentParams, x, y
                                ) -> tuple[float, OutputRecurrentParams]:
    """Loss of the targets when the network feeds back its own ŷ^(t-1), and ∇L by BPTT.

    Parameters
    ----------
    p : OutputRecurrentParams
    x : ndarray, shape (T, B) or (T, B, n_in)
        Token ids, or dense float inputs.
    y : ndarray, shape (T, B)
        Integer targets in ``[0, n_out)``; only scored, never fed back.

    Returns
    -------
    loss : float
        ``-Σ_t Σ_b log ŷ^(t)_{y^(t)}`` with ``a^(t) = b + W ŷ^(t-1) + U x^(t)``.
    grads : OutputRecurrentParams

    Notes
    -----
    The probabilities are fed back (``feed="probs"``), the differentiable choice: a
    sample or an argmax has no gradient. Now ŷ^(t-1) depends on the parameters, and
    the gradient flows back through it: ∇_{ŷ^(t)} L = Wᵀ ∇_{a^(t+1)} L, through the
    softmax Jacobian ``diag(ŷ) - ŷŷᵀ`` into ∇_{o^(t)} L, one step after another,
    from t = T down to 1. This is BPTT along the output-to-hidden connection;
    teacher forcing (10.16) removes it. Chapter "Teacher forcing and output
    recurrence".
    """
    x, y = _check_xy(p, x, y)
    fwd = output_recurrent_forward(p, x, mode="free", feed="probs")
    loss = -float(np.take_along_axis(fwd.log_yhat, y[..., None], axis=-1).sum())
    onehot = one_hot(y, p.n_out, p.dtype)                   # (T, B, n_out)
    do = np.empty_like(fwd.o)
    da = np.empty_like(fwd.a)
    dyhat = np.zeros_like(fwd.yhat[0])                      # ∇ŷ^(t) from step t+1
    for t in range(y.shape[0] - 1, -1, -1):
        yhat = fwd.yhat[t]
        # through the softmax: (diag(ŷ) - ŷŷᵀ) dŷ, plus the step loss's ŷ - 1_y
        back = yhat * (dyhat - (yhat * dyhat).sum(-1, keepdims=True))
        do[t] = yhat - onehot[t] + back
        da[t] = (1 - fwd.h[t] ** 2) * (do[t] @ p.V)         # tanh'
        dyhat = da[t] @ p.W                                 # ŷ^(t-1) fed into a^(t)
    return loss, _param_grads(p, x, fwd, do, da)
