"""``numnet.nn.functional``: activations, losses and dropout with PyTorch's names.

Heavy lifting happens in the fused primitives of :mod:`numnet.ops`; this package
validates inputs (shapes, label ranges, reductions) and composes the rest. One module
per family, as in :mod:`numnet.ops`: :mod:`.affine`, :mod:`.activation`, :mod:`.loss`
(its label and weight bookkeeping in :mod:`._targets`), :mod:`.regularization` (dropout) and
:mod:`.conv` (convolution, pooling, flatten); the shared argument checks are in
:mod:`._validation`. Every public name is importable from here
(``import numnet.nn.functional as F``).

Shapes: batches are rows, ``(N, D)``; classification logits are ``(N, C)`` (or
``(N, C, d1, ...)``, class axis 1), class labels ``(N,)`` (or ``(N, d1, ...)``) integers
in ``[0, C)``.
"""

from numnet.nn.functional._targets import (  # noqa: F401  (used by numnet.nn's loss modules)
    _as_weight_array,
    _check_ignore_index,
    _check_label_smoothing,
    _constant_array,
)
from numnet.nn.functional._validation import (  # noqa: F401  (used by numnet.nn's modules)
    _check_inplace,
    _check_reduction,
)
from numnet.nn.functional.activation import (
    arctan,
    heaviside,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    sign,
    softmax,
    softplus,
    tanh,
)
from numnet.nn.functional.affine import linear
from numnet.nn.functional.conv import avg_pool2d, conv1d, conv2d, flatten, max_pool2d
from numnet.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    mse_loss,
    nll_loss,
)
from numnet.nn.functional.regularization import dropout

__all__ = [
    # linear
    "linear",
    # activations
    "sigmoid",
    "tanh",
    "relu",
    "softplus",
    "arctan",
    "leaky_relu",
    "heaviside",
    "sign",
    "softmax",
    "log_softmax",
    # losses
    "mse_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "hinge_loss",
    # dropout
    "dropout",
    # convolution and pooling
    "conv2d",
    "conv1d",
    "max_pool2d",
    "avg_pool2d",
    "flatten",
]
