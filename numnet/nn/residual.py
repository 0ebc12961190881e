"""``Residual``: a skip connection ``G(x) = F(x) + x`` around a block (seed 001).

Seed 001: rather than the map ``G`` itself, a residual block learns the residual
``F(x) = G(x) - x`` and outputs ``F(x) + x``. The identity path carries the
gradient past the block unchanged, ``δx = δG + (∂F/∂x)ᵀ δG``, so a deep stack of
blocks does not multiply the gradient by many small Jacobians, which is what makes
networks with hundreds of layers trainable. Composed from primitives (``add``): no
gradient code of its own.
"""

from __future__ import annotations

from numnet.nn.module import Module


class Residual(Module):
    """``block(x) + x``, or ``block(x) + projection(x)`` when the shapes differ.

    Parameters
    ----------
    block : Module
        The residual branch ``F``.
    projection : Module, optional
        The shortcut, needed when ``F`` changes the shape: usually a 1×1
        ``Conv2d(C_in, C_out, 1, stride=s)`` for images or a ``Linear`` for vectors
        (He et al., 2016, option B). ``None`` is the identity.

    References
    ----------
    He, Zhang, Ren, Sun (2016), "Deep residual learning for image recognition", CVPR.
    """

    def __init__(self, block: Module, projection: Module | None = None) -> None:
        if not isinstance(block, Module) or not (
            projection is None or isinstance(projection, Module)
        ):
            raise TypeError("Residual needs Modules for block and projection")
        self.block = block
        self.projection = projection

    def get_config(self) -> dict:
        return {"block": self.block, "projection": self.projection}

    def forward(self, x):
        fx = self.block(x)
        shortcut = x if self.projection is None else self.projection(x)
        if fx.shape != shortcut.shape:
            what = "input" if self.projection is None else "projected input"
            raise ValueError(
                f"Residual: the block maps an input of shape {tuple(x.shape)} to shape "
                f"{tuple(fx.shape)}, which differs from the {what}'s shape "
                f"{tuple(shortcut.shape)}; pass projection= (e.g. a 1x1 Conv2d) to match them"
            )
        return fx + shortcut
