"""The book's numbered equations (Deep Learning ch. 10: §10.2, §10.7, §10.10,
§10.11.1) as SymPy expressions.

One source for what the reader sees: each chapter proves its derivation equal to
the form held here (``expand(derived - evaluate(form.rhs, …)) == 0``) and displays
this form, printed by :func:`rnnlib.notation.book_latex`; the equation index prints
the same objects. Sizes ``H, n_in, n_out`` and the indices ``t, tau, i`` are SymPy
symbols; ``W, U, V, b, c`` are matrix symbols with the book's shapes; column vectors
as in the book (the code's rows are their transposes).

The convention: every equation is held as the book prints it (10.45-10.47 in vector
form, where the book writes them entry by entry), unless the printed form is wrong.
10.21 is held in its corrected form ``W^T diag(1-(h^(t+1))^2) ∇_{h^(t+1)} L + …``;
the book prints ``W^T (∇_{h^(t+1)} L) diag(1-(h^(t+1))^2)``, which chapter
"Back through time" quotes and shows to be ill-formed; 10.39 likewise (chapter
"Long-term dependencies"). Where the book prints a well-formed cell that differs from
the standard one (10.41, the LSTM's σ cell input; 10.45-10.47, the GRU's σ candidate
and gates at t-1), the printed form is held, the standard form is held next to it
(``LSTM_STANDARD_10_41``, ``GRU_STANDARD``) and displayed by the chapter too, and
rnnlib's function computes the standard cell by default, the printed one with
``variant="book"``.
"""

from __future__ import annotations

import sympy as sp

from .notation import (
    CondProb,
    Diag,
    Elementwise,
    Entry,
    Grad,
    IndexSum,
    Jacobian,
    Norm,
    Partial,
    Prob,
    Seq,
    SeqSet,
    Softmax,
    Step,
    TimeProduct,
    TimeSum,
    book_latex,
    one_minus_square,
)

t, tau, i = sp.symbols("t tau i", integer=True)
H, n_in, n_out = sp.symbols("H n_in n_out", integer=True, positive=True)
U = sp.MatrixSymbol("U", H, n_in)
W = sp.MatrixSymbol("W", H, H)
V = sp.MatrixSymbol("V", n_out, H)
b = sp.MatrixSymbol("b", H, 1)
c = sp.MatrixSymbol("c", n_out, 1)
L = sp.Symbol("L")


def x(s):
    """x^(s), the input at time s: (n_in × 1)."""
    return Seq("x", s, n_in)


def a(s):
    """a^(s), the pre-activation: (H × 1)."""
    return Seq("a", s, H)


def h(s):
    """h^(s), the hidden state: (H × 1)."""
    return Seq("h", s, H)


def o(s):
    """o^(s), the output logits: (n_out × 1)."""
    return Seq("o", s, n_out)


def yhat(s):
    """ŷ^(s), the predicted distribution: (n_out × 1)."""
    return Seq("yhat", s, n_out)


def y(s):
    """y^(s), the target class (a scalar index)."""
    return Step("y", s)


def Lt(s):
    """L^(s), the loss at step s (a scalar)."""
    return Step("L", s)


def copy(M, s):
    """M^(s): the copy of parameter M used only at step s (the book's W^(t), U^(t))."""
    return Seq(M.name, s, *M.shape)


def _add(*terms):
    return sp.MatAdd(*terms, evaluate=False)


def _eq(lhs, rhs):
    return sp.Eq(lhs, rhs, evaluate=False)


dtanh = one_minus_square  # 1 - h², the derivative of tanh written with its output

