"""Seed 002: "the backward pass is twice more expensive than the forward one" — measured.

Seed 002 ("Back-propagation"): the costly forward operation of a layer is
``s = w x + b``; the backward pass needs two products of the same size,
``∂ℓ/∂x = wᵀ ∂ℓ/∂s`` and ``∂ℓ/∂w = ∂ℓ/∂s xᵀ``, hence the rule of thumb backward ≈ 2 ×
forward. We time numnet's forward (graph recording included) and backward (one
``Tensor.backward`` with a given output gradient) for each layer type, alone, with
the median of interleaved repeats, single-threaded BLAS (run with
``OMP_NUM_THREADS=1``):

* ``Linear`` inside a network (its input needs a gradient: two matmuls back);
* ``Linear`` as the first layer (input is data: only ``∂ℓ/∂w`` — one matmul back);
* the same two products in raw NumPy, without numnet (the arithmetic's own ratio);
* element-wise activations (ReLU, sigmoid, tanh), dropout, and the fused
  softmax cross-entropy;
* a whole MLP 784-512-512-10 (forward through the loss, backward from it).

Batch 256, width 512 (quick: batch 64, width 128, fewer repeats).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

NAME = "backward-cost"
DESCRIPTION = "backward / forward time per layer type (seed 002: backward ≈ 2 × forward)"

BATCH, WIDTH, IN, REPEATS = 256, 512, 784, 60


def _time_pair(forward, backward, repeats: int) -> tuple[float, float]:
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


def measure(
    batch: int = BATCH, width: int = WIDTH, repeats: int = REPEATS, seed: int = 0
) -> list[dict]:
    """Forward/backward medians for every layer type; one row per case."""
    import numnet.nn.functional as F
    from numnet import models, nn
    from numnet.tensor import Tensor

    rng = np.random.default_rng(seed)
    x_in = rng.random((batch, IN), dtype=np.float32)
    h = rng.standard_normal((batch, width), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    g = rng.standard_normal((batch, width), dtype=np.float32)
    rows = []

    def module_case(name, module, data, grad, input_grad=True):
        def forward():
            x = Tensor(data, requires_grad=input_grad)
            return module(x) if input_grad else module(Tensor._wrap(data))

        def backward(out):
            out.backward(grad)

        f, b = _time_pair(forward, backward, repeats)
        rows.append({"layer": name, "forward_ms": 1e3 * f, "backward_ms": 1e3 * b, "ratio": b / f})

    hidden = nn.Linear(width, width, generator=seed)
    first = nn.Linear(IN, width, generator=seed)
    module_case(f"Linear {width}→{width} (hidden: δx and δW)", hidden, h, g)
    module_case(f"Linear {IN}→{width} (first layer: δW only)", first, x_in, g, input_grad=False)

    W, bias = hidden.weight.data, hidden.bias.data

    def np_forward():
        return h @ W.T + bias

    def np_backward(_):
        _ = g @ W, g.T @ h, g.sum(axis=0)  # δx = δs W, δW = δsᵀ x, δb = Σ δs

    f, b = _time_pair(np_forward, np_backward, repeats)
    rows.append(
        {
            "layer": f"raw NumPy x Wᵀ + b, {width}→{width} (δx, δW, δb)",
            "forward_ms": 1e3 * f,
            "backward_ms": 1e3 * b,
            "ratio": b / f,
        }
    )
    for name, module in (
        ("ReLU", nn.ReLU()),
        ("Sigmoid", nn.Sigmoid()),
        ("Tanh", nn.Tanh()),
        ("Dropout p=0.5", nn.Dropout(0.5, generator=seed)),
    ):
        module_case(f"{name} ({batch}×{width})", module, h, g)

    logits = rng.standard_normal((batch, 10), dtype=np.float32)

    def ce_forward():
        return F.cross_entropy(Tensor(logits, requires_grad=True), Tensor._wrap(labels))

    f, b = _time_pair(ce_forward, lambda out: out.backward(), repeats)
    rows.append(
        {
            "layer": f"softmax cross-entropy ({batch}×10)",
            "forward_ms": 1e3 * f,
            "backward_ms": 1e3 * b,
            "ratio": b / f,
        }
    )
    mlp = models.mlp(IN, (width, width), 10, activation="relu", generator=seed)

    def mlp_forward():
        return F.cross_entropy(mlp(Tensor._wrap(x_in)), Tensor._wrap(labels))

    f, b = _time_pair(mlp_forward, lambda out: out.backward(), repeats)
    rows.append(
        {
            "layer": f"MLP {IN}-{width}-{width}-10 + loss",
            "forward_ms": 1e3 * f,
            "backward_ms": 1e3 * b,
            "ratio": b / f,
        }
    )
    return rows


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Measure, print a table, write results.json/results.md and a bar chart."""
    from numnet.experiments._common import write_json
    from numnet.viz import new_figure, save_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch, width, repeats = (64, 128, 10) if quick else (BATCH, WIDTH, REPEATS)
    rows = measure(batch, width, repeats, seed=seed)
    lines = ["| layer | forward (ms) | backward (ms) | backward / forward |", "|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['layer']} | {r['forward_ms']:.3f} | {r['backward_ms']:.3f} | {r['ratio']:.2f} |"
        )
        print(
            f"{r['layer']:48s} forward {r['forward_ms']:8.3f} ms  backward "
            f"{r['backward_ms']:8.3f} ms  ratio {r['ratio']:.2f}",
            flush=True,
        )
    (out / "results.md").write_text("\n".join(lines) + "\n")
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
    fig, axes = new_figure(1, 1, size=(8, 4.5))
    ax = axes[0, 0]
    names = [r["layer"] for r in rows]
    ax.barh(names, [r["ratio"] for r in rows], color="tab:blue")
    ax.axvline(2.0, color="k", ls="--", lw=1, label="seed 002: backward = 2 × forward")
    ax.axvline(1.0, color="0.6", ls=":", lw=1)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set(
        xlabel="backward time / forward time (median)",
        title=f"numnet, batch {batch}, single thread",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out / "backward_forward_ratio.png")
    return {r["layer"]: round(r["ratio"], 2) for r in rows}
