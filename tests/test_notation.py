"""The book-notation printer and evaluator (rnnlib.notation, rnnlib.forms).

The expected LaTeX strings below are typed from the book's typeset equations (with the
corrected 10.21), independently of the printer: a printer change that alters a
displayed equation fails here, and nbval catches it again in the chapters' stored
outputs.
"""

import pytest
import sympy as sp

from rnnlib import forms as F
from rnnlib.notation import Diag, Grad, Seq, TimeSum, book_latex, evaluate

BOOK = {
    "10.8": r"a^{(t)} = b + W h^{(t-1)} + U x^{(t)}",
    "10.9": r"h^{(t)} = \tanh\big(a^{(t)}\big)",
    "10.10": r"o^{(t)} = c + V h^{(t)}",
    "10.11": r"\hat{y}^{(t)} = \operatorname{softmax}\big(o^{(t)}\big)",
    "10.12": r"L\big(\{x^{(1)},\dots,x^{(\tau)}\},\{y^{(1)},\dots,y^{(\tau)}\}\big)",
    "10.13": r"= \sum_{t} L^{(t)}",
    "10.14": r"= - \sum_{t} \log p_{\text{model}}\big(y^{(t)} \mid "
             r"\{x^{(1)},\dots,x^{(t)}\}\big)",
    "10.17": r"\frac{\partial L}{\partial L^{(t)}} = 1",
    "10.18": r"\big(\nabla_{o^{(t)}} L\big)_{i} = \hat{y}_{i}^{(t)}"
             r" - \mathbf{1}_{i=y^{(t)}}",
    "10.19": r"\nabla_{h^{(\tau)}} L = V^\top (\nabla_{o^{(\tau)}} L)",
    "10.20": r"\nabla_{h^{(t)}} L = \Big(\frac{\partial h^{(t+1)}}{\partial h^{(t)}}"
             r"\Big)^\top (\nabla_{h^{(t+1)}} L) + \Big(\frac{\partial o^{(t)}}"
             r"{\partial h^{(t)}}\Big)^\top (\nabla_{o^{(t)}} L)",
    "10.21": r"\nabla_{h^{(t)}} L = W^\top \operatorname{diag}"
             r"\big(1 - (h^{(t+1)})^{2}\big) (\nabla_{h^{(t+1)}} L)"
             r" + V^\top (\nabla_{o^{(t)}} L)",
    "10.22": r"\nabla_{c} L = \sum_{t} \nabla_{o^{(t)}} L",
    "10.23": r"\nabla_{b} L = \sum_{t} \operatorname{diag}\big(1 - (h^{(t)})^{2}\big)"
             r" (\nabla_{h^{(t)}} L)",
    "10.24": r"\nabla_{V} L = \sum_{t} (\nabla_{o^{(t)}} L) h^{(t)\top}",
    "10.25": r"\nabla_{W} L = \sum_{t} \sum_{i} \frac{\partial L}{\partial h_{i}^{(t)}}"
             r" (\nabla_{W^{(t)}} h_{i}^{(t)})",
    "10.26": r"\nabla_{W} L = \sum_{t} \operatorname{diag}\big(1 - (h^{(t)})^{2}\big)"
             r" (\nabla_{h^{(t)}} L) h^{(t-1)\top}",
    "10.27": r"\nabla_{U} L = \sum_{t} \sum_{i} \frac{\partial L}{\partial h_{i}^{(t)}}"
             r" (\nabla_{U^{(t)}} h_{i}^{(t)})",
    "10.28": r"\nabla_{U} L = \sum_{t} \operatorname{diag}\big(1 - (h^{(t)})^{2}\big)"
             r" (\nabla_{h^{(t)}} L) x^{(t)\top}",
    # §10.7; 10.39 in the form that follows from 10.37-10.38 (the book prints
    # Q^\top \Lambda^t Q h^{(0)}; chapter "Long-term dependencies" shows the difference)
    "10.36": r"h^{(t)} = W^\top h^{(t-1)}",
    "10.37": r"h^{(t)} = (W^{t})^\top h^{(0)}",
    "10.38": r"W = Q \Lambda Q^\top",
    "10.39": r"h^{(t)} = Q \Lambda^{t} Q^\top h^{(0)}",
    # LSTM (§10.10.1), index form as the book prints it, 10.41 with σ around the cell
    # input (the standard LSTM's tanh: LSTM_STANDARD_10_41 below)
    "10.40": r"f_{i}^{(t)} = \sigma\big(b^{f}_{i} + \sum_{j} U^{f}_{i,j} x_{j}^{(t)}"
             r" + \sum_{j} W^{f}_{i,j} h_{j}^{(t-1)}\big)",
    "10.41": r"s_{i}^{(t)} = f_{i}^{(t)} s_{i}^{(t-1)} + g_{i}^{(t)} \sigma\big(b_{i}"
             r" + \sum_{j} U_{i,j} x_{j}^{(t)} + \sum_{j} W_{i,j} h_{j}^{(t-1)}\big)",
    "10.42": r"g_{i}^{(t)} = \sigma\big(b^{g}_{i} + \sum_{j} U^{g}_{i,j} x_{j}^{(t)}"
             r" + \sum_{j} W^{g}_{i,j} h_{j}^{(t-1)}\big)",
    "10.43": r"h_{i}^{(t)} = \tanh\big(s_{i}^{(t)}\big) q_{i}^{(t)}",
    "10.44": r"q_{i}^{(t)} = \sigma\big(b^{o}_{i} + \sum_{j} U^{o}_{i,j} x_{j}^{(t)}"
             r" + \sum_{j} W^{o}_{i,j} h_{j}^{(t-1)}\big)",
    # §10.11.1: one rule printed over two numbers, its test and its update
    "10.48": r"\text{if } \lVert g \rVert > v",
    "10.49": r"g \leftarrow \frac{g v}{\lVert g \rVert}",
    # §10.2.1, teacher forcing: one equation over two numbers, p as the book writes it
    "10.15": r"\log p\big(y^{(1)},y^{(2)} \mid x^{(1)},x^{(2)}\big)",
    "10.16": r"= \log p\big(y^{(2)} \mid y^{(1)},x^{(1)},x^{(2)}\big)"
             r" + \log p\big(y^{(1)} \mid x^{(1)},x^{(2)}\big)",
}


