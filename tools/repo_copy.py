"""Copy the repository as a fresh clone would see it, into a new git repository.

Usage:  python tools/repo_copy.py DEST [--branch NAME]

Copies every file git would publish from the working tree (tracked files and new
files that are not ignored, with their current content, so uncommitted edits are
tested too) to DEST and commits them there on one branch. Nothing built or
installed (``.venv``, ``_build``, caches) comes along. The launch tests use it as
"a clone": Binder builds its environment from it, and Colab's ``pip install
git+file://DEST@BRANCH`` installs rnnlib from it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT_ID = ["-c", "user.name=repo_copy", "-c", "user.email=repo_copy@localhost"]


def publishable_files(root: Path = ROOT) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, check=True, capture_output=True,
    ).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def copy_repo(dest: Path, branch: str = "main", root: Path = ROOT) -> Path:
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} exists and is not empty")
    for rel in publishable_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    git = ["git", *GIT_ID]
    subprocess.run([*git, "init", "-q", "-b", branch], cwd=dest, check=True)
    subprocess.run([*git, "add", "-A"], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "copy"], cwd=dest, check=True)
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dest", type=Path)
    ap.add_argument("--branch", default="main")
    args = ap.parse_args(argv)
    copy_repo(args.dest, args.branch)
    print(f"copied {len(publishable_files())} files to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
