"""The book as a whole: table of contents, committed notebooks, the nbval harness."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
VOLATILE = [
    (re.compile(r"at 0x[0-9a-f]{6,}"), "a memory address"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|µs|us|ns)\b"), "a timing"),
    (re.compile(r"\b20\d\d-\d\d-\d\d[ T]\d\d:\d\d"), "a timestamp"),
    (
        re.compile(r"np\.float(32|64)\("),
        "a numpy scalar repr (changes across versions)",
    ),
    (re.compile(r"site-packages|/home/|/work/|/tmp/"), "a path of this machine"),
    (re.compile(r"\w+Warning:"), "a warning"),
]


def toc_files():
    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            if "root" in node:
                yield node["root"]
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    return set(walk(yaml.safe_load((ROOT / "_toc.yml").read_text())))


def test_chapters_and_toc_list_the_same_notebooks():
    toc = {f for f in toc_files() if f.startswith("chapters/")}
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in CHAPTERS}
    assert on_disk, "no notebooks found in chapters/"
    assert on_disk - toc == set(), "notebooks missing from _toc.yml"
    assert toc - on_disk == set(), "_toc.yml lists notebooks that do not exist"


def test_every_toc_entry_exists():
    for f in toc_files():
        assert any((ROOT / (f + ext)).exists() for ext in ("", ".md", ".ipynb")), f


def is_colab_setup(cell):
    """The hidden Colab cell of tools/colab_cell.py (may be committed unexecuted)."""
    return "colab-setup" in cell.get("metadata", {}).get("tags", [])


def chapter_code(nb):
    return [
        c
        for c in nb.cells
        if c.cell_type == "code" and c.source.strip() and not is_colab_setup(c)
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_is_committed_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    code = chapter_code(nb)
    assert code, "notebook has no code cells"
    unexecuted = [i for i, c in enumerate(code) if c.execution_count is None]
    assert not unexecuted, f"code cells {unexecuted} were committed unexecuted"
    counts = [c.execution_count for c in code]
    # counting starts at 2 if the Colab cell (first) was executed with the rest
    start = 1 + sum(bool(c.execution_count) for c in nb.cells if is_colab_setup(c))
    expected = list(range(start, start + len(code)))
    assert counts == expected, "not executed top to bottom once"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"committed with an error output: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_notebook_outputs_are_reproducible_text(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "") + "".join(
                v for k, v in out.get("data", {}).items() if k.startswith("text/")
            )
            for pattern, what in VOLATILE:
                m = pattern.search(text)
                assert not m, f"cell {i} output contains {what}: {m.group(0)!r}"


def test_first_code_cell_imports_and_seeds():
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        first = chapter_code(nb)[0]
        assert "from rnnlib import" in first.source, path.name
        assert "default_rng(0)" in first.source, path.name


def make_notebook(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    for i, c in enumerate(nb.cells):
        c["id"] = f"c{i}"
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "execute", "--inplace", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def run_nbval(path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "-q",
            "-p",
            "no:cacheprovider",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
    )


def test_nbval_fails_when_a_notebook_assert_fails(tmp_path):
    """A chapter's agreement check that no longer holds must fail the test command."""
    path = make_notebook(
        tmp_path,
        [
            "import numpy as np\nfrom rnnlib import softmax",
            "print(softmax(np.array([0.0, 0.0])))",
        ],
    )
    ok = run_nbval(path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    nb = nbformat.read(path, as_version=4)  # now break the derivation's assert
    nb.cells[1].source = "assert np.isclose(softmax(np.array([0.0, 0.0]))[0], 0.4)"
    nbformat.write(nb, path)
    broken = run_nbval(path)
    assert broken.returncode != 0
    assert "AssertionError" in broken.stdout


def test_nbval_fails_when_a_stored_output_changes(tmp_path):
    path = make_notebook(tmp_path, ["import numpy as np\nprint(np.arange(3))"])
    data = json.loads(path.read_text())
    data["cells"][0]["outputs"][0]["text"] = ["[0 1 3]\n"]
    path.write_text(json.dumps(data))
    result = run_nbval(path)
    assert result.returncode != 0
    assert "[0 1 3]" in result.stdout
