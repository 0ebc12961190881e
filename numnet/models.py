"""Ready-made architectures from the seeds, built from ``numnet.nn`` layers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from numnet import nn
from numnet.random import as_generator


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    *,
    activation: str = "relu",
    dropout: float = 0.0,
    generator=None,
    dtype=np.float32,
) -> nn.Sequential:
    """A multi-layer perceptron ``Linear → φ → [Dropout] → ... → Linear`` (logits out).

    Parameters
    ----------
    in_features, out_features : int
    hidden : sizes of the hidden layers, e.g. ``(512, 512, 512)`` (seed 001's table)
    activation : a name in :data:`numnet.nn.ACTIVATIONS` (``relu``, ``tanh``, ``sigmoid``...)
    dropout : probability of dropping each hidden unit during training (0 for none)
    generator : seed or Generator for the initial weights and the dropout masks
    """
    if activation not in nn.ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(nn.ACTIVATIONS)}")
    gen = as_generator(generator)
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h, generator=gen, dtype=dtype))
        layers.append(nn.ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout, generator=gen))
        width = h
    layers.append(nn.Linear(width, out_features, generator=gen, dtype=dtype))
    return nn.Sequential(*layers)


def weight_decay_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Parameter groups applying L2 ``λ/2 Σ‖W‖²`` to weights only, not biases (seed 001)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if name.endswith("bias") else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def convnet(
    in_channels: int = 1,
    num_classes: int = 10,
    *,
    image_size: int = 28,
    channels: Sequence[int] = (32, 64),
    kernel_size: int = 5,
    hidden: int = 1024,
    padding: str = "same",
    dropout: float = 0.0,
    generator=None,
    dtype=np.float32,
) -> nn.Sequential:
    """The seeds' ConvNet: ``[Conv k×k → ReLU → MaxPool 2] × len(channels) → FC → FC``.

    With the defaults (seed 001's MNIST ConvNet in the classic LeNet/TensorFlow-tutorial
    shape): ``conv 5×5, 1→32 → ReLU → max-pool 2 → conv 5×5, 32→64 → ReLU → max-pool 2
    → flatten (64·7·7 = 3136) → fully connected 3136→1024 → ReLU → [dropout] → 1024→10``
    (logits; the softmax is in the loss). Layer indices, names and shapes are those of the
    same ``torch.nn.Sequential``, so the weights load into PyTorch unchanged.

    Parameters
    ----------
    in_channels, num_classes : int
    image_size : side of the (square) input images
    channels : output channels of the convolutional stages (each halves the image side)
    kernel_size : odd filter size (seed 001's filter width l = k // 2)
    padding : 'same' or 'valid'
        ``'same'``: zero padding ``l`` keeps the image size; ``'valid'``: no padding,
        each convolution trims ``2l`` pixels.
    hidden : width of the fully connected hidden layer (0 for none)
    dropout : probability of dropping a hidden unit of the fully connected layer
    generator : seed or Generator for the initial weights and the dropout masks
    """
    if kernel_size % 2 != 1:
        raise ValueError(f"convnet: kernel_size must be odd, got {kernel_size}")
    if padding not in ("same", "valid"):
        raise ValueError(f"convnet: padding must be 'same' or 'valid', got {padding!r}")
    gen = as_generator(generator)
    layers: list[nn.Module] = []
    width, side = in_channels, image_size
    pad = kernel_size // 2 if padding == "same" else 0
    for c in channels:
        layers += [
            nn.Conv2d(width, c, kernel_size, padding=pad, generator=gen, dtype=dtype),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ]
        width, side = c, (side - kernel_size + 1 + 2 * pad) // 2
        if side < 1:
            raise ValueError(
                f"convnet: images of size {image_size} are too small for "
                f"{len(channels)} stages of {padding!r} {kernel_size}x{kernel_size} "
                "convolutions and 2x2 pooling"
            )
    layers.append(nn.Flatten())
    features = width * side * side
    if hidden:
        layers += [nn.Linear(features, hidden, generator=gen, dtype=dtype), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout, generator=gen))
        features = hidden
    layers.append(nn.Linear(features, num_classes, generator=gen, dtype=dtype))
    return nn.Sequential(*layers)


def residual_mlp(
    in_features: int,
    width: int,
    depth: int,
    out_features: int,
    *,
    activation: str = "relu",
    generator=None,
    dtype=np.float32,
) -> nn.Sequential:
    """A residual network of ``depth`` pre-activation blocks ``x ↦ x + Linear(φ(x))``.

    ``Linear(in_features, width) → [Residual(φ → Linear(width, width))] × depth → φ →
    Linear(width, out_features)`` (logits out): the network of seed 001's residual
    blocks and of ``numnet reproduce residual-depth`` (He et al., 2016, *Identity
    mappings in deep residual networks*). The identity path carries the gradient to
    every block, so deep stacks train where the plain network stalls.

    Parameters
    ----------
    in_features, out_features : int
    width : units of every block (>= 1)
    depth : number of residual blocks (>= 1)
    activation : a name in :data:`numnet.nn.ACTIVATIONS`
    generator : seed or Generator for the initial weights
    """
    if activation not in nn.ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose from {sorted(nn.ACTIVATIONS)}")
    if width < 1 or depth < 1:
        raise ValueError(f"residual_mlp: width and depth must be >= 1, got {width} and {depth}")
    gen = as_generator(generator)
    layers: list[nn.Module] = [nn.Linear(in_features, width, generator=gen, dtype=dtype)]
    for _ in range(depth):
        block = nn.Sequential(
            nn.ACTIVATIONS[activation](), nn.Linear(width, width, generator=gen, dtype=dtype)
        )
        layers.append(nn.Residual(block))
    layers += [
        nn.ACTIVATIONS[activation](),
        nn.Linear(width, out_features, generator=gen, dtype=dtype),
    ]
    return nn.Sequential(*layers)
