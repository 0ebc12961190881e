# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Seed 002: threshold units, the perceptron, LDA, logistic regression, SVMs, XOR
#
# Lecture notes 002 go from McCulloch and Pitts' threshold units to the perceptron and
# its convergence bound, then to the probabilistic view (LDA, logistic regression),
# the maximum-margin SVM, and the limits of linear classifiers (XOR) with the fix of
# richer features. numnet's `numnet.classic` implements them with scikit-learn's API.
# All data here are small and synthetic (the notes' MNIST perceptron log is
# reproduced by `numnet reproduce perceptron-mnist` when MNIST is available).

# %%
# %matplotlib inline
# ruff: noqa: B018  (a cell's last expression, `fig`, is what the notebook shows)
import numpy as np

from numnet.classic import (
    LDA,
    LinearSVM,
    LogisticRegression,
    Perceptron,
    and_unit,
    max_margin,
    not_unit,
    or_unit,
    perceptron_bound,
    radius,
    xor_features,
)
from numnet.classic.threshold import truth_table, truth_table_network
from numnet.experiments.lda_vs_logistic import bayes_rule, exact_error, sample
from numnet.viz import decision_grid, new_figure

# %% [markdown]
# ## 1. Threshold units compute any Boolean function
#
# A threshold logic unit (TLU) outputs `1{w·x + b ≥ 0}`. With weights 1 and
# `b = −1.5` it is an AND, with `b = −0.5` an OR, with `w = −1, b = 0.5` a NOT: and
# since AND, OR and NOT build every Boolean function, so do networks of TLUs.
# `truth_table_network` builds one from any truth table (one hidden unit per true row,
# an OR on top). Here the 3-input parity, which no single unit computes:

# %%
X2, _ = truth_table(lambda u, v: 0, 2)
print("AND:", and_unit()(X2), " OR:", or_unit()(X2), " NOT:", not_unit()(np.array([[0], [1]])))

X3, parity = truth_table(lambda a, b, c: (a + b + c) % 2, 3)
net = truth_table_network(parity)
print("inputs  parity  network")
for row, want, got in zip(X3, parity, net(X3)):
    print(f"{row}    {want}       {got}")
assert np.array_equal(net(X3), parity)

# %% [markdown]
# ## 2. The perceptron, its log, and its bound
#
# Rosenblatt's rule: while some sample is misclassified (`yₙ w·xₙ ≤ 0`), add `yₙxₙ` to
# `w`. If the samples lie in a ball of radius `R` and are separable with margin `γ`,
# the number of updates is at most `4R²/γ²`. We train it on two separable Gaussian
# clouds and print the notes' per-epoch log (`nb_changes`, training error).

# %%
rng = np.random.default_rng(0)
Xp = np.concatenate([rng.normal([-1, -1], 1.0, (60, 2)), rng.normal([1, 1.5], 1.0, (60, 2))])
yp = np.repeat([-1, 1], 60)
keep = yp * (Xp @ [1.0, 0.8] - 0.4) > 0.4  # separable, with a margin
order = rng.permutation(int(keep.sum()))
Xp, yp = Xp[keep][order], yp[keep][order]

perc = Perceptron(max_epochs=100).fit(Xp, yp)
for entry in perc.log_:
    print(f"epoch {entry['epoch']}: nb_changes {entry['nb_changes']}, "
          f"train error {100 * entry['train_error']:.1f} %")
R = radius(Xp)
w_best, b_best, gamma = max_margin(Xp, yp)
print(f"\nR = {R:.2f}, best margin γ* = {gamma:.3f}: bound 4R²/γ² = "
      f"{perceptron_bound(R, gamma):.0f} updates; the perceptron made {perc.n_updates_}")

# %% [markdown]
# ## 3. LDA vs logistic regression
#
# Both models predict `σ(w·x + b)`. LDA estimates `w, b` from the class means and a
# shared covariance (the right model when the classes are Gaussian with one
# covariance); logistic regression ignores that assumption and maximizes the
# likelihood directly. On such Gaussian data (the `lda-vs-logistic` experiment's
# `sample`), both approach the Bayes error as n grows; with few samples LDA, which
# uses the extra assumption, tends to do better. Test errors are exact
# (`exact_error` integrates the Gaussians).

