"""Sphinx extension: serve MathJax 3 from the built site, never from a CDN.

The MathJax files come from the PyPI package ``sphinx-mathjax-offline`` (pinned in
requirements.txt), so ``make book`` needs no npm and the site renders math with no
network access. Only what ``tex-chtml.js`` loads is copied (about 2 MB):
the combined component, the TeX extensions it may load on demand, and the CHTML
web fonts. The files are copied after the build, into ``_static/mathjax``, rather
than placed in a source ``_static/`` folder, because Jupyter Book adds every
``.js`` file found there as a script tag on every page.
"""

import importlib.util
import shutil
from pathlib import Path

FILES = ["tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2"]
TARGET = "mathjax"  # under _static/
PACKAGE = "sphinx-mathjax-offline"


def mathjax_source() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"{PACKAGE} is not installed: run `make book` (pinned in "
            "requirements.txt) or `pip install sphinx-mathjax-offline`"
        )
    return Path(spec.origin).parent / "static" / "mathjax"


def copy_mathjax(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    src, dst = mathjax_source(), Path(app.outdir) / "_static" / TARGET
    for rel in FILES:
        if (src / rel).is_dir():
            shutil.copytree(src / rel, dst / rel, dirs_exist_ok=True)
        else:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, dst / rel)


def setup(app):
    mathjax_source()  # fail early, with the fix, if the package is missing
    app.config.mathjax_path = f"{TARGET}/tex-chtml.js"
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
