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
``equations``          the registry of equations and their functions
=====================  ===========================================================

No module is named like a function it exports, so ``rnnlib.bptt`` is always the
function.
"""

import sys as _sys

from . import fast as _fast
from . import forward_pass as _forward_pass
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
from .loss import dL_dLt, sequence_loss, step_losses
from .params import Params, init_params, zeros_like

# Transitional, until rnnlib/train.py and rnnlib/sample.py import from the package
# (``from rnnlib import forward``): their ``from .forward import ...`` and
# ``from .bptt import ...`` find the renamed modules here. Import-only aliases: the
# attributes rnnlib.forward and rnnlib.bptt stay the functions.
_sys.modules.setdefault(__name__ + ".forward", _forward_pass)
_sys.modules.setdefault(__name__ + ".bptt", _fast)

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
]
__version__ = "0.1.0"