# %%
w_star, b_star, bayes_error = bayes_rule()
rng = np.random.default_rng(0)
sizes, repeats = [10, 30, 100, 300, 1000], 5
curves = {"LDA": [], "logistic regression": []}
for n in sizes:
    errs = {"LDA": [], "logistic regression": []}
    for _ in range(repeats):
        X, y = sample(n, rng)
        lda = LDA().fit(X, y)
        logit = LogisticRegression(lr=1.0, max_iter=500, tol=1e-8).fit(X, y)
        errs["LDA"].append(exact_error(lda.coef_, lda.intercept_))
        errs["logistic regression"].append(exact_error(logit.coef_, logit.intercept_))
    for k in curves:
        curves[k].append(np.mean(errs[k]))
    print(f"n = {n:5d}: LDA {100 * curves['LDA'][-1]:.2f} %, "
          f"logistic {100 * curves['logistic regression'][-1]:.2f} %")

fig, axes = new_figure(size=(5.5, 3.8))
ax = axes[0, 0]
for k, v in curves.items():
    ax.semilogx(sizes, 100 * np.array(v), "o-", label=k)
ax.axhline(100 * bayes_error, color="k", ls="--", label="Bayes error")
ax.set_xlabel("training samples n")
ax.set_ylabel("test error (%)")
ax.legend()
fig

# %% [markdown]
# ## 4. The SVM margin
#
# The soft-margin SVM minimizes `λ‖w‖² + (1/N) Σ max(0, 1 − yₙ(w·xₙ + b))`: the hinge
# pushes every sample beyond the plane `w·x + b = ±1`, the penalty widens the band
# between them. Only the samples on or inside the band, the support vectors, decide
# the solution.

# %%
svm = LinearSVM(alpha=1e-3, lr=1.0, max_iter=5000).fit(Xp, yp)
w, b = svm.coef_, svm.intercept_
print(f"w = {np.round(w, 3)}, b = {b:.3f}, band width 2/‖w‖ = {2 / np.linalg.norm(w):.3f}, "
      f"{len(svm.support_)} support vectors")
xx, yy, zz = decision_grid(lambda G: G @ w + b, Xp, resolution=200)
fig, axes = new_figure(size=(5.5, 4.5))
ax = axes[0, 0]
ax.contourf(xx, yy, zz, levels=[-1e9, 0, 1e9], colors=["#f4c7c3", "#c6dafc"], alpha=0.6)
ax.contour(xx, yy, zz, levels=[-1, 0, 1], colors="k", linestyles=["--", "-", "--"])
ax.scatter(*Xp.T, c=yp, cmap="coolwarm", s=12)
ax.scatter(*svm.support_vectors_.T, s=80, facecolors="none", edgecolors="k",
           label="support vectors")
ax.set_title("linear SVM: w·x + b = 0 and ±1")
ax.legend(loc="upper left")
fig

# %% [markdown]
# ## 5. XOR, and the fix: features
#
# No line separates XOR's four points, so the perceptron never converges on `(u, v)`.
# Adding the product `uv` as a third feature (`xor_features`) makes them linearly
# separable, and the perceptron converges in a few epochs.

# %%
Xb, xor = truth_table(lambda u, v: u != v, 2)
Xx = Xb.astype(float)
yx = np.where(xor == 1, 1, -1)
raw = Perceptron(max_epochs=50).fit(Xx, yx)
mapped = Perceptron(max_epochs=50).fit(xor_features(Xx), yx)
print(f"on (u, v):     converged {raw.converged_}, training error {1 - raw.score(Xx, yx):.2f}")
print(f"on (u, v, uv): converged {mapped.converged_} after {mapped.n_epochs_} epochs, "
      f"training error {1 - mapped.score(xor_features(Xx), yx):.2f}")

fig, axes = new_figure(1, 2, size=(9, 4))
G = np.linspace(-0.5, 1.5, 200)
gx, gy = np.meshgrid(G, G)
grid = np.c_[gx.ravel(), gy.ravel()]
for ax, (title, scores) in zip(axes[0], (
    ("perceptron on (u, v)", raw.decision_function(grid)),
    ("perceptron on (u, v, uv)", mapped.decision_function(xor_features(grid))),
)):
    ax.contourf(gx, gy, (scores >= 0).reshape(gx.shape), levels=[-0.5, 0.5, 1.5],
                colors=["#f4c7c3", "#c6dafc"])
    ax.scatter(*Xx.T, c=xor, cmap="coolwarm", s=120, edgecolors="k")
    ax.set_title(title)
fig
