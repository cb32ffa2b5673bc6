"""Time rnnlib.bptt against a per-step reference loop and PyTorch CPU.

Run:  python benchmarks/bench_bptt.py [--quick] [--cell {rnn,lstm}]

``--cell lstm`` times ``rnnlib.lstm.bptt`` against PyTorch's ``nn.LSTM`` (same
Linear output layer and summed cross-entropy, autograd), without a reference loop.

Every contender computes the same thing: the summed cross-entropy loss of a batch
of token-id sequences and its gradient with respect to U, W, V, b, c. Reported
times are the median of several repeats after a warm-up; ratios > 1 mean rnnlib
is faster. PyTorch is optional (``pip install torch==2.13.0``).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import time

import numpy as np

from rnnlib import bptt, init_params, lstm

SIZES = [  # (T, B, vocabulary, H)
    (25, 1, 65, 100),
    (50, 32, 65, 256),
    (100, 64, 128, 512),
]


def reference_bptt(p, x, y):
    """BPTT as a learner first writes it, in the style of Karpathy's min-char-rnn:
    one sequence and one time step at a time, column vectors, one-hot inputs,
    states kept in dicts. Returns (loss, dU, dW, dV, db, dc)."""
    U, W, V, b, c = p.U, p.W, p.V, p.b[:, None], p.c[:, None]
    n_in, H = U.shape[1], W.shape[0]
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    db, dc = np.zeros_like(b), np.zeros_like(c)
    loss = 0.0
    for s in range(x.shape[1]):
        xs, hs, ps = {}, {-1: np.zeros((H, 1), U.dtype)}, {}
        for t in range(x.shape[0]):
            xs[t] = np.zeros((n_in, 1), U.dtype)
            xs[t][x[t, s]] = 1
            hs[t] = np.tanh(np.dot(U, xs[t]) + np.dot(W, hs[t - 1]) + b)
            o = np.dot(V, hs[t]) + c
            ps[t] = np.exp(o - o.max()) / np.sum(np.exp(o - o.max()))
            loss += -np.log(ps[t][y[t, s], 0])
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(x.shape[0])):
            do = np.copy(ps[t])
            do[y[t, s]] -= 1
            dV += np.dot(do, hs[t].T)
            dc += do
            dh = np.dot(V.T, do) + dh_next
            da = (1 - hs[t] * hs[t]) * dh
            db += da
            dU += np.dot(da, xs[t].T)
            dW += np.dot(da, hs[t - 1].T)
            dh_next = np.dot(W.T, da)
    return loss, dU, dW, dV, db[:, 0], dc[:, 0]


def make_torch(p, dtype, cell="rnn"):
    import torch

    torch.manual_seed(0)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    H, n_in = p.U.shape
    if cell == "lstm":
        rnn = torch.nn.LSTM(n_in, H, dtype=tdtype)
    else:
        rnn = torch.nn.RNN(n_in, H, nonlinearity="tanh", dtype=tdtype)
    lin = torch.nn.Linear(H, p.V.shape[0], dtype=tdtype)
    emb = torch.eye(n_in, dtype=tdtype)

    def step(x, y):
        rnn.zero_grad()
        lin.zero_grad()
        xs = emb[torch.from_numpy(x)]  # (T, B, n_in) one-hot
        out, _ = rnn(xs)
        logits = lin(out)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            torch.from_numpy(y).reshape(-1),
            reduction="sum",
        )
        loss.backward()
        return loss.item()

    return step


def median_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument(
        "--no-reference",
        action="store_true",
        help="skip the slow per-step reference loop",
    )
    ap.add_argument("--cell", choices=("rnn", "lstm"), default="rnn",
                    help="the vanilla RNN (default) or the LSTM")
    args = ap.parse_args()
    cell_init, cell_bptt = (lstm.init_params, lstm.bptt) if args.cell == "lstm" \
        else (init_params, bptt)
    try:
        import torch

        torch_version = torch.__version__
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch = None
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}"
        f", numpy {np.__version__}"
        + (
            f", torch {torch_version} ({torch_threads} threads)"
            if torch
            else ", torch not installed"
        )
    )
    header = (
        f"{'T':>4} {'B':>3} {'V':>4} {'H':>4} {'dtype':>7} | {'rnnlib ms':>10} "
        f"{'ref ms':>10} {'torch ms':>9} | {'ref/rnnlib':>10} {'torch/rnnlib':>12}"
    )
    print(f"cell: {args.cell}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for T, B, n_vocab, H in SIZES:
        x = rng.integers(0, n_vocab, (T, B))
        y = rng.integers(0, n_vocab, (T, B))
        for dtype in (np.float32, np.float64):
            p = cell_init(n_vocab, H, n_vocab, seed=0, dtype=dtype)
            reps = 3 if args.quick else 10
            t_lib = median_time(functools.partial(cell_bptt, p, x, y), reps)
            t_ref = t_torch = float("nan")
            if not args.no_reference and args.cell == "rnn":
                ref = functools.partial(reference_bptt, p, x, y)
                t_ref = median_time(ref, 1 if B > 8 else 3)
            if torch is not None:
                step = make_torch(p, dtype, args.cell)
                t_torch = median_time(functools.partial(step, x, y), reps)
            print(
                f"{T:>4} {B:>3} {n_vocab:>4} {H:>4} {np.dtype(dtype).name:>7} | "
                f"{1e3 * t_lib:>10.2f} {1e3 * t_ref:>10.1f} {1e3 * t_torch:>9.2f} | "
                f"{t_ref / t_lib:>10.1f} {t_torch / t_lib:>12.2f}"
            )


if __name__ == "__main__":
    main()
