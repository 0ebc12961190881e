"""``History``: per-epoch metrics of a training run (Keras-like), with CSV/JSON export."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from numnet._files import atomic_write_bytes


class History:
    """Metrics recorded at the end of every epoch.

    Attributes
    ----------
    epochs : list of dict
        One row per epoch: ``epoch``, ``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``, ``lr``, ``time`` (seconds), when available.
    history : dict of lists
        The same numbers by column (``history.history["val_loss"]``), as in Keras.
    stopped_epoch : int or None
        The epoch after which a callback (e.g. :class:`EarlyStopping`) stopped the run;
        None if it was not stopped early. Saved in checkpoints, so that a resumed run
        that was stopped stays finished.
    initial_epoch : int
        Epochs already done when this ``fit`` call started (restored from its
        checkpoint); 0 for a fresh run.
    """

    def __init__(self, rows: list[dict] | None = None) -> None:
        self.epochs: list[dict] = list(rows or [])
        self.stopped_epoch: int | None = None
        self.initial_epoch: int = 0

    @property
    def epochs_trained(self) -> int:
        """Epochs trained by the ``fit`` call that returned this History (0 when it
        resumed a finished run)."""
        return len(self.epochs) - self.initial_epoch

    def append(self, row: dict) -> None:
        """Record ``row`` (kept by reference: callbacks may add metrics to it)."""
        self.epochs.append(row)

    @property
    def history(self) -> dict[str, list]:
        keys: list[str] = []
        for row in self.epochs:
            keys += [k for k in row if k not in keys]
        return {k: [row.get(k) for row in self.epochs] for k in keys}

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list:
        return self.history[key]

    def best(self, monitor: str = "val_loss", mode: str = "min") -> dict:
        """The row with the best ``monitor`` value (lowest for ``mode='min'``, highest
        for ``'max'``; the first of equal ones). NaN is never best.

        Raises
        ------
        KeyError
            No epoch recorded a value of ``monitor`` that is not NaN.
        ValueError
            ``mode`` is not 'min' or 'max'.
        """
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        rows = [r for r in self.epochs if r.get(monitor) is not None and not math.isnan(r[monitor])]
        if not rows:
            raise KeyError(f"no epoch recorded {monitor!r} (other than NaN)")
        key = (lambda r: r[monitor]) if mode == "min" else (lambda r: -r[monitor])
        return min(rows, key=key)

    def to_csv(self, path) -> Path:
        """Write the table as CSV (atomically)."""
        cols = list(self.history)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        for row in self.epochs:
            writer.writerow(row)
        return atomic_write_bytes(path, buf.getvalue().encode())

    def to_json(self, path) -> Path:
        """Write the rows as JSON (atomically; NaN written as null)."""
        clean = [
            {
                k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in row.items()
            }
            for row in self.epochs
        ]
        return atomic_write_bytes(path, json.dumps({"epochs": clean}, indent=1).encode())

    def state_dict(self) -> dict:
        return {"epochs": [dict(r) for r in self.epochs], "stopped_epoch": self.stopped_epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore rows and ``stopped_epoch`` (absent from older checkpoints: None)."""
        self.epochs = [dict(r) for r in state["epochs"]]
        self.stopped_epoch = state.get("stopped_epoch")

    def __repr__(self) -> str:
        last = self.epochs[-1] if self.epochs else {}
        return f"History({len(self)} epochs, last={last})"
