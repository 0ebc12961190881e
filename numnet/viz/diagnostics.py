"""Figures for :class:`numnet.train.GradientDiagnostics`: per-layer histograms and norms.

``plot_gradient_histograms`` draws one panel per recorded step with one normalised
histogram per layer, in the style of Glorot & Bengio's (2010) figure of
back-propagated gradients reproduced in seed 004 ("Vanishing gradients"): when the
gradient vanishes, the histograms of the layers far from the output collapse onto 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from numnet.viz.figure import new_figure, save_figure

__all__ = ["draw_histograms", "draw_norms", "plot_gradient_histograms", "plot_gradient_norms"]

_LABELS = {
    "grad": "weight gradient",
    "weight": "weight",
    "activation": "activation",
    "activation_grad": "back-propagated gradient",
}


def _records(diagnostics):
    return diagnostics.records if hasattr(diagnostics, "records") else list(diagnostics)


def draw_histograms(
    ax, summaries: dict, *, title=None, xlim=None, logy: bool = False, label_prefix: str = "layer "
):
    """Normalised histograms (density) of several :func:`tensor_summary` results on ``ax``.

    The x range defaults to the widest layer's ``±max|value|``, so that narrow
    (vanishing) distributions show as spikes at 0 next to wide ones.
    """
    if not summaries:
        raise ValueError("no histograms to draw")
    if xlim is None:
        lim = max(max(abs(s["min"]), abs(s["max"])) for s in summaries.values()) or 1.0
        xlim = (-lim, lim)
    for name, s in summaries.items():
        counts = np.asarray(s["counts"], dtype=float)
        edges = np.asarray(s["edges"], dtype=float)
        density = counts / max(counts.sum(), 1) / np.diff(edges)
        ax.stairs(density, edges, label=f"{label_prefix}{name}", lw=1.2)
    ax.set_xlim(*xlim)
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-3, 3))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)
    return ax


def plot_gradient_histograms(
    diagnostics,
    path,
    *,
    kind: str = "activation_grad",
    steps: Sequence[int] | None = None,
    title: str | None = None,
    logy: bool = False,
) -> Path:
    """One panel per step: the per-layer histograms of ``kind``.

    Parameters
    ----------
    diagnostics : GradientDiagnostics (or its ``records`` list)
    kind : 'activation_grad' (needs a probe), 'grad', 'weight' or 'activation'
    steps : the recorded steps to show (default: first, middle and last)
    """
    rows = [r for r in _records(diagnostics) if r.get(kind)]
    if not rows:
        raise ValueError(f"no record holds {kind!r} (activation kinds need a probe batch)")
    if steps is None:
        picks = sorted({0, len(rows) // 2, len(rows) - 1})
        rows = [rows[i] for i in picks]
    else:
        wanted = set(steps)
        rows = [r for r in rows if r["step"] in wanted]
        if not rows:
            raise ValueError(f"none of the steps {sorted(wanted)} was recorded")
    fig, axes = new_figure(1, len(rows), size=(4.2 * len(rows), 3.4))
    for ax, r in zip(axes[0], rows):
        draw_histograms(ax, r[kind], title=f"step {r['step']} (epoch {r['epoch']})", logy=logy)
        ax.set_xlabel(_LABELS.get(kind, kind))
    axes[0, 0].set_ylabel("density")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def draw_norms(ax, diagnostics, *, kind: str = "grad", title=None):
    """L2 norm of each layer's ``kind`` against the optimizer step (log scale)."""
    steps, norms = diagnostics.norms(kind)
    for name, values in norms.items():
        ax.plot(steps, values, label=name, lw=1.2)
    ax.set(xlabel="step", ylabel=f"‖{_LABELS.get(kind, kind)}‖", yscale="log")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)
    return ax


def plot_gradient_norms(
    diagnostics, path, *, kinds: Sequence[str] = ("grad",), title: str | None = None
) -> Path:
    """Per-layer norms over training, one panel per kind (e.g. ``("grad", "weight")``)."""
    fig, axes = new_figure(1, len(kinds), size=(5 * len(kinds), 3.6))
    for ax, kind in zip(axes[0], kinds):
        draw_norms(ax, diagnostics, kind=kind, title=_LABELS.get(kind, kind))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)
