"""Temperature sampling from a trained character RNN, and the ``python -m
rnnlib.sample`` command.

The network reads a priming string with (10.8)–(10.9), then repeatedly draws the
next character from softmax(o / temperature) (10.10)–(10.11) and feeds it back.
Temperature < 1 sharpens the distribution (safer, more repetitive text); > 1
flattens it (more surprising, more mistakes). The LSTM and GRU of §10.10 sample the
same way, reading with their own forward step (:mod:`rnnlib.cells`).
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from rnnlib import Params, softmax

from .cells import cell_of
from .data import Vocab


def sample(p: Params, vocab: Vocab, prime: str, length: int, temperature: float = 1.0,
           seed=0, h0=None) -> str:
    """Continue ``prime`` by ``length`` sampled characters; returns only the new ones.

    Parameters
    ----------
    p : Params, LSTMParams or GRUParams
        Trained parameters with ``n_in == n_out == len(vocab)``.
    vocab : Vocab
    prime : str
        Non-empty text to start from; every character must be in ``vocab``.
    length : int
        Number of characters to generate (≥ 0).
    temperature : float
        > 0; the logits are divided by it before the softmax.
    seed : int or numpy.random.Generator
    h0 : ndarray, shape (1, H), optional
        Initial state before the prime (zeros if omitted; the LSTM's cell state
        starts at zero).
    """
    cell = cell_of(p)
    if not isinstance(prime, str) or not prime:
        raise ValueError("prime must be a non-empty string")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be an int >= 0; got {length!r}")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"temperature must be a positive number; got {temperature!r}")
    if p.n_in != len(vocab) or p.n_out != len(vocab):
        raise ValueError(f"parameters have n_in={p.n_in}, n_out={p.n_out} but the "
                         f"vocabulary has {len(vocab)} characters")
    rng = np.random.default_rng(seed)                          # or a Generator
    ids = vocab.encode(prime)                                  # unknown chars: error
    carry = cell.zero_carry(1, p.n_hidden, p.dtype)
    if h0 is not None:
        carry = (h0, *carry[1:])
    o, carry = cell.logits(p, ids[:, None], carry)             # read the prime
    out = []
    for _ in range(length):
        probs = softmax(o[-1] / temperature)[0]                # (10.10)-(10.11)
        probs = probs.astype(np.float64)
        nxt = int(rng.choice(len(vocab), p=probs / probs.sum()))
        out.append(nxt)
        o, carry = cell.logits(p, np.array([[nxt]]), carry)    # (10.8)-(10.9)
    return vocab.decode(np.array(out, dtype=np.int64))


def main(argv=None) -> int:
    from .checkpoint import load_checkpoint

    ap = argparse.ArgumentParser(
        prog="python -m rnnlib.sample",
        description="Generate text from a checkpoint written by "
                    "python -m rnnlib.train.")
    ap.add_argument("--checkpoint", default="char_rnn.npz",
                    help="checkpoint file (default: %(default)s)")
    ap.add_argument("--prime", default="The ", help="text to start from")
    ap.add_argument("--length", type=int, default=400, help="characters to generate")
    ap.add_argument("--temperature", type=float, default=0.8,
                    help="> 0; lower is more conservative (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0; got {args.seed}")
        ckpt = load_checkpoint(args.checkpoint)
        text = sample(ckpt.params, ckpt.vocab, args.prime, args.length,
                      args.temperature, args.seed)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(args.prime + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
