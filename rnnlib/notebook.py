"""Glue for the chapters, with or without myst-nb.

The chapters pass computed numbers and equations into their text with myst-nb's
``glue`` (``{glue:text}`` and ``{glue:math}`` in the Markdown cells). That only
matters where the book is built; a learner on Colab reads the notebook itself, where
myst-nb is not installed, and installing it there pulls in Sphinx and its
dependencies (16 s more than rnnlib alone, measured; and pip may replace versions
Colab relies on). So the chapters import ``glue`` from here: myst-nb's own where it
is installed (the book build, nbval, Binder, ``make lab``), and elsewhere a stand-in
that shows what myst-nb would show in the notebook and keeps nothing.
"""

from __future__ import annotations

from typing import Any


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Glue ``variable`` under ``name`` for the book (``myst_nb.glue``).

    Without myst-nb, ``variable`` is shown when ``display`` is true (as
    ``myst_nb.glue`` shows it in the notebook) and nothing is kept.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"glue: name must be a non-empty str; got {name!r}")
    try:
        from myst_nb import glue as myst_glue
    except ModuleNotFoundError as e:
        if e.name != "myst_nb":  # installed but broken: say so
            raise
        if display:
            try:
                from IPython.display import display as show
            except ImportError:  # not in Jupyter at all
                show = print
            show(variable)
        return
    myst_glue(name, variable, display=display)
