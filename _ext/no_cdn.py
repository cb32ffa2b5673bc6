"""Sphinx extension: drop sphinx-thebe's scripts from every page.

Jupyter Book 1 always loads sphinx-thebe, which writes a ``<script>`` naming thebe on
a CDN into every page (twice in incremental builds, which also raises a JavaScript
"already declared" error). This book offers Binder and Colab launch buttons, not
in-page live code, so the scripts are removed and the site makes no request to a CDN.
"""


def drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [
            s for s in scripts
            if "THEBE_JS_URL" not in str(getattr(s, "attributes", {}).get("body", ""))
            and "sphinx-thebe" not in str(s)
        ]


def setup(app):
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
