"""The launch buttons: every chapter runs on Binder and on Google Colab.

Binder: ``binder/`` installs the pinned requirements and rnnlib. The environment is
built and every chapter executed in it, offline, by tools/binder_check.sh, which is
the second nbval pass of ``make test``; here the configuration itself is checked.

Colab: a notebook opened there has no repository around it, so each chapter starts
with a hidden cell (tools/colab_cell.py) that pip-installs rnnlib from
``repository.url`` of ``_config.yml`` when ``google.colab`` is loaded, and does
nothing elsewhere. The slow test below fakes Colab: a fresh virtual environment with
only numpy, sympy, matplotlib (and the kernel), ``google.colab`` put into
``sys.modules`` at start-up, the repository URL replaced by a local copy, and every
chapter's student version (what a course hands out) executed alone in a folder
without the repository. That run is also the student-version test: the suite
executes each chapter three times (nbval passes 1 and 2, this one), not four
(chapter 6's first cells also run in tests/test_blas_threads.py).
"""

import ast
import json
import os
import re
import subprocess
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402
import repo_copy  # noqa: E402

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
# What Colab provides that the chapters may use; pinned as in requirements.txt.
COLAB_PACKAGES = ["numpy", "sympy", "matplotlib", "ipykernel"]
FAKE_COLAB_PTH = (
    "import sys, types; sys.modules.setdefault('google.colab', "
    "types.ModuleType('google.colab'))\n"
)


def pins(names):
    text = (ROOT / "requirements.txt").read_text()
    found = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m and m.group(1).lower() in names:
            found[m.group(1).lower()] = line.strip()
    assert set(found) == set(names), f"not pinned in requirements.txt: {names}"
    return [found[n] for n in names]


# --- Binder -----------------------------------------------------------------------


