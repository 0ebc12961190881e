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
during training. Part 3 measures the callback's overhead (sampling every 100 steps).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

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


def measure_overhead(
    X,
    y,
    *,
    hidden=(256, 256),
    epochs: int = 3,
    rounds: int = 7,
    every: int = 100,
    probe_size: int = BATCH,
    seed: int = 0,
) -> dict:
    """Cost of :class:`GradientDiagnostics` sampling every ``every`` steps, two ways.

    1. End to end: median wall time of ``fit`` without the callback, with it (training
       gradients) and with it plus a ``probe_size``-image probe batch, the three
       variants interleaved in rotating order in every round (so slow periods of a
       shared machine hit all of them); also the median of the per-round ratios, and
       the same for the process's CPU time (less sensitive to other processes on a
       shared machine), and the median share of each run spent inside the callback's
       recording (the most direct and least noisy measure: time inside / time outside).
    2. Per record: the median cost of one record divided by ``every`` times the median
       cost of one training step (forward, backward, SGD update), both timed on the
       same model — a less noisy estimate of the same fraction.
    """
    import numnet.nn.functional as F
    from numnet import models, optim, train
    from numnet.tensor import Tensor
    from numnet.train.loop import Loop

    variants = ("none", "diagnostics", "diagnostics+probe")
    times = {v: [] for v in variants}
    cpu = {v: [] for v in variants}
    inside = {v: [] for v in variants[1:]}
    records = {}

    class TimedDiagnostics(train.GradientDiagnostics):
        """Adds up the wall time spent recording."""

        spent = 0.0

        def _record(self, loop, **kwargs):
            t0 = time.perf_counter()
            super()._record(loop, **kwargs)
            self.spent += time.perf_counter() - t0

    def callbacks(v, cls=train.GradientDiagnostics):
        if v == "none":
            return []
        probe = (X[:probe_size], y[:probe_size]) if v.endswith("probe") else None
        return [cls(every=every, probe=probe, loss_fn=F.cross_entropy)]

    for r in range(rounds):
        for v in variants[r % 3 :] + variants[: r % 3]:
            model = models.mlp(X.shape[1], hidden, 10, activation="relu", generator=seed)
            opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
            cbs = callbacks(v, TimedDiagnostics)
            t0, c0 = time.perf_counter(), time.process_time()
            train.fit(
                model,
                F.cross_entropy,
                opt,
                (X, y),
                epochs=epochs,
                batch_size=BATCH,
                seed=seed,
                verbose=0,
                callbacks=cbs,
            )
            total = time.perf_counter() - t0
            times[v].append(total)
            cpu[v].append(time.process_time() - c0)
            if cbs:
                records[v] = len(cbs[0].records)
                inside[v].append(100 * cbs[0].spent / (total - cbs[0].spent))
    med = {v: float(np.median(t)) for v, t in times.items()}
    paired = {
        v: 100 * float(np.median(np.array(times[v]) / np.array(times["none"])) - 1)
        for v in variants[1:]
    }
    paired_cpu = {
        v: 100 * float(np.median(np.array(cpu[v]) / np.array(cpu["none"])) - 1)
        for v in variants[1:]
    }

    # per-record cost against per-step cost, on one model
    model = models.mlp(X.shape[1], hidden, 10, activation="relu", generator=seed)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(i):
        sl = slice((i * BATCH) % (len(X) - BATCH), (i * BATCH) % (len(X) - BATCH) + BATCH)
        opt.zero_grad()
        F.cross_entropy(model(Tensor._wrap(X[sl])), Tensor._wrap(y[sl])).backward()
        opt.step()

    def median_time(fn, repeats):
        out = []
        for i in range(repeats):
            t0 = time.perf_counter()
            fn(i)
            out.append(time.perf_counter() - t0)
        return float(np.median(out))

    for i in range(10):  # warm up
        step(i)
    step_s = median_time(step, 5 * rounds + 20)
    loop = Loop(model, opt, None, 1, 1)
    per_record = {}
    for v in variants[1:]:
        cb = callbacks(v)[0]
        per_record[v] = median_time(
            lambda i, cb=cb: cb._record(loop, with_batch_grads=True), 3 * rounds + 5
        )
    return {
        "model": f"MLP {X.shape[1]}-{'-'.join(map(str, hidden))}-10 ReLU, batch {BATCH}",
        "steps_per_run": epochs * -(-len(X) // BATCH),
        "every": every,
        "probe_size": probe_size,
        "rounds": rounds,
        "median_seconds": med,
        "records_per_run": records,
        "overhead_percent": {v: 100 * (med[v] / med["none"] - 1) for v in variants[1:]},
        "paired_overhead_percent": paired,
        "paired_cpu_overhead_percent": paired_cpu,
        "time_in_callback_percent": {v: float(np.median(t)) for v, t in inside.items()},
        "step_ms": 1e3 * step_s,
        "record_ms": {v: 1e3 * t for v, t in per_record.items()},
        "per_record_overhead_percent": {
            v: 100 * t / (every * step_s) for v, t in per_record.items()
        },
        "all_seconds": times,
        "all_cpu_seconds": cpu,
    }


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Parts 1–3; writes results.json and the PNG figures."""
    import numnet.nn.functional as F
    from numnet import optim, train
    from numnet.experiments._common import write_json
    from numnet.experiments.linear_ae_pca import load_images

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
    every = 10 if quick else 50
    n_probe = 64 if quick else N_PROBE
    probe = (X[:n_probe], y[:n_probe])
    nets = {}
    for activation, init_name in CONFIGS:
        label = f"{activation}, {init_name}"
        model = build_mlp(activation, init_name, [X.shape[1], *hidden, 10], seed=seed)
        diag = train.GradientDiagnostics(every=every, probe=probe, loss_fn=F.cross_entropy, bins=60)
        t0 = time.perf_counter()
        train.fit(
            model,
            F.cross_entropy,
            optim.SGD(model.parameters(), lr=LR, momentum=0.9),
            (X, y),
            epochs=epochs,
            batch_size=BATCH,
            seed=seed,
            verbose=0,
            callbacks=[diag],
        )
        acc = train.evaluate(model, F.cross_entropy, (Xt, yt))["accuracy"]
        _, act_norms = diag.norms("activation_grad")
        layers = diag.layer_names("activation_grad")
        first, last = diag.records[0], diag.records[-1]
        init_norms = [first["activation_grad"][n]["norm"] for n in layers]
        end_norms = [last["activation_grad"][n]["norm"] for n in layers]
        nets[label] = {
            "diag": diag,
            "row": {
                "network": label,
                "test_accuracy": acc,
                "backprop_grad_norm_init": init_norms,
                "backprop_grad_norm_end": end_norms,
                "first_over_last_init": init_norms[0] / init_norms[-1],
                "first_over_last_end": end_norms[0] / end_norms[-1],
                "weight_grad_norm_init": [first["grad"][n]["norm"] for n in diag.layer_names()],
                "seconds": round(time.perf_counter() - t0, 1),
            },
        }
        print(
            f"{label:16s} ‖δy_1‖/‖δy_{len(layers)}‖ at init "
            f"{init_norms[0] / init_norms[-1]:.3g}, after training "
            f"{end_norms[0] / end_norms[-1]:.3g}; test accuracy {100 * acc:.1f} %",
            flush=True,
        )

    overhead = measure_overhead(
        X,
        y,
        hidden=(32,) if quick else (256, 256),
        epochs=1 if quick else 3,
        rounds=1 if quick else 11,
        every=100,
        seed=seed,
    )
    print(
        "diagnostics overhead (every 100 steps), time inside the callback: "
        + ", ".join(f"{k} {v:.2f} %" for k, v in overhead["time_in_callback_percent"].items())
        + "; end to end (wall): "
        + ", ".join(f"{k} {v:+.2f} %" for k, v in overhead["paired_overhead_percent"].items())
        + "; end to end (CPU): "
        + ", ".join(f"{k} {v:+.2f} %" for k, v in overhead["paired_cpu_overhead_percent"].items())
        + "; per record / (100 steps): "
        + ", ".join(f"{k} {v:.2f} %" for k, v in overhead["per_record_overhead_percent"].items()),
        flush=True,
    )
    results = {
        "data": source,
        "n_train": int(len(X)),
        "n_test": int(len(Xt)),
        "hidden_layers": hidden,
        "epochs": epochs,
        "chains_depth_20": {k: float(v[-1]) for k, v in chains.items()},
        "seed_claim": {
            "slope 2": "x10^6",
            "slope 0.5": "x10^-6",
            "sigmoid": "<= 1/4 per layer: vanishes; ReLU with proper init: does not",
        },
        "networks": [v["row"] for v in nets.values()],
        "diagnostics_overhead": overhead,
    }
    write_json(out / "results.json", results)
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
        "diagnostics_overhead_percent": {
            k: round(v, 2) for k, v in overhead["paired_overhead_percent"].items()
        },
        "diagnostics_per_record_overhead_percent": {
            k: round(v, 2) for k, v in overhead["per_record_overhead_percent"].items()
        },
        "diagnostics_cpu_overhead_percent": {
            k: round(v, 2) for k, v in overhead["paired_cpu_overhead_percent"].items()
        },
        "diagnostics_time_in_callback_percent": {
            k: round(v, 2) for k, v in overhead["time_in_callback_percent"].items()
        },
    }


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
    ax.set(
        xlabel="number of layers L",
        ylabel="|∂y/∂x| (numnet backward)",
        yscale="log",
        title="seed 000: 2^20 ≈ 10^6, 0.5^20 ≈ 10^-6",
    )
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
    ax.set(
        xlabel="hidden layer k (1 = next to the input)",
        ylabel="‖∂L/∂y_k‖ on the probe",
        yscale="log",
        title="gradient norm per layer",
    )
    ax.set_xticks(layers)
    ax.legend(fontsize=7)
    save_figure(fig, path)
