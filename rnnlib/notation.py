"""The book's notation in SymPy: time-indexed symbols, gradients, a LaTeX printer.

Printed = derived: every numbered equation the chapters display is a SymPy
expression (held once in ``rnnlib.equations``), printed by :func:`book_latex`
and proved equal to the chapter's derivation by :func:`evaluate`, which turns the
general form into explicit matrices for concrete sizes and time steps. A wrong
transpose, time index or sign in a displayed equation is then a wrong expression,
and the chapter's ``expand(derived - closed_form) == 0`` check fails.

Building blocks (all SymPy matrix expressions, column vectors as in the book):

* ``Seq("h", t, H)`` is h^(t), an ``H × 1`` vector at a symbolic or concrete time;
  ``Seq("yhat", t, n)`` prints as ŷ^(t). Substituting ``t`` moves it in time.
* ``Grad(x)`` is ∇_x L (the loss is always ``L``), ``Grad(x, f)`` is ∇_x f.
* ``Jacobian(f, x)`` is ∂f/∂x, ``Diag(v)`` is diag(v), ``TimeSum(e, t)`` is Σ_t e,
  ``IndexSum(e, i, n)`` is Σ_i e, ``Entry(v, i)`` is v_i, ``Partial(f, x)`` is ∂f/∂x
  for scalars.
* ``one_minus_square(h)`` is 1 − h², elementwise (the tanh derivative).

Example
-------
>>> import sympy as sp
>>> t, H = sp.Symbol("t"), sp.Symbol("H")
>>> W = sp.MatrixSymbol("W", H, H)
>>> book_latex(W.T * Grad(Seq("h", t + 1, H)))
'W^\\\\top \\\\nabla_{h^{(t+1)}} L'
"""

from __future__ import annotations

import functools
import operator

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr
from sympy.printing.latex import LatexPrinter

__all__ = [
    "Seq", "Step", "Elementwise", "Softmax", "Prob", "ScalarTimeSum", "Grad",
    "Jacobian", "Diag", "TimeSum", "IndexSum", "Entry", "Partial",
    "SeqSet", "one_minus_square", "book_latex", "evaluate", "BookLatexPrinter",
    "TimeProduct", "Norm",
    "Component", "ScalarIndexSum", "Sigmoid", "ElementwiseSigmoid",
    "CondProb",
]

# Names printed differently from their identifier.
_NAMES = {"yhat": r"\hat{y}", "htilde": r"\tilde{h}"}


def _sym(x):
    return sp.Symbol(x) if isinstance(x, str) else sp.sympify(x)


class Seq(MatrixExpr):
    """``name^(t)``: a time-indexed vector (or matrix) of shape ``(rows, cols)``."""

    def __new__(cls, name, t, rows, cols=1):
        return super().__new__(cls, _sym(name), sp.sympify(t), sp.sympify(rows),
                               sp.sympify(cols))

    name = property(lambda self: self.args[0].name)
    t = property(lambda self: self.args[1])
    shape = property(lambda self: (self.args[2], self.args[3]))


class Step(sp.Expr):
    """``name^(t)``: a time-indexed scalar, e.g. the step loss L^(t) or target y^(t)."""

    is_commutative = True

    def __new__(cls, name, t):
        return super().__new__(cls, _sym(name), sp.sympify(t))

    name = property(lambda self: self.args[0].name)
    t = property(lambda self: self.args[1])


class SeqSet(sp.Expr):
    """``{x^(first), …, x^(last)}``: the set of a sequence's values (arguments of L)."""

    is_commutative = True

    def __new__(cls, name, first, last):
        return super().__new__(cls, _sym(name), sp.sympify(first), sp.sympify(last))


class Grad(MatrixExpr):
    """``∇_x f``: the gradient of the scalar ``f`` (default: the loss L) w.r.t. ``x``.

    It has the shape of ``x`` (denominator layout, as in the book).
    """

    def __new__(cls, x, f=None):
        return super().__new__(cls, x, sp.Symbol("L") if f is None else sp.sympify(f))

    x = property(lambda self: self.args[0])
    f = property(lambda self: self.args[1])
    shape = property(lambda self: self.args[0].shape)


class Jacobian(MatrixExpr):
    """``∂f/∂x`` for vectors: shape ``(len f, len x)`` (numerator layout)."""

    def __new__(cls, f, x):
        return super().__new__(cls, f, x)

    shape = property(lambda self: (self.args[0].shape[0], self.args[1].shape[0]))


