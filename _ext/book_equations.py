"""Sphinx extension: number labelled equations with the Deep Learning book's numbers.

A display equation labelled ``eq-10-21`` is shown as (10.21), and ``{eq}`eq-10-21```
anywhere in the book renders as "(10.21)" linking to it. Sphinx's own counter would
number equations 1, 2, 3 … per build, which cannot match the book. A ``\\tag{10.21}``
in the source (so the number also shows in Jupyter) is removed from the HTML,
where Sphinx prints the number instead. Requires ``math_numfig = False``.
"""

import re

from docutils import nodes

LABEL = re.compile(r"^eq-(\d+)-(\d+)$")
TAG = re.compile(r"\\tag\{[^}]*\}")


def number_book_equations(app, doctree):
    domain = app.env.get_domain("math")
    for node in doctree.findall(nodes.math_block):
        m = LABEL.match(node.get("label") or "")
        if not m:
            continue
        number = f"{m.group(1)}.{m.group(2)}"
        node["number"] = number
        domain.equations[node["label"]] = (app.env.docname, number)
        text = node.astext()
        if TAG.search(text):
            node.children = [nodes.Text(TAG.sub("", text))]


def check_config(app, config):
    if config.math_numfig:
        raise ValueError("book_equations needs math_numfig = False in _config.yml")


def setup(app):
    app.connect("config-inited", check_config)
    app.connect("doctree-read", number_book_equations)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
