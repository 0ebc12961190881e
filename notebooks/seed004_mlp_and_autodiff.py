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
# # Seed 004: computational graphs, reverse mode, gradient descent, universal approximation
#
# This notebook follows lecture notes 004 (the multi-layer perceptron) with numnet:
#
# 1. computational graphs drawn in the notes' colours: **inputs and outputs white,
#    parameters red, operations blue** (`numnet.viz.draw_graph`);
# 2. reverse-mode differentiation by hand on the annotated one-hidden-layer example
#    (`u₁ … u₈`), checked against `backward()`;
# 3. the gradient-descent examples (local minimum, global minimum, divergence) and
#    SGD vs batch gradient descent;
# 4. universal approximation with one hidden layer of step units.
#
# Everything runs on toy data in seconds. The graphs are drawn when Graphviz's `dot`
# program is installed (`apt-get install graphviz`); otherwise their DOT source is
# shown.

# %%
# %matplotlib inline
# ruff: noqa: B018  (a cell's last expression, `fig`, is what the notebook shows)
import numpy as np

import numnet
import numnet.nn.functional as F
from numnet import nn, viz
from numnet.experiments.gradient_descent import (
    bowl,
    descend,
    logistic_loss,
    logistic_optimum,
    logistic_paths,
    quartic,
)
from numnet.experiments.universal_approximation import staircase_network
from numnet.viz import new_figure

# %% [markdown]
# ## 1. Computational graphs
#
# The perceptron `f(x) = sign(Σᵢ wᵢxᵢ + b) = sign(wᵀx + b)`. numnet records every
# operation on tensors that require a gradient; `draw_graph` draws that record.
# `F.sign` is cut from the graph by default (its derivative is 0 almost everywhere);
# `straight_through=True` records it.

# %%
w = numnet.tensor([0.5, -1.0, 2.0], requires_grad=True)
b = numnet.tensor(0.25, requires_grad=True)
x = numnet.tensor([1.0, 2.0, 0.5])
f = F.sign(x @ w + b, straight_through=True)
viz.draw_graph(f, {"w": w, "b": b, "x": x}, values=True)

# %% [markdown]
# A module names its parameters: here is the graph of a 2-layer network's
# cross-entropy, with the names given by `model.named_parameters()`.

# %%
model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.Sigmoid(), nn.Linear(4, 2, generator=1))
X = numnet.tensor(np.random.default_rng(0).normal(size=(5, 3)))
labels = numnet.tensor([0, 1, 1, 0, 1])
viz.draw_graph(F.cross_entropy(model(X), labels), model)

# %% [markdown]
# ## 2. Reverse mode by hand: the annotated example
#
# The notes' simplified one-hidden-layer MLP and its loss:
#
# `f(x; W₁, W₂) = σ(W₂ᵀ σ(W₁ᵀ x))`, `ℓ = cross_ent(y, ŷ) + λ(‖W₁‖₂ + ‖W₂‖₂)`.
#
# The forward pass computes `u₁ = W₁ᵀx`, `u₂ = σ(u₁)`, `u₃ = W₂ᵀu₂`, `ŷ = σ(u₃)`,
# `u₄ = ‖W₁‖`, `u₅ = ‖W₂‖`, `u₆ = u₄ + u₅`, `u₇ = λu₆`, `u₈ = cross_ent(y, ŷ)` and
# `ℓ = u₈ + u₇`. (numnet has no norm primitive: `‖W‖ = sqrt(sum(W²))` shows up as
# three operations.) `retain_all_grads` asks every intermediate node to keep its
# adjoint, so that the drawing can show both passes.

# %%
rng = np.random.default_rng(1)
p, q, lam = 3, 2, 0.1
x = numnet.tensor(rng.normal(size=p), dtype=numnet.float64)
y = numnet.tensor(1.0, dtype=numnet.float64)
W1 = numnet.tensor(rng.normal(size=(p, q)), dtype=numnet.float64, requires_grad=True)
W2 = numnet.tensor(rng.normal(size=q), dtype=numnet.float64, requires_grad=True)