class Diag(MatrixExpr):
    """``diag(v)``: the square matrix with the column vector ``v`` on its diagonal."""

    def __new__(cls, v):
        return super().__new__(cls, v)

    shape = property(lambda self: (self.args[0].shape[0], self.args[0].shape[0]))


class TimeSum(MatrixExpr):
    """``Σ_t e``: a sum over the time steps ``t`` (their range is given to evaluate).

    For a scalar ``e`` it returns a :class:`ScalarTimeSum`.
    """

    def __new__(cls, e, t):
        if not getattr(e, "is_Matrix", False):
            return ScalarTimeSum(e, t)
        return super().__new__(cls, e, t)

    shape = property(lambda self: self.args[0].shape)


class ScalarTimeSum(sp.Expr):
    """``Σ_t e`` for a scalar ``e``."""

    is_commutative = True

    def __new__(cls, e, t):
        return super().__new__(cls, sp.sympify(e), t)


class Elementwise(MatrixExpr):
    """``f(v)`` applied entry by entry (``f`` a SymPy function such as ``sp.tanh``)."""

    def __new__(cls, f, v):
        return super().__new__(cls, sp.Symbol(getattr(f, "__name__", str(f))), v)

    func_ = property(lambda self: getattr(sp, self.args[0].name))
    shape = property(lambda self: self.args[1].shape)


class Softmax(MatrixExpr):
    """``softmax(o)`` of a column vector: ``exp(o) / Σ_j exp(o_j)``."""

    def __new__(cls, o):
        return super().__new__(cls, o)

    shape = property(lambda self: self.args[0].shape)


class Prob(sp.Expr):
    """``p_model(y | given)``: the model's probability of ``y`` given ``given``."""

    is_commutative = True

    def __new__(cls, y, given):
        return super().__new__(cls, y, given)


class CondProb(Prob):
    """``p(y^(1), y^(2) | x^(1), x^(2))``: a probability of several outcomes given
    several variables, as §10.2.1 writes it (10.15)-(10.16); both are ``sp.Tuple``.

    A :class:`Prob`, so ``evaluate`` treats it as a leaf and ``log`` prints as
    ``\\log p(…)``.
    """

    def __new__(cls, outcomes, given):
        return sp.Expr.__new__(cls, sp.Tuple(*outcomes), sp.Tuple(*given))


class IndexSum(MatrixExpr):
    """``Σ_i e`` over the ``n`` entries ``i = 0 … n-1`` of a vector index."""

    def __new__(cls, e, i, n):
        return super().__new__(cls, e, i, sp.sympify(n))

    shape = property(lambda self: self.args[0].shape)


class Entry(sp.Expr):
    """``v_i``: entry ``i`` of the column vector ``v`` (0-based, as in the code)."""

    is_commutative = True

    def __new__(cls, v, i):
        return super().__new__(cls, v, sp.sympify(i))


class Partial(sp.Expr):
    """``∂f/∂x`` for scalars ``f`` and ``x`` (e.g. ∂L/∂L^(t), ∂L/∂h_i^(t))."""

    is_commutative = True

    def __new__(cls, f, x):
        return super().__new__(cls, sp.sympify(f), sp.sympify(x))


def one_minus_square(h):
    """``1 − h²`` elementwise, for a column vector ``h`` (tanh' = 1 − tanh²)."""
    return sp.MatAdd(sp.OneMatrix(*h.shape), -sp.HadamardPower(h, 2), evaluate=False)


class TimeProduct(MatrixExpr):
    """``Π_{k=first}^{last} e``: an ordered product over time, the factor with the
    latest ``k`` on the left (the chain rule's order for ``∂h^(τ)/∂h^(t)``)."""

    def __new__(cls, e, k, first, last):
        return super().__new__(cls, e, k, sp.sympify(first), sp.sympify(last))

    shape = property(lambda self: self.args[0].shape)


class Norm(sp.Expr):
    """``‖e‖``: the (spectral) norm of a matrix or vector expression, a scalar."""

    is_commutative = True
    is_nonnegative = True

    def __new__(cls, e):
        return super().__new__(cls, e)


# ------------------------------------------------------------------------ printing


