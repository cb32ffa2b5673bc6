"""Course material: exercises with executed solutions, and the student version."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_three_exercises_with_hidden_executed_solutions(path):
    nb = nbformat.read(path, as_version=4)
    exercises = [
        c
        for c in nb.cells
        if c.cell_type == "markdown" and c.source.startswith("````{exercise}")
    ]
    starts = [c for c in nb.cells if "{solution-start}" in c.source]
    assert len(exercises) >= 3
    assert len(starts) == len(exercises)
    assert all(":class: dropdown" in c.source and "solution" in tags(c) for c in starts)
    for c in exercises:
        title = c.source.splitlines()[0]
        assert title.endswith(("(derivation)", "(coding)")), title
    solution_code = [
        c for c in nb.cells if c.cell_type == "code" and "solution" in tags(c)
    ]
    assert len(solution_code) >= len(exercises)
    assert all(c.execution_count for c in solution_code), "solutions must be executed"


def test_exercises_mix_derivation_and_coding():
    titles = [
        c.source.splitlines()[0]
        for p in CHAPTERS
        for c in nbformat.read(p, as_version=4).cells
        if c.cell_type == "markdown" and c.source.startswith("````{exercise}")
    ]
    assert sum(t.endswith("(derivation)") for t in titles) >= len(CHAPTERS)
    assert sum(t.endswith("(coding)") for t in titles) >= len(CHAPTERS)


def test_student_version_has_no_solutions(tmp_path):
    """The student version drops the solutions and outputs, keeps the exercises.
    That it still executes top to bottom, and that each check cell then says "not
    implemented yet", is tested where it runs, on fake Colab (tests/test_launch.py),
    so the suite executes the chapters once for both claims."""
    out = tmp_path / "student"
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "student_version.py"), str(out)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    made = sorted(out.glob("*.ipynb"))
    assert [p.name for p in made] == [p.name for p in CHAPTERS]
    for path in made:
        nb = nbformat.read(path, as_version=4)
        assert not any("solution" in tags(c) for c in nb.cells)
        assert not any(
            "solution-start" in c.source or "solution-end" in c.source for c in nb.cells
        )
        assert any(c.source.startswith("````{exercise}") for c in nb.cells)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_a_write_the_function_exercise_whose_check_passes(path):
    nb = nbformat.read(path, as_version=4)
    stubs = [c for c in nb.cells if c.cell_type == "code" and "solution" not in tags(c)
             and "raise NotImplementedError" in c.source]
    checks = [c for c in nb.cells if c.cell_type == "code" and "solution" not in tags(c)
              and "check(" in c.source]
    assert stubs, f"{path.name}: no stub for the learner to fill in"
    assert checks, f"{path.name}: no check cell"
    printed = "".join(o.get("text", "") for c in checks for o in c.get("outputs", []))
    assert "all checks passed" in printed and "FAIL" not in printed, printed


def test_student_version_rejects_empty_folder(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "student_version.py"),
            str(tmp_path / "out"),
            "--chapters",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "no notebooks" in r.stderr
