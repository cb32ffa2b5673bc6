"""Optimizers and gradient clipping.

Each optimizer is a small frozen dataclass of hyper-parameters with two methods:
``init(p)`` returns its state (a dict of arrays, so a checkpoint stores it with
``np.savez``), and ``update(p, g, state)`` returns new parameters and new state.
Nothing is modified in place. Parameters and gradients may be those of any cell
(:class:`rnnlib.Params`, :class:`rnnlib.lstm.LSTMParams`,
:class:`rnnlib.gru.GRUParams`); results have the type of the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .params import Params

_STATE_SEP = "."


def _check_lr(lr) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a positive number; got {lr!r}")


@dataclass(frozen=True)
class SGD:
    """θ ← θ - lr · g."""

    lr: float = 0.1
    _nonnegative: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        _check_lr(self.lr)

    def init(self, p: Params) -> dict:
        return {}

    def update(self, p: Params, g: Params, state: dict) -> tuple[Params, dict]:
        return type(p)(**{n: a - self.lr * getattr(g, n)
                          for n, a in p.arrays().items()}), {}


@dataclass(frozen=True)
class Adagrad:
    """Adagrad {Duchi, Hazan & Singer 2011}: per-entry steps lr / sqrt(Σ g²).

    s ← s + g²;  θ ← θ - lr · g / (sqrt(s) + eps). The classic char-RNN optimizer.
    """

    lr: float = 0.1
    eps: float = 1e-8
    _nonnegative: ClassVar[tuple[str, ...]] = ("sum_sq",)

    def __post_init__(self):
        _check_lr(self.lr)

    def init(self, p: Params) -> dict:
        return {f"sum_sq{_STATE_SEP}{n}": np.zeros_like(a)
                for n, a in p.arrays().items()}

    def update(self, p: Params, g: Params, state: dict) -> tuple[Params, dict]:
        new_p, new_s = {}, {}
        for n in p.arrays():
            gn = getattr(g, n)
            s = state[f"sum_sq{_STATE_SEP}{n}"] + gn * gn
            new_s[f"sum_sq{_STATE_SEP}{n}"] = s
            new_p[n] = getattr(p, n) - self.lr * gn / (np.sqrt(s) + self.eps)
        return type(p)(**new_p), new_s


@dataclass(frozen=True)
class Adam:
    """Adam {Kingma & Ba 2015}: bias-corrected first and second moment estimates.

    m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²;  k ← k + 1;
    θ ← θ - lr · (m / (1-β1^k)) / (sqrt(v / (1-β2^k)) + eps).
    """

    lr: float = 2e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    _nonnegative: ClassVar[tuple[str, ...]] = ("v", "step")

    def __post_init__(self):
        _check_lr(self.lr)
        for name in ("beta1", "beta2"):
            b = getattr(self, name)
            if not 0 <= b < 1:
                raise ValueError(f"{name} must be in [0, 1); got {b!r}")

    def init(self, p: Params) -> dict:
        state = {"step": np.zeros((), np.int64)}
        for n, a in p.arrays().items():
            state[f"m{_STATE_SEP}{n}"] = np.zeros_like(a)
            state[f"v{_STATE_SEP}{n}"] = np.zeros_like(a)
        return state

    def update(self, p: Params, g: Params, state: dict) -> tuple[Params, dict]:
        k = int(state["step"]) + 1
        c1, c2 = 1 - self.beta1**k, 1 - self.beta2**k
        new_p, new_s = {}, {"step": np.array(k, np.int64)}
        for n in p.arrays():
            gn = getattr(g, n)
            m = self.beta1 * state[f"m{_STATE_SEP}{n}"] + (1 - self.beta1) * gn
            v = self.beta2 * state[f"v{_STATE_SEP}{n}"] + (1 - self.beta2) * gn * gn
            new_s[f"m{_STATE_SEP}{n}"], new_s[f"v{_STATE_SEP}{n}"] = m, v
            step = self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
            new_p[n] = getattr(p, n) - step.astype(gn.dtype, copy=False)
        return type(p)(**new_p), new_s


OPTIMIZERS = {"sgd": SGD, "adagrad": Adagrad, "adam": Adam}


def make_optimizer(name: str, lr: float):
    """The optimizer called ``name`` (sgd, adagrad, adam) with learning rate ``lr``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {name!r}")
    return OPTIMIZERS[name](lr=lr)