class BookLatexPrinter(LatexPrinter):
    """LaTeX in the book's notation.

    ``h^{(t)}``, ``W^\\top``, ``\\nabla_{h^{(t)}} L``, ``\\operatorname{diag}(…)``,
    ``\\odot``, sums over ``t``; terms in the order given.
    """

    def _print_Seq(self, e):
        name = _NAMES.get(e.name, e.name)
        return f"{name}^{{({self._print_time(e.t)})}}"

    def _print_SeqSet(self, e):
        name, first, last = e.args
        x = lambda t: self._print(Seq(name, t, 1))  # noqa: E731
        return rf"\{{{x(first)},\dots,{x(last)}\}}"

    def _print_Grad(self, e):
        return rf"\nabla_{{{self._print(e.x)}}} {self._print(e.f)}"

    def _print_Jacobian(self, e):
        f, x = e.args
        return rf"\frac{{\partial {self._print(f)}}}{{\partial {self._print(x)}}}"

    def _print_Partial(self, e):
        f, x = e.args
        return rf"\frac{{\partial {self._print(f)}}}{{\partial {self._print(x)}}}"

    def _print_Diag(self, e):
        return rf"\operatorname{{diag}}\big({self._print(e.args[0])}\big)"

    def _print_Step(self, e):
        return f"{_NAMES.get(e.name, e.name)}^{{({self._print_time(e.t)})}}"

    def _print_Elementwise(self, e):
        f, v = e.args
        name = {"tanh": r"\tanh", "exp": r"\exp"}.get(f.name, rf"\operatorname{{{f}}}")
        return rf"{name}\big({self._print(v)}\big)"

    def _print_Softmax(self, e):
        return rf"\operatorname{{softmax}}\big({self._print(e.args[0])}\big)"

    def _print_Prob(self, e):
        y, given = e.args
        return (rf"p_{{\text{{model}}}}\big({self._print(y)} \mid "
                rf"{self._print(given)}\big)")

    def _print_ScalarTimeSum(self, e):
        return self._print_TimeSum(e)

    def _print_TimeSum(self, e):
        summand, t = e.args
        return rf"\sum_{{{self._print(t)}}} {self._print(summand)}"

    def _print_IndexSum(self, e):
        summand, i, _ = e.args
        return rf"\sum_{{{self._print(i)}}} {self._print(summand)}"

    def _print_Entry(self, e):
        v, i = e.args
        if isinstance(v, Seq):  # h_i^(t): the index goes below the name
            name = _NAMES.get(v.name, v.name)
            return f"{name}_{{{self._print(i)}}}^{{({self._print_time(v.t)})}}"
        return rf"\big({self._print(v)}\big)_{{{self._print(i)}}}"

    def _print_KroneckerDelta(self, e, exp=None):
        i, j = e.args
        return rf"\mathbf{{1}}_{{{self._print(i)}={self._print(j)}}}"

    def _print_OneMatrix(self, e):
        return "1"

    def _print_HadamardPower(self, e):
        base, power = e.args
        return rf"({self._print(base)})^{{{self._print(power)}}}"

    def _print_HadamardProduct(self, e):
        return r" \odot ".join(self._paren(a) for a in e.args)

    def _print_Transpose(self, e):
        arg = e.arg
        if isinstance(arg, sp.MatPow):  # (W^{t})^\top, as the book prints it (10.37)
            return rf"({self._print(arg)})^\top"
        if isinstance(arg, Seq):  # h^{(t)\top}, as the book prints it
            return self._print(arg)[:-1] + r"\top}"
        s = self._print(arg)
        if not isinstance(arg, sp.MatrixSymbol):
            s = rf"\Big({s}\Big)"
        return s + r"^\top"

    def _print_MatMul(self, e):
        coeff, factors = e.as_coeff_matrices()
        parts = [self._paren(f) for f in factors]
        if coeff == -1:
            return "-" + " ".join(parts)
        if coeff != 1:
            parts.insert(0, self._print(coeff))
        return " ".join(parts)

    def _print_MatAdd(self, e):
        # Terms in the given order, subtracted ones last: ``1 - h^2``, not ``-h^2 + 1``.
        terms = [self._print(term) for term in e.args]
        terms = ([s for s in terms if not s.startswith("-")]
                 + [s for s in terms if s.startswith("-")])
        out = terms[0]
        for s in terms[1:]:
            out += " - " + s[1:].lstrip() if s.startswith("-") else " + " + s
        return out

    def _print_time(self, s):
        return sp.latex(s).replace(" ", "")  # t-1, t+1 in the usual order

    def _print_Function(self, e, exp=None):
        if not e.args or type(e).__name__ != "L":
            return super()._print_Function(e, exp)
        return r"L\big(" + ",".join(self._print(a) for a in e.args) + r"\big)"

    def _print_log(self, e, exp=None):
        if isinstance(e.args[0], Prob):  # log p(y | x), as the book writes it
            return r"\log " + self._print(e.args[0])
        return super()._print_log(e, exp)

    def _print_Equality(self, e):
        return f"{self._print(e.lhs)} = {self._print(e.rhs)}"

    def _paren(self, e):
        s = self._print(e)
        if isinstance(e, (sp.MatAdd, sp.Add, sp.HadamardProduct)):  # W (r ⊙ h)
            return rf"\big({s}\big)"
        if isinstance(e, Grad) and not isinstance(e.x, sp.MatrixSymbol):
            return rf"({s})"
        return s

    # --- §10.7 (chapter "Long-term dependencies")

    def _print_MatPow(self, e):
        base, power = e.args
        s = self._print(base)
        if not isinstance(base, sp.MatrixSymbol):
            s = rf"\big({s}\big)"
        return f"{s}^{{{sp.latex(power)}}}"  # t - 1 in the usual order

    def _print_TimeProduct(self, e):
        factor, k, first, last = e.args
        return (rf"\prod_{{{self._print(k)}={self._print_time(first)}}}"
                rf"^{{{self._print_time(last)}}} {self._paren(factor)}")

    def _print_Product(self, e):
        factor, (k, first, last) = e.args
        return (rf"\prod_{{{self._print(k)}={self._print_time(first)}}}"
                rf"^{{{self._print_time(last)}}} {self._print(factor)}")

    def _print_Norm(self, e):
        return rf"\lVert {self._print(e.args[0])} \rVert"

    def _print_LessThan(self, e):
        return rf"{self._print(e.lhs)} \le {self._print(e.rhs)}"

    # --- §10.10, the LSTM in the book's index form (chapter "The LSTM")

    def _print_Component(self, e):
        M, *idx = e.args
        return f"{self._print(M)}_{{{','.join(self._print(k) for k in idx)}}}"

    def _print_ScalarIndexSum(self, e):
        summand, j, _ = e.args
        return rf"\sum_{{{self._print(j)}}} {self._print(summand)}"

    def _print_Sigmoid(self, e, exp=None):
        return rf"\sigma\big({self._print(e.args[0])}\big)"

    def _print_tanh(self, e, exp=None):  # a scalar tanh, as the book sets it
        return rf"\tanh\big({self._print(e.args[0])}\big)"

    # --- §10.10, the GRU (chapter "Gated recurrent units")

    def _print_ElementwiseSigmoid(self, e):
        return rf"\sigma\big({self._print(e.args[1])}\big)"

    # --- §10.11.1 (chapter "The cliff and gradient clipping")

    def _print_Rescale(self, e):
        g, num, den = e.args
        return rf"\frac{{{self._print(g)} {self._print(num)}}}{{{self._print(den)}}}"

    def _print_IfClause(self, e):
        return rf"\text{{if }} {self._print(e.condition)}"

    def _print_Update(self, e):
        return rf"{self._print(e.lhs)} \leftarrow {self._print(e.rhs)}"

    # --- §10.2.1 (chapter "Teacher forcing and output recurrence")

    def _print_CondProb(self, e):
        outcomes, given = (",".join(self._print(v) for v in arg) for arg in e.args)
        return rf"p\big({outcomes} \mid {given}\big)"


