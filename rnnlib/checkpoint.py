"""Checkpoints: parameters, optimizer state, hidden state and vocabulary in one
``.npz`` file, without pickle. The file records its cell (``rnn``, ``lstm`` or
``gru``; files from before the gated cells are ``rnn``), so parameters come back as
the right type and a checkpoint of one cell cannot be resumed as another.

Arrays are stored as ``.npz`` members and read back with ``allow_pickle=False``;
everything else (vocabulary, step, configuration, history, a fingerprint of the
training text) is JSON, stored as a unicode array member ``meta``. The file is
written to a temporary name in the same folder and renamed over the target
(``os.replace``), so an interrupted run leaves either the previous checkpoint or
the new one, never a half-written file. A new file gets the permissions the umask
allows (like any file a program creates); a replaced file keeps its own.

Reading trusts nothing: a truncated, bit-flipped or hand-edited file raises
:class:`CheckpointError` (a ``ValueError``) that says what is wrong, and a file
that loads is consistent (shapes agree with each other, with the vocabulary and
with the stored configuration; values are finite).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnnlib import Params

from .cells import CELLS
from .data import Vocab

FORMAT = "rnnlib-checkpoint-1"
PARAM_NAMES = ("U", "W", "V", "b", "c")  # the tanh RNN's; a gated cell has its own
# Errors np.load / zipfile raise on damaged files (each seen by flipping bits of a
# real checkpoint): a bad zip directory or CRC (BadZipFile), a truncated member
# (EOFError), a damaged deflate stream (zlib.error), a bad .npy header
# (ValueError), a flipped compression-method field (NotImplementedError), a flipped
# "encrypted" flag (RuntimeError), a flipped offset that seeks before the start of
# the already opened file (OSError).
_READ_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, ValueError,
                NotImplementedError, RuntimeError, OSError)


class CheckpointError(ValueError):
    """The file is not a valid rnnlib checkpoint (damaged, truncated or edited)."""


class Checkpoint(NamedTuple):
    params: Params
    vocab: Vocab
    step: int                  # number of updates done
    opt_state: dict            # name -> array (see rnnlib.optim)
    h: np.ndarray              # (B, H) hidden state carried into the next chunk
    config: dict               # the TrainConfig as a dict
    history: dict              # lists of recorded metrics
    text_sha256: str | None = None  # fingerprint of the training text (None: unknown)
    s: np.ndarray | None = None     # (B, H) LSTM cell state carried; None otherwise
    cell: str = "rnn"               # which cell the parameters belong to


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would leave: an existing file keeps its mode,
    a new one gets 0o666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)   # the only portable way to read the umask
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path) -> Path:
    """Raise ``OSError`` now if a checkpoint cannot be written to ``path`` later.

    Creates the parent folder if needed and creates and removes a temporary file
    in it, so a long training run does not fail only when it first saves.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint path {path} is a directory")
    for folder in path.parents:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(f"{folder} is not a directory, so the checkpoint "
                                     f"{path} cannot be written")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    return path


