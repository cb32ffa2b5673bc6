"""Sphinx extension: the ``equation-index`` directive.

Renders :data:`rnnlib.equations.EQUATIONS` (the registry kept next to the code) as a
table: each equation number links to its derivation in a chapter, followed by the
formula, the chapter's title, the ``rnnlib`` function that implements it, printed as
a reader types it (``rnnlib.grad_V()``) and linked to the API reference, and the
tests that check it: those marked ``@pytest.mark.equation("10.NN")`` in
``tests/test_*.py``. Nothing in the table is typed by hand, and with ``nitpicky`` a
broken link fails the build.
"""

import ast
from collections import defaultdict
from pathlib import Path

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
        tested_by = marked_tests(TESTS)
        for path in sorted(TESTS.glob("test_*.py")):
            self.env.note_dependency(str(path))
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
            # Shown and linked as a reader types it (rnnlib.grad_V), which is
            # how pages/api.md documents it.
            xref = addnodes.pending_xref("", refdomain="py", reftype="func",
                                         reftarget=eq.qualname, refexplicit=True,
                                         refwarn=True)
            xref += nodes.literal(text=eq.qualname + "()")
            code = nodes.paragraph("", "", xref)
            tests = nodes.paragraph("", "tests: ")
            for i, test in enumerate(tested_by.get(number, [])):
                if i:
                    tests += nodes.Text(", ")
                tests += nodes.literal(text=test)
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


TESTS = Path(__file__).resolve().parents[1] / "tests"


def marked_tests(tests_dir: Path) -> dict[str, list[str]]:
    """``{"10.24": ["test_grad_V_matches_hand_computed_case", ...]}``: the test
    functions in ``tests_dir/test_*.py`` decorated with
    ``pytest.mark.equation("10.24", ...)``, in file order."""
    out = defaultdict(list)
    for path in sorted(tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call)
                        and ast.unparse(deco.func) == "pytest.mark.equation"):
                    for arg in deco.args:
                        out[ast.literal_eval(arg)].append(node.name)
    return dict(out)


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
