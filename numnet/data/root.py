"""Where numnet looks for (and downloads) data sets.

The data root is resolved in this order:

1. an explicit ``root`` argument;
2. the environment variable ``$NUMNET_DATA`` (if set and not empty);
3. ``~/.cache/numnet``.

Each data set lives in a sub-directory of the root (``mnist/``, ``fashion-mnist/``);
see :mod:`numnet.data.datasets`.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_DATA_ROOT", "ENV_VAR", "data_root"]

#: Environment variable naming the data root.
ENV_VAR = "NUMNET_DATA"
#: Fallback data root (``~`` expanded when used).
DEFAULT_DATA_ROOT = "~/.cache/numnet"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Resolve the data root directory.

    Parameters
    ----------
    root : path-like or None
        Explicit directory; wins over everything else. ``None`` falls back to
        ``$NUMNET_DATA``, then to ``~/.cache/numnet``.

    Returns
    -------
    pathlib.Path
        Absolute path with ``~`` expanded. The directory is not created: the
        downloader creates it when it first writes there.

    Raises
    ------
    TypeError
        If ``root`` is neither a path nor ``None``.

    Examples
    --------
    >>> data_root("/data")
    PosixPath('/data')
    """
    if root is None:
        env = os.environ.get(ENV_VAR, "").strip()
        root = env if env else DEFAULT_DATA_ROOT
    elif not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path or None, got {type(root).__name__}")
    return Path(root).expanduser().absolute()