u1 = x @ W1
u2 = u1.sigmoid()
u3 = u2 @ W2
yhat = u3.sigmoid()
u4 = W1.pow(2).sum().sqrt()
u5 = W2.pow(2).sum().sqrt()
u6 = u4 + u5
u7 = lam * u6
u8 = F.binary_cross_entropy(yhat, y)
loss = u8 + u7

viz.retain_all_grads(loss)
loss.backward()
names = {"x": x, "y": y, "W1": W1, "W2": W2, "u1": u1, "u2": u2, "u3": u3, "ŷ": yhat,
         "u4": u4, "u5": u5, "u6": u6, "u7": u7, "u8": u8, "ℓ": loss}
viz.draw_graph(loss, names, values=True, grads=True)

# %% [markdown]
# Now the backward pass by hand, from the output to the parameters, each adjoint
# `δu = ∂ℓ/∂u` computed from its consumers' adjoints and the values of the forward
# pass ("evaluating the partial derivatives requires the intermediate values computed
# forward"):
#
# * `δu₈ = 1`, `δu₇ = 1`, `δu₆ = λ`, `δu₄ = δu₅ = λ`;
# * `δŷ = δu₈ · (−y/ŷ + (1 − y)/(1 − ŷ))`, `δu₃ = δŷ · ŷ(1 − ŷ)`;
# * `δW₂ = δu₃ u₂ + δu₅ W₂/‖W₂‖`, `δu₂ = δu₃ W₂`, `δu₁ = δu₂ ⊙ u₂ ⊙ (1 − u₂)`;
# * `δW₁ = x δu₁ᵀ + δu₄ W₁/‖W₁‖`: the two paths from ℓ to W₁ of the notes'
#   `∂ℓ/∂W₁ = ∂ℓ/∂u₈ ∂u₈/∂W₁ + ∂ℓ/∂u₄ ∂u₄/∂W₁`.

# %%
xv, yv, W1v, W2v = x.numpy(), float(y), W1.numpy(), W2.numpy()
v1 = xv @ W1v
v2 = 1 / (1 + np.exp(-v1))
v3 = v2 @ W2v
v_hat = 1 / (1 + np.exp(-v3))
n1, n2 = np.linalg.norm(W1v), np.linalg.norm(W2v)

d8 = d7 = 1.0
d6 = lam * d7
d4 = d5 = d6
d_hat = d8 * (-yv / v_hat + (1 - yv) / (1 - v_hat))
d3 = d_hat * v_hat * (1 - v_hat)
dW2 = d3 * v2 + d5 * W2v / n2
d2 = d3 * W2v
d1 = d2 * v2 * (1 - v2)
dW1 = np.outer(xv, d1) + d4 * W1v / n1

for name, hand, auto in (("δu1", d1, u1.grad), ("δu3", d3, u3.grad), ("δŷ", d_hat, yhat.grad),
                         ("δW1", dW1, W1.grad), ("δW2", dW2, W2.grad)):
    print(f"{name:4s} by hand {np.round(np.ravel(hand), 5)}  "
          f"backward() {np.round(np.ravel(auto), 5)}  max diff {np.abs(hand - auto).max():.1e}")

# %% [markdown]
# ## 3. Gradient descent
#
# `θ_{t+1} = θ_t − γ ∇ℒ(θ_t)` on the notes' one-dimensional examples,
# `ℒ(θ) = θ⁴ − 3θ² + θ`, with `descend` (numnet's `optim.SGD` on one parameter):
# from θ₀ = 2 it stops in the local minimum, from θ₀ = −0.5 it reaches the global one,
# and a too large learning rate diverges.

