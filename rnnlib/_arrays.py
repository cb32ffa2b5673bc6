"""Array helpers shared by the numeric modules of :mod:`rnnlib`.

Sizes: ``T`` time steps, ``B`` sequences, ``k`` features. The arrays are time-major
rows ``(T, B, k)``; these helpers view them as ``T·B`` rows of a matrix, build one-hot
rows from token ids, and multiply by ``U`` whether the inputs are ids or dense.
"""

from __future__ import annotations

import numpy as np


def rows(arr: np.ndarray) -> np.ndarray:
    """View ``(T, B, k)`` (or any ``(..., k)``) as ``(T·B, k)`` rows."""
    return arr.reshape(-1, arr.shape[-1])


def rows_matmul(x: np.ndarray, M: np.ndarray, out=None) -> np.ndarray:
    """``x @ M`` for ``x (..., k)`` as one 2-D product over all leading rows.

    numpy runs a 3-D ``@`` as a loop of small products; flattening ``(T, B)`` to
    ``T·B`` rows gives BLAS one large matrix instead (several times faster).
    """
    shape = (*x.shape[:-1], M.shape[-1])
    if out is None:
        out = np.empty(shape, np.result_type(x, M))
    np.matmul(rows(x), M, out=rows(out))
    return out


def one_hot(ids: np.ndarray, n: int, dtype) -> np.ndarray:
    """Rows of the ``n × n`` identity picked by ``ids``: shape ``(*ids.shape, n)``."""
    return np.eye(n, dtype=dtype)[ids]


def times_U(U: np.ndarray, x: np.ndarray, out=None) -> np.ndarray:
    """``U x`` on rows, for ids ``(...)`` or dense ``(..., n_in)``; shape ``(..., H)``.

    A one-hot ``x`` picks column ``x`` of ``U``, so ids are looked up, never
    multiplied; dense rows are one matrix product ``x @ U.T``.
    """
    if x.dtype.kind in "iu":
        return np.take(np.ascontiguousarray(U.T), x, axis=0, out=out)
    return rows_matmul(x, U.T, out=out)
