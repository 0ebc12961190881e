"""A pytest plugin that makes Numba unimportable, as on a machine where it is not installed.

``python -m pytest -p tests._without_numba ...`` (what ``test_suite_without_numba`` in
``tests/kernels/test_compiled_kernels.py`` runs): ``sys.modules["numba"] = None`` makes
``import numba`` raise ImportError and ``importlib.util.find_spec("numba")`` return None,
so :func:`numnet.kernels.numba_installed` is False and every op takes the NumPy
reference path. Loaded as a plugin, before any test module imports numnet.
"""

import sys

for _name in ("numba", "llvmlite"):
    if _name in sys.modules and sys.modules[_name] is not None:
        raise RuntimeError(f"tests._without_numba: {_name} was imported before the plugin")
    sys.modules[_name] = None
