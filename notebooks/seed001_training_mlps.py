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
# # Seed 001: training neural networks: optimizers, regularization, autoencoders
#
# Lecture notes 001 build feed-forward networks as graphs of computation nodes, derive
# backpropagation, and then train them: mini-batch gradient descent and its variants
# (momentum, RMSprop, Adam), regularization (L2, dropout, early stopping),
# autoencoders, and a table of MNIST errors. This notebook runs each step on small
# synthetic data in well under two minutes. The MNIST tables are **read from the
# results committed in `docs/results/`** (they take hours to recompute: `numnet
# reproduce mnist-mlp-table`), and the autoencoder is trained on a synthetic stand-in
# for MNIST (noisy drawn digits).

# %%
# %matplotlib inline
# ruff: noqa: B018  (a cell's last expression, `fig`, is what the notebook shows)
from pathlib import Path

import numpy as np

import numnet
import numnet.nn.functional as F
from numnet import data, models, optim, train
from numnet.autoencoder import PCA, Autoencoder, reconstruction_loss
from numnet.experiments._common import synthetic_digits
from numnet.viz import draw_image_grid, new_figure

# %% [markdown]
# ## 1. The optimizers on one problem
#
# One network (2 → 32 → 32 → 3, tanh), one dataset (three interleaved spirals, 600
# points), 25 epochs, the same initial weights and the same mini-batches (batch 32), four update
# rules: plain SGD, SGD with momentum 0.9, RMSprop and Adam.

# %%
X, y = data.spirals(600, 3, noise=0.15, generator=0)
optimizers = {
    "SGD, lr 0.1": lambda p: optim.SGD(p, lr=0.1),
    "SGD + momentum 0.9": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "RMSprop, lr 0.003": lambda p: optim.RMSprop(p, lr=0.003),
    "Adam, lr 0.01": lambda p: optim.Adam(p, lr=0.01),
}
losses = {}
for name, make in optimizers.items():
    model = models.mlp(2, (32, 32), 3, activation="tanh", generator=0)
    hist = train.fit(model, F.cross_entropy, make(model.parameters()), (X, y), epochs=25,
                     batch_size=32, generator=0, verbose=0)
    losses[name] = hist["loss"]
    print(f"{name:20s} final training loss {hist['loss'][-1]:.3f}, "
          f"accuracy {100 * hist['accuracy'][-1]:.1f} %")

