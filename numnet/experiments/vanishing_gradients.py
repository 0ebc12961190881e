"""Seeds 000 and 004: vanishing and exploding gradients, measured layer by layer.

Seed 000 ("Exploding and vanishing gradients"): the gradient of the first layer
carries the product ``φ'_L(z_L) ⋯ φ'_1(z_1)``; "in a network with L = 20 layers, a
slope of φ' = 2 in each activation function would be amplified by 10⁶. Similarly, a
slope of φ' = 0.5 would diminish to 10⁻⁶". Seed 004 ("Vanishing gradients"): ``σ' ≤
1/4``, so with small weights the gradient shrinks exponentially with depth, shown by
Glorot & Bengio's (2010) per-layer histograms of back-propagated gradients; ReLU
(derivative 0 or 1) "solves" it "provided proper initialization".

Part 1 checks the arithmetic with numnet's autodiff on 20-layer scalar chains.
Part 2 trains 5-hidden-layer MLPs (256 units) on 10,000 MNIST images for 2 epochs
(SGD, lr 0.1, momentum 0.9, batch 64) — sigmoid and ReLU, each with a small-variance
initialisation ``N(0, 0.01²)`` and with Glorot (sigmoid) / He (ReLU) — and records,
with :class:`numnet.train.GradientDiagnostics` on a fixed probe batch of 500 images,
the back-propagated gradient ``∂L/∂y_k`` of every hidden layer at initialisation and
during training. The callback's own cost is measured by
``benchmarks/diagnostics_overhead.py``.
"""

from __future__ import annotations

import time

import numpy as np

from numnet.experiments._common import Recipe, data_fields, load_images, output_dir, write_json

NAME = "vanishing-gradients"
DESCRIPTION = "seed 000's 2^20 / 0.5^20 arithmetic; per-layer gradient histograms, sigmoid vs ReLU"

DEPTH_CHAIN, HIDDEN, WIDTH = 20, 5, 256
N_TRAIN, N_TEST, N_PROBE, EPOCHS, BATCH, LR = 10_000, 2_000, 500, 2, 64, 0.1
CONFIGS = [("sigmoid", "small"), ("sigmoid", "glorot"), ("relu", "small"), ("relu", "he")]


def chain_gradients(depth: int = DEPTH_CHAIN, *, seed: int = 0) -> dict:
    """``|dy/dx|`` through ``depth`` scalar layers, computed by numnet's backward pass.

    Chains: a constant slope ``φ(z) = 2z`` and ``φ(z) = z/2`` (seed 000), and the
    sigmoid ``y_k = σ(w_k y_{k−1})`` with ``w_k ~ U(−1, 1)`` (seed 004, whose
    derivative is at most ``Π |w_k| / 4``). Returns arrays over depths ``1..depth``.
    """
    from numnet.tensor import Tensor

    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, depth)
    out = {}
    for name, layer in (
        ("slope 2", lambda z, k: z * 2.0),
        ("slope 0.5", lambda z, k: z * 0.5),
        ("sigmoid, |w| ≤ 1", lambda z, k: (z * float(w[k])).sigmoid()),
    ):
        values = []
        for L in range(1, depth + 1):
            x = Tensor(np.array(0.5), dtype=np.float64, requires_grad=True)
            y = x
            for k in range(L):
                y = layer(y, k)
            y.backward()
            values.append(abs(float(x.grad)))
        out[name] = np.array(values)
    out["sigmoid bound Π|w_k|/4^L"] = np.cumprod(np.abs(w) / 4)
    return out


