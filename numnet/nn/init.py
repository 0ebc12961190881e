"""Weight initialisation (``torch.nn.init`` names); each takes a seed or Generator.

All functions fill a :class:`~numnet.nn.Parameter` (or Tensor) in place and return
it. ``fan_in``/``fan_out`` of a weight ``(out, in, *kernel)`` are ``in·k`` and
``out·k`` with ``k`` the kernel size, as in PyTorch.

=======================  ==============================================================
function                 distribution
=======================  ==============================================================
``uniform_fan_in_``      ``U(-1/fan_in, 1/fan_in)`` — seed 003's code
                         (``np.random.uniform(-1/n, 1/n, (m, n))``)
``xavier_uniform_``      ``U(-a, a)``, ``a = gain·√(6/(fan_in+fan_out))`` (Glorot & Bengio)
``xavier_normal_``       ``N(0, gain²·2/(fan_in+fan_out))``
``kaiming_uniform_``     ``U(-b, b)``, ``b = gain·√(3/fan)`` (He et al., 2015)
``kaiming_normal_``      ``N(0, gain²/fan)``
=======================  ==============================================================
"""

from __future__ import annotations

import math

import numpy as np

from numnet.random import as_generator


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` in place and bump its version (like torch's
    ``nn.init``, which writes under ``no_grad``)."""
    tensor.data[...] = np.asarray(values).astype(tensor.data.dtype, copy=False)
    tensor._bump_version()
    return tensor


def calculate_fans(tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``."""
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"fan in/out need a weight with at least 2 dimensions, got {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for an activation (PyTorch's table)."""
    linear_like = ("linear", "identity", "sigmoid", "conv1d", "conv2d")
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unknown nonlinearity {nonlinearity!r}")


def zeros_(tensor):
    """Fill with 0."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill with 1."""
    return _fill(tensor, 1)


def constant_(tensor, value: float):
    """Fill with ``value``."""
    return _fill(tensor, value)


def uniform_(tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fill with ``U(a, b)``."""
    if not a < b:
        raise ValueError(f"uniform_ needs a < b, got a={a}, b={b}")
    return _fill(tensor, as_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill with ``N(mean, std²)``."""
    if std < 0:
        raise ValueError(f"normal_ needs std >= 0, got {std}")
    return _fill(tensor, as_generator(generator).normal(mean, std, tensor.shape))


def uniform_fan_in_(tensor, *, fan_in: int | None = None, generator=None):
    """Seed 003's initialisation ``U(-1/n, 1/n)`` with ``n = fan_in``.

    For a bias (1-D), pass the layer's ``fan_in``.
    """
    if fan_in is None:
        fan_in = calculate_fans(tensor)[0]
    return uniform_(tensor, -1.0 / fan_in, 1.0 / fan_in, generator=generator)


def xavier_uniform_(tensor, gain: float = 1.0, *, generator=None):
    """Glorot/Xavier uniform: ``a = gain·√(6/(fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator=generator)


def xavier_normal_(tensor, gain: float = 1.0, *, generator=None):
    """Glorot/Xavier normal: ``std = gain·√(2/(fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator=generator)


def _kaiming_std(tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = calculate_fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    generator=None,
):
    """He/Kaiming uniform: ``bound = gain·√(3/fan)``."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(
    tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    *,
    generator=None,
):
    """He/Kaiming normal: ``std = gain/√fan``."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)
