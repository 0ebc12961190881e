"""The lecture notes' experiments, runnable as ``numnet reproduce NAME``.

Each module in this package that defines ``NAME`` (the command-line name, e.g.
``"perceptron-mnist"``), ``DESCRIPTION`` (one line) and
``run(out_dir, *, quick=False, data_dir=None, seed=0) -> dict`` is discovered
automatically: ``run`` writes its numbers (JSON/CSV/Markdown) and PNG figures into
``out_dir`` and returns a dict summary that the CLI prints.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def registry() -> dict[str, ModuleType]:
    """Map every experiment name to its module, sorted by name."""
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        name = getattr(module, "NAME", None)
        if name is None or not callable(getattr(module, "run", None)):
            continue
        if name in found:
            raise RuntimeError(f"two experiments are named {name!r}")
        found[name] = module
    return dict(sorted(found.items()))


def get(name: str) -> ModuleType:
    """The experiment module called ``name``; a clear error lists the known names."""
    experiments = registry()
    if name not in experiments:
        known = ", ".join(experiments) or "(none)"
        raise KeyError(f"unknown experiment {name!r}; known experiments: {known}")
    return experiments[name]
