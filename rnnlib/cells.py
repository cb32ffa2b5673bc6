"""The recurrent cells that :mod:`rnnlib.train` and :mod:`rnnlib.sample` can use.

A :class:`Cell` adapts one network to the training loop: the tanh RNN of
§10.2 (``"rnn"``, :mod:`rnnlib.fast`), the LSTM of §10.10.1 (``"lstm"``,
:mod:`rnnlib.lstm`) and the GRU of §10.10.2 (``"gru"``, :mod:`rnnlib.gru`). What
differs between them for training is only the state carried from one chunk to the
next: ``(h,)`` for the RNN and the GRU, ``(h, s)`` for the LSTM (its cell state),
each array of shape ``(B, H)``.

Every cell computes the book's loss, L summed over the batch and time steps
(10.12)–(10.14), with the output layer ``o = c + V h`` and the softmax (10.10)–(10.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import fast, gru, lstm
from .forward_pass import forward as rnn_forward
from .loss import step_losses
from .params import Params
from .params import init_params as rnn_init_params


@dataclass(frozen=True)
class Cell:
    """One trainable recurrent cell.

    Attributes
    ----------
    name : str
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    params_type : type
        :class:`rnnlib.Params`, :class:`rnnlib.lstm.LSTMParams` or
        :class:`rnnlib.gru.GRUParams`.
    init_params : callable
        ``init_params(n_in, n_hidden, n_out, seed=0, dtype=np.float64)``.
    carried : tuple of str
        Names of the states carried between chunks: ``("h",)`` or ``("h", "s")``.
    """

    name: str
    params_type: type
    init_params: Callable
    carried: tuple[str, ...]
    _loss_and_grads: Callable
    _forward: Callable

    def loss_and_grads(self, p, x, y, carry):
        """Summed loss L of a chunk, its gradient (the params' type) and the new
        carry: a tuple of ``(B, H)`` arrays, the last states of the chunk. ``carry``
        holds the initial states (``h^(0)``, and ``s^(0)`` for the LSTM)."""
        r = self._loss_and_grads(p, x, y, *carry)
        new = (r.h_last, r.s_last) if len(self.carried) == 2 else (r.h_last,)
        return r.loss, r.grads, new

    def loss(self, p, x, y, carry):
        """Summed loss L of inputs ``x`` and targets ``y`` (both ``(T, B)``) read from
        ``carry``, and the carry after the last step. The RNN reads with
        :func:`rnnlib.forward`; the LSTM and GRU with their fast training path
        (their per-equation forward is written to be read, and is several times
        slower), discarding the gradients."""
        if self.name == "rnn":
            o, new = self.logits(p, x, carry)
            return float(step_losses(o, y).sum()), new
        loss, _, new = self.loss_and_grads(p, x, y, carry)
        return loss, new

    def logits(self, p, x, carry):
        """Logits ``o (T, B, n_out)`` of inputs ``x (T, B)`` read from ``carry``, and
        the carry after the last step."""
        f = self._forward(p, x, *carry)
        new = (f.h[-1], f.s[-1]) if len(self.carried) == 2 else (f.h[-1],)
        return f.o, new

    def zero_carry(self, B: int, H: int, dtype) -> tuple[np.ndarray, ...]:
        return tuple(np.zeros((B, H), dtype) for _ in self.carried)

    def n_params(self, n_in: int, n_hidden: int, n_out: int) -> int:
        """Number of scalar parameters for these sizes."""
        p = self.init_params(n_in, n_hidden, n_out)
        return sum(a.size for a in p.arrays().values())


CELLS: dict[str, Cell] = {
    "rnn": Cell("rnn", Params, rnn_init_params, ("h",), fast.loss_and_grads,
                rnn_forward),
    "lstm": Cell("lstm", lstm.LSTMParams, lstm.init_params, ("h", "s"),
                 lstm.loss_and_grads, lstm.forward),
    "gru": Cell("gru", gru.GRUParams, gru.init_params, ("h",), gru.loss_and_grads,
                gru.forward),
}


def get_cell(name) -> Cell:
    """The cell called ``name``; ``ValueError`` listing the choices otherwise."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {name!r}")
    return CELLS[name]


def cell_of(p) -> Cell:
    """The cell whose parameters ``p`` are; ``TypeError`` for anything else."""
    for cell in CELLS.values():
        if type(p) is cell.params_type:
            return cell
    kinds = ", ".join(c.params_type.__name__ for c in CELLS.values())
    raise TypeError(f"parameters must be one of {kinds}; got {type(p).__name__}")
