"""The encoder–decoder shape shared by the linear and the nonlinear autoencoders."""

from __future__ import annotations

from numnet.nn.module import Module


class _EncoderDecoder(Module):
    """``x ↦ decoder(encoder(x))``, with the two halves callable on their own.

    Subclasses set the sub-modules ``encoder`` (inputs ``(N, d)`` to codes ``(N, m)``)
    and ``decoder`` (codes to reconstructions ``(N, d)``).
    """

    def encode(self, x):
        """The bottleneck code ``z`` ``(N, m)`` of inputs ``x`` ``(N, d)``."""
        return self.encoder(x)

    def decode(self, z):
        """Reconstructions ``(N, d)`` from codes ``z`` ``(N, m)``."""
        return self.decoder(z)

    def forward(self, x):
        return self.decoder(self.encoder(x))