FORMS: dict[str, sp.Eq] = {
    "10.8": _eq(a(t), _add(b, W * h(t - 1), U * x(t))),
    "10.9": _eq(h(t), Elementwise(sp.tanh, a(t))),
    "10.10": _eq(o(t), _add(c, V * h(t))),
    "10.11": _eq(yhat(t), Softmax(o(t))),
    # 10.12-10.14 are one chain in the book: L(...) (10.12) = Σ L^(t) (10.13) = ...
    "10.12": sp.Function("L")(SeqSet("x", 1, tau), SeqSet("y", 1, tau)),
    "10.13": _eq(sp.Function("L")(SeqSet("x", 1, tau), SeqSet("y", 1, tau)),
                 TimeSum(Lt(t), t)),
    "10.14": _eq(TimeSum(Lt(t), t),
                 -TimeSum(sp.log(Prob(y(t), SeqSet("x", 1, t))), t)),
    "10.17": _eq(Partial(L, Lt(t)), sp.Integer(1)),
    "10.18": _eq(Entry(Grad(o(t)), i),
                 sp.Add(Entry(yhat(t), i), -sp.KroneckerDelta(i, y(t), evaluate=False),
                        evaluate=False)),
    "10.19": _eq(Grad(h(tau)), V.T * Grad(o(tau))),
    "10.20": _eq(Grad(h(t)), _add(Jacobian(h(t + 1), h(t)).T * Grad(h(t + 1)),
                                  Jacobian(o(t), h(t)).T * Grad(o(t)))),
    "10.21": _eq(Grad(h(t)), _add(W.T * Diag(dtanh(h(t + 1))) * Grad(h(t + 1)),
                                  V.T * Grad(o(t)))),
    "10.22": _eq(Grad(c), TimeSum(Grad(o(t)), t)),
    "10.23": _eq(Grad(b), TimeSum(Diag(dtanh(h(t))) * Grad(h(t)), t)),
    "10.24": _eq(Grad(V), TimeSum(Grad(o(t)) * h(t).T, t)),
    "10.25": _eq(Grad(W), TimeSum(IndexSum(
        Partial(L, Entry(h(t), i)) * Grad(copy(W, t), Entry(h(t), i)), i, H), t)),
    "10.26": _eq(Grad(W), TimeSum(Diag(dtanh(h(t))) * Grad(h(t)) * h(t - 1).T, t)),
    "10.27": _eq(Grad(U), TimeSum(IndexSum(
        Partial(L, Entry(h(t), i)) * Grad(copy(U, t), Entry(h(t), i)), i, H), t)),
    "10.28": _eq(Grad(U), TimeSum(Diag(dtanh(h(t))) * Grad(h(t)) * x(t).T, t)),
}


# §10.7, long-term dependencies: the linear recurrence without input and its powers.
# 10.39 is held in the form that follows from 10.37 and 10.38, Q Λ^t Q^T h^(0); the
# book prints Q^T Λ^t Q h^(0), which chapter "Long-term dependencies" quotes and shows
# to differ whenever Q is not symmetric.
k = sp.Symbol("k", integer=True)
Q = sp.MatrixSymbol("Q", H, H)
Lam = sp.MatrixSymbol("Lambda", H, H)
FORMS.update({
    "10.36": _eq(h(t), W.T * h(t - 1)),
    "10.37": _eq(h(t), sp.MatMul(sp.Transpose(sp.MatPow(W, t)), h(0), evaluate=False)),
    "10.38": _eq(W, Q * Lam * Q.T),
    "10.39": _eq(h(t), Q * sp.MatPow(Lam, t) * Q.T * h(0)),
})

# Not numbered in the book: the Jacobian over a distance τ - t of the tanh RNN
# (10.8)-(10.9), and its bound by products of spectral norms (§10.7; Pascanu et al.,
# 2013). Displayed from these forms, unnumbered.
JACOBIAN_PRODUCT = _eq(Jacobian(h(tau), h(t)),
                       TimeProduct(Diag(dtanh(h(k))) * W, k, t + 1, tau))
JACOBIAN_BOUND = (
    Norm(Jacobian(h(tau), h(t))),
    sp.Product(Norm(Diag(dtanh(h(k)))) * Norm(W), (k, t + 1, tau)),
    Norm(W) ** (tau - t),
)


def latex_bound() -> str:
    """``‖∂h^(τ)/∂h^(t)‖ ≤ Π_k ‖diag(1 - h^(k)²)‖ ‖W‖ ≤ ‖W‖^(τ-t)`` printed."""
    return r" \le ".join(book_latex(side) for side in JACOBIAN_BOUND)


# Lines that continue the chain of the equation before them print as "= rhs".
CONTINUED = {"10.13", "10.14"}


def latex(number: str) -> str:
    """The printed form of equation ``number`` (no ``$``, no tag)."""
    form = FORMS[number]
    if number in CONTINUED:
        return "= " + book_latex(form.rhs)
    return book_latex(form)


