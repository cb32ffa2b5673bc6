"""Sphinx extension: the ``equation-index`` directive.

Renders :data:`rnnlib.equations.EQUATIONS` (the registry kept next to the code) as a
table: each equation number links to its derivation in a chapter, followed by the
formula, the chapter's title, the ``rnnlib`` functions that implement it (linked to
the API reference) and the tests that check it. Nothing in the table is typed by
hand, and with ``nitpicky`` a broken link fails the build.
"""

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective


class equation_doc(nodes.Inline, nodes.TextElement):
    """Placeholder for "the chapter that defines label", filled in after reading."""


class EquationIndex(SphinxDirective):
    has_content = False

    def run(self):
        from rnnlib.equations import EQUATIONS, OUT_OF_SCOPE

        self.env.note_dependency(__import__("rnnlib.equations").equations.__file__)
        table = nodes.table(classes=["equation-index", "colwidths-given"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (42, 20, 38):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self.row(["Equation", "Derived in", "Implemented by · tested by"])
        body = nodes.tbody()
        group += body
        numbers = sorted(list(EQUATIONS) + list(OUT_OF_SCOPE),
                         key=lambda n: tuple(int(k) for k in n.split(".")))
        for number in numbers:
            if number in OUT_OF_SCOPE:
                body += self.row([nodes.paragraph(text=f"({number})"),
                                  nodes.emphasis(text="not covered"),
                                  OUT_OF_SCOPE[number]])
                continue
            eq = EQUATIONS[number]
            ref = addnodes.pending_xref("", refdomain="math", reftype="eq",
                                        reftarget=eq.label, refexplicit=False,
                                        refwarn=True)
            ref += nodes.literal(text=number)
            formula = nodes.paragraph("", "", ref, nodes.Text(" "),
                                      nodes.math(eq.latex, eq.latex))
            code = nodes.paragraph()
            for i, name in enumerate(eq.functions):
                if i:
                    code += nodes.Text(", ")
                xref = addnodes.pending_xref("", refdomain="py", reftype="func",
                                             reftarget=name, refexplicit=False,
                                             refwarn=True)
                xref += nodes.literal(text=name.replace("rnnlib.", "", 1) + "()")
                code += xref
            tests = nodes.paragraph("", "tests: ")
            for i, test in enumerate(eq.tests):
                if i:
                    tests += nodes.Text(", ")
                tests += nodes.literal(text=test.split("::")[-1])
            cell = nodes.container("", code, tests)
            body += self.row([formula, equation_doc(label=eq.label), cell])
        return [table]

    @staticmethod
    def row(cells):
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            if isinstance(cell, str):
                cell = nodes.paragraph(text=cell)
            elif not isinstance(cell, (nodes.paragraph, nodes.container)):
                cell = nodes.paragraph("", "", cell)
            entry += cell
            row += entry
        return row


def resolve_equation_docs(app, doctree, fromdocname):
    equations = app.env.get_domain("math").equations
    for node in list(doctree.findall(equation_doc)):
        label = node["label"]
        if label not in equations:
            from sphinx.util import logging

            logging.getLogger(__name__).warning(
                f"equation-index: no chapter defines {label}", location=node)
            node.replace_self(nodes.Text("?"))
            continue
        docname = equations[label][0]
        ref = nodes.reference("", "", internal=True,
                              refuri=app.builder.get_relative_uri(fromdocname, docname)
                              + "#" + nodes.make_id("equation-" + label))
        ref += nodes.Text(app.env.titles[docname].astext())
        node.replace_self(ref)


def setup(app):
    app.add_node(equation_doc)
    app.add_directive("equation-index", EquationIndex)
    app.connect("doctree-resolved", resolve_equation_docs)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
