"""Check cells for "write the function" exercises.

A chapter's exercise gives a stub for the learner to fill in; the check cell calls
:func:`check` with the learner's function, a few input cases and independent
references (the ``rnnlib`` function, finite differences). It prints one line per
reference and a verdict, and never raises: a stub that still raises
``NotImplementedError`` (the student version of the book) prints
"not implemented yet" instead of a traceback. The printed lines contain no raw
floating-point numbers, only the tolerance, so strict nbval reproduces them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["check"]


def _rel_err(got, want) -> float:
    """Max-norm relative error; inf if ``got`` has NaN or inf (never a silent pass)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if not np.all(np.isfinite(got)):
        return float("inf")
    scale = max(np.abs(got).max(initial=0.0), np.abs(want).max(initial=0.0), 1e-300)
    return float(np.abs(got - want).max(initial=0.0) / scale)


def check(student: Callable, cases: Sequence[tuple],
          references: dict[str, tuple[Callable, float]],
          name: str | None = None) -> bool:
    """Compare ``student(*case)`` with each reference on every case; print the verdict.

    Parameters
    ----------
    student : callable
        The learner's function.
    cases : sequence of tuple
        Positional arguments for one call each.
    references : dict
        ``label -> (function, rtol)``: an independent way to compute the expected
        result from the same arguments, and the largest relative error (max-norm)
        accepted against it, e.g. ``{"rnnlib.grad_W": (grad_W, 1e-12),
        "finite differences": (fd, 1e-6)}``.
    name : str, optional
        Shown in the messages; default ``student.__name__``.

    Returns
    -------
    bool
        True when every case agrees with every reference.
    """
    name = name or getattr(student, "__name__", "your function")
    try:
        outputs = [student(*case) for case in cases]
    except NotImplementedError:
        print(f"{name}: not implemented yet. Fill in the function above, run its cell, "
              "then run this check again.")
        return False
    ok = True
    for label, (reference, rtol) in references.items():
        worst, bad_shape = 0.0, None
        for k, (case, got) in enumerate(zip(cases, outputs, strict=True)):
            want = reference(*case)
            if np.shape(got) != np.shape(want):
                bad_shape = (k, np.shape(got), np.shape(want))
                break
            worst = max(worst, _rel_err(got, want))
        if bad_shape:
            k, got_shape, want_shape = bad_shape
            print(f"FAIL  {label}: case {k} returned shape {got_shape}, "
                  f"expected {want_shape}")
            ok = False
        elif not worst <= rtol:
            print(f"FAIL  {label}: relative error {worst:.1e} > {rtol:.0e} "
                  f"on {len(cases)} cases")
            ok = False
        else:
            print(f"pass  {label}: relative error < {rtol:.0e} on {len(cases)} cases")
    print(f"{name}: {'all checks passed' if ok else 'not correct yet'}")
    return ok
