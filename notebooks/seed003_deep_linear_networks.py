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
# # Seed 003: linear networks: the linear autoencoder and deep linear dynamics
#
# Lecture notes 003 start deep learning from *linear* networks: composing linear maps
# gains no expressive power (`g ∘ f` is linear), yet training them is instructive.
#
# 1. **The linear autoencoder** `x̂ = D C x` with a bottleneck of `m` units, trained by
#    SGD on `½‖x − DCx‖²`, reaches the loss of the truncated SVD (Eckart–Young: the
#    best rank-`m` reconstruction keeps the top `m` principal directions), and its
#    decoder spans the principal subspace.
# 2. **Deep linear dynamics**: a two-layer linear network trained by gradient descent
#    learns the singular modes of the input–output correlation `Σxy` one after the
#    other, the strongest first, each along a sigmoid `a(t)` (Saxe et al.).
#
# The data are synthetic and small (no MNIST): a 400 × 784 set of drawn digits and
# the notes' hierarchical task on 8 items.

# %%
# %matplotlib inline
# ruff: noqa: B018  (a cell's last expression, `fig`, is what the notebook shows)
import numpy as np

import numnet
from numnet import optim, train
from numnet.autoencoder import PCA, principal_angles, reconstruct, reconstruction_loss
from numnet.autoencoder import reconstruction_loss_np as loss_np
from numnet.deep_linear import (
    DeepLinearNetwork,
    LinearDynamicsRecorder,
    closed_form_gradients,
    correlations,
    hierarchical_task,
    mode_half_time,
    mode_strength,
)
from numnet.experiments._common import synthetic_digits
from numnet.experiments.linear_ae_pca import stable_step, train_linear_ae
from numnet.viz import new_figure

# %% [markdown]
# ## 1. Linear autoencoder = truncated SVD
#
# With centred data `X` (one image per row) and the SVD `X = U S Vᵀ`, the best
# rank-`m` reconstruction keeps the top `m` singular values: its loss is
# `(1/2n) Σ_{i>m} σᵢ²` (`PCA(m).optimal_loss()`). `train_linear_ae` (from the
# `linear-ae-pca` experiment) trains `LinearAutoencoder(784, m)` by SGD with momentum.

# %%
digits = synthetic_digits(400, 100, seed=0)
X = digits.X_train.reshape(400, -1).astype(np.float64)
X = (X - X.mean(axis=0)).astype(np.float32)

fig, axes = new_figure(1, 2, size=(11, 4))
for m in (5, 10):
    pca = PCA(m).fit(X)
    lam = pca.singular_values_ ** 2 / len(X)
    model, hist = train_linear_ae(X, m, epochs=30, batch_size=20, seed=0,
                                  lr=stable_step(lam[0], lam.sum(), 20))
    ae_loss, svd_loss = loss_np(X, reconstruct(model, X)), pca.optimal_loss()
    theta = np.degrees(principal_angles(model.D, pca.components_.T))
    print(f"m = {m:2d}: SGD loss {ae_loss:.4f}, truncated SVD {svd_loss:.4f} "
          f"(+{100 * (ae_loss / svd_loss - 1):.2f} %); principal angles between the decoder's "
          f"columns and the top-{m} subspace: median {np.median(theta):.2f}°, "
          f"largest {theta[0]:.1f}°")
    axes[0, 0].plot(hist["loss"], label=f"SGD, m = {m}")
    axes[0, 0].axhline(svd_loss, ls="--", color=axes[0, 0].lines[-1].get_color(),
                       label=f"SVD, m = {m}")
    axes[0, 1].plot(np.sort(theta), "o-", label=f"m = {m}")
axes[0, 0].set_xlabel("epoch")
axes[0, 0].set_ylabel("reconstruction loss")
axes[0, 0].set_yscale("log")
axes[0, 0].legend()
axes[0, 1].set_ylabel("principal angle (degrees)")
axes[0, 1].set_xlabel("index")
axes[0, 1].set_title("decoder span vs principal subspace")
axes[0, 1].legend()
fig

# %% [markdown]
# The loss matches the SVD's, and most principal angles are near 0. The largest ones
# belong to directions whose eigenvalues nearly tie with the `(m+1)`-th: swapping
# them barely changes the loss, so SGD has no reason to pick one. (The
# `linear-ae-pca` experiment makes the same comparison on MNIST.)

# %% [markdown]
# ## 2. Deep linear dynamics
#
# The notes' gradients of `L = 1/(2P) Σ‖y − BAx‖²` for a two-layer linear network,
# `∂L/∂A = −Bᵀ(Σxy − BAΣxx)` and `∂L/∂B = −(Σxy − BAΣxx)Aᵀ`, agree with numnet's
# autodiff:

# %%
Xh, Yh = (a.astype(np.float64) for a in hierarchical_task(3))
P = len(Xh)
Sxx, Sxy = (c / P for c in correlations(Xh, Yh))
net = DeepLinearNetwork((P, 16, Yh.shape[1]), init_scale=1e-3, generator=0,
                        dtype=np.float64)
A, B = net.weights
loss = reconstruction_loss(net(numnet.tensor(Xh, dtype=numnet.float64)),
                           numnet.tensor(Yh, dtype=numnet.float64))
loss.backward()
dA, dB = closed_form_gradients(A, B, Sxx, Sxy)
print(f"max |closed form − autodiff|: A {np.abs(dA - net.layers[0].weight.grad).max():.1e}, "
      f"B {np.abs(dB - net.layers[1].weight.grad).max():.1e}")

# %% [markdown]
# Starting from small weights, gradient descent learns the modes of `Σxy` in stages:
# the strength `a_α = u_αᵀ BA v_α` of mode α follows
# `a(t) = s e^{2st} / (e^{2st} − 1 + s/a₀)`, a sigmoid whose half-time
# `ln(s/a₀ − 1)/(2s)` is shorter for larger singular values `s`. Here 500 full-batch
# steps on the 8-item hierarchy (root, branches, twigs, leaves: four distinct `s`).

# %%
net.zero_grad()
recorder = LinearDynamicsRecorder(every=1, target=Sxy)
lr = 0.05
train.fit(net, reconstruction_loss, optim.SGD(net.parameters(), lr=lr), (Xh, Yh), epochs=500,
          batch_size=P, shuffle=False, verbose=0, callbacks=[recorder])
s, a, t = recorder.target_singular_values, recorder.mode_strengths, recorder.steps
a0 = 1e-3 ** 2 * np.sqrt(16)  # typical initial strength
fig, axes = new_figure(size=(6.5, 4.2))
ax = axes[0, 0]
for i in np.unique(np.round(s, 6), return_index=True)[1][::-1]:
    line, = ax.plot(t, a[:, i], label=f"mode {i + 1}, s = {s[i]:.2f}")
    ax.plot(t, mode_strength(s[i], a0, lr * t), ":", color=line.get_color())
    print(f"mode {i + 1}: s = {s[i]:.3f}, reaches s/2 at step "
          f"{int(t[np.argmax(a[:, i] >= s[i] / 2)])}, theory {mode_half_time(s[i], a0) / lr:.0f}")
ax.set_xlabel("gradient step")
ax.set_ylabel("mode strength a(t)")
ax.set_title("stage-like learning (dotted: theory)")
ax.legend(fontsize=8)
fig
