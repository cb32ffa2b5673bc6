"""Train a character-level RNN with truncated BPTT, and the ``python -m rnnlib.train``
command.

Truncated BPTT {Williams & Peng 1990}: the text is cut into ``B`` contiguous streams
read ``T`` characters at a time. Each chunk's gradient is the full BPTT gradient
(10.17)–(10.28) of that chunk's loss, with the chunk's initial state ``h0`` taken
from the end of the previous chunk but treated as a constant: the hidden state is
carried forward, the gradient is not carried back across the boundary. Gradients
are clipped by their global norm (Deep Learning §10.11.1), or entry by entry with
``clip_mode="elementwise"``, and passed to an optimizer from :mod:`rnnlib.optim`.

The update uses the gradient of the *mean* loss per character (the book's summed L
divided by ``T·B``), so learning rates and the clipping threshold do not depend on
the chunk size. Losses are reported in nats per character and bits per character.

The cell is the tanh RNN of (10.8)–(10.11) by default; ``cell="lstm"`` or ``"gru"``
(``--cell``) trains the gated cells of §10.10 instead (:mod:`rnnlib.cells`), with
the same loop, optimizer, clipping and checkpoints.

Structure: ``train_step(state, batch, config)`` is one pure update (new state and
its metrics, nothing modified); :func:`train` checks every input before the first
update and then runs a thin loop around it that records metrics and does the
progress bar, validation, samples and checkpoints.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from rnnlib import Params

from .cells import CELLS, cell_of, get_cell
from .checkpoint import check_writable, load_checkpoint, save_checkpoint
from .data import (
    DEFAULT_CORPUS,
    Vocab,
    chunk,
    load_text,
    n_chunks,
    split,
    streams,
    text_fingerprint,
)
from .optim import (
    check_state,
    clip_by_global_norm,
    clip_elementwise,
    global_norm,
    make_optimizer,
)

LN2 = math.log(2.0)
HISTORY_KEYS = ("step", "train_loss", "grad_norm", "val_step", "val_loss", "clipped")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; the defaults train on the default corpus in ~2 minutes
    on 2 cores and reach about 2 bits per character."""

    hidden: int = 256          # H, hidden units
    seq_len: int = 50          # T, truncation length of BPTT
    batch: int = 32            # B, parallel streams
    steps: int = 6000          # parameter updates
    optimizer: str = "adam"    # sgd, adagrad or adam
    lr: float = 2e-3
    clip: float = 1.0          # global-norm threshold; 0 disables clipping
    clip_mode: str = "norm"    # norm: (10.48)-(10.49); elementwise: each entry to ±clip
    val_fraction: float = 0.1  # last part of the text held out for validation
    eval_every: int = 500      # steps between validation losses (0: only at the end)
    sample_every: int = 2000   # steps between printed samples (0: never)
    sample_length: int = 200
    temperature: float = 0.8
    seed: int = 0              # of the initial parameters
    cell: str = "rnn"          # rnn (tanh, §10.2), lstm or gru (§10.10)
    dtype: str = "float32"
    checkpoint_every: int = 1000  # steps between checkpoints (and one at the end)

    def __post_init__(self):
        for name in ("hidden", "seq_len", "batch", "steps", "checkpoint_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        for name in ("eval_every", "sample_every", "sample_length", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
        for name in ("lr", "clip", "val_fraction", "temperature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number; got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")
        if not (math.isfinite(self.clip) and self.clip >= 0):
            raise ValueError(f"clip must be >= 0 (0 disables it); got {self.clip!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction}")
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be positive; got {self.temperature!r}")
        if self.clip_mode not in ("norm", "elementwise"):
            raise ValueError(f"clip_mode must be norm or elementwise; got "
                             f"{self.clip_mode!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype!r}")
        make_optimizer(self.optimizer, self.lr)  # validates the name
        get_cell(self.cell)                      # validates the name


def _empty_history() -> dict:
    return {k: [] for k in HISTORY_KEYS}


@dataclass(frozen=True, eq=False)
class TrainState:
    """Everything needed to continue training exactly where it stopped.

    ``history`` is a dict of lists (``step``, ``train_loss``, ``grad_norm``,
    ``val_step``, ``val_loss``) that :func:`train` appends to; ``text_sha256`` is
    the fingerprint of the text trained on (``rnnlib.data.text_fingerprint``).
    ``params`` are those of the cell trained (:class:`rnnlib.Params`,
    ``LSTMParams`` or ``GRUParams``); the LSTM also carries its cell state ``s``.
    """

    params: Params
    opt_state: dict
    h: np.ndarray              # (B, H) state carried into the next chunk
    step: int = 0
    history: dict = field(default_factory=_empty_history)
    text_sha256: str | None = None
    s: np.ndarray | None = None  # (B, H) LSTM cell state carried; None otherwise

    @property
    def carry(self) -> tuple[np.ndarray, ...]:
        """``(h,)``, or ``(h, s)`` for the LSTM, the states carried into the next
        chunk."""
        return (self.h,) if self.s is None else (self.h, self.s)

    def with_carry(self, carry) -> TrainState:
        return dataclasses.replace(self, h=carry[0],
                                   s=carry[1] if len(carry) > 1 else None)


class StepMetrics(NamedTuple):
    """What one update measured."""

    loss: float          # mean loss of the chunk before the update, nats per char
    grad_norm: float     # global norm of the mean-loss gradient, before clipping
    bptt_seconds: float  # time spent in loss_and_grads
    clipped: bool = False  # whether clipping changed the gradient


def train_step(state: TrainState, batch: tuple[np.ndarray, np.ndarray],
               config: TrainConfig) -> tuple[TrainState, StepMetrics]:
    """One truncated-BPTT update: loss and gradients of a chunk, clip, optimizer step.

    Parameters
    ----------
    state : TrainState
        Parameters, optimizer state, and ``h`` (B, H) (LSTM: also ``s``), the state
        carried in from the previous chunk (zeros at the start of a stream).
    batch : tuple
        Input and target ids, each an int array of shape (T, B).
    config : TrainConfig
        Supplies ``optimizer``, ``lr``, ``clip`` and ``clip_mode``.

    Returns
    -------
    (TrainState, StepMetrics)
        A new state (``step + 1``, updated parameters and optimizer state, ``h`` the
        last hidden state of the chunk); ``state`` itself is not modified and its
        ``history`` is passed on untouched.
    """
    x, y = batch
    opt = make_optimizer(config.optimizer, config.lr)
    cell = cell_of(state.params)
    t0 = time.perf_counter()
    loss, grads, carry = cell.loss_and_grads(state.params, x, y, state.carry)
    t_bptt = time.perf_counter() - t0                  # RNN: (10.17)-(10.28)
    scale = state.params.dtype.type(1.0 / y.size)     # summed L -> mean per char
    grads = type(grads)(**{n: a * scale for n, a in grads.arrays().items()})
    if config.clip > 0 and config.clip_mode == "elementwise":
        norm = global_norm(grads)
        grads, n_clipped = clip_elementwise(grads, config.clip)  # {Mikolov 2012}
        clipped = n_clipped > 0
    elif config.clip > 0:
        grads, norm = clip_by_global_norm(grads, config.clip)  # (10.48)-(10.49)
        clipped = norm > config.clip
    else:
        norm, clipped = global_norm(grads), False
    params, opt_state = opt.update(state.params, grads, state.opt_state)
    new = dataclasses.replace(state, params=params, opt_state=opt_state,
                              step=state.step + 1).with_carry(carry)  # carried,
    return new, StepMetrics(loss / y.size, norm, t_bptt, clipped)  # not back-propagated


def evaluate(p: Params, ids: np.ndarray, T: int = 200, B: int = 8) -> float:
    """Mean loss in nats per character of ``ids`` (the model reads them in B streams,
    carrying the state from chunk to chunk).

    ``ids`` needs at least 2 entries (one input and its target). ``B`` and ``T``
    shrink for short inputs; the tail of each stream that does not fill a chunk of
    ``T`` is not scored. ``p`` may be the parameters of any cell (rnn, lstm, gru).
    """
    cell = cell_of(p)
    if len(ids) < 2:
        raise ValueError(f"evaluate needs at least 2 ids; got {len(ids)}")
    total, count = 0.0, 0
    B = max(1, min(B, len(ids) // (T + 1))) if len(ids) > T + 1 else 1
    T = min(T, len(ids) // B - 1)
    s = streams(ids, B)
    carry = cell.zero_carry(B, p.n_hidden, p.dtype)
    for k in range(n_chunks(ids, T, B)):
        x, y = chunk(s, k, T)
        loss, carry = cell.loss(p, x, y, carry)
        total += loss
        count += y.size
    return total / count


# ---------------------------------------------------------------- checks, then loop


class _Run(NamedTuple):
    """A checked training job: everything the loop needs."""

    config: TrainConfig
    state: TrainState
    vocab: Vocab
    streams: np.ndarray        # (B, L) training ids
    count: int                 # chunks per pass
    val_ids: np.ndarray
    prime: str                 # for samples


def _min_text_length(cfg: TrainConfig) -> int:
    """Shortest text that leaves one training chunk and 2 validation characters."""
    need = cfg.batch * (cfg.seq_len + 1)
    n = max(need + 2, math.ceil(need / (1 - cfg.val_fraction)),
            math.ceil(1.5 / cfg.val_fraction)) - 2
    while not _long_enough(n, cfg):
        n += 1
    return n


def _long_enough(n: int, cfg: TrainConfig) -> bool:
    n_val = max(1, int(round(n * cfg.val_fraction)))  # as data.split
    return n_val >= 2 and n - n_val >= cfg.batch * (cfg.seq_len + 1)


def _check_text(cfg: TrainConfig, text: str) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    if not _long_enough(len(text), cfg):
        n_min = _min_text_length(cfg)
        s = "" if len(text) == 1 else "s"
        raise ValueError(
            f"text of {len(text):,} character{s} is shorter than one training chunk "
            f"plus validation: B={cfg.batch} streams of T+1={cfg.seq_len + 1} "
            f"characters, with val_fraction={cfg.val_fraction} held out (at least 2 "
            f"characters), need a text of at least {n_min:,} characters; use a "
            "longer text, smaller --seq-len/--batch, or another --val-fraction")


def _check_state(cfg: TrainConfig, state: TrainState, vocab: Vocab) -> None:
    if not isinstance(state, TrainState):
        raise TypeError(f"state must be a TrainState; got {type(state).__name__}")
    step = state.step
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"state.step must be an integer >= 0; got {step!r}")
    if step >= cfg.steps:
        raise ValueError(f"nothing to train: the state is already at step {step} and "
                         f"steps is {cfg.steps}; ask for more than {step} steps")
    p = state.params
    cell = cell_of(p)
    if cell.name != cfg.cell:
        raise ValueError(f"the parameters are those of a {cell.name} cell; the config "
                         f"asks for cell={cfg.cell!r}")
    if not p.n_in == p.n_out == len(vocab):
        raise ValueError(f"the parameters have n_in={p.n_in}, n_out={p.n_out} but the "
                         f"vocabulary has {len(vocab)} characters")
    if p.n_hidden != cfg.hidden or str(p.dtype) != cfg.dtype:
        raise ValueError(f"the parameters have hidden={p.n_hidden}, dtype={p.dtype}; "
                         f"the config asks for hidden={cfg.hidden}, dtype={cfg.dtype}")
    h = state.h
    if (not isinstance(h, np.ndarray) or h.shape != (cfg.batch, cfg.hidden)
            or h.dtype != p.dtype):
        got = f"{h.dtype} {h.shape}" if isinstance(h, np.ndarray) else type(h).__name__
        raise ValueError(f"state.h must be a {p.dtype} array of shape (batch, hidden) "
                         f"= ({cfg.batch}, {cfg.hidden}); got {got}")
    s = state.s
    if len(cell.carried) == 1 and s is not None:
        raise ValueError(f"state.s must be None for a {cell.name} cell (only the LSTM "
                         "carries a cell state)")
    if len(cell.carried) == 2 and (not isinstance(s, np.ndarray) or s.shape != h.shape
                                   or s.dtype != p.dtype):
        got = f"{s.dtype} {s.shape}" if isinstance(s, np.ndarray) else type(s).__name__
        raise ValueError(f"state.s (the LSTM cell state) must be a {p.dtype} array of "
                         f"shape ({cfg.batch}, {cfg.hidden}); got {got}")
    check_state(make_optimizer(cfg.optimizer, cfg.lr), p, state.opt_state)
    if not isinstance(state.history, dict):
        raise TypeError("state.history must be a dict")


def _prepare(cfg: TrainConfig, text: str, state: TrainState | None,
             vocab: Vocab | None, checkpoint) -> _Run:
    """Check every input and build the initial state; writes nothing.

    Raises ``ValueError``/``TypeError`` for bad input and ``OSError`` if the
    checkpoint cannot be written, all before the first update.
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig; got {type(cfg).__name__}")
    _check_text(cfg, text)
    vocab = vocab or Vocab.from_text(text)
    if len(vocab) < 2:
        raise ValueError(f"the vocabulary has only {len(vocab)} character "
                         f"({''.join(vocab.chars)!r}); a character model needs at "
                         "least 2 distinct characters to have anything to predict")
    train_ids, val_ids = split(vocab.encode(text), cfg.val_fraction)
    count = n_chunks(train_ids, cfg.seq_len, cfg.batch)
    s = streams(train_ids, cfg.batch)
    sha = text_fingerprint(text)
    if state is None:
        dtype = np.dtype(cfg.dtype)
        opt = make_optimizer(cfg.optimizer, cfg.lr)
        cell = get_cell(cfg.cell)
        p = cell.init_params(len(vocab), cfg.hidden, len(vocab), seed=cfg.seed,
                             dtype=dtype)
        state = TrainState(p, opt.init(p), np.zeros((cfg.batch, cfg.hidden), dtype)
                           ).with_carry(cell.zero_carry(cfg.batch, cfg.hidden, dtype))
    else:
        _check_state(cfg, state, vocab)
    for key in HISTORY_KEYS:
        state.history.setdefault(key, [])
    state = dataclasses.replace(state, text_sha256=sha)
    if checkpoint is not None:
        check_writable(checkpoint)
    prime = "The " if set("The ") <= set(vocab.chars) else text[0]
    return _Run(cfg, state, vocab, s, count, val_ids, prime)


def _due(step: int, every: int) -> bool:
    return every > 0 and step % every == 0


def _loop(run: _Run, progress: bool, checkpoint, log) -> tuple[TrainState, Vocab]:
    """The thin loop: train_step, recording, progress, validation, samples, saving."""
    from tqdm import tqdm

    from .sample import sample

    cfg, state, vocab = run.config, run.state, run.vocab
    hist = state.history
    if log is None and progress:
        log = tqdm.write

    def emit(message: str) -> None:
        if log is not None:
            with tqdm.external_write_mode():        # keeps the progress bar intact
                log(message)

    bar = tqdm(total=cfg.steps, initial=state.step, disable=not progress, unit="step",
               dynamic_ncols=True, mininterval=0.5, desc="training")
    t_start, t_bptt, chars = time.perf_counter(), 0.0, 0
    try:
        while state.step < cfg.steps:
            k = state.step % run.count
            if k == 0:                               # a new pass: streams restart
                state = state.with_carry(tuple(np.zeros_like(a) for a in state.carry))
            state, m = train_step(state, chunk(run.streams, k, cfg.seq_len), cfg)
            t_bptt += m.bptt_seconds
            chars += cfg.seq_len * cfg.batch
            hist["step"].append(state.step)
            hist["train_loss"].append(m.loss)
            hist["grad_norm"].append(m.grad_norm)
            hist["clipped"].append(int(m.clipped))
            bar.update(1)
            last = state.step == cfg.steps
            if state.step % 10 == 0 or last:
                rate = chars / max(time.perf_counter() - t_start, 1e-9)
                bar.set_postfix_str(f"loss {m.loss:.3f} nats/char, {rate:,.0f} "
                                    "chars/s", refresh=False)
            if _due(state.step, cfg.eval_every) or last:
                val = evaluate(state.params, run.val_ids)
                hist["val_step"].append(state.step)
                hist["val_loss"].append(val)
                emit(f"step {state.step}: validation {val:.3f} nats/char = "
                     f"{val / LN2:.3f} bits/char")
            if log is not None and (_due(state.step, cfg.sample_every)
                                    or (last and cfg.sample_every)):
                out = sample(state.params, vocab, run.prime, cfg.sample_length,
                             cfg.temperature, seed=state.step)
                emit(f"--- sample at step {state.step} (temperature "
                     f"{cfg.temperature}):\n{run.prime}{out}\n---")
            if checkpoint is not None and (_due(state.step, cfg.checkpoint_every)
                                           or last):
                save_checkpoint(checkpoint, state.params, vocab, state.step,
                                state.opt_state, state.h, asdict(cfg), hist,
                                state.text_sha256, s=state.s)
    finally:
        bar.close()
    elapsed = time.perf_counter() - t_start
    emit(f"trained {chars:,} characters in {elapsed:.1f} s ({chars / elapsed:,.0f} "
         f"chars/s); {100 * t_bptt / elapsed:.0f}% of the time in bptt, "
         f"{100 * (1 - t_bptt / elapsed):.0f}% in data, optimizer, clipping, "
         "evaluation and logging")
    hist["seconds"] = hist.get("seconds", 0.0) + elapsed
    hist["bptt_seconds"] = hist.get("bptt_seconds", 0.0) + t_bptt
    return state, vocab


def train(config: TrainConfig, text: str, state: TrainState | None = None,
          vocab: Vocab | None = None, *, progress: bool = True, checkpoint=None,
          log: Callable[[str], object] | None = None) -> tuple[TrainState, Vocab]:
    """Train (or continue training) a character RNN on ``text``.

    Every input is checked before the first update, so a bad option fails at
    once, not after hours of training.

    Parameters
    ----------
    config : TrainConfig
    text : str
        The corpus; its characters make the vocabulary unless ``vocab`` is given.
    state : TrainState, optional
        Continue from here (e.g. a loaded checkpoint) up to ``config.steps``; its
        parameters, hidden state and optimizer state must fit ``config`` and the
        vocabulary. Its ``history`` dict is appended to.
    vocab : Vocab, optional
    progress : bool
        Show a tqdm progress bar (step, loss, chars/s) on stderr.
    checkpoint : path, optional
        Save here every ``config.checkpoint_every`` steps and at the end.
    log : callable, optional
        Receives the messages: validation losses, samples (every
        ``config.sample_every`` steps) and a timing summary. Default: print them
        if ``progress``, else no messages (and no samples are drawn).

    Returns
    -------
    (TrainState, Vocab)

    Raises
    ------
    ValueError, TypeError
        Bad input (text too short for one chunk plus validation, a one-character
        vocabulary, a state that does not fit the config, nothing left to train).
    OSError
        The checkpoint path cannot be written (checked before training, too).
    """
    run = _prepare(config, text, state, vocab, checkpoint)
    return _loop(run, progress, checkpoint, log)


def state_from_checkpoint(path) -> tuple[TrainState, Vocab, dict]:
    """Load a checkpoint as a TrainState (plus its vocabulary and config dict)."""
    ck = load_checkpoint(path)
    history = {**_empty_history(), **ck.history}
    state = TrainState(ck.params, ck.opt_state, ck.h, ck.step, history, ck.text_sha256,
                       ck.s)
    return state, ck.vocab, ck.config


# ---------------------------------------------------------------- command line

RESUME_KEYS = ("cell", "hidden", "seq_len", "batch", "dtype", "optimizer",
               "val_fraction")


def _parser() -> argparse.ArgumentParser:
    defaults = TrainConfig()
    ap = argparse.ArgumentParser(
        prog="python -m rnnlib.train",
        description="Train a character-level RNN with truncated BPTT. With no "
                    f"arguments it trains on {DEFAULT_CORPUS}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--text", help="UTF-8 text file to train on (default: the "
                                   "Python help texts that ship with Python)")
    ap.add_argument("--checkpoint", default="char_rnn.npz",
                    help="checkpoint file written during and after training")
    ap.add_argument("--resume", action="store_true",
                    help="continue from --checkpoint up to --steps")
    ap.add_argument("--allow-different-text", action="store_true",
                    help="with --resume: continue even if the text differs from the "
                         "one the checkpoint was trained on")
    ap.add_argument("--quiet", action="store_true", help="no progress bar or samples")
    for f in fields(TrainConfig):
        extra = {"choices": list(CELLS)} if f.name == "cell" else {}
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(defaults,
                        f.name)), default=getattr(defaults, f.name), **extra)
    return ap


def _resume(args, cfg: TrainConfig, text: str) -> tuple[TrainState, Vocab]:
    """The checkpoint's state, if it can continue with ``cfg`` on ``text``."""
    state, vocab, saved = state_from_checkpoint(args.checkpoint)
    saved = {**saved, "cell": cell_of(state.params).name}  # also in files before cells
    changed = [k for k in RESUME_KEYS if saved.get(k) != getattr(cfg, k)]
    if changed:
        raise ValueError(
            "--resume needs the settings the checkpoint was trained with: "
            + ", ".join(f"--{k.replace('_', '-')} {saved.get(k)} (this run asks for "
                        f"{getattr(cfg, k)})" for k in changed))
    if not args.allow_different_text:
        if state.text_sha256 is None:
            raise ValueError(f"{args.checkpoint} records no fingerprint of its "
                             "training text; pass --allow-different-text to resume "
                             "anyway")
        if state.text_sha256 != text_fingerprint(text):
            raise ValueError(f"{args.checkpoint} was trained on a different text "
                             f"than {args.text or DEFAULT_CORPUS}; pass "
                             "--allow-different-text to continue on this one")
    return state, vocab


def _fail(message) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run_cli(args)
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint is intact", file=sys.stderr)
        return 130


def _run_cli(args) -> int:
    try:                             # everything is checked before training starts
        cfg = TrainConfig(**{f.name: getattr(args, f.name)
                             for f in fields(TrainConfig)})
        text = load_text(args.text)
        state = vocab = None
        if args.resume:
            state, vocab = _resume(args, cfg, text)
        run = _prepare(cfg, text, state, vocab, args.checkpoint)
    except (OSError, ValueError) as err:
        return _fail(err)
    except MemoryError as err:
        return _fail(f"not enough memory for this model ({err})")
    if not args.quiet:
        print(f"corpus: {args.text or DEFAULT_CORPUS}, {len(text):,} characters")
    try:
        state, vocab = _loop(run, not args.quiet, args.checkpoint, None)
    except OSError as err:           # disk full, folder removed, ...
        return _fail(f"could not write the checkpoint: {err}")
    val = state.history["val_loss"][-1]
    print(f"final validation loss: {val:.3f} nats/char = {val / LN2:.3f} bits/char; "
          f"checkpoint: {Path(args.checkpoint).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
