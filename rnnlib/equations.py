"""The registry that ties each equation of Deep Learning §10.2 to its code.

``EQUATIONS`` is the single source of truth behind the book's equation index:
for every equation number it holds the book's formula (LaTeX, in the book's
column-vector notation) and the one function that implements it, by the name
under which the package exports it: ``"grad_V"`` is ``rnnlib.grad_V``.

The tests declare what they check with a marker, ``@pytest.mark.equation("10.24")``;
``tests/test_equations.py`` collects the markers and checks that every registered
equation is tested, derived and asserted in a chapter, and implemented by a
function that exists and cites it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Equation:
    number: str       # "10.21"
    function: str     # "hidden_grad_step": implemented by rnnlib.hidden_grad_step
    title: str        # what the equation gives
    latex: str        # the formula as the book prints it (column vectors)

    @property
    def label(self) -> str:
        """The MyST label the chapters use: ``eq-10-21``."""
        return "eq-" + self.number.replace(".", "-")

    @property
    def qualname(self) -> str:
        """The implementing function as a reader types it: ``rnnlib.grad_V``."""
        return "rnnlib." + self.function


def _eq(number, function, title, latex):
    return number, Equation(number, function, title, latex)


EQUATIONS: dict[str, Equation] = dict([
    _eq("10.8", "pre_activation", "pre-activation",
        r"a^{(t)} = b + W h^{(t-1)} + U x^{(t)}"),
    _eq("10.9", "hidden", "hidden state", r"h^{(t)} = \tanh(a^{(t)})"),
    _eq("10.10", "output", "output logits", r"o^{(t)} = c + V h^{(t)}"),
    _eq("10.11", "softmax", "softmax",
        r"\hat{y}^{(t)} = \mathrm{softmax}(o^{(t)})"),
    _eq("10.12", "sequence_loss", "sequence loss",
        r"L\big(\{x^{(1)},\dots,x^{(\tau)}\},\{y^{(1)},\dots,y^{(\tau)}\}\big)"),
    _eq("10.13", "sequence_loss", "loss as a sum over time", r"= \sum_t L^{(t)}"),
    _eq("10.14", "step_losses", "negative log-likelihood",
        r"= -\sum_t \log p_{\mathrm{model}}\big(y^{(t)} \mid "
        r"\{x^{(1)},\dots,x^{(t)}\}\big)"),
    _eq("10.17", "dL_dLt", "gradient of the total loss w.r.t. each step loss",
        r"\frac{\partial L}{\partial L^{(t)}} = 1"),
    _eq("10.18", "output_grad", "output gradient",
        r"(\nabla_{o^{(t)}} L)_i = \hat{y}^{(t)}_i - \mathbf{1}_{i=y^{(t)}}"),
    _eq("10.19", "last_hidden_grad", "hidden gradient at the last step",
        r"\nabla_{h^{(\tau)}} L = V^\top \nabla_{o^{(\tau)}} L"),
    _eq("10.20", "hidden_grad_step", "hidden gradient recursion (chain rule)",
        r"\nabla_{h^{(t)}} L = "
        r"\Big(\frac{\partial h^{(t+1)}}{\partial h^{(t)}}\Big)^\top"
        r"(\nabla_{h^{(t+1)}} L) + "
        r"\Big(\frac{\partial o^{(t)}}{\partial h^{(t)}}\Big)^\top"
        r"(\nabla_{o^{(t)}} L)"),
    _eq("10.21", "hidden_grad_step", "hidden gradient recursion (tanh units)",
        r"\nabla_{h^{(t)}} L = W^\top \mathrm{diag}\big(1-(h^{(t+1)})^2\big)"
        r"(\nabla_{h^{(t+1)}} L) + V^\top (\nabla_{o^{(t)}} L)"),
    _eq("10.22", "grad_c", "gradient w.r.t. c",
        r"\nabla_c L = \sum_t \nabla_{o^{(t)}} L"),
    _eq("10.23", "grad_b", "gradient w.r.t. b",
        r"\nabla_b L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)\nabla_{h^{(t)}} L"),
    _eq("10.24", "grad_V", "gradient w.r.t. V",
        r"\nabla_V L = \sum_t (\nabla_{o^{(t)}} L)\, h^{(t)\top}"),
    _eq("10.25", "grad_W", "gradient w.r.t. W (copies W^{(t)})",
        r"\nabla_W L = \sum_t \sum_i \frac{\partial L}{\partial h_i^{(t)}}"
        r"\nabla_{W^{(t)}} h_i^{(t)}"),
    _eq("10.26", "grad_W", "gradient w.r.t. W",
        r"\nabla_W L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)"
        r"(\nabla_{h^{(t)}} L)\, h^{(t-1)\top}"),
    _eq("10.27", "grad_U", "gradient w.r.t. U (copies U^{(t)})",
        r"\nabla_U L = \sum_t \sum_i \frac{\partial L}{\partial h_i^{(t)}}"
        r"\nabla_{U^{(t)}} h_i^{(t)}"),
    _eq("10.28", "grad_U", "gradient w.r.t. U",
        r"\nabla_U L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)"
        r"(\nabla_{h^{(t)}} L)\, x^{(t)\top}"),
])


# Equations of §10.2 in the range 10.8–10.28 that rnnlib does not implement, and why.
OUT_OF_SCOPE: dict[str, str] = {
    "10.15": "§10.2.1, teacher forcing: a network whose outputs feed back into its "
             "hidden units; the RNN of this book has no output-to-hidden connections.",
    "10.16": "§10.2.1, teacher forcing (continued from 10.15).",
}
