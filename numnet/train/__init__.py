"""Training: ``fit`` / ``evaluate`` / ``predict``, ``History`` and callbacks."""

from numnet.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    EpochPrinter,
    JSONLogger,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
)
from numnet.train.history import History
from numnet.train.loop import TrainingDivergedError, evaluate, fit, predict
from numnet.train.metrics import Accuracy, accuracy_count

__all__ = [
    "Accuracy",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "EpochPrinter",
    "History",
    "JSONLogger",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgressBar",
    "TrainingDivergedError",
    "accuracy_count",
    "evaluate",
    "fit",
    "predict",
]

from numnet.train.diagnostics import GradientDiagnostics, tensor_summary  # noqa: E402

__all__ += ["GradientDiagnostics", "tensor_summary"]
