"""A convolutional layer commutes with translations; a fully connected one does not (seed 000).

Seed 000 derives the convolutional layer from one demand: the action of the layer
must commute with the action of the translation group, ``L(S_m x) = S_m L(x)``. That
forces equal weights along every diagonal of the weight matrix (``w_{ij}`` a function
of ``i - j``: a Toeplitz operator), i.e. a convolution ``y = φ(w ∗ x + b)``.

This experiment checks both statements numerically:

1. *Equivariance.* A digit is placed on a 40×40 zero canvas and shifted by ``(dy, dx)``;
   for a random ``Conv2d(1, 4, 5, padding='same') → ReLU`` layer the relative error
   ``‖L(S x) - S L(x)‖ / ‖L(x)‖`` is zero (to rounding) for every shift, while for a
   random fully connected layer of the same input and output size it is of order 1.
   After a 2×2 max-pool the stage is equivariant only to shifts by whole pooling
   blocks (even shifts; the output then moves by half as much).
2. *Toeplitz structure.* The matrix of a ``Conv1d`` layer (obtained by applying it to
   the unit vectors) has constant diagonals; that of a ``Linear`` layer does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

NAME = "shift-equivariance"
DESCRIPTION = "conv layers commute with translations (Toeplitz), fully connected layers do not"

CANVAS = 40
TOEPLITZ_N = 16
SHIFTS = [(0, 1), (1, 0), (2, 2), (-3, 1), (4, -2), (-5, -5), (6, 3)]


def _image(data_dir, seed: int) -> tuple[np.ndarray, str]:
    """A 28×28 digit in [0, 1] (MNIST if available, else a drawn '7')."""
    try:
        from numnet.data import load_mnist

        _, _, Xt, yt = load_mnist(data_dir, flatten=False)
        i = int(np.random.default_rng(seed).integers(len(Xt)))
        return Xt[i, 0], f"MNIST test image {i} (a {int(yt[i])})"
    except (OSError, ValueError):
        img = np.zeros((28, 28), np.float32)
        img[6:9, 7:21] = 1
        for r in range(9, 23):
            c = 20 - (r - 9) // 2
            img[r, c - 1 : c + 2] = 1
        return img, "a synthetic '7' (MNIST not found)"


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Translate the last two axes (content stays inside the zero margin, so roll = shift)."""
    return np.roll(a, (dy, dx), axis=(-2, -1))


def _layers(seed: int):
    from numnet import nn

    conv = nn.Sequential(nn.Conv2d(1, 4, 5, padding="same", generator=seed), nn.ReLU())
    pool = nn.Sequential(conv, nn.MaxPool2d(2))
    fc = nn.Sequential(
        nn.Flatten(), nn.Linear(CANVAS * CANVAS, 4 * CANVAS * CANVAS, generator=seed + 1), nn.ReLU()
    )
    return conv, pool, fc


def _apply(layer, x: np.ndarray) -> np.ndarray:
    import numnet

    with numnet.no_grad():
        out = layer(numnet.Tensor(x[None, None])).data
    return out.reshape(4, *out.shape[-2:]) if out.ndim == 4 else out.reshape(4, CANVAS, CANVAS)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


def toeplitz_deviation(matrix: np.ndarray) -> float:
    """Largest spread of the entries along any diagonal, relative to the largest entry."""
    n, m = matrix.shape
    spread = max(np.ptp(np.diagonal(matrix, k)) for k in range(-n + 1, m))
    return float(spread / np.abs(matrix).max())


