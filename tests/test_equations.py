"""The equation registry (rnnlib.equations) against the chapters and the tests.

Every registered equation must be derived in a chapter (its label defined there and
a code cell of that chapter naming the equation and asserting something) and be
checked by unit tests that exist; every equation a chapter labels must be registered.
"""

import ast
import importlib
import re
from pathlib import Path

import nbformat
import pytest

from rnnlib.equations import EQUATIONS, OUT_OF_SCOPE

ROOT = Path(__file__).resolve().parents[1]
# an equation placed from its SymPy form: ```{glue:math} eq-10-8 / :label: eq-10-8
LABEL_DEF = re.compile(r"```\{glue:math\}\s+\S+\s*\n:label:\s*(eq-\d+-\d+)")
ASSERTS = re.compile(r"\bassert\w*\s*\(|\bassert\s")


def chapters():
    out = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        out[path.name] = (set(LABEL_DEF.findall(md)), code)
    return out


CHAPTERS = chapters()


def test_chapters_define_labels_at_most_once():
    seen = {}
    for name, (labels, _) in CHAPTERS.items():
        for label in labels:
            assert label not in seen, f"{label} defined in {seen[label]} and {name}"
            seen[label] = name


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_registered_equation_is_derived_and_asserted_in_a_chapter(number):
    eq = EQUATIONS[number]
    where = [name for name, (labels, _) in CHAPTERS.items() if eq.label in labels]
    assert where, f"no chapter defines the equation label {eq.label}"
    _, code = CHAPTERS[where[0]]
    tag = f"({number})"
    asserting = [c for c in code if tag in c and ASSERTS.search(c)]
    assert asserting, f"{where[0]} has no code cell that names {tag} and asserts"


def test_every_labelled_equation_is_registered():
    labelled = set().union(*(labels for labels, _ in CHAPTERS.values()))
    known = {eq.label for eq in EQUATIONS.values()}
    assert labelled - known == set()


def test_registry_covers_10_8_to_10_28():
    # §10.2 (10.8-10.28) and §10.7 (10.36-10.39, chapter "Long-term dependencies")
    covered = set(EQUATIONS) | set(OUT_OF_SCOPE)
    assert covered == ({f"10.{k}" for k in range(8, 29)}
                       | {f"10.{k}" for k in range(36, 40)})


def defined_tests(path):
    tree = ast.parse((ROOT / path).read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_registered_equation_has_existing_tests(number):
    eq = EQUATIONS[number]
    assert eq.tests, f"{number} lists no tests"
    for test in eq.tests:
        path, name = test.split("::")
        assert name in defined_tests(path), f"{test} does not exist"


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_registered_functions_exist_and_cite_the_equation(number):
    eq = EQUATIONS[number]
    assert eq.functions, f"no rnnlib function implements {number}"
    for qualname in eq.functions:
        module, _, name = qualname.rpartition(".")
        func = getattr(importlib.import_module(module), name)
        assert f"({number})" in func.__doc__ or f"{number}" in func.__doc__, qualname