def test_every_form_has_an_expected_printed_form():
    assert set(BOOK) == set(F.FORMS)


@pytest.mark.parametrize("number", sorted(BOOK))
def test_form_prints_as_the_book(number):
    assert F.latex(number) == BOOK[number]


def test_display_tags_the_book_number():
    latex = F.display("10.24")._repr_latex_()
    assert latex == r"$\displaystyle " + BOOK["10.24"] + r" \tag{10.24}$"


t, H = sp.Symbol("t"), sp.Symbol("H")


@pytest.mark.parametrize("expr, latex", [
    (Seq("h", t - 1, H), r"h^{(t-1)}"),
    (Seq("h", t - 1, H).T, r"h^{(t-1)\top}"),
    (Seq("yhat", 3, H), r"\hat{y}^{(3)}"),
    (Grad(Seq("h", t, H)), r"\nabla_{h^{(t)}} L"),
    (Diag(Seq("h", t, H)), r"\operatorname{diag}\big(h^{(t)}\big)"),
    (sp.HadamardProduct(Seq("h", t, H), Seq("a", t, H)), r"h^{(t)} \odot a^{(t)}"),
    (TimeSum(Seq("h", t, H), t), r"\sum_{t} h^{(t)}"),
])
def test_printer_pieces(expr, latex):
    assert book_latex(expr) == latex


# -------------------------------------------------------------- evaluate


def _vec(name, n):
    return sp.Matrix(n, 1, lambda r, _: sp.Symbol(f"{name}_{r}"))


