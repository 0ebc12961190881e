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
# # Seed 000: backpropagation by hand, vanishing products, convolutions
#
# This notebook follows lecture notes 000 (perceptron → MLP → backpropagation →
# exploding and vanishing gradients → convolutional layers) with runnable numnet code.
# Everything runs on tiny synthetic data in a few seconds: no MNIST needed.
#
# 1. the *Forward pass* / *Backward pass* boxes written literally in NumPy, checked
#    against numnet's `backward()`;
# 2. the product of `L = 20` slopes: `2²⁰ ≈ 10⁶` and `0.5²⁰ ≈ 10⁻⁶`;
# 3. a 1-D convolution is a Toeplitz matrix, a fully connected layer is not;
# 4. convolutions commute with shifts (shift equivariance).

# %%
# %matplotlib inline
# ruff: noqa: B018  (a cell's last expression, `fig`, is what the notebook shows)
import numpy as np

import numnet
from numnet import nn
from numnet.experiments.shift_equivariance import layer_matrix, toeplitz_deviation
from numnet.experiments.vanishing_gradients import chain_gradients
from numnet.testing.oracle import mlp_backprop
from numnet.viz import new_figure

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The forward and backward boxes, by hand
#
# The notes summarize backpropagation for `y = φ_L(W_L … φ_1(W_1 x))` in two boxes
# (column vectors, `k = 1..L`):
#
# * **Forward:** `z_k = W_k y_{k-1} + b_k`, `y_k = φ_k(z_k)`, starting from `y_0 = x`.
# * **Backward:** `δy_L = ∇L(y)`, then for `k = L, …, 1`:
#   `δW_k = (δy_k ⊙ φ'_k(z_k)) y_{k-1}ᵀ`, `δb_k = δy_k ⊙ φ'_k(z_k)`,
#   `δy_{k-1} = W_kᵀ (φ'_k(z_k) ⊙ δy_k)`.
#
# Here they are in a dozen lines of NumPy, for a 4 → 5 → 3 network with a sigmoid
# and a tanh and the loss `L = ½‖y − t‖²` (so `∇L(y) = y − t`):

# %%
sizes = [4, 5, 3]
Ws = [rng.normal(size=(n, m)) for m, n in zip(sizes[:-1], sizes[1:])]
bs = [rng.normal(size=n) for n in sizes[1:]]
x = rng.normal(size=(4, 1))  # one sample, as a column
t = rng.normal(size=(3, 1))

phi = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}
dphi = {"sigmoid": lambda z: phi["sigmoid"](z) * (1 - phi["sigmoid"](z)),
        "tanh": lambda z: 1 - np.tanh(z) ** 2}
acts = ["sigmoid", "tanh"]

ys, zs = [x], []  # forward box
for W, b, a in zip(Ws, bs, acts):
    zs.append(W @ ys[-1] + b[:, None])
    ys.append(phi[a](zs[-1]))

dy = ys[-1] - t  # backward box
dW_hand, db_hand = [None] * 2, [None] * 2
for k in reversed(range(2)):
    ds = dy * dphi[acts[k]](zs[k])
    dW_hand[k] = ds @ ys[k].T
    db_hand[k] = ds[:, 0]
    dy = Ws[k].T @ ds

# %% [markdown]
# The same network in numnet records a graph as it computes, and `loss.backward()`
# walks it in reverse (reverse-mode automatic differentiation). The two must agree,
# and so must numnet's independent oracle `numnet.testing.oracle.mlp_backprop`
# (the same boxes, used by the test suite):

# %%
W_t = [numnet.tensor(W, dtype=numnet.float64, requires_grad=True) for W in Ws]
b_t = [numnet.tensor(b, dtype=numnet.float64, requires_grad=True) for b in bs]
h = numnet.tensor(x[:, 0], dtype=numnet.float64)
for W, b, a in zip(W_t, b_t, acts):
    h = getattr(W @ h + b, a)()
loss = 0.5 * ((h - numnet.tensor(t[:, 0], dtype=numnet.float64)) ** 2).sum()
loss.backward()

_, dW_oracle, db_oracle = mlp_backprop(Ws, bs, acts, x, lambda y: y - t)
for k in range(2):
    print(f"layer {k + 1}: |δW by hand − backward()| = "
          f"{np.abs(dW_hand[k] - W_t[k].grad).max():.1e}, "
          f"|δb by hand − backward()| = {np.abs(db_hand[k] - b_t[k].grad).max():.1e}, "
          f"|oracle − by hand| = {np.abs(dW_oracle[k] - dW_hand[k]).max():.1e}")

# %% [markdown]
# ## 2. Exploding and vanishing products at L = 20
#
# `δW_1` contains the product `φ'_L(z_L) ⋯ φ'_1(z_1)`. With `L = 20` layers, a slope of
# 2 in every activation multiplies the gradient by `2²⁰ ≈ 10⁶`, a slope of 0.5 by
# `0.5²⁰ ≈ 10⁻⁶`. `chain_gradients` (from the `vanishing-gradients` experiment) builds
# chains of 1 to 20 scalar layers and differentiates them with numnet's backward pass;
# the sigmoid chain `y_k = σ(w_k y_{k−1})` with `|w_k| ≤ 1` shrinks even faster
# (`σ' ≤ 1/4`).

