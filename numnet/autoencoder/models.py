"""Nonlinear autoencoders with a bottleneck (seed 001) and the reconstruction loss.

Seed 001, "Autoencoders": the input layer has ``n`` nodes, the central hidden layer
``m ≪ n`` nodes (the bottleneck, a compact representation of the input), and the
network is trained to minimise the reconstruction error ``‖X − X_r‖²``. Its MNIST
example uses 50 bottleneck nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numnet.autoencoder._base import _EncoderDecoder
from numnet.autograd.engine import no_grad
from numnet.nn.activation import ACTIVATIONS
from numnet.nn.containers import Sequential
from numnet.nn.linear import Linear
from numnet.nn.module import Module
from numnet.random import as_generator
from numnet.tensor import Tensor

__all__ = ["Autoencoder", "reconstruct", "reconstruction_loss", "reconstruction_losses"]


def reconstruction_loss(output, target) -> Tensor:
    """Seed 003's loss ``L = 1/(2n) Σ_i ‖x_i − y_i‖²`` (a scalar Tensor, differentiable).

    Parameters
    ----------
    output : Tensor (N, d)
        Reconstructions ``y_i``.
    target : Tensor or array (N, d)
        Clean inputs ``x_i``; a float array takes ``output``'s dtype (a Tensor must
        already have it: numnet never upcasts silently).

    Returns
    -------
    Tensor
        The scalar ``L``.

    Raises
    ------
    ValueError
        If the shapes of ``output`` and ``target`` differ, or the batch is empty.

    Notes
    -----
    The gradient is ``∂L/∂y_i = (y_i − x_i)/n``. Compared with ``mse_loss`` (mean over all
    ``N·d`` entries) this is ``d/2`` times larger; it is the loss whose gradients are
    written in seed 003 and whose optimum is the Eckart–Young error.
    """
    if not isinstance(target, Tensor):  # an array takes the output's float dtype
        arr = np.asarray(target)
        target = Tensor(arr, dtype=output.dtype if arr.dtype.kind == "f" else None)
    if output.shape != target.shape:
        raise ValueError(
            f"reconstruction_loss: output shape {output.shape} and target shape "
            f"{target.shape} differ"
        )
    if output.ndim < 1 or output.shape[0] == 0:
        raise ValueError("reconstruction_loss: empty batch")
    diff = output - target
    return (diff * diff).sum() * (0.5 / output.shape[0])


def _model_dtype(model: Module) -> np.dtype:
    for p in model.parameters():
        return p.dtype
    return np.dtype(np.float32)


def reconstruct(model: Module, X, *, batch_size: int = 2048) -> np.ndarray:
    """``model(X)`` in evaluation mode (noise and dropout off), without a graph, by batches."""
    X = np.asarray(X.data if isinstance(X, Tensor) else X)
    dtype = _model_dtype(model)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = [
                model(Tensor._wrap(X[s : s + batch_size].astype(dtype, copy=False))).data
                for s in range(0, len(X), batch_size)
            ]
    finally:
        model.train(was_training)
    return np.concatenate(outs) if outs else np.empty((0,) + X.shape[1:], dtype=dtype)


def reconstruction_losses(model: Module, X, target=None, *, batch_size: int = 2048) -> np.ndarray:
    """Per-sample ``½‖x_i − y_i‖²`` (float64, shape ``(N,)``); ``target`` defaults to ``X``.

    Pass a corrupted ``X`` and the clean ``target`` to score a denoising autoencoder.
    The seed-003 loss is the mean of the result.
    """
    target = np.asarray(X if target is None else target)
    out = reconstruct(model, X, batch_size=batch_size)
    if out.shape != target.shape:
        raise ValueError(f"reconstructions {out.shape} and target {target.shape} differ")
    diff = out.astype(np.float64) - target
    return 0.5 * np.einsum("ij,ij->i", diff.reshape(len(diff), -1), diff.reshape(len(diff), -1))


def _activation(name: str | None) -> Module | None:
    if name is None or name == "identity":
        return None
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)} or None")
    return ACTIVATIONS[name]()


def _layers(widths: list[int], activation, last_activation, generator, dtype) -> list[Module]:
    """``Linear`` layers through ``widths``, each followed by its activation (the last by
    ``last_activation``), skipping the identity."""
    layers: list[Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(Linear(a, b, generator=generator, dtype=dtype))
        act = _activation(last_activation if i == len(widths) - 2 else activation)
        if act is not None:
            layers.append(act)
    return layers


class Autoencoder(_EncoderDecoder):
    """A symmetric MLP autoencoder ``d → h_1 → ... → m → ... → h_1 → d``.

    Parameters
    ----------
    in_features : int
        ``n`` (784 for MNIST).
    bottleneck : int
        ``m`` (seed 001's example: 50).
    hidden : sequence of int
        Widths of the encoder's hidden layers (mirrored in the decoder); ``()`` gives a
        one-hidden-layer autoencoder ``d → m → d``.
    activation : str
        Hidden activation (a name in :data:`numnet.nn.ACTIVATIONS`).
    code_activation : str or None
        Activation of the bottleneck (``None``: linear code).
    output_activation : str or None
        ``"sigmoid"`` keeps reconstructions in ``(0, 1)`` like pixel intensities.
    generator : int | numpy.random.Generator | None
        Source of the initial weights.
    dtype : float32 (default) or float64

    Attributes
    ----------
    encoder, decoder : Sequential
    """

    def __init__(
        self,
        in_features: int,
        bottleneck: int,
        hidden: Sequence[int] = (),
        *,
        activation: str = "relu",
        code_activation: str | None = None,
        output_activation: str | None = "sigmoid",
        generator=None,
        dtype=np.float32,
    ) -> None:
        hidden = [int(h) for h in hidden]
        if in_features < 1 or bottleneck < 1 or any(h < 1 for h in hidden):
            raise ValueError(
                f"layer sizes must be positive, got in_features={in_features}, "
                f"bottleneck={bottleneck}, hidden={hidden}"
            )
        rng = as_generator(generator)
        self.in_features, self.bottleneck, self.hidden = int(in_features), int(bottleneck), hidden
        for name in (activation, code_activation, output_activation):
            _activation(name)  # validate names early
        self.activation = activation
        self.code_activation, self.output_activation = code_activation, output_activation
        widths = [int(in_features), *hidden, int(bottleneck)]
        self.encoder = Sequential(*_layers(widths, activation, code_activation, rng, dtype))
        self.decoder = Sequential(*_layers(widths[::-1], activation, output_activation, rng, dtype))

    def get_config(self) -> dict:
        return {
            "in_features": self.in_features,
            "bottleneck": self.bottleneck,
            "hidden": self.hidden,
            "activation": self.activation,
            "code_activation": self.code_activation,
            "output_activation": self.output_activation,
            "dtype": self.encoder[0].weight.dtype,
        }

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, hidden={self.hidden}, bottleneck={self.bottleneck}"
