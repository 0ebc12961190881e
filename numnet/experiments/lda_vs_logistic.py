"""Seed 002, 3.2 and 3.5: LDA vs logistic regression on Gaussian classes, n = 10 … 10⁴.

Both models are ``σ(w·x + b)``; LDA derives ``(w, b)`` from the Gaussian model with
a shared covariance (which holds here), logistic regression fits them by maximum
likelihood without that assumption. The seed shows both boundaries for
n = 10, 10², 10³, 10⁴ training points. Since the classes are Gaussian, the test error
of any linear rule is computed exactly (no test sample needed):
``½ [Φ(-(w·m₁ + b)/s) + Φ((w·m₀ + b)/s)]`` with ``s = √(wᵀΣw)``, and the Bayes error
is ``Φ(-Δ/2)`` with Δ the Mahalanobis distance between the means.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from numnet.classic import LDA, LogisticRegression
from numnet.experiments._common import write_json

NAME = "lda-vs-logistic"
DESCRIPTION = "LDA vs logistic regression on shared-covariance Gaussians, n = 10 to 10^4"

MEANS = np.array([[0.0, 0.0], [3.0, 1.0]])
COVARIANCE = np.array([[1.0, 0.6], [0.6, 0.8]])
SIZES = (10, 100, 1000, 10000)


def _phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / math.sqrt(2))


def exact_error(w: np.ndarray, b: float) -> float:
    """Error of ``sign(w·x + b)`` on the two equiprobable Gaussian classes."""
    s = math.sqrt(float(w @ COVARIANCE @ w))
    if s == 0:
        return 0.5
    return 0.5 * (_phi(-(w @ MEANS[1] + b) / s) + _phi((w @ MEANS[0] + b) / s))


def bayes_rule() -> tuple[np.ndarray, float, float]:
    """The true LDA rule (the seed's closed form with the true parameters) and its error."""
    inv = np.linalg.inv(COVARIANCE)
    w = inv @ (MEANS[1] - MEANS[0])
    b = 0.5 * (MEANS[0] @ inv @ MEANS[0] - MEANS[1] @ inv @ MEANS[1])
    delta = math.sqrt(float((MEANS[1] - MEANS[0]) @ w))
    return w, float(b), _phi(-delta / 2)


def sample(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points, labels 0/1 with probability ½ each (both classes always present)."""
    y = rng.permutation(np.arange(n) % 2)
    L = np.linalg.cholesky(COVARIANCE)
    X = MEANS[y] + rng.standard_normal((n, 2)) @ L.T
    return X, y


def run(out_dir, *, quick: bool = False, data_dir=None, seed: int = 0) -> dict:
    """Fit both models on repeated draws of each size; write JSON, Markdown and PNGs.

    The data are synthetic (``data_dir`` unused); ``seed`` draws them. Quick mode:
    3 repetitions instead of 20, 500 gradient steps instead of 2,000.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    repeats, steps = (3, 500) if quick else (20, 2000)
    w_star, b_star, bayes_error = bayes_rule()

    rows, examples = [], {}
    for n in SIZES:
        errors = {"lda": [], "logistic": []}
        for r in range(repeats):
            X, y = sample(n, rng)
            lda = LDA().fit(X, y)
            logistic = LogisticRegression(lr=1.0, max_iter=steps, tol=1e-8).fit(X, y)
            errors["lda"].append(exact_error(lda.coef_, lda.intercept_))
            errors["logistic"].append(exact_error(logistic.coef_, logistic.intercept_))
            if r == 0:
                examples[n] = (X, y, lda, logistic)
        rows.append(
            {
                "n": n,
                "lda_error_mean": float(np.mean(errors["lda"])),
                "lda_error_std": float(np.std(errors["lda"])),
                "logistic_error_mean": float(np.mean(errors["logistic"])),
                "logistic_error_std": float(np.std(errors["logistic"])),
            }
        )

    results = {"bayes_error": bayes_error, "repeats": repeats, "gd_steps": steps, "rows": rows}
    write_json(out / "results.json", results)
    table = ["| n | LDA test error | logistic test error |", "|---|---|---|"]
    for row in rows:
        cells = [
            f"{100 * row[f'{key}_error_mean']:.2f} ± {100 * row[f'{key}_error_std']:.2f} %"
            for key in ("lda", "logistic")
        ]
        table.append(f"| {row['n']} | {cells[0]} | {cells[1]} |")
    table.append(f"\nBayes error: {100 * bayes_error:.2f} %  ({repeats} draws per n)\n")
    (out / "errors.md").write_text("\n".join(table))
    _plot_boundaries(examples, w_star, b_star, out / "boundaries.png", rng)
    _plot_errors(rows, bayes_error, out / "test_error.png")
    return {
        "bayes_error": bayes_error,
        **{f"lda_error_n{row['n']}": row["lda_error_mean"] for row in rows},
        **{f"logistic_error_n{row['n']}": row["logistic_error_mean"] for row in rows},
    }


def _line(ax, w, b, style, label, xlim):
    xs = np.array(xlim)
    ax.plot(xs, -(w[0] * xs + b) / w[1], style, label=label)


def _plot_boundaries(examples, w_star, b_star, path: Path, rng) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, len(examples), size=(4.2 * len(examples), 4.2))
    xlim, ylim = (-3.0, 6.0), (-3.5, 4.5)
    for ax, (n, (X, y, lda, logistic)) in zip(axes[0], examples.items()):
        shown = rng.choice(n, size=min(n, 600), replace=False)
        colors = np.where(y[shown] == 1, "tab:red", "tab:blue")
        ax.scatter(X[shown, 0], X[shown, 1], c=colors, s=8, alpha=0.6)
        _line(ax, w_star, b_star, "k:", "Bayes", xlim)
        _line(ax, lda.coef_, lda.intercept_, "g-", "LDA", xlim)
        _line(ax, logistic.coef_, logistic.intercept_, "m--", "logistic", xlim)
        title = f"n = {n}" + (f" ({len(shown)} shown)" if len(shown) < n else "")
        ax.set(xlim=xlim, ylim=ylim, title=title, xticks=[], yticks=[])
    axes[0, 0].legend(loc="lower right")
    save_figure(fig, path)


def _plot_errors(rows, bayes_error: float, path: Path) -> None:
    from numnet.viz import new_figure, save_figure

    fig, axes = new_figure(1, 1, size=(5.5, 4))
    ax = axes[0, 0]
    n = [row["n"] for row in rows]
    for key, style, label in (("lda", "o-", "LDA"), ("logistic", "s--", "logistic")):
        mean = np.array([row[f"{key}_error_mean"] for row in rows])
        std = np.array([row[f"{key}_error_std"] for row in rows])
        ax.errorbar(n, 100 * mean, yerr=100 * std, fmt=style, capsize=3, label=label)
    ax.axhline(100 * bayes_error, color="k", ls=":", label="Bayes")
    ax.set(xscale="log", xlabel="training points n", ylabel="test error (%)")
    ax.legend()
    save_figure(fig, path)
