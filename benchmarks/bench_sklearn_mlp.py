"""numnet.sklearn.MLPClassifier against scikit-learn's MLPClassifier: accuracy and speed.

The same data, architecture and training for both:

* hidden layers 512-512-512 (``--hidden``), ReLU, softmax output, L2 ``alpha=1e-4``;
* Adam (lr 1e-3, betas 0.9/0.999), batch 128 (``--batch-size``), shuffled every epoch;
* exactly ``--epochs`` epochs (10): ``tol=0`` and a patience longer than the run, so
  neither stops early;
* float32 inputs: scikit-learn's MLP then trains in float32 too (it keeps the dtype).

Datasets: MNIST (60,000 / 10,000 images of 784 pixels in [0, 1]; ``--data-dir``, default
``/work/shared/data/mnist``) and the UCI digits that scikit-learn ships (1,797 8×8
images scaled to [0, 1]; a fixed stratified 75/25 split).

Each measurement runs in a fresh Python process (``--worker``), the systems alternating
in interleaved rounds (A B, B A, A B ...) so that drifts of a shared machine hit both
alike; the report gives each system's median seconds per epoch and test accuracy, the
speed ratio, and the BLAS that ran (threadpoolctl).

Usage::

    python benchmarks/bench_sklearn_mlp.py --dataset digits --rounds 3
    python benchmarks/bench_sklearn_mlp.py --dataset mnist --rounds 1
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

        model = MLPClassifier(**common)
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
    parser.add_argument("--json", help="also write the raw results to this file")
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    datasets = ("digits", "mnist") if args.dataset == "both" else (args.dataset,)
    results = []
    for dataset in datasets:
        for r in range(args.rounds):
            order = SYSTEMS if r % 2 == 0 else SYSTEMS[::-1]  # interleaved: A B, B A, ...
            for system in order:
                res = run(system, dataset, args, args.seed + r)
                res["round"] = r
                results.append(res)
                print(
                    f"{dataset:6s} round {r} {system:8s} {res['seconds_per_epoch']:.3f} s/epoch "
                    f"accuracy {res['accuracy']:.4f}",
                    flush=True,
                )
    print()
    print(
        f"hidden {'-'.join(map(str, args.hidden))}, {args.epochs} epochs, batch "
        f"{args.batch_size}, Adam lr 1e-3, alpha 1e-4, float32, {args.rounds} round(s)"
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
    blas = sorted({b for x in results for b in x["blas"]})
    print("BLAS:", "; ".join(blas))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
