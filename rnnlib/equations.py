"""The registry that ties each equation of Deep Learning §10.2 to its code.

``EQUATIONS`` is the single source of truth behind the book's equation index:
for every equation number it holds the book's formula (LaTeX, in the book's
column-vector notation), the functions that implement it (filled in by the
:func:`implements` decorator where each function is defined) and the unit tests
that check it. The chapters label each displayed equation ``eq-10-NN``; the test
suite checks that every registered equation is derived and asserted in some
chapter and tested, and that every labelled equation is registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Equation:
    number: str       # "10.21"
    title: str        # what the equation gives
    latex: str        # the formula as the book prints it (column vectors)
    tests: tuple = ()  # "tests/test_x.py::test_name" entries that check it
    functions: list = field(default_factory=list)  # filled by @implements

    @property
    def label(self) -> str:
        """The MyST label the chapters use: ``eq-10-21``."""
        return "eq-" + self.number.replace(".", "-")


def _eq(number, title, latex, *tests):
    return number, Equation(number, title, latex, tuple(tests))


EQUATIONS: dict[str, Equation] = dict([
    _eq("10.8", "pre-activation", r"a^{(t)} = b + W h^{(t-1)} + U x^{(t)}",
        "tests/test_forward.py::test_pre_activation_matches_hand_computed_case"),
    _eq("10.9", "hidden state", r"h^{(t)} = \tanh(a^{(t)})",
        "tests/test_forward.py::test_hidden_is_tanh"),
    _eq("10.10", "output logits", r"o^{(t)} = c + V h^{(t)}",
        "tests/test_forward.py::test_output_matches_hand_computed_case"),
    _eq("10.11", "softmax", r"\hat{y}^{(t)} = \mathrm{softmax}(o^{(t)})",
        "tests/test_forward.py::test_softmax_matches_definition",
        "tests/test_forward.py::test_log_softmax_is_finite_for_huge_logits"),
    _eq("10.12", "sequence loss",
        r"L\big(\{x^{(1)},\dots,x^{(\tau)}\},\{y^{(1)},\dots,y^{(\tau)}\}\big)",
        "tests/test_loss.py::test_sequence_loss_is_sum_of_step_losses"),
    _eq("10.13", "loss as a sum over time", r"= \sum_t L^{(t)}",
        "tests/test_loss.py::test_sequence_loss_is_sum_of_step_losses"),
    _eq("10.14", "negative log-likelihood",
        r"= -\sum_t \log p_{\mathrm{model}}\big(y^{(t)} \mid "
        r"\{x^{(1)},\dots,x^{(t)}\}\big)",
        "tests/test_loss.py::test_step_losses_match_hand_computed_case"),
    _eq("10.17", "gradient of the total loss w.r.t. each step loss",
        r"\frac{\partial L}{\partial L^{(t)}} = 1",
        "tests/test_loss.py::test_dL_dLt_is_one_by_finite_differences"),
    _eq("10.18", "output gradient",
        r"(\nabla_{o^{(t)}} L)_i = \hat{y}^{(t)}_i - \mathbf{1}_{i=y^{(t)}}",
        "tests/test_bptt.py::test_output_grad_matches_hand_computed_case",
        "tests/test_bptt.py::test_output_grad_matches_finite_differences"),
    _eq("10.19", "hidden gradient at the last step",
        r"\nabla_{h^{(\tau)}} L = V^\top \nabla_{o^{(\tau)}} L",
        "tests/test_bptt.py::test_last_hidden_grad_matches_hand_computed_case"),
    _eq("10.20", "hidden gradient recursion (chain rule)",
        r"\nabla_{h^{(t)}} L = "
        r"\Big(\frac{\partial h^{(t+1)}}{\partial h^{(t)}}\Big)^\top"
        r"(\nabla_{h^{(t+1)}} L) + "
        r"\Big(\frac{\partial o^{(t)}}{\partial h^{(t)}}\Big)^\top"
        r"(\nabla_{o^{(t)}} L)",
        "tests/test_bptt.py::test_hidden_grads_match_finite_differences"),
    _eq("10.21", "hidden gradient recursion (tanh units)",
        r"\nabla_{h^{(t)}} L = W^\top \mathrm{diag}\big(1-(h^{(t+1)})^2\big)"
        r"(\nabla_{h^{(t+1)}} L) + V^\top (\nabla_{o^{(t)}} L)",
        "tests/test_bptt.py::test_hidden_grad_step_matches_hand_computed_case",
        "tests/test_bptt.py::test_hidden_grads_match_finite_differences"),
    _eq("10.22", "gradient w.r.t. c", r"\nabla_c L = \sum_t \nabla_{o^{(t)}} L",
        "tests/test_bptt.py::test_grad_c_is_sum_of_output_grads"),
    _eq("10.23", "gradient w.r.t. b",
        r"\nabla_b L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)\nabla_{h^{(t)}} L",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.24", "gradient w.r.t. V",
        r"\nabla_V L = \sum_t (\nabla_{o^{(t)}} L)\, h^{(t)\top}",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.25", "gradient w.r.t. W (copies W^{(t)})",
        r"\nabla_W L = \sum_t \sum_i \frac{\partial L}{\partial h_i^{(t)}}"
        r"\nabla_{W^{(t)}} h_i^{(t)}",
        "tests/test_bptt.py::test_bptt_matches_finite_differences"),
    _eq("10.26", "gradient w.r.t. W",
        r"\nabla_W L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)"
        r"(\nabla_{h^{(t)}} L)\, h^{(t-1)\top}",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.27", "gradient w.r.t. U (copies U^{(t)})",
        r"\nabla_U L = \sum_t \sum_i \frac{\partial L}{\partial h_i^{(t)}}"
        r"\nabla_{U^{(t)}} h_i^{(t)}",
        "tests/test_bptt.py::test_bptt_matches_finite_differences"),
    _eq("10.28", "gradient w.r.t. U",
        r"\nabla_U L = \sum_t \mathrm{diag}\big(1-(h^{(t)})^2\big)"
        r"(\nabla_{h^{(t)}} L)\, x^{(t)\top}",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case",
        "tests/test_bptt.py::test_grad_U_ids_equals_dense_one_hot"),
])


# Equations of §10.2 in the range 10.8–10.28 that rnnlib does not implement, and why.
OUT_OF_SCOPE: dict[str, str] = {
    "10.15": "§10.2.1, teacher forcing: a network whose outputs feed back into its "
             "hidden units; the RNN of this book has no output-to-hidden connections.",
    "10.16": "§10.2.1, teacher forcing (continued from 10.15).",
}


def implements(*numbers: str):
    """Decorator: record that the decorated function implements ``numbers``."""
    for n in numbers:
        if n not in EQUATIONS:
            raise KeyError(f"equation {n} is not in rnnlib.equations.EQUATIONS")

    def register(func):
        for n in numbers:
            EQUATIONS[n].functions.append(f"{func.__module__}.{func.__qualname__}")
        func.__equations__ = numbers
        return func

    return register
