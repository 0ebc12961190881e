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
    rng = as_generator(generator)
    layers: list[nn.Module] = []
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h, generator=rng, dtype=dtype))
        layers.append(nn.ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout, generator=rng))
        width = h
    layers.append(nn.Linear(width, out_features, generator=rng, dtype=dtype))
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
