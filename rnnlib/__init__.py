"""rnnlib: the recurrent network of Deep Learning (Goodfellow, Bengio & Courville,
2016) §10.2, its loss and back-propagation through time, in batched numpy.

Each equation of §10.2 is one function, exported here under the name that
``rnnlib.equations.EQUATIONS`` and the book's equation index print
(``rnnlib.grad_V`` implements (10.24)). Modules:

=====================  ===========================================================
``params``             :class:`rnnlib.Params`, :func:`rnnlib.init_params`
``forward_pass``       (10.8)–(10.11) and :func:`rnnlib.forward`
``loss``               (10.12)–(10.14), (10.17)
``gradients``          (10.18)–(10.28), one function each, and
                       :func:`rnnlib.backward`
``fast``               :func:`rnnlib.loss_and_grads`, :func:`rnnlib.bptt`: the
                       same, fast, for training
``gradient_check``     finite differences
``longterm``           (10.36)–(10.39) and the Jacobian products of §10.7
``lstm``               the LSTM (10.40)–(10.44): :class:`rnnlib.lstm.LSTMParams`,
                       ``lstm.forward``, ``lstm.bptt``; its equations exported
                       here as ``rnnlib.lstm_forget_gate`` …
``optim``              optimizers; gradient clipping, (10.48)–(10.49)
``cliff``              the one-unit network with a cliff of §10.11.1
``teacher_forcing``    (10.15)–(10.16): output recurrence, teacher forcing and
                       free running (§10.2.1)
``equations``          the registry of equations and their functions
``forms``              each numbered equation as one SymPy expression
``notation``           the book's notation in SymPy and its LaTeX printer
``exercise``           check cells for "write the function" exercises
``train``, ``optim``,  character-level training: truncated BPTT, optimizers,
``data``, ``sample``,  data, sampling, checkpoints (``python -m rnnlib.train``)
``checkpoint``
``gru``                the GRU (10.45)–(10.47): ``rnnlib.gru.GRUParams``,
                       ``init_params``, ``forward``, ``bptt``, …; its
                       per-equation functions here (``rnnlib.gru_state``)
=====================  ===========================================================

No module is named like a function it exports, so ``rnnlib.bptt`` is always the
function.
"""

# The GRU module: rnnlib.gru.forward, .bptt, … stay in it (at package level those
# names are the vanilla RNN's); its per-equation functions are exported below.
from . import gru as gru
from .cliff import cliff_loss_and_grad, cliff_states
from .equations import EQUATIONS
from .fast import BPTTResult, bptt, loss_and_grads
from .forward_pass import (
    Forward,
    forward,
    hidden,
    log_softmax,
    output,
    pre_activation,
    softmax,
)
from .gradient_check import (
    GradientCheckError,
    assert_agree,
    gradcheck,
    numerical_gradient,
    relative_error,
)
from .gradients import (
    Backward,
    HiddenGrads,
    backward,
    grad_b,
    grad_c,
    grad_U,
    grad_V,
    grad_W,
    hidden_grad_step,
    hidden_grads,
    last_hidden_grad,
    output_grad,
    tanh_backward,
)
from .gru import (
    gru_candidate,
    gru_reset_gate,
    gru_state,
    gru_step_backward,
    gru_update_gate,
)
from .longterm import (
                   eigen_state_at,
                   eigendecompose,
                   jacobian_norm_bound,
                   jacobian_products,
                   linear_state_at,
                   linear_states,
)
from .loss import dL_dLt, sequence_loss, step_losses

# LSTM (§10.10.1): the per-equation functions; the cell's params, forward and bptt
# are in the module, rnnlib.lstm.
from .lstm import (
    lstm_cell_input,
    lstm_forget_gate,
    lstm_input_gate,
    lstm_output,
    lstm_output_gate,
    lstm_state,
    lstm_step_backward,
)
from .optim import clip_by_global_norm, clip_elementwise, global_norm
from .params import Params, init_params, zeros_like
from .teacher_forcing import (
    OutputForward,
    OutputRecurrentParams,
    free_running_loss_and_grads,
    init_output_recurrent,
    output_recurrent_forward,
    sequence_log_prob,
    teacher_forced_log_probs,
    teacher_forced_loss_and_grads,
)

__all__ = [
    "Params", "init_params", "zeros_like",
    "Forward", "forward", "pre_activation", "hidden", "output", "softmax",
    "log_softmax",
    "step_losses", "sequence_loss", "dL_dLt",
    "Backward", "HiddenGrads", "backward", "output_grad", "last_hidden_grad",
    "tanh_backward", "hidden_grad_step", "hidden_grads",
    "grad_c", "grad_b", "grad_V", "grad_W", "grad_U",
    "BPTTResult", "bptt", "loss_and_grads",
    "GradientCheckError", "assert_agree", "gradcheck", "numerical_gradient",
    "relative_error",
    "EQUATIONS",
    "linear_states", "linear_state_at", "eigendecompose", "eigen_state_at",
    "jacobian_products", "jacobian_norm_bound",
    # LSTM
    "lstm_forget_gate", "lstm_input_gate", "lstm_output_gate", "lstm_cell_input",
    "lstm_state", "lstm_output", "lstm_step_backward",
    # GRU
    "gru_update_gate", "gru_reset_gate", "gru_candidate", "gru_state",
    "gru_step_backward",
    "clip_by_global_norm", "clip_elementwise", "global_norm",
    "cliff_states", "cliff_loss_and_grad",
    "OutputRecurrentParams", "OutputForward", "init_output_recurrent",
    "output_recurrent_forward", "teacher_forced_log_probs", "sequence_log_prob",
    "teacher_forced_loss_and_grads", "free_running_loss_and_grads",
]
__version__ = "0.1.0"
