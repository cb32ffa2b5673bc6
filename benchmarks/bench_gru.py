"""Time rnnlib.gru.bptt against PyTorch CPU on the same GRU equations.

Run:  python benchmarks/bench_gru.py [--quick] [--sizes main] [--threads 1]

Every contender computes the same thing: the summed cross-entropy loss of a batch
of token-id sequences through the GRU of Cho et al. (2014) (reset gate before the
recurrent product, as ``rnnlib.gru`` by default) and a linear output layer, and its
gradient with respect to all eleven parameters. The PyTorch contender writes those
equations with tensors, the three input projections in one product and the two
gates' recurrent products stacked into one per step (as rnnlib does), and gets the
gradients from autograd. ``torch.nn.GRU`` (fused, but a different function: the
reset gate after the product) is timed too, for reference only. Median of several
repeats after a warm-up; ratios > 1 mean rnnlib is faster. PyTorch is optional
(``pip install torch==2.13.0``).
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import time

import numpy as np

from rnnlib import gru

SIZES = [  # (T, B, vocabulary, H)
    (25, 1, 65, 100),
    (50, 32, 65, 256),
    (100, 64, 128, 512),
]


def make_torch_cho(p, dtype):
    """Cho et al.'s GRU in torch with autograd; returns step(x, y) -> (loss,
    grads as a dict of numpy arrays named like rnnlib.gru.GRUParams)."""
    import torch

    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    H = p.n_hidden
    P = {n: torch.tensor(a, dtype=tdtype, requires_grad=True)
         for n, a in p.arrays().items()}

    def step(x, y):
        for t in P.values():
            t.grad = None
        X = torch.from_numpy(x)
        U3 = torch.cat([P["Uu"], P["Ur"], P["U"]])            # (3H, n_in)
        b3 = torch.cat([P["bu"], P["br"], P["b"]])
        A = U3.T[X] + b3                                       # (T, B, 3H) lookup
        W2t = torch.cat([P["Wu"], P["Wr"]]).T
        h = torch.zeros(x.shape[1], H, dtype=tdtype)
        hs = []
        for t in range(x.shape[0]):
            g = torch.sigmoid(A[t, :, :2 * H] + h @ W2t)
            u, r = g[:, :H], g[:, H:]
            hc = torch.tanh(A[t, :, 2 * H:] + (r * h) @ P["W"].T)
            h = u * h + (1 - u) * hc
            hs.append(h)
        o = torch.stack(hs) @ P["V"].T + P["c"]
        loss = torch.nn.functional.cross_entropy(
            o.reshape(-1, o.shape[-1]), torch.from_numpy(y).reshape(-1),
            reduction="sum")
        loss.backward()
        return loss.item(), {n: t.grad.numpy() for n, t in P.items()}

    return step


def make_torch_nn_gru(p, dtype):
    import torch

    torch.manual_seed(0)
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    n_in, H, n_out = p.n_in, p.n_hidden, p.n_out
    cell = torch.nn.GRU(n_in, H, dtype=tdtype)
    lin = torch.nn.Linear(H, n_out, dtype=tdtype)
    emb = torch.eye(n_in, dtype=tdtype)

    def step(x, y):
        cell.zero_grad()
        lin.zero_grad()
        out, _ = cell(emb[torch.from_numpy(x)])
        o = lin(out)
        loss = torch.nn.functional.cross_entropy(
            o.reshape(-1, n_out), torch.from_numpy(y).reshape(-1), reduction="sum")
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
    ap.add_argument("--sizes", default="all", choices=["all", "main"],
                    help="'main': only T=50, B=32, H=256")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads of numpy and torch threads (default: their "
                         "own defaults); 1 gives steadier ratios on a loaded machine")
    args = ap.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    print(f"machine: {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)"
             if torch else ", torch not installed"))
    header = (f"{'T':>4} {'B':>3} {'V':>4} {'H':>4} {'dtype':>7} | {'rnnlib ms':>10} "
              f"{'torch ms':>9} {'nn.GRU ms':>9} | {'torch/rnnlib':>12} "
              f"{'nn.GRU/rnnlib':>13}")
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    sizes = SIZES if args.sizes == "all" else [SIZES[1]]
    for T, B, n_vocab, H in sizes:
        x = rng.integers(0, n_vocab, (T, B))
        y = rng.integers(0, n_vocab, (T, B))
        for dtype in (np.float32, np.float64):
            p = gru.init_params(n_vocab, H, n_vocab, seed=0, dtype=dtype)
            reps = 3 if args.quick else 10
            lib = functools.partial(gru.bptt, p, x, y)
            t_torch = t_nn = float("nan")
            if torch is not None:
                cho = functools.partial(make_torch_cho(p, dtype), x, y)
                nn_gru = functools.partial(make_torch_nn_gru(p, dtype), x, y)
                # alternate the contenders, so load from other processes hits both
                lib_t, torch_t, nn_t = [], [], []
                for fn in (lib, cho, nn_gru):
                    fn()                                    # warm-up
                for _ in range(reps):
                    for fn, acc in ((lib, lib_t), (cho, torch_t), (nn_gru, nn_t)):
                        t0 = time.perf_counter()
                        fn()
                        acc.append(time.perf_counter() - t0)
                t_lib, t_torch, t_nn = (statistics.median(a)
                                        for a in (lib_t, torch_t, nn_t))
            else:
                t_lib = median_time(lib, reps)
            print(f"{T:>4} {B:>3} {n_vocab:>4} {H:>4} {np.dtype(dtype).name:>7} | "
                  f"{1e3 * t_lib:>10.2f} {1e3 * t_torch:>9.2f} {1e3 * t_nn:>9.2f} | "
                  f"{t_torch / t_lib:>12.2f} {t_nn / t_lib:>13.2f}")


if __name__ == "__main__":
    main()
