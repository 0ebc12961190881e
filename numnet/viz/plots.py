"""Standard figures: learning curves and 2-D decision boundaries."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from numnet.viz.figure import new_figure, save_figure


def plot_history(history, path, *, title: str | None = None) -> Path:
    """Loss and error per epoch (training and validation) from a ``History``."""
    h = history.history if hasattr(history, "history") else history
    epochs = h.get("epoch") or list(range(1, len(h["loss"]) + 1))
    fig, axes = new_figure(1, 2, size=(10, 3.6))
    ax = axes[0, 0]
    ax.plot(epochs, h["loss"], label="train")
    if any(v is not None for v in h.get("val_loss", [])):
        ax.plot(epochs, h["val_loss"], label="validation")
    ax.set(xlabel="epoch", ylabel="loss", yscale="log", title="loss")
    ax.legend()
    ax = axes[0, 1]
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        vals = h.get(key)
        if vals and all(v is not None for v in vals):
            ax.plot(epochs, 100 * (1 - np.asarray(vals, dtype=float)), label=label)
    ax.set(xlabel="epoch", ylabel="error (%)", title="classification error")
    if ax.lines:
        ax.legend()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def decision_grid(predict_fn, X: np.ndarray, *, resolution: int = 200, margin: float = 0.5):
    """Evaluate ``predict_fn`` on a grid covering ``X`` (2-D); returns ``(xx, yy, zz)``."""
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)
    return xx, yy, np.asarray(predict_fn(grid)).reshape(xx.shape)


def plot_decision_boundary(model, X, y, path, *, title: str | None = None, ax=None) -> Path:
    """Regions predicted by ``model`` (a Module or a ``predict(X)`` callable) with the points."""
    from numnet.train.loop import predict

    def predict_fn(grid):
        if callable(getattr(model, "predict", None)):
            return model.predict(grid)
        out = predict(model, grid)
        return out.argmax(axis=1) if out.ndim == 2 and out.shape[1] > 1 else (out.ravel() > 0)

    X, y = np.asarray(X), np.asarray(y)
    xx, yy, zz = decision_grid(predict_fn, X)
    fig, axes = new_figure(1, 1, size=(5, 4.5))
    ax = axes[0, 0]
    ax.contourf(xx, yy, zz, alpha=0.3, cmap="viridis", levels=np.unique(zz).size)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="viridis", edgecolors="none")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title or "decision regions")
    return save_figure(fig, path)
