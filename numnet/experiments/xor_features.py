"""Seed 002, 3.1 and 3.3: XOR, linearly inseparable, made separable by a feature map.

XOR cannot be computed by a perceptron on ``(x_u, x_v)``: it never converges and
always misclassifies at least one of the four points. On
``Φ(x_u, x_v) = (x_u, x_v, x_u x_v)`` it is linearly separable and the perceptron
converges. A two-layer network of threshold logic units built from the truth table
computes it exactly (McCulloch & Pitts), and so does a small MLP trained by gradient
descent (seed 002, 3.4: "it cannot produce the XOR function" without hidden layers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.classic import Perceptron, truth_table, truth_table_network, xor_features
from numnet.experiments._common import write_json

NAME = "xor-features"
DESCRIPTION = "XOR: perceptron fails on (u, v), succeeds on (u, v, uv); TLU network and MLP too"


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Fit the four models on the four XOR points; write JSON and a PNG.

    ``seed`` initializes the MLP (``data_dir`` unused). Quick mode: 1,000 MLP steps
    instead of 3,000.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X_bool, xor = truth_table(lambda u, v: u != v, 2)
    X = X_bool.astype(np.float64)
    y = np.where(xor == 1, 1, -1)

    raw = Perceptron(max_epochs=100).fit(X, y)
    mapped = Perceptron(max_epochs=100).fit(xor_features(X), y)
    network = truth_table_network(xor)
    mlp_predict, mlp_info = _train_mlp(X, xor, steps=1000 if quick else 3000, seed=seed)

    def error(pred01):
        return float(np.mean(np.asarray(pred01) != xor))

    results = {
        "perceptron_raw": {
            "converged": bool(raw.converged_),
            "epochs": raw.n_epochs_,
            "train_error": 1 - raw.score(X, y),
        },
        "perceptron_xor_map": {
            "converged": bool(mapped.converged_),
            "epochs": mapped.n_epochs_,
            "updates": mapped.n_updates_,
            "train_error": 1 - mapped.score(xor_features(X), y),
            "w": mapped.coef_,
            "b": mapped.intercept_,
        },
        "tlu_network": {
            "hidden_units": int(network.layers[0][0].shape[0]),
            "error": error(network(X_bool)),
        },
        "mlp": {**mlp_info, "error": error(mlp_predict(X))},
    }
    write_json(out / "results.json", results)

    panels = [
        ("perceptron on (u, v)", lambda G: (raw.decision_function(G) >= 0).astype(int)),
        ("perceptron on (u, v, uv)", lambda G: mapped.decision_function(xor_features(G)) >= 0),
        ("TLU network (truth table)", None),
        (f"MLP ({mlp_info['engine']})", mlp_predict),
    ]
    _plot(X, xor, panels, network, out / "xor_features.png")
    return {
        "perceptron_raw_converged": results["perceptron_raw"]["converged"],
        "perceptron_raw_error": results["perceptron_raw"]["train_error"],
        "perceptron_xor_map_converged": results["perceptron_xor_map"]["converged"],
        "perceptron_xor_map_error": results["perceptron_xor_map"]["train_error"],
        "tlu_network_error": results["tlu_network"]["error"],
        "mlp_error": results["mlp"]["error"],
    }


def _train_mlp(X: np.ndarray, t: np.ndarray, *, steps: int, seed: int):
    """A 2-8-1 tanh MLP with the logistic loss, full-batch SGD; returns (predict, info)."""
    import numnet
    from numnet import nn, optim
    from numnet.nn import functional as F

    rng = np.random.default_rng(seed)
    model = nn.Sequential(
        nn.Linear(2, 8, generator=rng),
        nn.Tanh(),
        nn.Linear(8, 1, generator=rng),
    )
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    inputs = numnet.tensor(X.astype(np.float32))
    targets = numnet.tensor(t.reshape(-1, 1).astype(np.float32))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))

    def predict(G: np.ndarray) -> np.ndarray:
        with numnet.no_grad():
            scores = model(numnet.tensor(np.asarray(G, dtype=np.float32))).numpy()[:, 0]
        return (scores >= 0).astype(int)

    info = {"engine": "numnet.nn", "hidden": 8, "steps": steps, "lr": 0.5, "final_loss": losses[-1]}
    return predict, info


def _plot(X, xor, panels, network, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    g = np.linspace(-0.5, 1.5, 201)
    G = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    fig, axes = new_figure(1, len(panels), size=(3.6 * len(panels), 3.6))
    for ax, (title, predict) in zip(axes[0], panels):
        if predict is None:  # TLUs take Boolean inputs: threshold the plane at ½
            region = network((G >= 0.5).astype(int))
        else:
            region = np.asarray(predict(G)).astype(int)
        ax.contourf(
            g,
            g,
            region.reshape(len(g), len(g)),
            levels=[-0.5, 0.5, 1.5],
            colors=["#c6dbef", "#fcbba1"],
        )
        ax.scatter(
            X[:, 0], X[:, 1], c=np.where(xor == 1, "tab:red", "tab:blue"), s=80, edgecolors="k"
        )
        ax.set(title=title, xlabel="x_u", ylabel="x_v", xticks=[0, 1], yticks=[0, 1])
    save_figure(fig, path)
