"""rnnlib.notebook.glue: myst-nb's glue where installed, a display-only stand-in
elsewhere (Colab), so that a chapter's first cell need not install myst-nb there."""

import sys

import IPython.display
import myst_nb
import pytest

from rnnlib.notebook import glue


def test_glue_is_myst_nb_glue_where_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: calls.append((a, k)))
    glue("bits", "2.4", display=False)
    assert calls == [(("bits", "2.4"), {"display": False})]


@pytest.mark.parametrize("display", [True, False])
def test_without_myst_nb_glue_shows_the_value_only_when_asked(monkeypatch, display):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb fails
    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    glue("bits", 2.4, display=display)
    assert shown == ([2.4] if display else [])


def test_glue_needs_a_name():
    with pytest.raises(TypeError, match="name"):
        glue("", 1.0)
