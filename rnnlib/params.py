"""Parameters of the RNN of Deep Learning §10.2, eqs (10.8)–(10.11).

Sizes: ``n_in`` inputs (vocabulary size for token ids), ``H`` hidden units,
``n_out`` outputs. The parameters keep the book's shapes, so that ``W @ h`` in the
book is ``h @ W.T`` for the row vectors ``rnnlib`` stores, and ``dW`` has the shape
of ∇_W L.

======  ===============  ======================================
name    shape            role
======  ===============  ======================================
``U``   ``(H, n_in)``    input-to-hidden weights (10.8)
``W``   ``(H, H)``       hidden-to-hidden weights (10.8)
``V``   ``(n_out, H)``   hidden-to-output weights (10.10)
``b``   ``(H,)``         hidden bias (10.8)
``c``   ``(n_out,)``     output bias (10.10)
======  ===============  ======================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._validate import FLOAT_DTYPES, as_array, check_positive_int, shape_str

NAMES = ("U", "W", "V", "b", "c")


@dataclass(frozen=True, eq=False)
class Params:
    """The five parameter arrays of (10.8)–(10.11); gradients use the same type.

    All five arrays share one floating dtype (float32 or float64) and consistent
    sizes; the constructor checks both and raises ``ValueError``/``TypeError``
    naming the offending field.
    """

    U: np.ndarray  # (H, n_in)
    W: np.ndarray  # (H, H)
    V: np.ndarray  # (n_out, H)
    b: np.ndarray  # (H,)
    c: np.ndarray  # (n_out,)

    def __post_init__(self):
        arrays = {name: as_array(name, getattr(self, name)) for name in NAMES}
        for name, arr in arrays.items():
            if arr.dtype not in FLOAT_DTYPES:
                raise TypeError(
                    f"{name} must have dtype float32 or float64; got {arr.dtype}"
                )
            object.__setattr__(self, name, arr)
        dtypes = {arr.dtype for arr in arrays.values()}
        if len(dtypes) > 1:
            got = ", ".join(f"{n}: {a.dtype}" for n, a in arrays.items())
            raise TypeError(f"parameters must share one dtype; got {got}")
        U, V = arrays["U"], arrays["V"]
        if U.ndim != 2 or V.ndim != 2:
            name, arr = ("U", U) if U.ndim != 2 else ("V", V)
            raise ValueError(f"{name} must be 2-D; got shape {shape_str(arr.shape)}")
        H, n_in = U.shape
        n_out = V.shape[0]
        expected = {"U": (H, n_in), "W": (H, H), "V": (n_out, H), "b": (H,),
                    "c": (n_out,)}
        for name, want in expected.items():
            if arrays[name].shape != want:
                raise ValueError(
                    f"{name} must have shape {shape_str(want)} given U "
                    f"{shape_str(U.shape)} and V {shape_str(V.shape)}; "
                    f"got {shape_str(arrays[name].shape)}"
                )

    @property
    def n_in(self) -> int:
        return self.U.shape[1]

    @property
    def n_hidden(self) -> int:
        return self.U.shape[0]

    @property
    def n_out(self) -> int:
        return self.V.shape[0]

    @property
    def dtype(self) -> np.dtype:
        return self.U.dtype

    def arrays(self) -> dict[str, np.ndarray]:
        """The five arrays by name, in the order U, W, V, b, c."""
        return {name: getattr(self, name) for name in NAMES}

    def replace(self, **arrays) -> Params:
        """A copy with some arrays replaced (checked like the constructor)."""
        return dataclasses.replace(self, **arrays)

    def astype(self, dtype) -> Params:
        """A copy with every array cast to ``dtype`` (float32 or float64)."""
        return Params(**{n: a.astype(dtype) for n, a in self.arrays().items()})


def init_params(n_in: int, n_hidden: int, n_out: int, seed=0, dtype=np.float64,
                scale: float | None = None) -> Params:
    """Draw small random weights and zero biases.

    Parameters
    ----------
    n_in, n_hidden, n_out : int
        Input size (vocabulary size for ids), hidden size ``H``, output size.
    seed : int or numpy.random.Generator, default 0
        Seed or generator; the same seed always gives the same parameters.
    dtype : float32 or float64, default float64
    scale : float, optional
        Standard deviation of the weights. Default ``1/sqrt(H)``, which keeps
        ``W h`` of order one so ``tanh`` starts in its linear range.

    Returns
    -------
    Params
        ``U (H, n_in)``, ``W (H, H)``, ``V (n_out, H)`` Gaussian; ``b (H,)``,
        ``c (n_out,)`` zero.
    """
    n_in = check_positive_int("n_in", n_in)
    H = check_positive_int("n_hidden", n_hidden)
    n_out = check_positive_int("n_out", n_out)
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64; got {dtype}")
    if scale is None:
        scale = 1.0 / np.sqrt(H)
    if not (isinstance(scale, (int, float)) and np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number; got {scale!r}")
    rng = as_generator(seed)

    def draw(*shape):
        return (scale * rng.standard_normal(shape)).astype(dtype)

    return Params(U=draw(H, n_in), W=draw(H, H), V=draw(n_out, H),
                  b=np.zeros(H, dtype), c=np.zeros(n_out, dtype))


def as_generator(seed) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else ``np.random.default_rng(seed)``."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be an int or numpy.random.Generator; got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def zeros_like(p: Params) -> Params:
    """A ``Params`` of zeros with the shapes and dtype of ``p``."""
    return Params(**{n: np.zeros_like(a) for n, a in p.arrays().items()})
