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

from numnet.viz.diagnostics import (  # noqa: E402
    draw_histograms,
    draw_norms,
    plot_gradient_histograms,
    plot_gradient_norms,
)
from numnet.viz.functions import (  # noqa: E402
    draw_function_fit,
    draw_trajectories_1d,
    draw_trajectories_2d,
    plot_curves,
    plot_function_fits,
    plot_trajectories_1d,
    plot_trajectories_2d,
)
from numnet.viz.images import (  # noqa: E402
    draw_image_grid,
    plot_filters,
    plot_image_grid,
    plot_reconstructions,
    tile,
)

__all__ += [
    "draw_function_fit",
    "draw_histograms",
    "draw_image_grid",
    "draw_norms",
    "draw_trajectories_1d",
    "draw_trajectories_2d",
    "plot_curves",
    "plot_filters",
    "plot_function_fits",
    "plot_gradient_histograms",
    "plot_gradient_norms",
    "plot_image_grid",
    "plot_reconstructions",
    "plot_trajectories_1d",
    "plot_trajectories_2d",
    "tile",
]

from numnet.viz.graph import Graph, draw_graph, retain_all_grads  # noqa: E402

__all__ += ["Graph", "draw_graph", "retain_all_grads"]