def book_latex(expr) -> str:
    """LaTeX of ``expr`` in the book's notation (no surrounding ``$``)."""
    return BookLatexPrinter({"order": "none"}).doprint(expr)


# ---------------------------------------------------------------------- evaluation


def evaluate(expr, values, times=None):
    """The explicit SymPy matrix (or scalar) that a book-notation ``expr`` stands for.

    Parameters
    ----------
    expr : sympy.Expr
        Built from this module's classes and ``MatrixSymbol``.
    values : dict or callable
        Maps each leaf that is not computed here — ``MatrixSymbol`` (``W``), ``Seq``
        at a concrete time (``Seq("h", 2, H)``), ``Grad``, ``Jacobian``, ``Partial``,
        scalar ``Symbol`` — to its explicit value. A callable is asked for any leaf
        not in the dict and may raise ``KeyError``.
    times : range, optional
        The values of the summation variable of every ``TimeSum`` (e.g.
        ``range(1, tau + 1)``).

    Returns
    -------
    sympy.Matrix or sympy.Expr

    Raises
    ------
    KeyError
        naming the leaf that ``values`` does not give.
    """
    lookup = values if callable(values) else None
    table = {} if callable(values) else dict(values)

    def leaf(e):
        if e in table:
            return table[e]
        if lookup is not None:
            return lookup(e)
        raise KeyError(f"evaluate: no value given for {book_latex(e)} ({e!r})")

    def ev(e):
        if e in table:
            return table[e]
        if isinstance(e, sp.MatMul):
            coeff, factors = e.as_coeff_matrices()  # coeff may hold ∂L/∂h_i: a leaf
            return ev(coeff) * functools.reduce(operator.mul, [ev(f) for f in factors])
        if isinstance(e, sp.MatAdd):
            # 1 and 0 of symbolic size take the size of the other terms
            const = (sp.OneMatrix, sp.ZeroMatrix)
            terms = [ev(a) for a in e.args if not isinstance(a, const)]
            shape = terms[0].shape
            terms += [sp.ones(*shape) if isinstance(a, sp.OneMatrix)
                      else sp.zeros(*shape) for a in e.args if isinstance(a, const)]
            return functools.reduce(operator.add, terms)
        if isinstance(e, sp.Transpose):
            return ev(e.arg).T
        if isinstance(e, Diag):
            v = ev(e.args[0])
            return sp.diag(*list(v))
        if isinstance(e, sp.HadamardPower):
            base = ev(e.args[0])
            return base.applyfunc(lambda z: z ** e.args[1])
        if isinstance(e, sp.HadamardProduct):
            return functools.reduce(
                lambda u, v: u.multiply_elementwise(v), [ev(a) for a in e.args])
        if isinstance(e, sp.OneMatrix):
            return sp.ones(*e.shape)
        if isinstance(e, sp.ZeroMatrix):
            return sp.zeros(*e.shape)
        if isinstance(e, Elementwise):
            return ev(e.args[1]).applyfunc(e.func_)
        if isinstance(e, Softmax):
            z = ev(e.args[0]).applyfunc(sp.exp)
            return z / sum(z)
        if isinstance(e, (TimeSum, ScalarTimeSum)):
            if times is None:
                raise ValueError("evaluate: a TimeSum needs times=range(...)")
            summand, t = e.args
            return functools.reduce(operator.add,
                                    [ev(summand.xreplace({t: k})) for k in times])
        if isinstance(e, IndexSum):
            summand, i, n = e.args
            if not n.is_Integer:
                raise ValueError(f"evaluate: the sum over {i} needs a concrete size, "
                                 f"got {n}; substitute the sizes first, e.g. "
                                 f"expr.xreplace({{{n}: 3}})")
            return functools.reduce(operator.add,
                                    [ev(summand.xreplace({i: k})) for k in range(n)])
        if isinstance(e, Entry):
            v, i = e.args
            try:
                return leaf(e)
            except KeyError:
                return ev(v)[int(i)]
        if isinstance(e, sp.MatPow):  # a symbolic exponent works for diagonal Λ
            return ev(e.args[0]) ** e.args[1]
        if isinstance(e, TimeProduct):  # latest factor on the left
            summand, k, first, last = e.args
            return functools.reduce(operator.mul, [
                ev(summand.xreplace({k: j}))
                for j in range(int(last), int(first) - 1, -1)])
        if isinstance(e, (sp.MatrixSymbol, Seq, Grad, Jacobian, Partial, SeqSet,
                          Step, Prob, sp.Symbol)):
            return leaf(e)
        if isinstance(e, sp.Equality):
            return sp.Eq(ev(e.lhs), ev(e.rhs), evaluate=False)
        if not e.args:
            return e
        return e.func(*[ev(a) for a in e.args])

    return ev(expr)


