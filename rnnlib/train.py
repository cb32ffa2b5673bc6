"""Train a character-level RNN with truncated BPTT, and the ``python -m rnnlib.train``
command.

Truncated BPTT {Williams & Peng 1990}: the text is cut into ``B`` contiguous streams
read ``T`` characters at a time. Each chunk's gradient is the full BPTT gradient
(10.17)–(10.28) of that chunk's loss, with the chunk's initial state ``h0`` taken
from the end of the previous chunk but treated as a constant: the hidden state is
carried forward, the gradient is not carried back across the boundary. Gradients
are clipped by their global norm (Deep Learning §10.11.1) and passed to an
optimizer from :mod:`rnnlib.optim`.

The update uses the gradient of the *mean* loss per character (the book's summed L
divided by ``T·B``), so learning rates and the clipping threshold do not depend on
the chunk size. Losses are reported in nats per character and bits per character.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from .bptt import loss_and_grads
from .checkpoint import load_checkpoint, save_checkpoint
from .data import DEFAULT_CORPUS, Vocab, chunk, load_text, n_chunks, split, streams
from .forward import forward
from .loss import step_losses
from .optim import clip_by_global_norm, global_norm, make_optimizer
from .params import Params, init_params

LN2 = math.log(2.0)


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
    val_fraction: float = 0.1  # last part of the text held out for validation
    eval_every: int = 500      # steps between validation losses (0: only at the end)
    sample_every: int = 2000   # steps between printed samples (0: never)
    sample_length: int = 200
    temperature: float = 0.8
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        for name in ("hidden", "seq_len", "batch", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        for name in ("eval_every", "sample_every", "sample_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0; got {value!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a positive number; got {self.lr!r}")
        if not (math.isfinite(self.clip) and self.clip >= 0):
            raise ValueError(f"clip must be >= 0 (0 disables it); got {self.clip!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"val_fraction must be in (0, 1); got {self.val_fraction}")
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"temperature must be positive; got {self.temperature!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype!r}")
        make_optimizer(self.optimizer, self.lr)  # validates the name


@dataclass
class TrainState:
    """Everything needed to continue training exactly where it stopped."""

    params: Params
    opt_state: dict
    h: np.ndarray              # (B, H) state carried into the next chunk
    step: int = 0
    history: dict = field(default_factory=lambda: {
        "step": [], "train_loss": [], "grad_norm": [], "val_step": [], "val_loss": []})


def evaluate(p: Params, ids: np.ndarray, T: int = 200, B: int = 8) -> float:
    """Mean loss in nats per character of ``ids`` (the model reads them in B streams,
    carrying the state from chunk to chunk)."""
    total, count = 0.0, 0
    B = max(1, min(B, len(ids) // (T + 1))) if len(ids) > T + 1 else 1
    T = min(T, len(ids) // B - 1)
    s = streams(ids, B)
    h = None
    for k in range(n_chunks(ids, T, B)):
        x, y = chunk(s, k, T)
        f = forward(p, x, h)
        total += float(step_losses(f.o, y).sum())
        count += y.size
        h = f.h[-1]
    return total / count


def train(config: TrainConfig, text: str, state: TrainState | None = None,
          vocab: Vocab | None = None, progress: bool = True, checkpoint=None,
          checkpoint_every: int = 1000, log=print) -> tuple[TrainState, Vocab]:
    """Train (or continue training) a character RNN on ``text``.

    Parameters
    ----------
    config : TrainConfig
    text : str
        The corpus; its characters make the vocabulary unless ``vocab`` is given.
    state : TrainState, optional
        Continue from here (e.g. a loaded checkpoint) up to ``config.steps``.
    progress : bool
        Show a tqdm progress bar (step, loss, chars/s) and print samples.
    checkpoint : path, optional
        Save here every ``checkpoint_every`` steps and at the end.
    log : callable
        Receives the progress messages (validation losses, samples).

    Returns
    -------
    (TrainState, Vocab)
    """
    from tqdm import tqdm

    from .sample import sample

    cfg = config
    vocab = vocab or Vocab.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), cfg.val_fraction)
    count = n_chunks(train_ids, cfg.seq_len, cfg.batch)   # errors if text too short
    s = streams(train_ids, cfg.batch)
    opt = make_optimizer(cfg.optimizer, cfg.lr)
    dtype = np.dtype(cfg.dtype)
    if state is None:
        p = init_params(len(vocab), cfg.hidden, len(vocab), seed=cfg.seed, dtype=dtype)
        state = TrainState(p, opt.init(p), np.zeros((cfg.batch, cfg.hidden), dtype))
    scale = dtype.type(1.0 / (cfg.seq_len * cfg.batch))  # summed L -> mean per char
    hist = state.history
    bar = tqdm(total=cfg.steps, initial=state.step, disable=not progress, unit="step",
               dynamic_ncols=True, mininterval=0.5, desc="training")
    t_start, t_bptt, chars = time.perf_counter(), 0.0, 0
    while state.step < cfg.steps:
        k = state.step % count
        if k == 0:                                   # a new pass: streams restart
            state.h = np.zeros_like(state.h)
        x, y = chunk(s, k, cfg.seq_len)
        t0 = time.perf_counter()
        r = loss_and_grads(state.params, x, y, state.h)
        t_bptt += time.perf_counter() - t0
        grads = Params(**{n: a * scale for n, a in r.grads.arrays().items()})
        if cfg.clip > 0:
            grads, norm = clip_by_global_norm(grads, cfg.clip)
        else:
            norm = global_norm(grads)
        state.params, state.opt_state = opt.update(state.params, grads, state.opt_state)
        state.h = r.h_last                           # carried, not back-propagated
        state.step += 1
        chars += y.size
        loss = r.loss / y.size
        hist["step"].append(state.step)
        hist["train_loss"].append(loss)
        hist["grad_norm"].append(norm)
        bar.update(1)
        if state.step % 10 == 0 or state.step == cfg.steps:
            rate = chars / max(time.perf_counter() - t_start, 1e-9)
            bar.set_postfix_str(f"loss {loss:.3f} nats/char, {rate:,.0f} chars/s",
                                refresh=False)
        last = state.step == cfg.steps
        if (cfg.eval_every and state.step % cfg.eval_every == 0) or last:
            val = evaluate(state.params, val_ids)
            hist["val_step"].append(state.step)
            hist["val_loss"].append(val)
            if progress:
                bar.write(f"step {state.step}: validation {val:.3f} nats/char = "
                          f"{val / LN2:.3f} bits/char")
        sample_now = cfg.sample_every and (state.step % cfg.sample_every == 0 or last)
        if progress and sample_now:
            prime = "The " if set("The ") <= set(vocab.chars) else text[0]
            text_out = sample(state.params, vocab, prime, cfg.sample_length,
                              cfg.temperature, seed=state.step)
            bar.write(f"--- sample at step {state.step} (temperature "
                      f"{cfg.temperature}):\n{prime}{text_out}\n---")
        if checkpoint and (state.step % checkpoint_every == 0 or last):
            save_checkpoint(checkpoint, state.params, vocab, state.step,
                            state.opt_state, state.h, asdict(cfg), hist)
    bar.close()
    elapsed = time.perf_counter() - t_start
    if progress and chars:
        log(f"trained {chars:,} characters in {elapsed:.1f} s ({chars / elapsed:,.0f} "
            f"chars/s); {100 * t_bptt / elapsed:.0f}% of the time in bptt, "
            f"{100 * (1 - t_bptt / elapsed):.0f}% in data, optimizer, clipping, "
            "evaluation and logging")
    state.history["seconds"] = state.history.get("seconds", 0.0) + elapsed
    state.history["bptt_seconds"] = state.history.get("bptt_seconds", 0.0) + t_bptt
    return state, vocab


def state_from_checkpoint(path) -> tuple[TrainState, Vocab, dict]:
    """Load a checkpoint as a TrainState (plus its vocabulary and config dict)."""
    ck = load_checkpoint(path)
    return TrainState(ck.params, ck.opt_state, ck.h, ck.step, ck.history), ck.vocab, \
        ck.config


def main(argv=None) -> int:
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
    ap.add_argument("--checkpoint-every", type=int, default=1000)
    ap.add_argument("--resume", action="store_true",
                    help="continue from --checkpoint up to --steps")
    ap.add_argument("--quiet", action="store_true", help="no progress bar or samples")
    for f in fields(TrainConfig):
        ap.add_argument("--" + f.name.replace("_", "-"), type=type(getattr(defaults,
                        f.name)), default=getattr(defaults, f.name))
    args = ap.parse_args(argv)
    try:
        cfg = TrainConfig(**{f.name: getattr(args, f.name)
                             for f in fields(TrainConfig)})
        if args.checkpoint_every < 1:
            raise ValueError(
                f"checkpoint-every must be >= 1; got {args.checkpoint_every}"
            )
        text = load_text(args.text)
        state = vocab = None
        if args.resume:
            state, vocab, saved = state_from_checkpoint(args.checkpoint)
            changed = {k for k in ("hidden", "seq_len", "batch", "dtype")
                       if saved.get(k) != getattr(cfg, k)}
            if changed:
                raise ValueError("--resume needs the same " + ", ".join(sorted(changed))
                                 + " as the checkpoint")
        if not args.quiet:
            print(f"corpus: {args.text or DEFAULT_CORPUS}, {len(text):,} characters")
        state, vocab = train(cfg, text, state, vocab, progress=not args.quiet,
                             checkpoint=args.checkpoint,
                             checkpoint_every=args.checkpoint_every)
    except (OSError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the last checkpoint is intact", file=sys.stderr)
        return 130
    val = state.history["val_loss"][-1]
    print(f"final validation loss: {val:.3f} nats/char = {val / LN2:.3f} bits/char; "
          f"checkpoint: {Path(args.checkpoint).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
