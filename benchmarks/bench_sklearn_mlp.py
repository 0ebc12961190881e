"""numnet.sklearn.MLPClassifier against scikit-learn's MLPClassifier: accuracy and speed.

The same data, architecture and training for both:

* hidden layers 512-512-512 (``--hidden``), ReLU, softmax output, L2 ``alpha=1e-4``;
* Adam (lr 1e-3, betas 0.9/0.999), batch 128 (``--batch-size``), shuffled every epoch;
* exactly ``--epochs`` epochs (10): ``tol=0`` and a patience longer than the run, so
  neither stops early;
* float32 inputs: scikit-learn's MLP then trains in float32 too (it keeps the dtype);
* the same initial distribution: numnet's ``init='glorot_uniform'`` default is
  scikit-learn's rule (``--numnet-init pytorch`` runs numnet with PyTorch's instead).

Datasets: MNIST (60,000 / 10,000 images of 784 pixels in [0, 1]; ``--data-dir``, default
``/work/shared/data/mnist``) and the UCI digits that scikit-learn ships (1,797 8×8
images scaled to [0, 1]; a fixed stratified 75/25 split).

Each measurement runs in a fresh Python process (``--worker``), the systems alternating
in interleaved rounds (A B, B A, A B ...) so that drifts of a shared machine hit both
alike; the report gives each system's median seconds per epoch and test accuracy, the
speed ratio, and the BLAS that ran (threadpoolctl).

``--gemm-bound`` adds a third system to every round: the GEMM-only bound, an epoch of
nothing but the 11 matrix products per batch that any implementation of this training
does (4 forward, 4 weight gradients, 3 input gradients), into preallocated arrays, on
the same data, shapes and batch size, with NumPy's BLAS (as
``benchmarks/mlp_numpy_floor.py``'s ``bound``). Adam, the bias, ReLU, the softmax and
the shuffles come on top. Measured in the same interleaved rounds, scikit-learn's time
divided by the bound is the largest speed-up over scikit-learn that any such
implementation could reach.

Usage::

    python benchmarks/bench_sklearn_mlp.py --dataset digits --rounds 3
    python benchmarks/bench_sklearn_mlp.py --dataset mnist --rounds 1
    python benchmarks/bench_sklearn_mlp.py --dataset mnist --rounds 1 --gemm-bound
    python benchmarks/bench_sklearn_mlp.py --dataset both --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SYSTEMS = ("numnet", "sklearn")


def gemm_bound_epoch(X, sizes, batch_size: int) -> float:
    """Seconds of one epoch of only the matrix products of training an MLP with layer
    widths ``sizes`` on ``X`` (batch rows), all results preallocated."""
    import numpy as np

    rng = np.random.default_rng(0)
    ws = [
        (rng.random((o, i), dtype=np.float32) - 0.5) / np.float32(np.sqrt(i))
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    outs = [np.empty((batch_size, o), np.float32) for o in sizes[1:]]
    gws = [np.empty_like(w) for w in ws]
    gxs = [np.empty((batch_size, i), np.float32) for i in sizes[:-1]]
    t0 = time.perf_counter()
    for s in range(0, len(X), batch_size):
        n = min(batch_size, len(X) - s)
        acts = [X[s : s + n]]
        for k, w in enumerate(ws):  # forward: a_k W_kᵀ
            acts.append(np.matmul(acts[-1], w.T, out=outs[k][:n]))
        g = acts[-1]
        for k in range(len(ws) - 1, -1, -1):
            np.matmul(g.T, acts[k], out=gws[k])  # weight gradient δᵀa
            if k:  # input gradient δW (not for the input layer)
                g = np.matmul(g, ws[k], out=gxs[k][:n])
    return time.perf_counter() - t0


def load(dataset: str, data_dir: str):
    import numpy as np

    if dataset == "digits":
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    from numnet.data import load_mnist

    X_train, y_train, X_test, y_test = load_mnist(data_dir)
    return X_train, X_test, y_train, y_test


def worker(args) -> None:
    """Train one system once and print one JSON line."""
    import warnings

    import numpy as np

    X_train, X_test, y_train, y_test = load(args.dataset, args.data_dir)
    if args.worker == "bound":
        X = np.ascontiguousarray(X_train, dtype=np.float32)
        sizes = (X.shape[1], *args.hidden, len(np.unique(y_train)))
        gemm_bound_epoch(X[: 10 * args.batch_size], sizes, args.batch_size)  # warm-up
        seconds = sum(gemm_bound_epoch(X, sizes, args.batch_size) for _ in range(args.epochs))
        print(
            json.dumps(
                {
                    "system": "bound",
                    "dataset": args.dataset,
                    "epochs": args.epochs,
                    "seconds": seconds,
                    "seconds_per_epoch": seconds / args.epochs,
                    "accuracy": None,
                    "blas": [],
                }
            )
        )
        return
    common = dict(
        hidden_layer_sizes=tuple(args.hidden),
        activation="relu",
        alpha=1e-4,
        solver="adam",
        learning_rate_init=1e-3,
        batch_size=args.batch_size,
        max_iter=args.epochs,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=args.epochs + 1,
        random_state=args.seed,
    )
    if args.worker == "numnet":
        from numnet.sklearn import MLPClassifier

        model = MLPClassifier(**common, init=args.numnet_init)
    else:
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(**common)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter by design
        t0 = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - t0
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    blas = []
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                blas.append(
                    f"{info.get('internal_api')} {info.get('version')} "
                    f"kernel={info.get('architecture')} threads={info.get('num_threads')} "
                    f"({Path(info.get('filepath', '')).name})"
                )
    except ImportError:  # pragma: no cover
        blas.append("threadpoolctl not installed")
    print(
        json.dumps(
            {
                "system": args.worker,
                "dataset": args.dataset,
                "epochs": int(model.n_iter_),
                "seconds": seconds,
                "seconds_per_epoch": seconds / max(int(model.n_iter_), 1),
                "accuracy": accuracy,
                "blas": blas,
            }
        )
    )


def run(system: str, dataset: str, args, seed: int) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        system,
        "--dataset",
        dataset,
        "--data-dir",
        args.data_dir,
        "--epochs",
        str(args.epochs),
        "--batch-size",
        str(args.batch_size),
        "--seed",
        str(seed),
        "--numnet-init",
        args.numnet_init,
        "--hidden",
        *map(str, args.hidden),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{system} on {dataset} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=("digits", "mnist", "both"), default="digits")
    parser.add_argument("--data-dir", default="/work/shared/data/mnist")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, nargs="+", default=[512, 512, 512])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--numnet-init", choices=("glorot_uniform", "pytorch"), default="glorot_uniform"
    )
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument(
        "--gemm-bound", action="store_true", help="also time the GEMM-only bound each round"
    )
    parser.add_argument("--worker", choices=(*SYSTEMS, "bound"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    datasets = ("digits", "mnist") if args.dataset == "both" else (args.dataset,)
    results = []
    for dataset in datasets:
        for r in range(args.rounds):
            systems = (*SYSTEMS, "bound") if args.gemm_bound else SYSTEMS
            order = systems if r % 2 == 0 else systems[::-1]  # interleaved: A B, B A, ...
            for system in order:
                res = run(system, dataset, args, args.seed + r)
                res["round"] = r
                results.append(res)
                print(
                    f"{dataset:6s} round {r} {system:8s} {res['seconds_per_epoch']:.3f} s/epoch "
                    + ("" if res["accuracy"] is None else f"accuracy {res['accuracy']:.4f}"),
                    flush=True,
                )
    print()
    print(
        f"hidden {'-'.join(map(str, args.hidden))}, {args.epochs} epochs, batch "
        f"{args.batch_size}, Adam lr 1e-3, alpha 1e-4, float32, {args.rounds} round(s), "
        f"numnet init {args.numnet_init}"
    )
    print(f"{'dataset':8s} {'system':8s} {'s/epoch (median)':>17s} {'accuracy (median)':>18s}")
    for dataset in datasets:
        med = {}
        for system in SYSTEMS:
            rows = [x for x in results if x["dataset"] == dataset and x["system"] == system]
            med[system] = (
                statistics.median(x["seconds_per_epoch"] for x in rows),
                statistics.median(x["accuracy"] for x in rows),
            )
            print(f"{dataset:8s} {system:8s} {med[system][0]:17.3f} {med[system][1]:18.4f}")
        ratio = med["sklearn"][0] / med["numnet"][0]
        print(
            f"{dataset:8s} numnet is {ratio:.2f}x scikit-learn's speed "
            f"(accuracy {med['numnet'][1] - med['sklearn'][1]:+.4f})"
        )
        if args.gemm_bound:
            rows = [x for x in results if x["dataset"] == dataset and x["system"] == "bound"]
            b = statistics.median(x["seconds_per_epoch"] for x in rows)
            print(
                f"{dataset:8s} GEMM-only bound {b:.3f} s/epoch: scikit-learn takes "
                f"{med['sklearn'][0] / b:.2f}x the bound, numnet {med['numnet'][0] / b:.2f}x; "
                f"1.8x scikit-learn's speed needs {med['sklearn'][0] / 1.8:.3f} s/epoch"
            )
    blas = sorted({b for x in results for b in x["blas"]})
    print("BLAS:", "; ".join(blas))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