def _values(n=2, tau=2):
    Wm = sp.Matrix(n, n, lambda r, q: sp.Symbol(f"W_{r}{q}"))
    vals = {F.W: Wm}
    for s in range(tau + 1):
        vals[F.h(s)] = _vec(f"h{s}", n)
        vals[Grad(F.h(s))] = _vec(f"g{s}", n)
    return vals, Wm


def test_evaluate_expands_10_26_to_the_explicit_sum():
    vals, _ = _values()
    got = evaluate(F.FORMS["10.26"].rhs, vals, times=range(1, 3))
    want = sp.zeros(2, 2)
    for s in (1, 2):
        h, g, hp = vals[F.h(s)], vals[Grad(F.h(s))], vals[F.h(s - 1)]
        want += sp.diag(*[1 - h[k] ** 2 for k in range(2)]) * g * hp.T
    assert sp.expand(got - want) == sp.zeros(2, 2)


@pytest.mark.parametrize("corrupt", [
    # shifted time index, dropped transpose's partner, flipped sign
    lambda: TimeSum(Diag(F.dtanh(F.h(t))) * Grad(F.h(t)) * F.h(t).T, t),
    lambda: TimeSum(Diag(F.dtanh(F.h(t))) * Grad(F.h(t)) * F.h(t - 1).T * -1, t),
    lambda: TimeSum(Grad(F.h(t)) * F.h(t - 1).T, t),
])
def test_evaluate_tells_a_corrupted_10_26_apart(corrupt):
    vals, _ = _values()
    good = evaluate(F.FORMS["10.26"].rhs, vals, times=range(1, 3))
    bad = evaluate(corrupt().xreplace({t: F.t}), vals, times=range(1, 3))
    assert sp.expand(good - bad) != sp.zeros(2, 2)


def test_evaluate_names_a_missing_value():
    with pytest.raises(KeyError, match="W"):
        evaluate(F.W * F.h(1), {F.h(1): _vec("h", 2)})


# -------------------------------------------------------------- exercise.check


def test_exercise_check_passes_fails_and_reports_stubs(capsys):
    import numpy as np

    from rnnlib.exercise import check

    def ref(v):
        return 2 * v

    cases = [(np.arange(3.0),), (np.ones((2, 2)),)]
    assert check(ref, cases, {"double": (ref, 1e-12)}, name="f")
    assert capsys.readouterr().out.splitlines()[-1] == "f: all checks passed"
    assert not check(lambda v: 2 * v + 1e-3, cases, {"double": (ref, 1e-12)})
    assert "FAIL  double: relative error" in capsys.readouterr().out
    assert not check(lambda v: v[:1], cases, {"double": (ref, 1e-12)})
    assert "returned shape (1,), expected (3,)" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_exercise_check_fails_non_finite_output(bad, capsys):
    import numpy as np

    from rnnlib.exercise import check

    assert not check(lambda v: v * bad, [(np.ones(3),)], {"id": (lambda v: v, 1e-6)})
    assert "FAIL" in capsys.readouterr().out


def test_exercise_check_says_not_implemented_without_raising(capsys):
    from rnnlib.exercise import check

    def stub(v):
        raise NotImplementedError

    assert not check(stub, [(1.0,)], {"id": (lambda v: v, 1e-6)})
    assert "stub: not implemented yet" in capsys.readouterr().out


def test_evaluate_fills_in_scalar_factors_of_the_copies_form_10_25():
    n, tau = 2, 1
    form = F.FORMS["10.25"].rhs.xreplace({F.H: n})
    from rnnlib.notation import Entry, Partial

    sized = {F.H: n}  # the leaves as they appear in the form once sizes are given
    vals, want = {}, sp.zeros(n, n)
    for k in range(n):
        hi = Entry(F.h(1), k).xreplace(sized)
        J = sp.Matrix(n, n, lambda r, q, k=k: sp.Symbol(f"J{k}_{r}{q}"))
        vals[Partial(F.L, hi)] = sp.Symbol(f"p{k}")
        vals[Grad(F.copy(F.W, 1), hi).xreplace(sized)] = J
        want += sp.Symbol(f"p{k}") * J
    got = evaluate(form, vals, times=range(1, tau + 1))
    assert sp.expand(got - want) == sp.zeros(n, n)