def layer_matrix(layer, n: int) -> np.ndarray:
    """The ``n × n`` matrix of a linear 1-D layer ``(1, 1, n) -> (1, 1, n)``."""
    import numnet

    with numnet.no_grad():
        cols = [layer(numnet.Tensor(e.reshape(1, 1, n))).data.reshape(n) for e in np.eye(n)]
    return np.stack(cols, axis=1)


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0, verbose: int = 1) -> dict:
    """Measure the equivariance errors and the Toeplitz structure; write results and a PNG."""
    from numnet._files import atomic_write_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digit, source = _image(data_dir, seed)
    x = np.zeros((CANVAS, CANVAS), np.float32)
    x[6:34, 6:34] = digit  # 6-pixel zero margin: shifts up to 6 keep the digit inside
    conv, pool, fc = _layers(seed)
    rows = [_shift_errors(x, shift, conv, pool, fc) for shift in (SHIFTS[:3] if quick else SHIFTS)]
    toeplitz = toeplitz_checks(seed)
    text = _markdown(rows, toeplitz, source)
    atomic_write_bytes(out / "results.md", text.encode())
    atomic_write_bytes(
        out / "results.json",
        json.dumps(
            {"rows": rows, "toeplitz_deviation": toeplitz, "input": source}, indent=1
        ).encode(),
    )
    try:
        _plot(x, conv, fc, out / "shift_equivariance.png")
    except ImportError:
        pass
    if verbose:
        print(text)
    return {
        "table": str(out / "results.md"),
        "max_conv_error": max(r["conv_error"] for r in rows),
        "min_fc_error": round(min(r["fc_error"] for r in rows), 3),
        "toeplitz_deviation": toeplitz,
    }


def _shift_errors(x, shift, conv, pool, fc) -> dict:
    """The three layers' relative equivariance errors for one shift ``(dy, dx)``."""
    dy, dx = shift
    xs = _shift(x, dy, dx)
    row = {
        "shift": [dy, dx],
        "conv_error": _rel(_apply(conv, xs), _shift(_apply(conv, x), dy, dx)),
        "fc_error": _rel(_apply(fc, xs), _shift(_apply(fc, x), dy, dx)),
    }
    if dy % 2 == 0 and dx % 2 == 0:
        row["conv_pool_error"] = _rel(_apply(pool, xs), _shift(_apply(pool, x), dy // 2, dx // 2))
    else:  # a shift by an odd number of pixels is not a shift of the pooled grid
        row["conv_pool_error"] = None
    return row


def toeplitz_checks(seed: int, n: int = TOEPLITZ_N) -> dict:
    """:func:`toeplitz_deviation` of a Conv1d(k=5) and of a Linear layer on ``n`` samples."""
    from numnet import nn

    conv1d = nn.Conv1d(1, 1, 5, padding="same", bias=False, generator=seed)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(n, n, bias=False, generator=seed))
    return {
        "conv1d": toeplitz_deviation(layer_matrix(conv1d, n)),
        "linear": toeplitz_deviation(layer_matrix(linear, n)),
    }


def _markdown(rows: list[dict], toeplitz: dict, source: str) -> str:
    lines = [
        "| shift (dy, dx) | conv + ReLU | conv + ReLU + max-pool 2 | fully connected + ReLU |",
        "|---|---|---|---|",
    ]
    for r in rows:
        pool_txt = "—" if r["conv_pool_error"] is None else f"{r['conv_pool_error']:.1e}"
        lines.append(
            f"| {tuple(r['shift'])} | {r['conv_error']:.1e} | {pool_txt} | {r['fc_error']:.2f} |"
        )
    return (
        "Relative equivariance error ‖L(Sx) − S L(x)‖ / ‖L(x)‖ "
        f"(input: {source} on a {CANVAS}×{CANVAS} zero canvas; after pooling the output "
        "shift is (dy/2, dx/2)):\n\n"
        + "\n".join(lines)
        + f"\n\nToeplitz check on {TOEPLITZ_N}-sample signals (spread of the entries along "
        f"the diagonals of the layer's matrix / largest entry): Conv1d(k=5) "
        f"{toeplitz['conv1d']:.1e}, Linear {toeplitz['linear']:.2f}.\n"
    )


def _plot(x, conv, fc, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    dy, dx = 4, -3
    xs = _shift(x, dy, dx)
    panels = [
        ("input x", x),
        (f"S x, shift ({dy}, {dx})", xs),
        ("conv: L(S x)", _apply(conv, xs)[0]),
        ("conv: S L(x)", _shift(_apply(conv, x), dy, dx)[0]),
        ("fc: L(S x)", _apply(fc, xs)[0]),
        ("fc: S L(x)", _shift(_apply(fc, x), dy, dx)[0]),
    ]
    fig, axes = new_figure(1, len(panels), size=(2.4 * len(panels), 2.8))
    for ax, (title, img) in zip(axes[0], panels):
        ax.imshow(img, cmap="gray")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        "a convolutional layer commutes with translations, a fully connected one "
        "does not (channel 0 of 4)",
        fontsize=9,
    )
    save_figure(fig, path)