def display(number: str):
    """The equation as an IPython ``Math`` object tagged with the book's number."""
    from IPython.display import Math

    return Math(rf"{latex(number)} \tag{{{number}}}")


def glue_equation(number: str) -> None:
    """Show the printed equation and glue it under the key ``eq-10-NN`` (its label).

    A chapter calls this in a cell tagged ``remove-cell`` right after the markdown
    cell that places it with ``{glue:math}`` and ``:label: eq-10-NN``: Jupyter shows
    the equation as the cell's output, the website shows it in the text, and both
    are exactly what this module prints. nbval compares the stored LaTeX.
    """
    from .notebook import glue

    glue("eq-" + number.replace(".", "-"), display(number), display=True)


# ---------------------------------------------------------------- LSTM (§10.10.1)
# (10.40)-(10.44) in the book's index form, entry i of each vector, sums over j.
# The book names the output gate q but its parameters b^o, U^o, W^o; rnnlib's
# fields are bq, Uq, Wq. Like every well-formed equation, 10.41 is held as the book
# prints it, with σ around the cell input; LSTM_STANDARD_10_41 has the tanh of today's
# LSTM there (Gers et al.'s cell with its forget gate; PyTorch's nn.LSTM; Hochreiter &
# Schmidhuber, 1997, squashed with a sigmoid stretched to (-2, 2)), which rnnlib
# computes by default. Chapter "The LSTM" shows both and compares them.
from .notation import Component, ScalarIndexSum, Sigmoid  # noqa: E402

j = sp.Symbol("j", integer=True)
LSTM_PARAMS = {
    gate: (sp.MatrixSymbol(f"U{sup}", H, n_in), sp.MatrixSymbol(f"W{sup}", H, H),
           sp.MatrixSymbol(f"b{sup}", H, 1))
    for gate, sup in (("f", "^f"), ("g", "^g"), ("q", "^o"), ("", ""))
}


def lstm_affine(gate, s):
    """b_i + Σ_j U_{i,j} x_j^(s) + Σ_j W_{i,j} h_j^(s-1) for gate "f", "g", "q" or ""
    (the cell input), entry i."""
    Ug, Wg, bg = LSTM_PARAMS[gate]
    return sp.Add(Component(bg, i),
                  ScalarIndexSum(Component(Ug, i, j) * Entry(x(s), j), j, n_in),
                  ScalarIndexSum(Component(Wg, i, j) * Entry(h(s - 1), j), j, H),
                  evaluate=False)


def _lstm(name, s):
    return Entry(Seq(name, s, H), i)


LSTM_STANDARD_10_41 = _eq(_lstm("s", t), sp.Add(
    _lstm("f", t) * _lstm("s", t - 1),
    _lstm("g", t) * sp.tanh(lstm_affine("", t)), evaluate=False))

FORMS.update({
    "10.40": _eq(_lstm("f", t), Sigmoid(lstm_affine("f", t))),
    "10.41": _eq(_lstm("s", t), sp.Add(
        _lstm("f", t) * _lstm("s", t - 1),
        _lstm("g", t) * Sigmoid(lstm_affine("", t)), evaluate=False)),
    "10.42": _eq(_lstm("g", t), Sigmoid(lstm_affine("g", t))),
    "10.43": _eq(_lstm("h", t), sp.Mul(sp.tanh(_lstm("s", t)), _lstm("q", t),
                                       evaluate=False)),
    "10.44": _eq(_lstm("q", t), Sigmoid(lstm_affine("q", t))),
})


# ---------------------------------------------------------------- §10.10.2, the GRU
# (10.45)-(10.47) as the book prints them, in vector form (the book writes them entry
# by entry, h_i^(t) = ...; the same equations): the candidate squashed by σ, and the
# step to h^(t) reading u^(t-1), r^(t-1), x^(t-1). rnnlib's functions compute the
# standard cell of Cho et al. (2014), GRU_STANDARD below, by default (tanh; the gates
# of the step to h^(t) from x^(t), h^(t-1)) and this printed form with
# variant="book"; chapter "Gated recurrent units" proves the printed forms equal to
# variant="book" and GRU_STANDARD equal to the default, and compares them.
from .notation import ElementwiseSigmoid  # noqa: E402

