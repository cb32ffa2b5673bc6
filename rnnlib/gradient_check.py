"""Finite-difference gradient checking.

The central difference ``(f(θ + ε e_i) - f(θ - ε e_i)) / 2ε`` has truncation error
O(ε²) and round-off error O(u/ε) (``u`` the unit round-off), so ε ≈ u^(1/3):
about 1e-5 in float64. Chapter "Checking gradients numerically" sweeps ε to show
both regimes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from ._validate import as_array
from .params import Params

_TINY = 1e-30


class GradientCheckError(AssertionError):
    """Raised by :func:`rnnlib.gradcheck` when analytic and numeric gradients differ."""


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-5,
                       index=None) -> np.ndarray:
    """Central-difference estimate of ∇f at ``x``.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a float.
    x : ndarray
        Point of evaluation (not modified; a float64 copy is perturbed).
    eps : float
        Step ε > 0.
    index : sequence of int, optional
        Flat indices to estimate; the others are left at zero. Default: all.

    Returns
    -------
    ndarray, shape of ``x``, float64
    """
    x = np.array(as_array("x", x), dtype=np.float64)
    if not (np.isscalar(eps) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number; got {eps!r}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size) if index is None else index:
        old = flat[i]
        flat[i] = old + eps
        f_plus = float(f(x))
        flat[i] = old - eps
        f_minus = float(f(x))
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric) -> float:
    """``max|a - n| / max(max|a|, max|n|)``: one number per array, scale-free."""
    # float64, so that float32 values near the top of their range do not overflow
    a, n = (np.asarray(arr, np.float64) for arr in (analytic, numeric))
    scale = max(np.abs(a).max(initial=0.0), np.abs(n).max(initial=0.0), _TINY)
    return float(np.abs(a - n).max(initial=0.0) / scale)


def assert_agree(what: str, actual, desired, rtol: float = 1e-12) -> str:
    """Assert that two arrays agree to ``rtol`` and return a one-line report.

    The chapters call this after turning a symbolic result into numbers. The
    report states the tolerance that was asserted, not the observed error (whose
    last digits depend on the BLAS kernel), so it reads the same on every machine:
    ``"a(t), SymPy vs rnnlib.forward: max relative error < 1e-12"``.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    if actual.shape != desired.shape:
        raise ValueError(f"{what}: shapes differ, {actual.shape} vs {desired.shape}")
    err = relative_error(actual, desired)
    if not err <= rtol:
        raise AssertionError(f"{what}: relative error {err:.2e} exceeds {rtol:.0e}")
    return f"{what}: max relative error < {rtol:.0e}"


def gradcheck(f: Callable, inputs, analytic, eps: float = 1e-5, tol: float = 1e-6,
              max_entries: int | None = None, seed=0) -> dict[str, float]:
    """Compare analytic gradients with central differences, array by array.

    Parameters
    ----------
    f : callable
        ``f(inputs)`` returns the loss as a float; ``inputs`` is passed with the
        same type it was given (a :class:`rnnlib.Params` or a dict of arrays).
    inputs : Params or mapping of name -> ndarray
    analytic : Params or mapping of name -> ndarray
        The gradients to check, same names and shapes as ``inputs``.
    eps : float, default 1e-5
    tol : float, default 1e-6
        Largest accepted :func:`rnnlib.relative_error` per array.
    max_entries : int, optional
        Check at most this many randomly chosen entries of each array (seeded).

    Returns
    -------
    dict
        The relative error of each array.

    Raises
    ------
    GradientCheckError
        If any array's relative error exceeds ``tol``; the message lists every
        array with analytic and numeric values at its worst entry.
    """
    names, arrays, rebuild = _unpack(inputs, "inputs")
    _, grads, _ = _unpack(analytic, "analytic")
    rng = np.random.default_rng(seed)
    errors, lines = {}, []
    for name in names:
        x = arrays[name]
        if name not in grads or np.shape(grads[name]) != x.shape:
            raise ValueError(
                f"analytic must have an array {name!r} of shape {x.shape}; got "
                f"{np.shape(grads[name]) if name in grads else 'nothing'}"
            )
        index = None
        if max_entries is not None and x.size > max_entries:
            index = rng.choice(x.size, size=max_entries, replace=False)

        def f_of(z, name=name, dtype=x.dtype):
            return f(rebuild({**arrays, name: z.astype(dtype)}))

        num = numerical_gradient(f_of, x, eps, index)
        ana = np.asarray(grads[name], np.float64)
        if index is not None:
            mask = np.zeros(x.size, bool)
            mask[index] = True
            ana = np.where(mask.reshape(x.shape), ana, 0.0)
        errors[name] = err = relative_error(ana, num)
        worst = tuple(int(i) for i in np.unravel_index(np.abs(ana - num).argmax(),
                                                       x.shape)) if x.size else ()
        mark = "FAIL" if not err <= tol else "ok"
        lines.append(f"  {name:>4} {mark:>4}  rel. error {err:.2e}  worst entry "
                     f"{worst}: analytic {ana[worst]:+.8e}, numeric {num[worst]:+.8e}")
    if any(not e <= tol for e in errors.values()):
        raise GradientCheckError(
            f"gradient check failed (tol {tol:.0e}, eps {eps:.0e}):\n"
            + "\n".join(lines)
        )
    return errors


def _unpack(obj, what):
    if isinstance(obj, Params):
        arrays = obj.arrays()
        return list(arrays), arrays, lambda d: Params(**d)
    if isinstance(obj, Mapping):
        arrays = {k: as_array(f"{what}[{k!r}]", v) for k, v in obj.items()}
        return list(arrays), arrays, dict
    raise TypeError(f"{what} must be rnnlib.Params or a dict of arrays; got "
                    f"{type(obj).__name__}")
