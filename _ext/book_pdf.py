"""Sphinx extension: the PDF of the whole book.

- On every HTML page, the theme's download menu gets a link to ``book.pdf`` (the
  whole book, built by ``make pdf`` / ``make book`` into the site's root) in place
  of the theme's "print this page" entry, which stays below it.
- In the single-page build that the PDF is printed from (``--builder singlehtml``),
  ``print-fit.js`` shrinks display equations wider than the text column so that
  none is cut off or printed with a scrollbar; the print rules are in
  ``_static/custom.css``.
"""

from pathlib import Path

PDF_NAME = "book.pdf"
STATIC = Path(__file__).parent / "static"


def add_pdf_link(app, pagename, templatename, context, doctree):
    if app.builder.name != "html":
        return
    pathto = context["pathto"]
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        buttons = group["buttons"]
        for b in buttons:
            if b.get("label") == "download-pdf-button":
                b["text"] = "print page"
                b["tooltip"] = "Print this page (or save it as PDF)"
                b["icon"] = "fas fa-print"
        buttons.insert(
            0,
            {
                "type": "link",
                "url": pathto(PDF_NAME, 1),
                "text": "book .pdf",
                "tooltip": "Download the whole book as a PDF",
                "icon": "fas fa-file-pdf",
                "label": "download-book-pdf-button",
            },
        )


def prepare_singlehtml(app):
    if app.builder.name == "singlehtml":
        # Sphinx looks up node visitors by builder name, and extensions (Jupyter
        # Book's hidden cells, togglebuttons, ...) register theirs for "html" only:
        # as soon as any extension registers one for "singlehtml", the others are
        # missing and the build fails. Give singlehtml every html visitor it lacks.
        handlers = app.registry.translation_handlers
        single = handlers.setdefault("singlehtml", {})
        for node, visitors in handlers.get("html", {}).items():
            single.setdefault(node, visitors)
        app.config.html_static_path.append(str(STATIC))
        app.add_js_file("print-fit.js")
        app.add_css_file("print.css")


def setup(app):
    app.connect("builder-inited", prepare_singlehtml)
    # after sphinx-book-theme has built its header buttons (priority 501)
    app.connect("html-page-context", add_pdf_link, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