def save_checkpoint(path, params: Params, vocab: Vocab, step: int, opt_state: dict,
                    h: np.ndarray, config: dict, history: dict | None = None,
                    text_sha256: str | None = None,
                    s: np.ndarray | None = None) -> Path:
    """Write a checkpoint atomically; returns its path.

    The cell (rnn, lstm or gru) is recorded, from the type of ``params``;
    ``s`` is the LSTM's carried cell state (``None`` for the other cells).
    """
    cell = _cell_name(params)
    if (s is None) != (cell != "lstm"):
        raise ValueError(f"s (the carried cell state) must be given for an lstm and "
                         f"only for it; got {'None' if s is None else 'an array'} "
                         f"for a {cell} cell")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "cell": cell, "vocab": "".join(vocab.chars),
            "step": int(step), "config": config, "history": history or {},
            "text_sha256": text_sha256}
    arrays = {f"param.{n}": a for n, a in params.arrays().items()}
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in opt_state.items()})
    arrays["h"] = h
    if s is not None:
        arrays["s"] = s
    arrays["meta"] = np.array(json.dumps(meta))
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)       # mkstemp creates 0o600
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cell_name(params) -> str:
    for name, cell in CELLS.items():
        if type(params) is cell.params_type:
            return name
    raise TypeError(f"params must be the parameters of one of the cells "
                    f"{', '.join(CELLS)}; got {type(params).__name__}")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _read_members(path: Path) -> dict:
    with open(path, "rb") as f:     # a permission error is an OSError from here
        try:
            z = np.load(f, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise CheckpointError(f"{path} holds a single array, not a checkpoint")
            with z:
                return {k: z[k] for k in z.files}
        except _READ_ERRORS as err:
            if isinstance(err, CheckpointError):
                raise
            raise CheckpointError(f"{path} is damaged or not an rnnlib checkpoint "
                                  f"({type(err).__name__}: {err})") from None


def _read_meta(path: Path, data: dict) -> dict:
    raw = data.pop("meta", None)
    if raw is None:
        raise CheckpointError(f"{path} has no 'meta' member; not an rnnlib checkpoint")
    if raw.dtype.kind != "U" or raw.shape != ():
        raise CheckpointError(f"{path}: 'meta' must be a string; got {raw.dtype} "
                              f"array of shape {raw.shape}")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: 'meta' is not valid JSON ({err})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: 'meta' must be a JSON object; got "
                              f"{type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {meta.get('format')!r}; "
                              f"expected {FORMAT}")
    meta.setdefault("cell", "rnn")  # written before there were other cells
    if meta["cell"] not in CELLS:
        raise CheckpointError(f"{path}: 'cell' must be one of {', '.join(CELLS)}; got "
                              f"{meta['cell']!r:.40}")
    chars = meta.get("vocab")
    if not isinstance(chars, str) or not chars or len(set(chars)) != len(chars):
        raise CheckpointError(f"{path}: 'vocab' must be a non-empty string of "
                              f"distinct characters; got {chars!r:.60}")
    step = meta.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{path}: 'step' must be an integer >= 0; got {step!r}")
    for key in ("config", "history"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(f"{path}: {key!r} must be a JSON object; got "
                                  f"{type(meta.get(key)).__name__}")
    for key, value in meta["history"].items():
        ok = (_is_number(value) if key in ("seconds", "bptt_seconds") else
              isinstance(value, list) and all(_is_number(v) for v in value))
        if not ok:
            raise CheckpointError(f"{path}: history {key!r} must be "
                                  + ("a number" if key.endswith("seconds")
                                     else "a list of numbers"))
    sha = meta.get("text_sha256")
    if sha is not None and not (isinstance(sha, str) and len(sha) == 64
                                and all(ch in "0123456789abcdef" for ch in sha)):
        raise CheckpointError(f"{path}: 'text_sha256' must be 64 hex digits or null")
    return meta


def _finite(path: Path, name: str, a: np.ndarray) -> None:
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise CheckpointError(f"{path}: {name} holds NaN or inf")


def load_checkpoint(path) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint` (no pickle).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    CheckpointError
        A ``ValueError``: the file is damaged, truncated, or not consistent (a
        missing array, parameters that do not fit the vocabulary or the stored
        configuration, a step that is not a count, NaN values, ...).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    data = _read_members(path)
    meta = _read_meta(path, data)
    cell = CELLS[meta["cell"]]
    names = [f.name for f in dataclasses.fields(cell.params_type)]
    carried = list(cell.carried)
    missing = [k for k in [f"param.{n}" for n in names] + carried if k not in data]
    if missing:
        raise CheckpointError(f"{path} ({cell.name} cell) lacks the array(s) "
                              f"{', '.join(missing)}")
    extra = [k for k in data if k.startswith("param.") and k[6:] not in names]
    if extra or ("s" in data) != ("s" in carried):
        raise CheckpointError(f"{path} says it holds a {cell.name} cell but has the "
                              f"array(s) {', '.join(extra or ['s'])}, which do not "
                              "belong to one")
    try:
        params = cell.params_type(**{n: data[f"param.{n}"] for n in names})
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: inconsistent parameters: {err}") from None
    for n, a in params.arrays().items():
        _finite(path, f"parameter {n}", a)
    vocab = Vocab(tuple(meta["vocab"]))
    if not params.n_in == params.n_out == len(vocab):
        raise CheckpointError(
            f"{path}: parameters have n_in={params.n_in}, n_out={params.n_out} but "
            f"the vocabulary has {len(vocab)} characters")
    H, h = params.n_hidden, data["h"]
    if (H < 1 or h.ndim != 2 or h.shape[1] != H or h.shape[0] < 1
            or h.dtype != params.dtype):
        raise CheckpointError(f"{path}: hidden state h must be a {params.dtype} array "
                              f"of shape (B, {H}); got {h.dtype} {h.shape}")
    _finite(path, "hidden state h", h)
    s = data.get("s")
    if s is not None:
        if s.shape != h.shape or s.dtype != h.dtype:
            raise CheckpointError(f"{path}: cell state s must be a {h.dtype} array of "
                                  f"shape {h.shape}, like h; got {s.dtype} {s.shape}")
        _finite(path, "cell state s", s)
    config = meta["config"]
    for key, have in (("cell", cell.name), ("hidden", H), ("batch", h.shape[0]),
                      ("dtype", str(params.dtype))):
        if key in config and config[key] != have:
            raise CheckpointError(f"{path}: config says {key}={config[key]!r} but "
                                  f"the arrays have {key}={have!r}")
    opt_state = {k[4:]: v for k, v in data.items() if k.startswith("opt.")}
    for k, v in opt_state.items():
        _finite(path, f"optimizer state {k!r}", v)
    history = meta["history"]
    if any(isinstance(v, float) and not math.isfinite(v)
           for v in (history.get("seconds", 0.0), history.get("bptt_seconds", 0.0))):
        raise CheckpointError(f"{path}: history times must be finite")
    return Checkpoint(params, vocab, meta["step"], opt_state, h, config, history,
                      meta.get("text_sha256"), s, cell.name)
