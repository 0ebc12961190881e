"""Layers and models: ``Module``, ``Parameter``, ``Linear``, ``Sequential``, activations..."""

from numnet.nn import functional, init
from numnet.nn.activation import (
    ACTIVATIONS,
    Arctan,
    Flatten,
    Heaviside,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Sign,
    Softmax,
    Softplus,
    Tanh,
)
from numnet.nn.containers import ModuleList, Sequential
from numnet.nn.dropout import Dropout
from numnet.nn.linear import Identity, Linear
from numnet.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HingeLoss,
    MSELoss,
    NLLLoss,
)
from numnet.nn.module import Module
from numnet.nn.parameter import Parameter

__all__ = [
    "ACTIVATIONS",
    "Arctan",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Heaviside",
    "HingeLoss",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Sign",
    "Softmax",
    "Softplus",
    "Tanh",
    "functional",
    "init",
]

# -- convolution, pooling, residual blocks -----------------------------------------------
from numnet.nn.conv import Conv1d, Conv2d  # noqa: E402
from numnet.nn.pooling import AvgPool2d, MaxPool2d  # noqa: E402
from numnet.nn.residual import Residual  # noqa: E402

__all__ += ["AvgPool2d", "Conv1d", "Conv2d", "MaxPool2d", "Residual"]

# -- torch.nn.utils: gradient clipping; the architecture configs io.save writes ------------
from numnet.nn import config, utils  # noqa: E402

__all__ += ["config", "utils"]
