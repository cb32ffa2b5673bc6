"""Character data for training: corpus, vocabulary, split and truncated-BPTT batches.

Sizes: ``T`` time steps per chunk (the truncation length), ``B`` parallel streams.
Batches are time-major ``(T, B)`` arrays of token ids, as :func:`rnnlib.bptt` takes.

The default corpus is the text of the Python standard library's own help topics
(``pydoc_data.topics``, about 465 000 characters of English and code), which ships
with Python, so nothing is downloaded. Any UTF-8 text file works the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

DEFAULT_CORPUS = "pydoc_data.topics (Python's built-in help texts)"


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1; got {value}")
    return int(value)


def load_text(path: str | Path | None = None) -> str:
    """Read a UTF-8 text file, or the default corpus when ``path`` is None.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If the file does not exist, or is a directory.
    ValueError
        If the file is empty or not valid UTF-8 (the message gives the byte
        offset of the first undecodable byte).
    """
    if path is None:
        try:
            from pydoc_data.topics import topics
        except ImportError as err:  # some stripped-down Python builds omit it
            raise ValueError(
                "the default corpus pydoc_data.topics is missing from this Python; "
                "pass a UTF-8 text file instead"
            ) from err
        return "".join(topics[key] for key in sorted(topics))
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; --text needs a text file")
    if not path.is_file():
        raise FileNotFoundError(f"text file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not valid UTF-8: byte {raw[err.start]:#04x} at offset "
            f"{err.start} cannot be decoded ({err.reason}); convert the file to UTF-8"
        ) from None
    if not text:
        raise ValueError(f"{path} is empty; a training text needs some characters")
    return text


@dataclass(frozen=True)
class Vocab:
    """The sorted set of characters of a text; id ``i`` is ``chars[i]``."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocab:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str; got {type(text).__name__}")
        if not text:
            raise ValueError("text must not be empty")
        return cls(tuple(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Ids of the characters of ``text``, an int array of shape ``(len(text),)``.

        Raises ``ValueError`` naming the characters that are not in the vocabulary.
        """
        index = {ch: i for i, ch in enumerate(self.chars)}
        unknown = sorted(set(text) - index.keys())
        if unknown:
            shown = ", ".join(repr(ch) for ch in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise ValueError(f"characters not in the vocabulary: {shown}{more}")
        return np.fromiter((index[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """The text of a 1-D array of ids."""
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"ids must hold integer token ids; got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must hold ids in [0, {len(self)}); got values in "
                             f"[{int(ids.min())}, {int(ids.max())}]")
        return "".join(self.chars[i] for i in ids.ravel())


def text_fingerprint(text: str) -> str:
    """SHA-256 of the text's UTF-8 bytes (hex): checkpoints record the text they
    were trained on with it, so resuming on another text can be refused."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def split(ids: np.ndarray, val_fraction: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split: the first part trains, the last ``val_fraction`` checks."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be in (0, 1); got {val_fraction}")
    n_val = max(1, int(round(len(ids) * val_fraction)))
    return ids[:-n_val], ids[-n_val:]


def streams(ids: np.ndarray, B: int) -> np.ndarray:
    """Cut ``ids`` into ``B`` contiguous streams of equal length: shape ``(B, L)``."""
    B = _positive_int("batch size B", B)
    L = len(ids) // B
    if L < 2:
        raise ValueError(f"text of {len(ids)} characters is too short for {B} streams")
    return ids[: B * L].reshape(B, L)


def n_chunks(ids: np.ndarray, T: int, B: int) -> int:
    """Number of ``(T, B)`` chunks per pass over ``ids`` (see :func:`chunk`)."""
    T = _positive_int("sequence length T", T)
    B = _positive_int("batch size B", B)
    need = B * (T + 1)
    if len(ids) < need:
        raise ValueError(
            f"text of {len(ids)} characters is shorter than one training chunk: "
            f"B={B} streams of T+1={T + 1} characters need {need}; use a longer "
            "text or smaller --seq-len/--batch"
        )
    return (len(ids) // B - 1) // T


def chunk(stream_ids: np.ndarray, k: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk ``k`` of the ``(B, L)`` streams: inputs and next-character targets.

    Returns ``x, y`` of shape ``(T, B)``: ``x[t, s] = stream_s[kT + t]`` and
    ``y[t, s] = stream_s[kT + t + 1]``. Chunk ``k + 1`` continues each stream
    exactly where chunk ``k`` stopped, so the last hidden state of chunk ``k`` is
    the right initial state for chunk ``k + 1`` (truncated BPTT).
    """
    start = k * T
    window = stream_ids[:, start:start + T + 1]
    return np.ascontiguousarray(window[:, :-1].T), np.ascontiguousarray(window[:, 1:].T)


def chunks(ids: np.ndarray, T: int, B: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All ``(x, y)`` chunks of one pass over ``ids``, in order."""
    count = n_chunks(ids, T, B)
    s = streams(ids, B)
    for k in range(count):
        yield chunk(s, k, T)
