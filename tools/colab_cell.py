"""Insert (or update) the Colab set-up cell at the top of every chapter.

Usage:  python tools/colab_cell.py [--chapters DIR] [--url URL] [--ref REF] [--check]

Google Colab opens a chapter on its own, without the repository, so ``from rnnlib
import ...`` would fail there. The first cell of every chapter therefore installs
``rnnlib`` from the book's repository with pip, only when it runs on Colab (the
``google.colab`` module is loaded) and only once per Colab runtime (run again, it
finds rnnlib and skips pip's ~6 s), and does nothing, printing nothing, anywhere
else: nbval and the website are unaffected. The cell carries the tag
``remove-cell``, so the website does not show it, and ``colab-setup``, by which this
script finds it again: running the script twice changes nothing.

The repository and branch come from ``repository.url`` and ``repository.branch`` in
``_config.yml``, the one place a fork changes (they are written into the cell,
because on Colab the notebook has no ``_config.yml`` to read). After changing them,
run this script again; ``tests/test_launch.py`` fails until the cells match.
``--check`` only reports chapters whose cell is missing or out of date (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "colab-setup"
HIDE = "remove-cell"

TEMPLATE = '''\
# Google Colab only: install rnnlib, the book's library, from its repository, once
# per runtime. Elsewhere this cell does nothing (the website hides it). Written by
# tools/colab_cell.py from repository.url in _config.yml.
import importlib.util
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("rnnlib") is None:
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "{requirement}"],
        check=True,
    )'''


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """Return (url, branch) from the ``repository`` section of ``_config.yml``."""
    repo = yaml.safe_load(config.read_text(encoding="utf-8")).get("repository") or {}
    url = repo.get("url")
    if not url:
        raise ValueError(f"{config}: repository.url is not set")
    return url.rstrip("/"), repo.get("branch") or "main"


def cell_source(url: str, ref: str) -> str:
    """The cell's code: ``pip install git+URL@REF`` (rnnlib), on Colab only. Nothing
    else: the chapters' ``glue`` (:mod:`rnnlib.notebook`) needs no myst-nb there."""
    if '"' in url or '"' in ref:
        raise ValueError(f"quotes are not allowed in the URL or ref: {url!r} {ref!r}")
    return TEMPLATE.format(requirement=f"git+{url}@{ref}")


def is_colab_cell(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def apply(nb, source: str) -> bool:
    """Put the set-up cell first in ``nb``; return True if ``nb`` changed."""
    found = [c for c in nb.cells if is_colab_cell(c)]
    if len(found) == 1 and nb.cells[0] is found[0]:
        cell = found[0]
        tags = cell.metadata.get("tags", [])
        if cell.source == source and HIDE in tags:
            return False  # its execution count may differ: not a change
        cell.source, cell.outputs = source, []
        cell.metadata["tags"] = tags + [HIDE] * (HIDE not in tags)
        return True
    nb.cells = [c for c in nb.cells if not is_colab_cell(c)]
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [TAG, HIDE]
    cell["id"] = "colab-setup"
    nb.cells.insert(0, cell)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chapters", type=Path, default=ROOT / "chapters",
                    help="folder of the notebooks (default: %(default)s)")
    ap.add_argument("--url", help="repository URL (default: repository.url)")
    ap.add_argument("--ref", help="branch, tag or commit (default: repository.branch)")
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 if a cell is missing or out of date")
    args = ap.parse_args(argv)
    url, ref = repository()
    source = cell_source(args.url or url, args.ref or ref)
    paths = sorted(args.chapters.glob("*.ipynb"))
    if not paths:
        print(f"error: no notebooks in {args.chapters}", file=sys.stderr)
        return 2
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if apply(nb, source):
            stale.append(path.name)
            if not args.check:
                nbformat.write(nb, path)
    verb = "out of date" if args.check else "updated"
    for name in stale:
        print(f"{name}: {verb}")
    if not stale:
        print(f"{len(paths)} notebooks: Colab cell up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
