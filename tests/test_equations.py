"""The equation registry (rnnlib.equations) against the chapters and the tests.

Every registered equation must be derived in a chapter (its label defined there and
a code cell of that chapter naming the equation and asserting something), be checked
by a test marked ``@pytest.mark.equation("10.NN")`` and be implemented by one
function that resolves as ``rnnlib.<name>``; every equation a chapter labels must be
registered. Also the package's structure: no module named like an exported function,
no import of another module's private names.
"""

import ast
import json
import pkgutil
import re
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

import rnnlib
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
    # and the LSTM and GRU of §10.10 (10.40-10.47, chapters "The LSTM", "The GRU")
    # and §10.11.1 (10.48-10.49, chapter "The cliff and gradient clipping")
    covered = set(EQUATIONS) | set(OUT_OF_SCOPE)
    assert covered == ({f"10.{k}" for k in range(8, 29)}
                       | {f"10.{k}" for k in range(36, 40)}
                       | {f"10.{k}" for k in range(40, 45)}  # LSTM
                       | {f"10.{k}" for k in range(45, 48)}  # GRU
                       | {"10.48", "10.49"})


# ---------------------------------------------------------------- tests, by marker


@pytest.fixture(scope="module")
def collected_markers(tmp_path_factory):
    """``{test id: [numbers]}`` as pytest collects it, via conftest's
    ``--equation-report`` (a subprocess, so every test file is collected)."""
    report = tmp_path_factory.mktemp("markers") / "equations.json"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
         "no:cacheprovider", f"--equation-report={report}", str(ROOT / "tests")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return json.loads(report.read_text())


def test_every_registered_equation_has_a_marked_test(collected_markers):
    tested = {n for numbers in collected_markers.values() for n in numbers}
    assert set(EQUATIONS) - tested == set()


def test_equation_index_lists_the_collected_tests(collected_markers):
    """The index's tests column (read from the source) matches pytest's view."""
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        from equation_index import marked_tests
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    collected = {}
    for nodeid, numbers in collected_markers.items():
        name = nodeid.split("::")[-1].split("[")[0]
        for n in numbers:
            collected.setdefault(n, set()).add(name)
    listed = {n: set(names) for n, names in marked_tests(ROOT / "tests").items()}
    assert listed == collected


def test_unknown_equation_marker_is_a_collection_error(tmp_path):
    (tmp_path / "conftest.py").write_text(
        (ROOT / "tests" / "conftest.py").read_text()
    )
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n@pytest.mark.equation('10.99')\ndef test_x():\n    pass\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
         "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode != 0
    assert "10.99" in run.stdout + run.stderr


# ---------------------------------------------------------------- functions, names


@pytest.mark.parametrize("number", sorted(EQUATIONS))
def test_registered_function_resolves_as_printed_and_cites_the_equation(number):
    eq = EQUATIONS[number]
    package, _, name = eq.qualname.partition(".")
    assert package == "rnnlib"
    func = getattr(rnnlib, name)  # what a reader types: rnnlib.grad_V
    assert callable(func) and func.__name__ == name
    assert name in rnnlib.__all__
    assert f"({number})" in func.__doc__ or f"{number}" in func.__doc__, eq.qualname


def test_no_module_is_named_like_an_exported_name():
    modules = {m.name for m in pkgutil.iter_modules(rnnlib.__path__)}
    assert modules & set(rnnlib.__all__) == set()
    for name in rnnlib.__all__:
        assert not isinstance(getattr(rnnlib, name), types.ModuleType), name


def relative_imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith("rnnlib")
        ):
            yield node


NUMERIC = ["params", "forward_pass", "loss", "gradients", "fast", "gradient_check",
           "equations", "_validate", "_arrays", "__init__"]


@pytest.mark.parametrize("module", NUMERIC)
def test_no_module_imports_private_names_of_another(module):
    for node in relative_imports(ROOT / "rnnlib" / f"{module}.py"):
        private = [a.name for a in node.names if a.name.startswith("_")]
        assert not private, f"{module}.py imports {private} from {node.module}"


def test_input_checks_live_in_validate_and_array_helpers_in_arrays():
    for path in (ROOT / "rnnlib" / f"{m}.py" for m in NUMERIC):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        if path.name != "_validate.py":
            checks = {n for n in defined if n.lstrip("_").startswith("check_")}
            assert not checks, f"{path.name} defines input checks {checks}"
        if path.name != "_arrays.py":
            assert not defined & {"rows", "rows_matmul", "one_hot", "times_U"}, (
                path.name
            )
