"""Figures as PNG files (matplotlib, Agg backend; optional extra ``numnet[plot]``).

Every plotting helper writes a PNG atomically and returns its path, so a run that is
killed never leaves a half-written image behind.
"""

from numnet.viz.figure import new_figure, require_matplotlib, save_figure

__all__ = ["new_figure", "require_matplotlib", "save_figure"]
