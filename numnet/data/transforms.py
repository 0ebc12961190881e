"""Per-sample image transforms with torchvision's names: ``Compose``, ``ToTensor``, ``Normalize``.

What ``MNIST(..., transform=...)`` applies to each image it returns (see
:class:`numnet.data.IDXDataset`); torchvision's MNIST example reads the same here::

    from numnet.data import MNIST
    from numnet.data.transforms import Compose, Normalize, ToTensor

    ds = MNIST(root, transform=Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]))
    image, label = ds[0]          # Tensor (1, 28, 28) float32, int

Any callable is a transform (e.g. ``lambda t: t.flatten()``); :class:`Lambda` only
names one, as torchvision does.

Differences from torchvision, on purpose: numnet has no PIL dependency, so images are
NumPy arrays ``(H, W)`` or ``(H, W, C)`` (what a dataset's ``data`` holds) and
:class:`ToTensor` refuses PIL Images; the results are numnet Tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from numnet.tensor import Tensor

__all__ = ["Compose", "Lambda", "Normalize", "ToTensor"]


class Compose:
    """Apply ``transforms`` one after the other (``torchvision.transforms.Compose``).

    Parameters
    ----------
    transforms : sequence of callable
        Each takes the previous one's output.

    Raises
    ------
    TypeError
        If an element is not callable (at construction).
    """

    def __init__(self, transforms: Sequence[Callable]) -> None:
        transforms = list(transforms)
        for i, t in enumerate(transforms):
            if not callable(t):
                raise TypeError(f"Compose: transforms[{i}] is not callable: {t!r}")
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({inner}\n)"


class Lambda:
    """A transform from a function (``torchvision.transforms.Lambda``).

    Raises
    ------
    TypeError
        If ``lambd`` is not callable.
    """

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"Lambda({getattr(self.lambd, '__name__', repr(self.lambd))})"


class ToTensor:
    """An image array ``(H, W)`` or ``(H, W, C)`` as a Tensor ``(C, H, W)``, uint8 scaled to [0, 1].

    ``torchvision.transforms.ToTensor`` for NumPy input: a 2-D image gets a channel
    axis (``(28, 28)`` → ``(1, 28, 28)``); uint8 pixels become float32 ``x / 255``;
    other dtypes keep their values and dtype (as torchvision's). The result is always
    a new array: changing it never changes the dataset.

    Raises
    ------
    TypeError
        If ``pic`` is not a ``numpy.ndarray`` (a PIL Image included: numnet does not use
        PIL).
    ValueError
        If ``pic`` is not 2- or 3-dimensional.
    """

    def __call__(self, pic) -> Tensor:
        if not isinstance(pic, np.ndarray):
            raise TypeError(
                f"pic should be a numpy.ndarray (numnet does not read PIL Images). Got {type(pic)}"
            )
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        chw = pic[None] if pic.ndim == 2 else pic.transpose(2, 0, 1)
        if chw.dtype == np.uint8:
            out = np.multiply(chw, np.float32(1 / 255), dtype=np.float32)
        else:
            out = np.array(chw, order="C")  # a copy, dtype kept
        return Tensor._wrap(out)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a Tensor image (``torchvision``'s).

    Parameters
    ----------
    mean, std : float or sequence of float
        One value per channel ``C`` (or one for all).
    inplace : bool
        Overwrite the input Tensor instead of returning a new one.

    Returns
    -------
    Tensor
        Same shape and dtype as the input ``(..., C, H, W)``.

    Raises
    ------
    TypeError
        If the input is not a floating Tensor.
    ValueError
        If it has fewer than 3 dimensions, ``mean``/``std`` do not broadcast over its
        ``C`` channels, or a ``std`` is zero (in the input's dtype).
    """

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, bool(inplace)

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"img should be a Tensor image. Got {type(tensor)}")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(
                "Expected tensor to be a tensor image of size (..., C, H, W). Got "
                f"tensor.shape = {tuple(tensor.shape)}."
            )
        mean = np.asarray(self.mean, dtype=tensor.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=tensor.dtype).reshape(-1, 1, 1)
        channels = tensor.shape[-3]
        for name, v in (("mean", mean), ("std", std)):
            if len(v) not in (1, channels):
                raise ValueError(f"{name} has {len(v)} values for an image of {channels} channels")
        if (std == 0).any():
            raise ValueError(
                f"std evaluated to zero after conversion to {tensor.dtype}, leading to "
                "division by zero."
            )
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"
