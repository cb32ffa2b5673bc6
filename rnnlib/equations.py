"""The registry that ties each equation of Deep Learning §10.2 to its code.

``EQUATIONS`` is the single source of truth behind the book's equation index:
for every equation number it holds the equation as a SymPy expression
(:data:`rnnlib.forms.FORMS`, printed in the book's notation by
:func:`rnnlib.notation.book_latex`; 10.21 in its corrected form, see chapter
"Back through time"), the functions that implement it (filled in by the
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
    tests: tuple = ()  # "tests/test_x.py::test_name" entries that check it
    functions: list = field(default_factory=list)  # filled by @implements

    @property
    def form(self):
        """The equation as a SymPy expression, the one the chapters display."""
        from .forms import FORMS

        return FORMS[self.number]

    @property
    def latex(self) -> str:
        """The equation printed in the book's notation (10.13 and 10.14 whole)."""
        from .notation import book_latex

        return book_latex(self.form)

    @property
    def label(self) -> str:
        """The MyST label the chapters use: ``eq-10-21``."""
        return "eq-" + self.number.replace(".", "-")


def _eq(number, title, *tests):
    return number, Equation(number, title, tuple(tests))


EQUATIONS: dict[str, Equation] = dict([
    _eq("10.8", "pre-activation",
        "tests/test_forward.py::test_pre_activation_matches_hand_computed_case"),
    _eq("10.9", "hidden state",
        "tests/test_forward.py::test_hidden_is_tanh"),
    _eq("10.10", "output logits",
        "tests/test_forward.py::test_output_matches_hand_computed_case"),
    _eq("10.11", "softmax",
        "tests/test_forward.py::test_softmax_matches_definition",
        "tests/test_forward.py::test_log_softmax_is_finite_for_huge_logits"),
    _eq("10.12", "sequence loss",
        "tests/test_loss.py::test_sequence_loss_is_sum_of_step_losses"),
    _eq("10.13", "loss as a sum over time",
        "tests/test_loss.py::test_sequence_loss_is_sum_of_step_losses"),
    _eq("10.14", "negative log-likelihood",
        "tests/test_loss.py::test_step_losses_match_hand_computed_case"),
    _eq("10.17", "gradient of the total loss w.r.t. each step loss",
        "tests/test_loss.py::test_dL_dLt_is_one_by_finite_differences"),
    _eq("10.18", "output gradient",
        "tests/test_bptt.py::test_output_grad_matches_hand_computed_case",
        "tests/test_bptt.py::test_output_grad_matches_finite_differences"),
    _eq("10.19", "hidden gradient at the last step",
        "tests/test_bptt.py::test_last_hidden_grad_matches_hand_computed_case"),
    _eq("10.20", "hidden gradient recursion (chain rule)",
        "tests/test_bptt.py::test_hidden_grads_match_finite_differences"),
    _eq("10.21", "hidden gradient recursion (tanh units)",
        "tests/test_bptt.py::test_hidden_grad_step_matches_hand_computed_case",
        "tests/test_bptt.py::test_hidden_grads_match_finite_differences"),
    _eq("10.22", "gradient w.r.t. c",
        "tests/test_bptt.py::test_grad_c_is_sum_of_output_grads"),
    _eq("10.23", "gradient w.r.t. b",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.24", "gradient w.r.t. V",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.25", "gradient w.r.t. W (copies W^{(t)})",
        "tests/test_bptt.py::test_bptt_matches_finite_differences"),
    _eq("10.26", "gradient w.r.t. W",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case"),
    _eq("10.27", "gradient w.r.t. U (copies U^{(t)})",
        "tests/test_bptt.py::test_bptt_matches_finite_differences"),
    _eq("10.28", "gradient w.r.t. U",
        "tests/test_bptt.py::test_parameter_grads_match_hand_computed_case",
        "tests/test_bptt.py::test_grad_U_ids_equals_dense_one_hot"),
    _eq("10.36", "linear recurrence without input or nonlinearity (§10.7)",
        "tests/test_longterm.py::test_linear_states_match_hand_computed_case",
        "tests/test_longterm.py::test_linear_states_jacobian_matches_autograd_and_fd"),
    _eq("10.37", "its solution as a matrix power",
        "tests/test_longterm.py::test_linear_state_at_equals_stepping",
        "tests/test_longterm.py::test_linear_state_at_jacobian_matches_autograd_and_fd"),
    _eq("10.38", "eigendecomposition W = Q Λ Q^T",
        "tests/test_longterm.py::test_eigendecompose_matches_hand_computed_case",
        "tests/test_longterm.py::test_eigendecompose_reconstructs_symmetric_W"),
    _eq("10.39", "the power through the eigendecomposition",
        "tests/test_longterm.py::test_eigen_state_at_equals_matrix_power",
        "tests/test_longterm.py::test_eigen_state_at_jacobian_matches_autograd_and_fd"),
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