def test_evaluate_asks_for_a_concrete_size_of_an_index_sum():
    with pytest.raises(ValueError, match="needs a concrete size"):
        evaluate(F.FORMS["10.25"].rhs, {}, times=range(1, 2))

# ------------------------------------------------- §10.7: powers, products, norms


def test_jacobian_product_prints_as_typed():
    assert book_latex(F.JACOBIAN_PRODUCT) == (
        r"\frac{\partial h^{(\tau)}}{\partial h^{(t)}} = \prod_{k=t+1}^{\tau} "
        r"\operatorname{diag}\big(1 - (h^{(k)})^{2}\big) W")


def test_jacobian_bound_prints_as_typed():
    assert F.latex_bound() == (
        r"\lVert \frac{\partial h^{(\tau)}}{\partial h^{(t)}} \rVert \le "
        r"\prod_{k=t+1}^{\tau} \lVert \operatorname{diag}\big(1 - (h^{(k)})^{2}\big)"
        r" \rVert \lVert W \rVert \le \lVert W \rVert^{\tau - t}")


@pytest.mark.parametrize("expr, latex", [
    (sp.MatPow(sp.MatrixSymbol("W", H, H), t), r"W^{t}"),
    (sp.Transpose(sp.MatPow(sp.MatrixSymbol("W", H, H), t)), r"(W^{t})^\top"),
    (sp.MatPow(sp.MatrixSymbol("Lambda", H, H), t - 1), r"\Lambda^{t - 1}"),
])
def test_printer_powers(expr, latex):
    assert book_latex(expr) == latex


def test_evaluate_takes_a_symbolic_power_of_a_diagonal_matrix():
    n = sp.Symbol("n", integer=True, nonnegative=True)
    l1, l2 = sp.symbols("l1 l2")
    got = evaluate(F.FORMS["10.39"].rhs.xreplace({F.t: n}),
                   {F.Q: sp.eye(2), F.Lam: sp.diag(l1, l2), F.h(0): _vec("h", 2)})
    assert got == sp.Matrix([l1**n * sp.Symbol("h_0"), l2**n * sp.Symbol("h_1")])


def test_evaluate_orders_a_time_product_latest_first():
    vals, Wm = _values(n=2, tau=3)
    got = evaluate(F.JACOBIAN_PRODUCT.rhs.xreplace({F.t: 0, F.tau: 2}), vals)
    D = [sp.diag(*[1 - vals[F.h(s)][r] ** 2 for r in range(2)]) for s in (1, 2)]
    assert sp.expand(got - D[1] * Wm * D[0] * Wm) == sp.zeros(2, 2)
    assert sp.expand(got - D[0] * Wm * D[1] * Wm) != sp.zeros(2, 2)


# ---------------------------------------------------------------- LSTM (§10.10.1)


def test_standard_lstm_state_update_squashes_the_cell_input_with_tanh():
    assert book_latex(F.LSTM_STANDARD_10_41) == (
        r"s_{i}^{(t)} = f_{i}^{(t)} s_{i}^{(t-1)} + g_{i}^{(t)} \tanh\big(b_{i}"
        r" + \sum_{j} U_{i,j} x_{j}^{(t)} + \sum_{j} W_{i,j} h_{j}^{(t-1)}\big)")