fig, axes = new_figure(size=(6, 4))
ax = axes[0, 0]
for name, curve in losses.items():
    ax.semilogy(np.arange(1, len(curve) + 1), curve, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss (cross-entropy)")
ax.set_title("three spirals, 2-32-32-3 tanh MLP")
ax.legend()
fig

# %% [markdown]
# ## 2. Overfitting, regularization and early stopping
#
# A network much larger than the data needs (2 → 64 → 64 → 1 on 100 noisy two-moons
# points) drives its training loss towards zero while the validation loss turns back
# up: it learns the noise. An L2 penalty (weight decay on the weights, not the biases)
# or dropout keep it smaller; early stopping simply keeps the epoch with the lowest
# validation loss. (The `overfitting-2d` experiment runs the same comparison with
# decision boundaries.)

# %%
Xm, ym = data.two_moons(100, 0.45, generator=0)
Xv, yv = data.two_moons(400, 0.45, generator=1)
ym, yv = ym[:, None].astype(np.float32), yv[:, None].astype(np.float32)
settings = {"no regularization": (0.0, 0.0), "L2 λ = 0.01": (0.01, 0.0),
            "dropout p = 0.5": (0.0, 0.5)}
curves = {}
for name, (l2, p) in settings.items():
    model = models.mlp(2, (64, 64), 1, activation="relu", dropout=p, generator=0)
    opt = optim.Adam(models.weight_decay_groups(model, l2), lr=0.01)
    curves[name] = train.fit(model, F.binary_cross_entropy_with_logits, opt, (Xm, ym),
                             epochs=200, batch_size=100, validation=(Xv, yv), generator=0,
                             verbose=0)

model = models.mlp(2, (64, 64), 1, activation="relu", generator=0)
stopper = train.EarlyStopping("val_loss", patience=30, restore_best_weights=True)
early = train.fit(model, F.binary_cross_entropy_with_logits, optim.Adam(model.parameters(),
                  lr=0.01), (Xm, ym), epochs=200, batch_size=100, validation=(Xv, yv),
                  generator=0, verbose=0, callbacks=[stopper])
print(f"early stopping: stopped after {len(early)} epochs, kept epoch {stopper.best_epoch} "
      f"(validation loss {min(early['val_loss']):.3f})")
for name, h in curves.items():
    print(f"{name:18s} train loss {h['loss'][-1]:.3f}, validation loss {h['val_loss'][-1]:.3f} "
          f"(best {min(h['val_loss']):.3f} at epoch {int(np.argmin(h['val_loss'])) + 1})")

fig, axes = new_figure(1, 2, size=(11, 4))
for name, h in curves.items():
    line, = axes[0, 0].plot(h["loss"], label=name)
    axes[0, 1].plot(h["val_loss"], color=line.get_color(), label=name)
axes[0, 1].axvline(stopper.best_epoch - 1, color="k", ls=":", label="early stopping's epoch")
axes[0, 0].set_title("training loss")
axes[0, 1].set_title("validation loss")
for ax in axes[0]:
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
axes[0, 1].legend(fontsize=8)
fig

# %% [markdown]
# ## 3. Autoencoders
#
# An autoencoder is trained to reproduce its input through a narrow code: here
# 784 → 64 → 16 → 64 → 784 (ReLU, sigmoid output) on 1,000 synthetic 28 × 28 "digits"
# (random strokes, blended, shifted and noisy: a stand-in for MNIST that needs no
# download). Its reconstructions are compared with the best *linear* code of the same
# size, PCA.

# %%
digits = synthetic_digits(1000, 200, seed=0)
Xd, Xt = digits.X_train.reshape(len(digits.X_train), -1), digits.X_test.reshape(200, -1)
ae = Autoencoder(784, 16, (64,), activation="relu", output_activation="sigmoid", generator=0)
hist = train.fit(ae, reconstruction_loss, optim.Adam(ae.parameters(), lr=3e-3), (Xd, Xd),
                 epochs=20, batch_size=50, generator=0, verbose=0)
with numnet.no_grad():
    rec = ae(numnet.tensor(Xt)).numpy()
pca = PCA(16).fit(Xd)
rec_pca = pca.inverse_transform(pca.transform(Xt))
err_ae = float(np.mean(np.sum((rec - Xt) ** 2, axis=1)))
err_pca = float(np.mean(np.sum((rec_pca - Xt) ** 2, axis=1)))
print(f"test reconstruction error (squared, per image): autoencoder {err_ae:.2f}, "
      f"PCA with 16 components {err_pca:.2f}")

# (On so little data the non-linear code need not beat PCA: compare the two numbers.)
fig, axes = new_figure(3, 1, size=(8, 3.6))
for ax, imgs, title in zip(axes[:, 0], (Xt[:10], rec[:10], rec_pca[:10]),
                           ("test images", "autoencoder (code of 16)", "PCA (16 components)")):
    draw_image_grid(ax, imgs, ncols=10, side=28, title=title)
fig

# %% [markdown]
# ## 4. The MNIST tables
#
# The notes' table compares three MLPs with no regularization, L2 and dropout, and a
# ConvNet, on MNIST (test error of the epoch selected on validation, and in brackets
# the lowest test error seen; the notes' numbers in parentheses). Recomputing them
# takes hours, so they are read from the results committed in `docs/results/`.

# %%
root = Path(numnet.__file__).resolve().parents[1] / "docs" / "results"
for table in ("mnist-mlp-table", "mnist-convnet"):
    path = root / table / "results.md"
    if path.exists():
        print(f"## {table}\n")
        print("\n".join(path.read_text(encoding="utf-8").splitlines()[:5]), "\n")
    else:
        print(f"{path} not found (an installed numnet without the repository's docs/)")