def build_mlp(activation: str, init_name: str, sizes, *, seed: int):
    """An MLP with zero biases and the named weight initialisation."""
    from numnet import models
    from numnet.nn import init

    model = models.mlp(sizes[0], sizes[1:-1], sizes[-1], activation=activation, generator=seed)
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            init.zeros_(p)
        elif init_name == "small":
            init.normal_(p, 0.0, 0.01, generator=rng)
        elif init_name == "glorot":
            init.xavier_normal_(p, generator=rng)
        elif init_name == "he":
            init.kaiming_normal_(p, nonlinearity="relu", generator=rng)
        else:
            raise ValueError(f"unknown initialisation {init_name!r}")
    return model


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Parts 1 and 2; writes results.json and the PNG figures."""
    out = output_dir(out_dir)
    chains = chain_gradients(seed=seed)
    print(
        f"20 layers, slope 2: {chains['slope 2'][-1]:.6g} (2^20 = {2**20}); slope 0.5: "
        f"{chains['slope 0.5'][-1]:.4g} (0.5^20 = {0.5**20:.4g}); sigmoid: "
        f"{chains['sigmoid, |w| ≤ 1'][-1]:.3g} (≤ 4^-20 = {4.0**-20:.3g})",
        flush=True,
    )
    X, y, Xt, yt, source = load_images(
        data_dir, quick=quick, seed=seed, n_train=N_TRAIN, n_test=N_TEST, quick_sizes=(300, 100)
    )
    hidden = [32] * 3 if quick else [WIDTH] * HIDDEN
    epochs = 1 if quick else EPOCHS
    nets = {
        f"{activation}, {init_name}": train_network(
            activation, init_name, (X, y), (Xt, yt), hidden=hidden, epochs=epochs,
            every=10 if quick else 50, n_probe=64 if quick else N_PROBE, seed=seed,
        )
        for activation, init_name in CONFIGS
    }
    write_json(
        out / "results.json",
        {
            **data_fields(source, X, Xt),
            "hidden_layers": hidden,
            "epochs": epochs,
            "chains_depth_20": {k: float(v[-1]) for k, v in chains.items()},
            "seed_claim": {
                "slope 2": "x10^6",
                "slope 0.5": "x10^-6",
                "sigmoid": "<= 1/4 per layer: vanishes; ReLU with proper init: does not",
            },
            "networks": [v["row"] for v in nets.values()],
        },
    )
    _plot_chains(chains, out / "chain_gradients.png")
    _plot_histograms(nets, 0, out / "gradient_histograms_init.png", "at initialisation")
    _plot_histograms(nets, -1, out / "gradient_histograms_trained.png", f"after {epochs} epoch(s)")
    _plot_profiles(nets, out / "gradient_norm_per_layer.png")
    return {
        "slope2_depth20": float(chains["slope 2"][-1]),
        "slope05_depth20": float(chains["slope 0.5"][-1]),
        "sigmoid_chain_depth20": float(chains["sigmoid, |w| ≤ 1"][-1]),
        **{
            f"{k}_first_over_last_init": round(v["row"]["first_over_last_init"], 6)
            for k, v in nets.items()
        },
        **{f"{k}_test_accuracy": round(v["row"]["test_accuracy"], 4) for k, v in nets.items()},
    }


def train_network(activation, init_name, train_data, test_data, *, hidden, epochs, every,
                  n_probe, seed) -> dict:
    """Train one MLP with :class:`~numnet.train.GradientDiagnostics` on a fixed probe batch;
    returns ``{"diag": the callback, "row": its results row}``."""
    import numnet.nn.functional as F
    from numnet import optim, train

    X, y = train_data
    label = f"{activation}, {init_name}"
    model = build_mlp(activation, init_name, [X.shape[1], *hidden, 10], seed=seed)
    probe = (X[:n_probe], y[:n_probe])
    diag = train.GradientDiagnostics(every=every, probe=probe, loss_fn=F.cross_entropy, bins=60)
    t0 = time.perf_counter()
    Recipe(epochs, BATCH, seed).fit(
        model, F.cross_entropy, optim.SGD(model.parameters(), lr=LR, momentum=0.9), (X, y),
        callbacks=[diag],
    )
    acc = train.evaluate(model, F.cross_entropy, test_data)["accuracy"]
    layers = diag.layer_names("activation_grad")
    first, last = diag.records[0], diag.records[-1]
    init_norms = [first["activation_grad"][n]["norm"] for n in layers]
    end_norms = [last["activation_grad"][n]["norm"] for n in layers]
    row = {
        "network": label,
        "test_accuracy": acc,
        "backprop_grad_norm_init": init_norms,
        "backprop_grad_norm_end": end_norms,
        "first_over_last_init": init_norms[0] / init_norms[-1],
        "first_over_last_end": end_norms[0] / end_norms[-1],
        "weight_grad_norm_init": [first["grad"][n]["norm"] for n in diag.layer_names()],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(
        f"{label:16s} ‖δy_1‖/‖δy_{len(layers)}‖ at init "
        f"{init_norms[0] / init_norms[-1]:.3g}, after training "
        f"{end_norms[0] / end_norms[-1]:.3g}; test accuracy {100 * acc:.1f} %",
        flush=True,
    )
    return {"diag": diag, "row": row}


def _plot_chains(chains, path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(6, 4.2))
    ax = axes[0, 0]
    depth = np.arange(1, len(chains["slope 2"]) + 1)
    for name, values in chains.items():
        style = "--" if "bound" in name else "o-"
        ax.plot(depth, values, style, ms=3, label=name)
    ax.axhline(1e6, color="0.7", lw=0.8)
    ax.axhline(1e-6, color="0.7", lw=0.8)
    ax.set(xlabel="number of layers L", ylabel="|∂y/∂x| (numnet backward)", yscale="log",
           title="seed 000: 2^20 ≈ 10^6, 0.5^20 ≈ 10^-6")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _plot_histograms(nets, index, path, when) -> None:
    from numnet.viz import draw_histograms, new_figure, save_figure

    fig, axes = new_figure(2, 2, size=(11, 7.5))
    for ax, (label, r) in zip(axes.ravel(), nets.items()):
        rec = r["diag"].records[index]
        names = r["diag"].layer_names("activation_grad")
        summaries = {
            f"{k + 1} (module {n})": rec["activation_grad"][n] for k, n in enumerate(names)
        }
        draw_histograms(
            ax,
            summaries,
            title=f"{label}: step {rec['step']}",
            logy=True,
            label_prefix="hidden layer ",
        )
        ax.set_xlabel("back-propagated gradient ∂L/∂y_k (probe batch)")
    fig.suptitle(f"per-layer back-propagated gradients {when} (cf. Glorot & Bengio 2010)")
    fig.tight_layout()
    save_figure(fig, path)


def _plot_profiles(nets, path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(6.5, 4.5))
    ax = axes[0, 0]
    for k, (label, r) in enumerate(nets.items()):
        row = r["row"]
        layers = np.arange(1, len(row["backprop_grad_norm_init"]) + 1)
        ax.plot(
            layers, row["backprop_grad_norm_init"], "o-", color=f"C{k}", label=f"{label} (init)"
        )
        ax.plot(
            layers,
            row["backprop_grad_norm_end"],
            "s--",
            color=f"C{k}",
            alpha=0.6,
            label=f"{label} (trained)",
        )
    ax.set(xlabel="hidden layer k (1 = next to the input)", ylabel="‖∂L/∂y_k‖ on the probe",
           yscale="log", title="gradient norm per layer")
    ax.set_xticks(layers)
    ax.legend(fontsize=7)
    save_figure(fig, path)