def test_binder_installs_exactly_the_pinned_requirements():
    lines = [
        ln.strip()
        for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines == ["-r ../requirements.txt"]


def test_binder_postbuild_installs_rnnlib_from_the_repository():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable"
    code = [ln for ln in post.read_text().splitlines() if ln and not ln.startswith("#")]
    assert "python -m pip install --no-deps -e ." in code


def test_binder_python_matches_the_project():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11"
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()


# --- Colab: the cell --------------------------------------------------------------


def first_code(nb):
    return next(c for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_starts_with_the_colab_cell_for_the_configured_repository(path):
    """Fails until `python tools/colab_cell.py` has been run on the chapter."""
    nb = nbformat.read(path, as_version=4)
    url, ref = colab_cell.repository()
    cell = nb.cells[0]
    assert colab_cell.is_colab_cell(cell), (
        f"{path.name}: no Colab cell first; run `python tools/colab_cell.py`"
    )
    assert cell.source == colab_cell.cell_source(url, ref), (
        f"{path.name}: Colab cell does not match repository.url/branch in _config.yml;"
        " run `python tools/colab_cell.py`"
    )
    assert "remove-cell" in cell.metadata["tags"]
    assert not cell.get("outputs")


def test_colab_cell_script_is_idempotent(tmp_path):
    for p in CHAPTERS:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    script = [sys.executable, str(ROOT / "tools" / "colab_cell.py"), "--chapters",
              str(tmp_path)]
    subprocess.run(script, check=True, capture_output=True)
    first = {p.name: p.read_text() for p in tmp_path.glob("*.ipynb")}
    again = subprocess.run(script, check=True, capture_output=True, text=True)
    assert "up to date" in again.stdout
    assert {p.name: p.read_text() for p in tmp_path.glob("*.ipynb")} == first
    check = subprocess.run([*script, "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    for p in tmp_path.glob("*.ipynb"):
        nb = nbformat.read(p, as_version=4)
        assert sum(colab_cell.is_colab_cell(c) for c in nb.cells) == 1
        assert colab_cell.is_colab_cell(nb.cells[0])
        original = nbformat.read(ROOT / "chapters" / p.name, as_version=4)
        others = [c for c in original.cells if not colab_cell.is_colab_cell(c)]
        assert [c.source for c in nb.cells[1:]] == [c.source for c in others]
    # another repository: the cells are updated in place, --check notices first
    other = [*script, "--url", "https://example.org/fork/book"]
    assert subprocess.run([*other, "--check"], capture_output=True).returncode == 1
    subprocess.run(other, check=True, capture_output=True)
    nb = nbformat.read(next(tmp_path.glob("*.ipynb")), as_version=4)
    assert "git+https://example.org/fork/book@" in nb.cells[0].source
    assert sum(colab_cell.is_colab_cell(c) for c in nb.cells) == 1


def run_cell(source, colab, tmp_path, rnnlib_installed=False):
    """Run the cell's code in a fresh Python; ``colab`` fakes google.colab. Without
    ``rnnlib_installed`` the Python starts without site-packages (``-S``), so it
    does not find this checkout's rnnlib (pip, which the cell runs, still works)."""
    prelude = FAKE_COLAB_PTH if colab else ""
    script = tmp_path / "cell.py"
    script.write_text(prelude + source + "\n")
    flags = [] if rnnlib_installed else ["-S"]
    return subprocess.run([sys.executable, *flags, str(script)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)


def test_colab_cell_does_nothing_and_prints_nothing_outside_colab(tmp_path):
    # An unreachable repository: if the cell ran pip, it would fail loudly.
    source = colab_cell.cell_source("file:///nonexistent/repo", "main")
    r = run_cell(source, colab=False, tmp_path=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_colab_cell_runs_pip_on_colab(tmp_path):
    source = colab_cell.cell_source("file:///nonexistent/repo", "main")
    r = run_cell(source, colab=True, tmp_path=tmp_path)
    assert r.returncode != 0
    assert "nonexistent" in r.stderr


def test_colab_cell_skips_pip_once_rnnlib_is_installed(tmp_path):
    """Run again in the same Colab runtime (or a second chapter there): no pip."""
    source = colab_cell.cell_source("file:///nonexistent/repo", "main")
    r = run_cell(source, colab=True, tmp_path=tmp_path, rnnlib_installed=True)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


# --- Colab: every chapter, in a faked Colab ------------------------------------------


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """A fresh venv with only Colab's packages, google.colab faked, a repo copy."""
    work = tmp_path_factory.mktemp("colab")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # uv, from the project's environment: the same pins as pip, 10x faster (the
    # chapters' first cell then runs pip itself, as on Colab)
    subprocess.run(
        [str(Path(sys.executable).with_name("uv")), "pip", "install", "--quiet",
         "--python", str(python), *pins(COLAB_PACKAGES)],
        check=True, capture_output=True, timeout=600,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "fake_google_colab.pth").write_text(FAKE_COLAB_PTH)
    kernels = work / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "fake Colab", "language": "python",
    }))
    repo = repo_copy.copy_repo(work / "repo", branch="colab")
    return {"python": python, "jupyter_path": work / "jupyter", "repo": repo,
            "work": work}


def execute(path, colab, timeout=900):
    # bytecode cached on first import, as on Colab (not recompiled by each kernel)
    env = {k: v for k, v in os.environ.items()
           if k not in ("JUPYTER_PATH", "PYTHONPATH", "VIRTUAL_ENV",
                        "PYTHONDONTWRITEBYTECODE")}
    env["JUPYTER_PATH"] = str(colab["jupyter_path"])
    # two notebooks run side by side, next to make test's other jobs: one BLAS
    # thread each, so they do not oversubscribe the cores (outputs not compared here)
    env["OPENBLAS_NUM_THREADS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "jupyter", "execute", "--inplace",
         "--kernel_name=colab", f"--timeout={timeout}", str(path)],
        capture_output=True, text=True, cwd=path.parent, env=env,
    )


def stream_text(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_student_version_of_every_chapter_runs_on_fake_colab(colab, tmp_path):
    """What a course hands out, opened on Colab: each chapter without its solutions
    (tools/student_version.py), alone in Colab's working folder, its first cell
    installing rnnlib. It runs top to bottom, and every check cell says "not
    implemented yet" instead of passing or raising. The full chapters, solutions
    included, are executed by both nbval passes; the modules the solutions import
    are checked on fake Colab by the next test."""
    content = tmp_path / "content"  # Colab's working folder: the notebook alone
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "student_version.py"), str(content)],
        check=True, capture_output=True,
    )
    url = colab["repo"].as_uri()
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "colab_cell.py"), "--chapters",
         str(content), "--url", url, "--ref", "colab"],
        check=True, capture_output=True,
    )
    paths = sorted(content.glob("*.ipynb"))
    assert [p.name for p in paths] == [p.name for p in CHAPTERS]
    # the first chapter installs rnnlib; the others find it and skip pip
    results = [execute(paths[0], colab)]
    with ThreadPoolExecutor(2) as pool:
        results += list(pool.map(lambda p: execute(p, colab), paths[1:]))
    for path, res in zip(paths, results, strict=True):
        assert res.returncode == 0, (
            f"{path.name} failed on fake Colab:\n{res.stderr[-3000:]}"
        )
        printed = stream_text(nbformat.read(path, as_version=4))
        assert "not implemented yet" in printed, f"{path.name}: no stub message"
        assert "all checks passed" not in printed, f"{path.name}: a stub passed"
    shown = subprocess.run(
        [str(colab["python"]), "-m", "pip", "show", "-f", "rnnlib"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "Location:" in shown and str(ROOT) not in shown  # not this checkout
    # the chapters' glue ran without myst-nb (rnnlib.notebook's stand-in)
    absent = subprocess.run([str(colab["python"]), "-c", "import myst_nb"],
                            capture_output=True, text=True)
    assert "ModuleNotFoundError" in absent.stderr


def imported_modules(cells):
    """Top-level modules named by import statements in code cells."""
    names = set()
    for cell in cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_module_the_chapters_import_is_there_on_fake_colab(colab):
    """Solutions included: what the student version does not execute on Colab
    needs nothing Colab lacks (after the first cell's install)."""
    cells = [c for p in CHAPTERS for c in nbformat.read(p, as_version=4).cells
             if not colab_cell.is_colab_cell(c)]
    solution_modules = imported_modules(
        [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])])
    modules = sorted(imported_modules(cells))
    assert {"numpy", "rnnlib"} <= set(modules)
    assert solution_modules <= set(modules)
    # first what a chapter's first cell does there (it is a no-op if already done)
    cell = colab["work"] / "first_cell.py"
    cell.write_text(FAKE_COLAB_PTH
                    + colab_cell.cell_source(colab["repo"].as_uri(), "colab"))
    subprocess.run([str(colab["python"]), str(cell)], check=True,
                   capture_output=True, cwd=colab["work"])
    res = subprocess.run(
        [str(colab["python"]), "-c", "import importlib, sys\n"
         "for m in sys.argv[1:]: importlib.import_module(m)", *modules],
        capture_output=True, text=True, cwd=colab["work"],
    )
    assert res.returncode == 0, f"on fake Colab: {res.stderr[-2000:]}"


def test_without_the_colab_cell_a_chapter_fails_on_fake_colab(colab, tmp_path):
    """The control: the faked Colab really lacks rnnlib."""
    nb = nbformat.read(CHAPTERS[0], as_version=4)
    nb.cells = [c for c in nb.cells if not colab_cell.is_colab_cell(c)]
    first = first_code(nb)
    nb.cells = [first]
    path = tmp_path / "first_cell.ipynb"
    nbformat.write(nb, path)
    subprocess.run([str(colab["python"]), "-m", "pip", "uninstall", "-y", "-q",
                    "rnnlib"], capture_output=True)
    res = execute(path, colab)
    assert res.returncode != 0
    assert "ModuleNotFoundError" in res.stderr and "rnnlib" in res.stderr