Uu = sp.MatrixSymbol("U^u", H, n_in)
Wu = sp.MatrixSymbol("W^u", H, H)
bu = sp.MatrixSymbol("b^u", H, 1)
Ur = sp.MatrixSymbol("U^r", H, n_in)
Wr = sp.MatrixSymbol("W^r", H, H)
br = sp.MatrixSymbol("b^r", H, 1)


def u(s):
    """u^(s), the GRU's update gate: (H × 1)."""
    return Seq("u", s, H)


def r(s):
    """r^(s), the GRU's reset gate: (H × 1)."""
    return Seq("r", s, H)


def _had(*factors):
    return sp.HadamardProduct(*factors, evaluate=False)


FORMS.update({
    "10.45": _eq(h(t), _add(
        _had(u(t - 1), h(t - 1)),
        _had(_add(sp.OneMatrix(H, 1), -u(t - 1)),
             ElementwiseSigmoid(_add(b, U * x(t - 1),
                          sp.MatMul(W, _had(r(t - 1), h(t - 1)), evaluate=False)))))),
    "10.46": _eq(u(t), ElementwiseSigmoid(_add(bu, Uu * x(t), Wu * h(t)))),
    "10.47": _eq(r(t), ElementwiseSigmoid(_add(br, Ur * x(t), Wr * h(t)))),
})


def h_tilde(s):
    """h̃^(s), the GRU's candidate state: (H × 1)."""
    return Seq(r"\tilde{h}", s, H)


# The GRU of Cho et al. (2014) in the book's names: the step to h^(t) reads x^(t),
# h^(t-1) and its own gates, the candidate is squashed by tanh. rnnlib's GRU
# functions compute it by default; chapter "Gated recurrent units" displays these
# next to the printed 10.45-10.47 and proves them equal to its SymPy step of Cho et
# al. on (h^(0), x^(1)) (and the printed forms equal to the same step with σ on
# (h^(0), x^(0))).
GRU_STANDARD = (
    _eq(u(t), ElementwiseSigmoid(_add(bu, Uu * x(t), Wu * h(t - 1)))),
    _eq(r(t), ElementwiseSigmoid(_add(br, Ur * x(t), Wr * h(t - 1)))),
    _eq(h_tilde(t), Elementwise(sp.tanh, _add(
        b, U * x(t), sp.MatMul(W, _had(r(t), h(t - 1)), evaluate=False)))),
    _eq(h(t), _add(_had(u(t), h(t - 1)),
                   _had(_add(sp.OneMatrix(H, 1), -u(t)), h_tilde(t)))),
)


def latex_lines(forms) -> str:
    """Several forms printed one per line, centred (``gathered``)."""
    return (r"\begin{gathered}" + r" \\ ".join(book_latex(f) for f in forms)
            + r"\end{gathered}")


# §10.11.1, clipping the gradient (chapter "The cliff and gradient clipping").
# One rule printed over two numbers: (10.48) is its condition and (10.49) its
# update. g is the gradient of all parameters read as one vector of n entries,
# v > 0 the norm threshold, ‖g‖ the Euclidean norm.
from .notation import IfClause, Rescale, Update, VectorNorm  # noqa: E402

n_g = sp.Symbol("n", integer=True, positive=True)
g = sp.MatrixSymbol("g", n_g, 1)
v = sp.Symbol("v", positive=True)
FORMS.update({
    "10.48": IfClause(sp.StrictGreaterThan(VectorNorm(g), v)),
    "10.49": Update(g, Rescale(g, v, VectorNorm(g))),
})


# Chapter "Teacher forcing and output recurrence" (§10.2.1): the chain rule of
# probability for two steps, one equation over two numbers (like 10.12-10.14). The
# book writes p, not p_model, and conditions on both inputs.
def _p(outcomes, given):
    return CondProb(outcomes, given)


FORMS.update({
    "10.15": sp.log(_p([y(1), y(2)], [x(1), x(2)])),
    "10.16": _eq(sp.log(_p([y(1), y(2)], [x(1), x(2)])),
                 sp.Add(sp.log(_p([y(2)], [y(1), x(1), x(2)])),
                        sp.log(_p([y(1)], [x(1), x(2)])), evaluate=False)),
})
CONTINUED.add("10.16")
