"""Reverse-mode automatic differentiation: the primitive registry and the backward walk."""

from numnet.autograd.engine import (
    backward,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from numnet.autograd.registry import PRIMITIVES, Primitive, primitive

__all__ = [
    "PRIMITIVES",
    "Primitive",
    "backward",
    "enable_grad",
    "grad",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "primitive",
    "set_grad_enabled",
]
