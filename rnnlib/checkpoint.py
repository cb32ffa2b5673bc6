"""Checkpoints: parameters, optimizer state, hidden state and vocabulary in one
``.npz`` file, without pickle.

Arrays are stored as ``.npz`` members and read back with ``allow_pickle=False``;
everything else (vocabulary, step, configuration) is JSON, stored as a unicode
array member ``meta``. The file is written to a temporary name in the same folder
and renamed over the target (``os.replace``), so an interrupted run leaves either
the previous checkpoint or the new one, never a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .data import Vocab
from .params import NAMES, Params

FORMAT = "rnnlib-checkpoint-1"


class Checkpoint(NamedTuple):
    params: Params
    vocab: Vocab
    step: int                  # number of updates done
    opt_state: dict            # name -> array (see rnnlib.optim)
    h: np.ndarray              # (B, H) hidden state carried into the next chunk
    config: dict               # the TrainConfig as a dict
    history: dict              # lists of recorded metrics


def save_checkpoint(path, params: Params, vocab: Vocab, step: int, opt_state: dict,
                    h: np.ndarray, config: dict, history: dict | None = None) -> Path:
    """Write a checkpoint atomically; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "vocab": "".join(vocab.chars), "step": int(step),
            "config": config, "history": history or {}}
    arrays = {f"param.{n}": a for n, a in params.arrays().items()}
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in opt_state.items()})
    arrays["h"] = h
    arrays["meta"] = np.array(json.dumps(meta))
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint` (no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(str(data.pop("meta")))
    except (ValueError, OSError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not a readable rnnlib checkpoint: {err}") from None
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} has format {meta.get('format')!r}; expected {FORMAT}")
    params = Params(**{n: data[f"param.{n}"] for n in NAMES})
    opt_state = {k[4:]: v for k, v in data.items() if k.startswith("opt.")}
    return Checkpoint(params, Vocab(tuple(meta["vocab"])), meta["step"], opt_state,
                      data["h"], meta["config"], meta["history"])
