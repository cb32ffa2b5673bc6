"""The registry that ties each equation of Deep Learning ch. 10 to its code.

``EQUATIONS`` is the single source of truth behind the book's equation index: for
every equation number it holds the equation as a SymPy expression
(:data:`rnnlib.forms.FORMS`, printed in the book's notation by
:func:`rnnlib.notation.book_latex`; as printed, except 10.21 and 10.39, held in their
corrected forms, see the chapters that derive them) and the one function that
implements it (for 10.41 and 10.45, printed with the book's nonstandard cells, with
``variant="book"``; by default it computes the standard cell), by the name
under which the package exports it: ``"grad_V"`` is ``rnnlib.grad_V``.

The tests declare what they check with a marker, ``@pytest.mark.equation("10.24")``;
``tests/test_equations.py`` collects the markers and checks that every registered
equation is tested, derived and asserted in a chapter, and implemented by a
function that exists and cites it; ``tests/test_printed_equations.py`` checks that
the chapters display exactly the forms printed from here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Equation:
    number: str       # "10.21"
    function: str     # "hidden_grad_step": implemented by rnnlib.hidden_grad_step
    title: str        # what the equation gives

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

    @property
    def qualname(self) -> str:
        """The implementing function as a reader types it: ``rnnlib.grad_V``."""
        return "rnnlib." + self.function


def _eq(number, function, title):
    return number, Equation(number, function, title)


EQUATIONS: dict[str, Equation] = dict([
    _eq("10.8", "pre_activation", "pre-activation"),
    _eq("10.9", "hidden", "hidden state"),
    _eq("10.10", "output", "output logits"),
    _eq("10.11", "softmax", "softmax"),
    _eq("10.12", "sequence_loss", "sequence loss"),
    _eq("10.13", "sequence_loss", "loss as a sum over time"),
    _eq("10.14", "step_losses", "negative log-likelihood"),
    _eq("10.17", "dL_dLt", "gradient of the total loss w.r.t. each step loss"),
    _eq("10.18", "output_grad", "output gradient"),
    _eq("10.19", "last_hidden_grad", "hidden gradient at the last step"),
    _eq("10.20", "hidden_grad_step", "hidden gradient recursion (chain rule)"),
    _eq("10.21", "hidden_grad_step", "hidden gradient recursion (tanh units)"),
    _eq("10.22", "grad_c", "gradient w.r.t. c"),
    _eq("10.23", "grad_b", "gradient w.r.t. b"),
    _eq("10.24", "grad_V", "gradient w.r.t. V"),
    _eq("10.25", "grad_W", "gradient w.r.t. W (copies W^{(t)})"),
    _eq("10.26", "grad_W", "gradient w.r.t. W"),
    _eq("10.27", "grad_U", "gradient w.r.t. U (copies U^{(t)})"),
    _eq("10.28", "grad_U", "gradient w.r.t. U"),
    _eq("10.36", "linear_states",
        "linear recurrence without input or nonlinearity (§10.7)"),
    _eq("10.37", "linear_state_at", "its solution as a matrix power"),
    _eq("10.38", "eigendecompose", "eigendecomposition W = Q Λ Q^T"),
    _eq("10.39", "eigen_state_at", "the power through the eigendecomposition"),
    # LSTM (§10.10.1), chapter "The LSTM"; the forms as printed (10.41 with the book's
    # σ cell input), the functions compute the standard LSTM (tanh) by default
    _eq("10.40", "lstm_forget_gate", "LSTM forget gate"),
    _eq("10.41", "lstm_state", "LSTM state update (as printed, σ cell input: "
                               "variant='book'; default tanh)"),
    _eq("10.42", "lstm_input_gate", "LSTM external input gate"),
    _eq("10.43", "lstm_output", "LSTM output"),
    _eq("10.44", "lstm_output_gate", "LSTM output gate"),
    # §10.10.2, the GRU (chapter "Gated recurrent units"); the forms are printed as
    # the book prints them, the functions compute Cho et al.'s cell by default
    _eq("10.45", "gru_state", "GRU state update (as printed, σ candidate and gates "
                              "at t-1: variant='book'; default Cho et al.)"),
    _eq("10.46", "gru_update_gate", "GRU update gate"),
    _eq("10.47", "gru_reset_gate", "GRU reset gate"),
    _eq("10.48", "clip_by_global_norm",
        "gradient clipping: the test, the norm exceeds the threshold (§10.11.1)"),
    _eq("10.49", "clip_by_global_norm",
        "gradient clipping: the update, rescale to the threshold"),
    # §10.2.1, chapter "Teacher forcing and output recurrence": the output-recurrent
    # network of figs 10.4/10.6 (rnnlib.teacher_forcing), W of shape (H, n_out).
    # Printed as the book prints them (p, not p_model; conditioned on both inputs).
    _eq("10.15", "sequence_log_prob",
        "log-likelihood of an output sequence (output recurrence)"),
    _eq("10.16", "teacher_forced_log_probs",
        "its chain-rule split into teacher-forced conditionals"),
])


# Equations of §10.2 in the range 10.8–10.28 that rnnlib does not implement, and why.
OUT_OF_SCOPE: dict[str, str] = {}
