"""Printed = derived: each numbered equation on a page is generated from its SymPy form.

For each equation of the registry, exactly one chapter places it with
``{glue:math}`` under its label; the glued output is produced by
``glue_equation("10.N")`` (a cell tagged ``remove-cell``) and its stored LaTeX is
exactly what :mod:`rnnlib.forms` prints today; and the chapter has a code cell that
proves ``FORMS["10.N"]`` equal to its derivation. No chapter types a numbered
equation by hand: ``\\tag`` and ``(eq-…)`` labels on hand-typed math are refused,
except the marked quotations of the book's printed 10.21 and 10.39 (held corrected).
The standard cells displayed next to the book's printed 10.41 and 10.45–10.47 are
glued from :mod:`rnnlib.forms` too, and their stored LaTeX is checked the same way.
"""

import re
from pathlib import Path

import nbformat
import pytest

from rnnlib import forms
from rnnlib.equations import EQUATIONS

ROOT = Path(__file__).resolve().parents[1]
GLUE_MATH = re.compile(r"```\{glue:math\}\s+(\S+)\s*\n:label:\s*(\S+)")
GLUE_CALL = re.compile(r'^\s*glue_equation\("([\d.]+)"\)\s*$')
HAND_LABEL = re.compile(r"\$\$\s*\(eq-\d+-\d+\)")
QUOTE = re.compile(r":::\{admonition\}[^\n]*\n:class: book-quote\n.*?\n:::", re.S)


def load():
    out = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        out[path.name] = nbformat.read(path, as_version=4)
    return out


NOTEBOOKS = load()


def placements():
    """label -> [(chapter, glue key)] for every {glue:math} directive."""
    found = {}
    for name, nb in NOTEBOOKS.items():
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for key, label in GLUE_MATH.findall(cell.source):
                    found.setdefault(label, []).append((name, key))
    return found


PLACED = placements()


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_equation_is_placed_once_from_its_glued_form(number):
    label = EQUATIONS[number].label
    assert len(PLACED.get(label, [])) == 1, f"{label} placed {PLACED.get(label)}"
    _, key = PLACED[label][0]
    assert key == label, f"{label} shows glue key {key}"


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_glued_output_is_what_the_form_prints_today(number):
    name, _ = PLACED[EQUATIONS[number].label][0]
    cells = [c for c in NOTEBOOKS[name].cells if c.cell_type == "code"
             and (m := GLUE_CALL.match(c.source)) and m.group(1) == number]
    assert len(cells) == 1, f"{name}: need one cell `glue_equation(\"{number}\")`"
    cell = cells[0]
    assert "remove-cell" in cell.metadata.get("tags", []), f"{name}: tag remove-cell"
    stored = [o["data"]["text/latex"] for o in cell.get("outputs", [])
              if "text/latex" in o.get("data", {})]
    assert stored == [forms.display(number)._repr_latex_()], (
        f"{name}: the stored equation {number} is not what rnnlib.forms prints; "
        "re-execute the chapter")


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_chapter_proves_the_form_equal_to_its_derivation(number):
    name, _ = PLACED[EQUATIONS[number].label][0]
    proving = [c for c in NOTEBOOKS[name].cells if c.cell_type == "code"
               and f'FORMS["{number}"]' in c.source
               and re.search(r"\bassert", c.source)]
    assert proving, f"{name}: no cell uses FORMS[\"{number}\"] in an assert"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_no_numbered_equation_is_typed_by_hand(name):
    for cell in NOTEBOOKS[name].cells:
        if cell.cell_type != "markdown":
            continue
        text = QUOTE.sub("", cell.source)  # the marked quotation of the book
        assert "\\tag{" not in text, f"{name}: hand-typed \\tag in {text[:80]!r}"
        assert not HAND_LABEL.search(text), f"{name}: hand-labelled equation"


def test_the_misprint_of_10_21_is_quoted_as_such():
    name, _ = PLACED[EQUATIONS["10.21"].label][0]
    quotes = [q for c in NOTEBOOKS[name].cells if c.cell_type == "markdown"
              for q in QUOTE.findall(c.source)]
    assert len(quotes) == 1, f"{name}: one marked quotation of the printed 10.21"
    assert "As printed in the book" in quotes[0]
    assert r"\operatorname{diag}" in quotes[0] and "W^\\top" in quotes[0]


# Unnumbered displays glued from rnnlib.forms: glue key -> (chapter, what it prints).
STANDARD_FORMS = {
    "lstm-standard-10-41": ("10_lstm.ipynb",
                            lambda: forms.book_latex(forms.LSTM_STANDARD_10_41)),
    "gru-standard": ("11_gru.ipynb", lambda: forms.latex_lines(forms.GRU_STANDARD)),
}


@pytest.mark.parametrize("key", sorted(STANDARD_FORMS))
def test_standard_cell_is_glued_from_its_form(key):
    name, printed = STANDARD_FORMS[key]
    cells = NOTEBOOKS[name].cells
    assert any(f"```{{glue:math}} {key}\n" in c.source for c in cells
               if c.cell_type == "markdown"), f"{name}: {key} is not displayed"
    stored = [o["data"]["text/latex"] for c in cells if c.cell_type == "code"
              for o in c.get("outputs", [])
              if o.get("metadata", {}).get("scrapbook", {}).get("name") == key]
    assert stored == [f"$\\displaystyle {printed()}$"], (
        f"{name}: the stored {key} is not what rnnlib.forms prints; re-execute")