# %%
runs = {
    "θ₀ = 2, γ = 0.02 (local minimum)": descend(quartic, 2.0, 0.02, 100)[:, 0],
    "θ₀ = −0.5, γ = 0.02 (global minimum)": descend(quartic, -0.5, 0.02, 100)[:, 0],
    "θ₀ = 1.5, γ = 0.29 (diverges)": descend(quartic, 1.5, 0.29, 20)[:, 0],
}
for label, path in runs.items():
    print(f"{label}: θ after {len(path) - 1} steps = {path[-1]:.4g}")
fig, axes = new_figure(1, 3, size=(13, 3.6))
for ax, (label, path) in zip(axes[0], runs.items()):
    viz.draw_trajectories_1d(ax, quartic, (-2.2, 2.2), {label: path}, ylim=(-5, 8))
    ax.set_title(label, fontsize=9)
fig

# %% [markdown]
# On the quadratic bowl `ℒ = ½(θ₁² + 10θ₂²)` the largest curvature is 10, so gradient
# descent converges for `γ < 2/10` and diverges beyond.

# %%
paths = {f"γ = {lr}": descend(lambda t: bowl(t[0], t[1]), [1.5, 1.0], lr, 30)
         for lr in (0.05, 0.19, 0.21)}
fig, axes = new_figure(size=(5.5, 4))
viz.draw_trajectories_2d(axes[0, 0], bowl, (-2, 2), (-1.5, 1.5), paths,
                         title="gradient descent on ½(θ₁² + 10θ₂²)")
fig

# %% [markdown]
# Stochastic gradient descent uses one example per step: each step is cheap and noisy,
# but averaged over the choice of example it is the batch gradient. Here, logistic
# regression on 100 points: 10 epochs of batch GD (10 steps) against 10 epochs of SGD
# (1000 steps, the same number of gradient evaluations of single examples).

# %%
rng = np.random.default_rng(0)
Xl = np.concatenate([rng.normal(-1, 1, (50, 2)), rng.normal(1, 1, (50, 2))])
yl = np.repeat([0.0, 1.0], 50)
lr_paths = logistic_paths(Xl, yl, epochs=10, lr_gd=0.5, lr_sgd=0.05, seed=0)
gd, sgd = lr_paths["batch GD"], lr_paths["SGD (1 example / step)"]
best = logistic_loss(Xl, yl, logistic_optimum(Xl, yl))
fig, axes = new_figure(size=(5.5, 3.8))
ax = axes[0, 0]
ax.semilogy(np.arange(len(gd)) * len(Xl), logistic_loss(Xl, yl, gd) - best, "o-", label="batch GD")
ax.semilogy(np.arange(len(sgd)), logistic_loss(Xl, yl, sgd) - best, lw=0.8, label="SGD")
ax.set_xlabel("examples seen")
ax.set_ylabel("ℒ(θ) − ℒ(θ*)")
ax.legend()
fig

# %% [markdown]
# ## 4. Universal approximation
#
# `f(x) = Σ wᵢ sign(x + bᵢ)`: one hidden layer of K sign units builds a staircase
# through K + 1 samples of the target, so the error shrinks as K grows
# (`staircase_network`, from the `universal-approximation` experiment; the network is
# an ordinary `nn.Sequential(Linear, Sign, Linear)`).

# %%
target = lambda t: np.sin(2 * np.pi * t) + 0.5 * t  # noqa: E731
xs = np.linspace(0, 1, 500)
fits = {}
for K in (4, 16, 64):
    net = staircase_network(target, K, "sign")
    with numnet.no_grad():
        fits[f"K = {K}"] = net(numnet.tensor(xs[:, None], dtype=numnet.float64)).numpy()[:, 0]
    print(f"K = {K:3d}: max |f − F| = {np.abs(fits[f'K = {K}'] - target(xs)).max():.3f}")
fig, axes = new_figure(size=(6, 4))
viz.draw_function_fit(axes[0, 0], xs, target(xs), fits, title="one hidden layer of sign units")
fig