# %%
chains = chain_gradients(20, seed=0)
depth = np.arange(1, 21)
fig, axes = new_figure(size=(6, 4))
ax = axes[0, 0]
for name, values in chains.items():
    style = "--" if "bound" in name else "-o"
    ax.semilogy(depth, values, style, ms=3, label=name)
ax.set_xlabel("number of layers L")
ax.set_ylabel("|dy/dx|")
ax.set_title("products of L slopes")
ax.legend(fontsize=8)
print(f"L = 20: slope 2 → {chains['slope 2'][-1]:.4g} (2^20 = {2**20}), "
      f"slope 0.5 → {chains['slope 0.5'][-1]:.3g} (0.5^20 = {0.5**20:.3g})")
fig

# %% [markdown]
# ReLU's derivative is 0 or 1, so along any path the product is either 0 or 1: the
# notes' reason why ReLU made deep networks trainable.

# %% [markdown]
# ## 3. A convolution is a Toeplitz matrix
#
# Weight sharing makes the output `y_i = Σ_j w_{i−j} x_j` depend on `i − j` only: the
# layer's matrix is constant along its diagonals (*Toeplitz*). numnet's `Conv1d`
# (with `padding="same"`, no bias) is a linear map from 16 samples to 16 samples; its
# matrix, read off column by column by `layer_matrix`, is Toeplitz, while a `Linear`
# layer's is not. (numnet's convolutions, like PyTorch's, are cross-correlations:
# the kernel is not flipped, which only mirrors the diagonals.)

# %%
n = 16
conv = nn.Conv1d(1, 1, 5, padding="same", bias=False, generator=0)
fc = nn.Linear(n, n, bias=False, generator=0)
M_conv = layer_matrix(conv, n)
M_fc = layer_matrix(lambda v: fc(v.reshape(1, n)), n)
print("kernel:", np.round(conv.weight.data.ravel(), 3))
print(f"Toeplitz deviation: conv {toeplitz_deviation(M_conv):.1e}, "
      f"fully connected {toeplitz_deviation(M_fc):.2f}")

fig, axes = new_figure(1, 2, size=(8, 3.8))
for ax, M, title in zip(axes[0], (M_conv, M_fc), ("Conv1d(k=5): Toeplitz", "Linear")):
    lim = np.abs(M).max()
    ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig

# %% [markdown]
# ## 4. Shift equivariance
#
# A Toeplitz operator commutes with translations: shifting the input shifts the
# output, `L(Sx) = S L(x)`. We check it in 2-D on a drawn digit (a synthetic "7" on a
# 32 × 32 canvas with a zero margin, so shifting is the same as rolling), for a
# `Conv2d` + ReLU layer and for a fully connected layer of the same input size.

# %%
canvas = np.zeros((32, 32), np.float32)
canvas[8:11, 9:23] = 1  # the bar of the 7
for r in range(11, 25):
    c = 22 - (r - 11) // 2
    canvas[r, c - 1:c + 2] = 1


def shift(a, dy, dx):
    return np.roll(a, (dy, dx), axis=(-2, -1))


conv2 = nn.Sequential(nn.Conv2d(1, 1, 5, padding="same", generator=1), nn.ReLU())
fc2 = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 32 * 32, generator=2), nn.ReLU())


def apply(layer, img):
    with numnet.no_grad():
        return layer(numnet.tensor(img[None, None])).data.reshape(32, 32)


dy_, dx_ = 3, 4
rows = []
for name, layer in (("conv + ReLU", conv2), ("fully connected + ReLU", fc2)):
    a = apply(layer, shift(canvas, dy_, dx_))  # L(Sx)
    b = shift(apply(layer, canvas), dy_, dx_)  # S L(x)
    err = np.linalg.norm(a - b) / np.linalg.norm(b)
    rows.append((name, a, b))
    print(f"{name:24s} ‖L(Sx) − S L(x)‖ / ‖S L(x)‖ = {err:.2e}")

fig, axes = new_figure(2, 3, size=(9, 6))
axes[0, 0].imshow(canvas, cmap="gray")
axes[0, 0].set_title("x")
axes[1, 0].imshow(shift(canvas, dy_, dx_), cmap="gray")
axes[1, 0].set_title(f"Sx (shift {dy_}, {dx_})")
for j, (name, a, b) in enumerate(rows, start=1):
    axes[0, j].imshow(a, cmap="viridis")
    axes[0, j].set_title(f"{name.split()[0]}: L(Sx)", fontsize=9)
    axes[1, j].imshow(b, cmap="viridis")
    axes[1, j].set_title(f"{name.split()[0]}: S L(x)", fontsize=9)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig

# %% [markdown]
# The convolution's two panels are identical (error 0 up to rounding); the fully
# connected layer's are unrelated. The `shift-equivariance` experiment
# (`numnet reproduce shift-equivariance`) repeats the check with pooling, where a
# shift by 2 becomes a shift by 1 after `MaxPool2d(2)`.
