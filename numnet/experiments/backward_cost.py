"""Seed 002: "the backward pass is twice more expensive than the forward one" — measured.

Seed 002 ("Back-propagation"): the costly forward operation of a layer is
``s = w x + b``; the backward pass needs two products of the same size,
``∂ℓ/∂x = wᵀ ∂ℓ/∂s`` and ``∂ℓ/∂w = ∂ℓ/∂s xᵀ``, hence the rule of thumb backward ≈ 2 ×
forward. We time numnet's forward (graph recording included) and backward (one
``Tensor.backward`` with a given output gradient) for each layer type, alone, with
the median of repeats, single-threaded BLAS (run with ``OMP_NUM_THREADS=1``):

* ``Linear`` inside a network (its input needs a gradient: two matmuls back);
* ``Linear`` as the first layer (input is data: only ``∂ℓ/∂w`` — one matmul back);
* the same two products in raw NumPy, without numnet (the arithmetic's own ratio);
* element-wise activations (ReLU, sigmoid, tanh), dropout, and the fused
  softmax cross-entropy;
* a whole MLP 784-512-512-10 (forward through the loss, backward from it).

Batch 256, width 512 (quick: batch 64, width 128, fewer repeats).

The reproduction times each case once, in this process (:func:`time_pair`, a median of
repeats). ``benchmarks/backward_cost.py`` is the measurement harness: the same cases in
fresh single-threaded processes, over interleaved rounds, with medians across rounds.
"""

from __future__ import annotations

import time

import numpy as np

from numnet.experiments._common import output_dir, write_json

NAME = "backward-cost"
DESCRIPTION = "backward / forward time per layer type (seed 002: backward ≈ 2 × forward)"

BATCH, WIDTH, IN, REPEATS = 256, 512, 784, 60


def time_pair(forward, backward, repeats: int) -> tuple[float, float]:
    """Median forward and backward seconds; each repeat runs one forward then its backward."""
    fw, bw = [], []
    for _ in range(3):  # warm up caches and allocator
        backward(forward())
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = forward()
        t1 = time.perf_counter()
        backward(out)
        t2 = time.perf_counter()
        del out  # free the graph outside the timed regions
        fw.append(t1 - t0)
        bw.append(t2 - t1)
    return float(np.median(fw)), float(np.median(bw))


def _module_case(module, data, grad, input_grad=True):
    """``(forward, backward)`` of ``module`` on ``data``, backward from ``grad``."""
    from numnet.tensor import Tensor

    def forward():
        return module(Tensor(data, requires_grad=True) if input_grad else Tensor._wrap(data))

    return forward, lambda out: out.backward(grad)


def cases(batch: int = BATCH, width: int = WIDTH, seed: int = 0) -> dict:
    """Every layer type's ``(forward, backward)`` pair, by row name (the table's order)."""
    import numnet.nn.functional as F
    from numnet import models, nn
    from numnet.tensor import Tensor

    rng = np.random.default_rng(seed)
    x_in = rng.random((batch, IN), dtype=np.float32)
    h = rng.standard_normal((batch, width), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    g = rng.standard_normal((batch, width), dtype=np.float32)
    hidden = nn.Linear(width, width, generator=seed)
    first = nn.Linear(IN, width, generator=seed)
    W, bias = hidden.weight.data, hidden.bias.data
    logits = rng.standard_normal((batch, 10), dtype=np.float32)
    mlp = models.mlp(IN, (width, width), 10, activation="relu", generator=seed)

    def np_backward(_):
        _ = g @ W, g.T @ h, g.sum(axis=0)  # δx = δs W, δW = δsᵀ x, δb = Σ δs

    def loss_backward(out):
        out.backward()

    return {
        f"Linear {width}→{width} (hidden: δx and δW)": _module_case(hidden, h, g),
        f"Linear {IN}→{width} (first layer: δW only)": _module_case(first, x_in, g, False),
        f"raw NumPy x Wᵀ + b, {width}→{width} (δx, δW, δb)": (lambda: h @ W.T + bias, np_backward),
        **{
            f"{name} ({batch}×{width})": _module_case(module, h, g)
            for name, module in (
                ("ReLU", nn.ReLU()),
                ("Sigmoid", nn.Sigmoid()),
                ("Tanh", nn.Tanh()),
                ("Dropout p=0.5", nn.Dropout(0.5, generator=seed)),
            )
        },
        f"softmax cross-entropy ({batch}×10)": (
            lambda: F.cross_entropy(Tensor(logits, requires_grad=True), Tensor._wrap(labels)),
            loss_backward,
        ),
        f"MLP {IN}-{width}-{width}-10 + loss": (
            lambda: F.cross_entropy(mlp(Tensor._wrap(x_in)), Tensor._wrap(labels)),
            loss_backward,
        ),
    }


def measure(
    batch: int = BATCH, width: int = WIDTH, repeats: int = REPEATS, seed: int = 0
) -> list[dict]:
    """Forward/backward medians for every layer type; one row per case."""
    rows = []
    for name, (forward, backward) in cases(batch, width, seed).items():
        f, b = time_pair(forward, backward, repeats)
        rows.append({"layer": name, "forward_ms": 1e3 * f, "backward_ms": 1e3 * b, "ratio": b / f})
    return rows


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (results.md)."""
    lines = ["| layer | forward (ms) | backward (ms) | backward / forward |", "|---|---|---|---|"]
    lines += [
        f"| {r['layer']} | {r['forward_ms']:.3f} | {r['backward_ms']:.3f} | {r['ratio']:.2f} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Measure, print a table, write results.json/results.md and a bar chart."""
    out = output_dir(out_dir)
    batch, width, repeats = (64, 128, 10) if quick else (BATCH, WIDTH, REPEATS)
    rows = measure(batch, width, repeats, seed=seed)
    for r in rows:
        print(
            f"{r['layer']:48s} forward {r['forward_ms']:8.3f} ms  backward "
            f"{r['backward_ms']:8.3f} ms  ratio {r['ratio']:.2f}",
            flush=True,
        )
    (out / "results.md").write_text(markdown_table(rows))
    write_json(
        out / "results.json",
        {
            "batch": batch,
            "width": width,
            "repeats": repeats,
            "rows": rows,
            "seed_claim": "backward ≈ 2 × forward",
        },
    )
    _plot(rows, batch, out / "backward_forward_ratio.png")
    return {r["layer"]: round(r["ratio"], 2) for r in rows}


def _plot(rows: list[dict], batch: int, path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(8, 4.5))
    ax = axes[0, 0]
    ax.barh([r["layer"] for r in rows], [r["ratio"] for r in rows], color="tab:blue")
    ax.axvline(2.0, color="k", ls="--", lw=1, label="seed 002: backward = 2 × forward")
    ax.axvline(1.0, color="0.6", ls=":", lw=1)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set(xlabel="backward time / forward time (median)",
           title=f"numnet, batch {batch}, single thread")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
