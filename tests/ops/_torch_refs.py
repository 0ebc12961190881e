"""PyTorch references for numnet ops PyTorch does not have (the straight-through
estimators), shared by the op sweeps. Import only where torch is installed."""

import torch


class _Surrogate(torch.autograd.Function):
    """A forward value with a surrogate backward mask: PyTorch's rule for a mask is a
    selection (``where(mask, δy, 0)``, as its ``hardtanh_backward``)."""

    @staticmethod
    def forward(ctx, x, value, mask):
        ctx.save_for_backward(mask)
        return value

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return torch.where(mask, g, torch.zeros((), dtype=g.dtype)), None, None


def heaviside_st(x):
    """The straight-through Heaviside step: ``1{x ≥ 0}`` forward, identity backward."""
    return _Surrogate.apply(x, (x >= 0).to(x.dtype), torch.ones_like(x, dtype=torch.bool))


def sign_st(x):
    """The straight-through sign (Hubara et al.): ``±1`` forward, ``1{|x| ≤ 1}`` backward."""
    value = torch.where(x >= 0, 1.0, -1.0).to(x.dtype)
    return _Surrogate.apply(x, value, x.abs() <= 1)
