"""Write a student version of the chapters: the same notebooks without solutions.

Usage:  python tools/student_version.py OUT_DIR [--keep-outputs] [--chapters DIR]

Cells tagged ``solution`` (the solution-start/-end markers and the solution code)
are removed; exercises stay. Outputs are cleared unless --keep-outputs is given,
so students run the notebooks themselves. The result still executes top to
bottom (the test suite checks this), because no later cell uses a solution's
variables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TAG = "solution"


def strip_solutions(nb, keep_outputs: bool = False):
    """Return ``nb`` without cells tagged ``solution``; outputs cleared by default."""
    nb.cells = [c for c in nb.cells if TAG not in c.get("metadata", {}).get("tags", [])]
    if not keep_outputs:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
    return nb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path, help="folder for the student notebooks")
    ap.add_argument("--chapters", type=Path, default=ROOT / "chapters",
                    help="folder of the instructor notebooks (default: %(default)s)")
    ap.add_argument("--keep-outputs", action="store_true",
                    help="keep the outputs of the remaining cells")
    args = ap.parse_args(argv)
    sources = sorted(args.chapters.glob("*.ipynb"))
    if not sources:
        print(f"error: no notebooks in {args.chapters}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for src in sources:
        nb = strip_solutions(nbformat.read(src, as_version=4), args.keep_outputs)
        nbformat.write(nb, args.out_dir / src.name)
        print(f"{src.name}: wrote {args.out_dir / src.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
