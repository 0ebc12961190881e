"""Autoencoders (seeds 001 and 003): linear, PCA by truncated SVD, nonlinear, denoising.

Linear (seed 003)
    :class:`LinearAutoencoder` ``x ↦ DCx`` (``tied=True``: ``D = Cᵀ``,
    :class:`TiedDecoder`); :class:`PCA` (truncated SVD, the
    Eckart–Young optimum); :func:`eckart_young_loss`; :func:`principal_angles`
    (compare the decoder's span with the principal subspace);
    :func:`linear_autoencoder_gradients` (the seed's closed-form gradients).
Nonlinear (seed 001)
    :class:`Autoencoder` (symmetric MLP with a bottleneck), :func:`reconstruction_loss`
    (``1/(2n) Σ‖x − y‖²``), :func:`reconstruct`, :func:`reconstruction_losses`.
Denoising (seed 001)
    :func:`gaussian_noise`, :func:`masking_noise` (seeded corruptions of arrays) and the
    train-mode-only layers :class:`GaussianNoise`, :class:`MaskingNoise`.
"""

from numnet.autoencoder.linear import (
    PCA,
    LinearAutoencoder,
    TiedDecoder,
    eckart_young_loss,
    linear_autoencoder_gradients,
    principal_angles,
    reconstruction_loss_np,
)
from numnet.autoencoder.models import (
    Autoencoder,
    reconstruct,
    reconstruction_loss,
    reconstruction_losses,
)
from numnet.autoencoder.noise import GaussianNoise, MaskingNoise, gaussian_noise, masking_noise

__all__ = [
    "PCA",
    "Autoencoder",
    "GaussianNoise",
    "LinearAutoencoder",
    "MaskingNoise",
    "TiedDecoder",
    "eckart_young_loss",
    "gaussian_noise",
    "linear_autoencoder_gradients",
    "masking_noise",
    "principal_angles",
    "reconstruct",
    "reconstruction_loss",
    "reconstruction_loss_np",
    "reconstruction_losses",
]