# ---------------------------------------------------------------------- LSTM (§10.10)
# The gated cells are printed in the book's index form: f_i^(t) = σ(b^f_i +
# Σ_j U^f_{i,j} x_j^(t) + …). These three scalar building blocks print it; they
# evaluate themselves once their arguments are explicit (no change to evaluate()).


class Component(sp.Expr):
    """``M_{i,j}`` (or ``v_i`` for a column vector): an entry of a ``MatrixSymbol``,
    printed under the symbol's name (``U^f_{i,j}``, ``b^f_i``). With an explicit
    matrix and integer indices it is that entry."""

    is_commutative = True

    def __new__(cls, M, *idx):
        idx = tuple(sp.sympify(k) for k in idx)
        if isinstance(M, sp.MatrixBase):
            if all(k.is_Integer for k in idx):
                return M[int(idx[0]), int(idx[1]) if len(idx) > 1 else 0]
            M = sp.ImmutableMatrix(M)
        return super().__new__(cls, M, *idx)


class ScalarIndexSum(sp.Expr):
    """``Σ_j e`` for a scalar ``e`` over ``j = 0 … n-1``; with an integer ``n``
    (e.g. after ``xreplace({n_in: 3})``) the explicit sum."""

    is_commutative = True

    def __new__(cls, e, j, n):
        e, n = sp.sympify(e), sp.sympify(n)
        if n.is_Integer:
            return sp.Add(*[e.xreplace({j: k}) for k in range(int(n))])
        return super().__new__(cls, e, j, n)


