"""rnnlib: the recurrent network of Deep Learning (Goodfellow, Bengio & Courville,
2016) §10.2, its loss and back-propagation through time, in batched numpy.

Every function names the book's equation it implements; ``rnnlib.equations``
maps each equation number to its functions and tests.
"""

from .bptt import (
                   Backward,
                   HiddenGrads,
                   backward,
                   bptt,
                   grad_b,
                   grad_c,
                   grad_U,
                   grad_V,
                   grad_W,
                   hidden_grad_step,
                   hidden_grads,
                   last_hidden_grad,
                   loss_and_grads,
                   output_grad,
                   tanh_backward,
)
from .equations import EQUATIONS
from .forward import (
                   Forward,
                   forward,
                   hidden,
                   log_softmax,
                   output,
                   pre_activation,
                   softmax,
)
from .gradcheck import (
                   GradientCheckError,
                   assert_agree,
                   gradcheck,
                   numerical_gradient,
                   relative_error,
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
from .params import Params, init_params, zeros_like

__all__ = [
    "Params", "init_params", "zeros_like",
    "Forward", "forward", "pre_activation", "hidden", "output", "softmax",
    "log_softmax",
    "step_losses", "sequence_loss", "dL_dLt",
    "Backward", "HiddenGrads", "backward", "bptt", "loss_and_grads", "output_grad",
    "last_hidden_grad", "tanh_backward", "hidden_grad_step", "hidden_grads",
    "grad_c", "grad_b", "grad_V", "grad_W", "grad_U",
    "GradientCheckError", "assert_agree", "gradcheck", "numerical_gradient",
    "relative_error",
    "EQUATIONS",
    "linear_states", "linear_state_at", "eigendecompose", "eigen_state_at",
    "jacobian_products", "jacobian_norm_bound",
]
__version__ = "0.1.0"