def test_standard_gru_forms_print_as_cho_et_al():
    """Cho et al.'s GRU, displayed in chapter "Gated recurrent units" next to the
    printed 10.45-10.47: gates from x^(t) and h^(t-1), a tanh candidate."""
    assert [book_latex(f) for f in F.GRU_STANDARD] == [
        r"u^{(t)} = \sigma\big(b^{u} + U^{u} x^{(t)} + W^{u} h^{(t-1)}\big)",
        r"r^{(t)} = \sigma\big(b^{r} + U^{r} x^{(t)} + W^{r} h^{(t-1)}\big)",
        r"\tilde{h}^{(t)} = \tanh\big(b + U x^{(t)} + W \big(r^{(t)} \odot h^{(t-1)}"
        r"\big)\big)",
        r"h^{(t)} = u^{(t)} \odot h^{(t-1)} + \big(1 - u^{(t)}\big) \odot"
        r" \tilde{h}^{(t)}",
    ]
    assert F.latex_lines(F.GRU_STANDARD[:2]) == (
        r"\begin{gathered}" + book_latex(F.GRU_STANDARD[0]) + r" \\ "
        + book_latex(F.GRU_STANDARD[1]) + r"\end{gathered}")


def test_lstm_index_form_evaluates_to_the_entries_of_explicit_matrices():
    from rnnlib.notation import Component, ScalarIndexSum, Sigmoid

    Um = sp.Matrix([[1, 2, 3], [4, 5, 6]])
    xs = sp.Matrix([7, 8, 9])
    assert Component(Um, 1, 2) == 6
    assert ScalarIndexSum(Component(Um, 1, F.j), F.j, 3) == 4 + 5 + 6
    symbolic = ScalarIndexSum(Component(Um, 1, F.j), F.j, F.n_in)
    assert symbolic.xreplace({F.n_in: 2}) == 4 + 5
    form = F.FORMS["10.40"].rhs.xreplace({F.H: 2, F.n_in: 3}).xreplace({F.i: 1})
    Uf, Wf, bf = (sp.MatrixSymbol(n, *shape) for n, shape in
                  (("U^f", (2, 3)), ("W^f", (2, 2)), ("b^f", (2, 1))))
    values = {Uf: Um, Wf: sp.Matrix([[1, -1], [2, 5]]), bf: sp.Matrix([10, 20]),
              Seq("x", F.t, 3): xs, Seq("h", F.t - 1, 2): sp.Matrix([1, 2])}
    got = evaluate(form, values)
    assert got == Sigmoid(20 + 4 * 7 + 5 * 8 + 6 * 9 + 2 * 1 + 5 * 2)
    assert sp.diff(Sigmoid(F.t), F.t) == Sigmoid(F.t) * (1 - Sigmoid(F.t))
    assert sp.simplify(Sigmoid(F.t).rewrite(sp.exp) - 1 / (1 + sp.exp(-F.t))) == 0


# -------------------------------------------------------------- §10.10, the GRU
# (10.45)-(10.47) as the book prints them (in vector form; the book writes them entry
# by entry): σ on the candidate, gates and input at t-1 in (10.45).

BOOK.update({
    "10.45": r"h^{(t)} = u^{(t-1)} \odot h^{(t-1)} + \big(1 - u^{(t-1)}\big) \odot "
             r"\sigma\big(b + U x^{(t-1)} + W \big(r^{(t-1)} \odot h^{(t-1)}\big)\big)",
    "10.46": r"u^{(t)} = \sigma\big(b^{u} + U^{u} x^{(t)} + W^{u} h^{(t)}\big)",
    "10.47": r"r^{(t)} = \sigma\big(b^{r} + U^{r} x^{(t)} + W^{r} h^{(t)}\big)",
})


@pytest.mark.parametrize("number", ["10.45", "10.46", "10.47"])
def test_gru_form_prints_as_the_book(number):
    assert F.latex(number) == BOOK[number]


