"""Creating and atomically saving matplotlib figures, without pyplot.

Figures are :class:`matplotlib.figure.Figure` objects made directly, not through
``pyplot``: numnet never switches the process's backend (that would break a notebook's
inline plots) and keeps no figure in pyplot's global registry (nothing to close).
A figure is shown in a notebook by returning it from a cell, and saved as PNG with
:func:`save_figure` (matplotlib renders it with Agg whatever the active backend).
"""

from __future__ import annotations

import os
from pathlib import Path

from numnet._files import atomic_writer


def require_matplotlib():
    """Return the :mod:`matplotlib.figure` module (``Figure``), checking it is installed.

    Raises
    ------
    ImportError
        With the install command, when matplotlib is not installed.
    """
    try:
        import matplotlib.figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plots need matplotlib: pip install 'numnet[plot]' (or pip install matplotlib)"
        ) from exc
    return matplotlib.figure


def new_figure(nrows: int = 1, ncols: int = 1, *, size: tuple[float, float] | None = None):
    """A new figure and a 2-D array of axes, ``(fig, axes)`` (like ``plt.subplots``).

    Parameters
    ----------
    nrows, ncols : int
        The grid of axes; ``axes`` has shape ``(nrows, ncols)`` always.
    size : (float, float), optional
        Width and height in inches (default 4.5 × 3.5 per axes).
    """
    figure = require_matplotlib()
    if size is None:
        size = (4.5 * ncols, 3.5 * nrows)
    fig = figure.Figure(figsize=size)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110) -> Path:
    """Save ``fig`` as a PNG at ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    with atomic_writer(path) as fh:
        fig.savefig(fh, format="png", dpi=dpi, bbox_inches="tight")
    return path