class Sigmoid(sp.Function):
    """``σ(a) = 1 / (1 + exp(−a))``, the logistic sigmoid; ``σ' = σ (1 − σ)``."""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0]) * (1 - Sigmoid(self.args[0]))

    def _eval_rewrite_as_exp(self, a, **kwargs):
        return 1 / (1 + sp.exp(-a))


# ---------------------------------------------------------------------- §10.10, GRU


class ElementwiseSigmoid(Elementwise):
    """``σ(v) = 1 / (1 + exp(-v))`` entry by entry, of a vector; prints as σ(…).
    (:class:`Sigmoid` is the scalar function.)"""

    def __new__(cls, *args):  # Sigmoid(v), or (name, v) when SymPy rebuilds it
        return MatrixExpr.__new__(cls, sp.Symbol("sigma"), args[-1])

    func_ = property(lambda self: lambda z: 1 / (1 + sp.exp(-z)))

# ------------------------------------------------- §10.11.1, clipping the gradient
# (chapter "The cliff and gradient clipping"): the rule (10.48)-(10.49) is a
# condition and an assignment, not an equation, so it gets its own small classes.
# Each one turns into plain SymPy when its argument is an explicit matrix, so
# ``evaluate`` (which rebuilds unknown expressions from evaluated arguments) works
# on them unchanged.


class VectorNorm(Norm):
    """``‖g‖``: the Euclidean norm of a column vector (with real entries).

    Printed like :class:`Norm`; for an explicit ``sp.Matrix`` it is
    ``sqrt(Σ_i g_i²)``.
    """

    def __new__(cls, e):
        if isinstance(e, sp.MatrixBase):
            return sp.sqrt(sum(entry**2 for entry in e))
        return super().__new__(cls, e)


class Rescale(MatrixExpr):
    """``g v / s``: the vector ``g`` times the scalar ``v / s``, printed as the book
    prints (10.49), ``\\frac{g v}{s}``. For an explicit matrix ``g`` it is
    ``g * v / s``."""

    def __new__(cls, g, num, den):
        if isinstance(g, sp.MatrixBase):
            return g * num / den
        return super().__new__(cls, g, sp.sympify(num), sp.sympify(den))

    shape = property(lambda self: self.args[0].shape)


class IfClause(sp.Basic):
    """``if condition``: the test of an update rule (10.48); ``.condition`` is a
    SymPy relational such as ``‖g‖ > v``."""

    def __new__(cls, condition):
        return super().__new__(cls, condition)

    condition = property(lambda self: self.args[0])


class Update(sp.Basic):
    """``lhs ← rhs``: an assignment in an algorithm (10.49); ``.lhs``, ``.rhs``."""

    def __new__(cls, lhs, rhs):
        return super().__new__(cls, lhs, rhs)

    lhs = property(lambda self: self.args[0])
    rhs = property(lambda self: self.args[1])


__all__ += ["VectorNorm", "Rescale", "IfClause", "Update"]