def test_sigmoid_prints_as_sigma_and_evaluates_entrywise():
    from rnnlib.notation import ElementwiseSigmoid as Sigmoid

    v = Seq("a", t, H)
    assert book_latex(Sigmoid(v)) == r"\sigma\big(a^{(t)}\big)"
    a0, a1 = sp.symbols("a0 a1")
    got = evaluate(Sigmoid(v), {v: sp.Matrix([a0, a1])})
    assert got == sp.Matrix([1 / (1 + sp.exp(-a0)), 1 / (1 + sp.exp(-a1))])
    # SymPy rebuilds it from its args (xreplace) without losing the function
    moved = Sigmoid(v).xreplace({t: 2})
    assert isinstance(moved, Sigmoid)
    assert book_latex(moved) == r"\sigma\big(a^{(2)}\big)"


def test_hadamard_product_is_parenthesised_as_a_factor():
    W = sp.MatrixSymbol("W", H, H)
    prod = sp.MatMul(W, sp.HadamardProduct(Seq("r", t, H), Seq("h", t, H)),
                     evaluate=False)
    assert book_latex(prod) == r"W \big(r^{(t)} \odot h^{(t)}\big)"


def test_evaluate_of_10_45_is_the_printed_gru_step():
    """FORMS["10.45"] at t = 1 on 2 units, entry by entry as the book prints it:
    h_i = u_i h_i + (1 - u_i) σ(b_i + Σ_j U_ij x_j + Σ_j W_ij r_j h_j), all at t-1."""
    n = 2
    Wm = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"W_{i}{j}"))
    Um = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"U_{i}"))
    bm, hm, um, rm = (_vec(s, n) for s in ("b", "h", "u", "r"))
    xm = sp.Matrix([[sp.Symbol("x")]])
    sub = {F.H: n, F.n_in: 1}
    form = F.FORMS["10.45"].rhs.xreplace({F.t: 1}).xreplace(sub)
    vals = {F.W.xreplace(sub): Wm, F.U.xreplace(sub): Um, F.b.xreplace(sub): bm,
            F.h(0).xreplace(sub): hm, F.u(0).xreplace(sub): um,
            F.r(0).xreplace(sub): rm, F.x(0).xreplace(sub): xm}
    got = evaluate(form, vals)
    for i in range(n):
        a = bm[i] + Um[i] * xm[0] + sum(Wm[i, j] * rm[j] * hm[j] for j in range(n))
        want = um[i] * hm[i] + (1 - um[i]) / (1 + sp.exp(-a))
        assert sp.expand(got[i] - want) == 0


# ------------------------------------------ §10.11.1: the clipping rule (10.48)-(10.49)


def test_clipping_forms_evaluate_to_the_explicit_rule():
    from rnnlib.notation import IfClause, Update, VectorNorm

    g1, g2, g3 = sp.symbols("g1 g2 g3", real=True)
    gs = sp.Matrix([g1, g2, g3])
    vals = {F.g: gs, F.v: F.v}
    norm = sp.sqrt(g1**2 + g2**2 + g3**2)  # typed here, not taken from the form
    assert isinstance(F.FORMS["10.48"], IfClause)
    assert isinstance(F.FORMS["10.49"], Update) and F.FORMS["10.49"].lhs == F.g
    cond = evaluate(F.FORMS["10.48"].condition, vals)
    assert cond == sp.StrictGreaterThan(norm, F.v)
    rule = evaluate(F.FORMS["10.49"].rhs, vals)
    assert sp.expand(rule - gs * F.v / norm) == sp.zeros(3, 1)
    assert VectorNorm(sp.Matrix([3, 4])) == 5


def test_clipping_printer_pieces():
    from rnnlib.notation import IfClause, Rescale, Update, VectorNorm

    x = sp.MatrixSymbol("x", H, 1)
    c = sp.Symbol("c")
    assert book_latex(Rescale(x, c, VectorNorm(x))) == (
        r"\frac{x c}{\lVert x \rVert}")
    assert book_latex(IfClause(sp.StrictGreaterThan(c, 1))) == r"\text{if } c > 1"
    assert book_latex(Update(x, 2 * x)) == r"x \leftarrow 2 x"
