"""Figures as PNG files (matplotlib, Agg backend; optional extra ``numnet[plot]``).

Every plotting helper writes a PNG atomically and returns its path, so a run that is
killed never leaves a half-written image behind.
"""

from numnet.viz.figure import new_figure, require_matplotlib, save_figure
from numnet.viz.plots import decision_grid, plot_decision_boundary, plot_history

__all__ = [
    "decision_grid",
    "new_figure",
    "plot_decision_boundary",
    "plot_history",
    "require_matplotlib",
    "save_figure",
]