def check_state(opt, p: Params, state) -> None:
    """Check that ``state`` is a state of optimizer ``opt`` for parameters ``p``.

    It must have exactly the keys, shapes and dtypes of ``opt.init(p)``, finite
    values, and no negative entries where the optimizer keeps sums of squares or
    a step count. Raises ``TypeError`` if ``state`` is not a dict and ``ValueError``
    naming the first problem otherwise (for a state saved by another optimizer,
    the message names that optimizer).
    """
    if not isinstance(state, dict):
        raise TypeError(f"optimizer state must be a dict; got {type(state).__name__}")
    want = opt.init(p)
    name = type(opt).__name__
    missing, extra = sorted(want.keys() - state.keys()), sorted(state.keys() - want)
    if missing or extra:
        guess = [k for k, cls in OPTIMIZERS.items()
                 if set(cls().init(p)) == set(state)]
        hint = f"; it is the state of {guess[0]}" if guess else ""
        raise ValueError(f"optimizer state does not fit {name}: missing "
                         f"{missing or 'nothing'}, unexpected {extra or 'nothing'}"
                         f"{hint}")
    for key, w in want.items():
        a = state[key]
        if not isinstance(a, np.ndarray) or a.shape != w.shape or a.dtype != w.dtype:
            got = (f"{a.dtype} array of shape {a.shape}" if isinstance(a, np.ndarray)
                   else type(a).__name__)
            raise ValueError(f"optimizer state {key!r} must be a {w.dtype} array of "
                             f"shape {w.shape}; got {got}")
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ValueError(f"optimizer state {key!r} holds NaN or inf")
        if key.split(_STATE_SEP)[0] in opt._nonnegative and (a < 0).any():
            raise ValueError(f"optimizer state {key!r} must be >= 0; it holds "
                             "negative values")


def _check_grads(g) -> None:
    from .cells import CELLS  # (not at import: rnnlib.cells imports the cells)

    kinds = tuple(c.params_type for c in CELLS.values())
    if type(g) not in kinds:
        raise TypeError(f"g must be the gradient of one of the cells "
                        f"({', '.join(k.__name__ for k in kinds)}); got "
                        f"{type(g).__name__}")


def global_norm(g: Params) -> float:
    """sqrt of the sum of squares of every entry of every gradient array."""
    return math.sqrt(sum(float(np.vdot(a, a)) for a in g.arrays().values()))


def clip_by_global_norm(g: Params, max_norm: float) -> tuple[Params, float]:
    """If ‖g‖ > v, g ← g v / ‖g‖: rescale ``g`` to norm ``v = max_norm``.

    Parameters
    ----------
    g : Params
        The gradient; ‖g‖ is the global norm over all five arrays, as if they were
        one vector (:func:`rnnlib.optim.global_norm`).
    max_norm : float
        The threshold ``v`` > 0.

    Returns
    -------
    (Params, float)
        The clipped gradient (``g`` itself, the same object, when ‖g‖ ≤ v) and ‖g‖
        before clipping.

    Notes
    -----
    Deep Learning §10.11.1, (10.48)–(10.49) {Pascanu, Mikolov & Bengio 2013}: the
    direction is kept (the result is a positive multiple of ``g``), only the step
    length is bounded. Chapter "The cliff and gradient clipping" derives it;
    :func:`rnnlib.clip_elementwise` is the per-entry alternative.
    """
    _check_grads(g)
    if not (isinstance(max_norm, (int, float)) and max_norm > 0):
        raise ValueError(f"max_norm must be a positive number; got {max_norm!r}")
    norm = global_norm(g)
    if norm <= max_norm:  # (10.48) if ‖g‖ > v ...
        return g, norm
    scale = max_norm / norm  # (10.49) ... g ← g v / ‖g‖
    return type(g)(**{n: a * a.dtype.type(scale) for n, a in g.arrays().items()}), norm


def clip_elementwise(g: Params, threshold: float) -> tuple[Params, int]:
    """g_i ← min(max(g_i, -v), v) for every entry: clip each entry to [-v, v].

    Parameters
    ----------
    g : Params
        The gradient.
    threshold : float
        ``v`` > 0, finite; every entry of every array is clipped to ``[-v, v]``.

    Returns
    -------
    (Params, int)
        The clipped gradient, in the dtype of ``g`` (``g`` itself, the same object,
        when no entry exceeds ``v``), and how many entries were changed.

    Notes
    -----
    Element-wise clipping {Mikolov 2012}, as in min-char-rnn's
    ``np.clip(dparam, -5, 5)``. Unlike norm clipping, (10.48)–(10.49) in
    :func:`rnnlib.clip_by_global_norm`, it changes the direction of ``g`` whenever some
    but not all entries are clipped (chapter "The cliff and gradient clipping"
    shows it with SymPy). NaN entries stay NaN; ±inf become ±v.
    """
    _check_grads(g)
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
            or not (math.isfinite(threshold) and threshold > 0)):
        raise ValueError(f"threshold must be a positive finite number; got "
                         f"{threshold!r}")
    arrays = g.arrays()
    n_clipped = sum(int(np.count_nonzero(np.abs(a) > threshold))
                    for a in arrays.values())
    if n_clipped == 0:
        return g, 0
    v = g.dtype.type(threshold)
    return type(g)(**{n: np.clip(a, -v, v) for n, a in arrays.items()}), n_clipped
