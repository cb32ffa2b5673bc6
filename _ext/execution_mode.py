"""Sphinx extension: choose per build whether notebooks are executed.

``_config.yml`` says ``execute_notebooks: force``, so a plain ``jupyter-book build``
always shows outputs that match the current ``rnnlib``. The environment variable
``BOOK_EXECUTE_NOTEBOOKS`` overrides it for one build without a second config file:

- ``off``: render the outputs committed in the notebooks. ``make test`` uses it,
  because strict nbval in the same run already proves those outputs are current,
  so each notebook is executed once per test run, not once per builder.
- ``cache``: execute into ``_build/.jupyter_cache`` and reuse the results in a
  later build. ``make book`` clears the cache, builds the HTML (executing every
  notebook) and then the single-page HTML for the PDF from the same results.
"""

import os

VARIABLE = "BOOK_EXECUTE_NOTEBOOKS"
MODES = ("off", "force", "cache", "auto", "inline")


def override_mode(app, config):
    mode = os.environ.get(VARIABLE, "").strip()
    if not mode:
        return
    if mode not in MODES:
        raise ValueError(f"{VARIABLE} must be one of {', '.join(MODES)}; got {mode!r}")
    config.nb_execution_mode = mode


def setup(app):
    app.connect("config-inited", override_mode, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
