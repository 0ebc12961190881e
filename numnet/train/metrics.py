"""The ``accuracy`` metric of :func:`numnet.train.fit` and :func:`numnet.train.evaluate`:
what a loss says about the model's outputs decides how "accuracy" is read."""

from __future__ import annotations

import functools

import numpy as np

# the loss families
_PROBABILITIES = "probabilities"  # binary_cross_entropy, BCELoss: threshold 0.5
_LOGITS = "logits"  # binary_cross_entropy_with_logits, BCEWithLogitsLoss, hinge: threshold 0
_CATEGORICAL = "categorical"  # cross_entropy, nll_loss, CrossEntropyLoss, NLLLoss: arg-max
_REGRESSION = "regression"  # mse_loss, MSELoss: no accuracy
_UNKNOWN = "unknown"  # any other callable: decided from the shapes, if it can be


def _loss_family(loss_fn) -> tuple[str, str, int]:
    """``(family, name, ignore_index)`` of a loss function or module.

    ``functools.partial`` wrappers are looked through (their keywords, e.g.
    ``ignore_index``, are read); lambdas and other callables are ``_UNKNOWN``.
    """
    from numnet.nn import functional as F
    from numnet.nn import loss as L

    fn, keywords = loss_fn, {}
    while isinstance(fn, functools.partial):
        keywords = {**fn.keywords, **keywords}
        fn = fn.func
    name = getattr(fn, "__name__", None) or type(fn).__name__
    ignore_index = int(keywords.get("ignore_index", getattr(fn, "ignore_index", -100)))
    families = (
        (
            _LOGITS,
            (F.binary_cross_entropy_with_logits, F.hinge_loss),
            (L.BCEWithLogitsLoss, L.HingeLoss),
        ),
        (_PROBABILITIES, (F.binary_cross_entropy,), (L.BCELoss,)),
        (_CATEGORICAL, (F.cross_entropy, F.nll_loss), (L.CrossEntropyLoss, L.NLLLoss)),
        (_REGRESSION, (F.mse_loss,), (L.MSELoss,)),
    )
    for family, functions, modules in families:
        if any(fn is f for f in functions) or isinstance(fn, modules):
            return family, name, ignore_index
    return _UNKNOWN, name, ignore_index


class _BinaryAccuracy:
    """Output ``> threshold`` against target ``> 0.5`` (0/1 or ±1 labels, soft targets),
    element by element (a multi-label output counts every element)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = float(threshold)

    def count(self, output: np.ndarray, target: np.ndarray) -> tuple[int, int]:
        if output.size != target.size:
            raise ValueError(
                f"binary accuracy: output shape {output.shape} and target shape "
                f"{target.shape} hold different numbers of values"
            )
        pred = output.reshape(-1) > self.threshold
        truth = target.reshape(-1) > 0.5
        return int(np.count_nonzero(pred == truth)), int(pred.size)

    def __repr__(self) -> str:
        return f"binary accuracy (output > {self.threshold:g})"


class _CategoricalAccuracy:
    """Arg-max over axis 1 (the class axis, as in cross_entropy) against integer labels,
    or against the arg-max of probability targets of the output's shape; labels equal
    to ``ignore_index`` are not counted."""

    def __init__(self, ignore_index: int = -100) -> None:
        self.ignore_index = ignore_index

    def count(self, output: np.ndarray, target: np.ndarray) -> tuple[int, int]:
        if output.ndim < 2:
            raise ValueError(f"categorical accuracy needs (N, C, ...) outputs, got {output.shape}")
        pred = output.argmax(axis=1)
        if target.shape == output.shape:
            return int(np.count_nonzero(pred == target.argmax(axis=1))), int(pred.size)
        if target.shape != pred.shape:
            raise ValueError(
                f"categorical accuracy: target shape {target.shape} is neither the labels' "
                f"shape {pred.shape} nor the output's {output.shape}"
            )
        keep = target != self.ignore_index
        return int(np.count_nonzero((pred == target) & keep)), int(np.count_nonzero(keep))

    def __repr__(self) -> str:
        return "categorical accuracy (arg-max)"


class Accuracy:
    """The ``accuracy`` metric of :func:`fit` and :func:`evaluate`.

    The fraction of correct predictions, resolved on the first batch from the loss and
    the shapes of the output and the target (Keras's ``"accuracy"``):

    * ``cross_entropy`` / ``nll_loss`` / ``CrossEntropyLoss`` / ``NLLLoss``:
      categorical: the arg-max over axis 1 against integer labels (labels equal to the
      loss's ``ignore_index`` are not counted) or against the arg-max of probability
      targets.
    * ``binary_cross_entropy`` / ``BCELoss`` (outputs are probabilities): binary,
      ``output > 0.5``.
    * ``binary_cross_entropy_with_logits`` / ``BCEWithLogitsLoss`` /
      ``hinge_loss`` / ``HingeLoss`` (outputs are logits or scores): binary,
      ``output > 0``.
    * ``mse_loss`` / ``MSELoss``: regression, no accuracy.
    * Any other loss (a lambda, a custom function; ``functools.partial`` of the losses
      above is recognised): categorical when the output has C > 1 columns and the
      targets are integer labels (the arg-max is the same for logits and
      probabilities); otherwise it cannot be told whether a single output column holds
      probabilities or logits, so pass ``threshold``.

    Binary accuracy compares ``output > threshold`` with ``target > 0.5`` element by
    element (0/1 and ±1 labels, soft targets; an ``(N, 1)`` output against ``(N,)``
    targets; multi-label outputs count every element, as Keras's ``binary_accuracy``).

    Parameters
    ----------
    task : 'auto' | 'binary' | 'categorical'
        'auto' infers the task as above; 'binary' or 'categorical' forces it (e.g.
        binary accuracy of a classifier trained with ``mse_loss``).
    threshold : float, optional
        Binary task: an output above it predicts the positive class. ``None`` takes it
        from the loss (0.5 for probabilities, 0 for logits); required when the loss
        does not say.

    Raises
    ------
    ValueError
        When resolved (first batch of :func:`fit` or :func:`evaluate`): a bad ``task``
        here; accuracy asked for a regression loss with ``task='auto'``; a binary task
        without a threshold the loss can give; or shapes that do not fit the task.
    """

    name = "accuracy"

    def __init__(self, task: str = "auto", threshold: float | None = None) -> None:
        if task not in ("auto", "binary", "categorical"):
            raise ValueError(f"task must be 'auto', 'binary' or 'categorical', got {task!r}")
        self.task = task
        self.threshold = None if threshold is None else float(threshold)

    def __repr__(self) -> str:
        return f"Accuracy(task={self.task!r}, threshold={self.threshold})"

    def resolve(self, loss_fn, output: np.ndarray, target: np.ndarray, *, required: bool = True):
        """The counter for ``loss_fn``'s outputs, or ``None`` (when not ``required``) if
        the loss and shapes do not define an accuracy."""
        family, name, ignore_index = _loss_family(loss_fn)

        def fail(why: str):
            if not required:
                return None
            raise ValueError(f"accuracy with loss {name}: {why}")

        task = self.task
        if task == "auto":
            labels = (
                output.ndim >= 2
                and output.shape[1] > 1
                and target.dtype.kind in "iu"
                and target.shape == output.shape[:1] + output.shape[2:]
            )
            if family == _CATEGORICAL:
                task = "categorical"
            elif family in (_PROBABILITIES, _LOGITS):
                task = "binary"
            elif family == _REGRESSION:
                return fail(
                    "a regression loss has no accuracy (pass metrics=None, or "
                    "Accuracy(task='binary', threshold=...) for a classifier trained on it)"
                )
            elif labels or (
                required
                and output.ndim >= 2
                and output.shape[1] > 1
                and target.shape == output.shape
            ):
                task = "categorical"  # Keras: C > 1 columns -> (sparse) categorical
            elif self.threshold is not None and output.size == target.size:
                task = "binary"
            else:
                return fail(
                    f"cannot tell a binary task's probabilities from logits for output "
                    f"{output.shape} and target {target.shape}; pass "
                    "Accuracy(threshold=0.5) for probabilities or Accuracy(threshold=0.0) "
                    "for logits"
                )
        if task == "categorical":
            return _CategoricalAccuracy(ignore_index)
        threshold = self.threshold
        if threshold is None:
            if family == _PROBABILITIES:
                threshold = 0.5
            elif family == _LOGITS:
                threshold = 0.0
            else:
                return fail("binary accuracy needs Accuracy(threshold=...) for this loss")
        return _BinaryAccuracy(threshold)


def _metric_spec(metrics) -> tuple[Accuracy | None, bool]:
    """``(accuracy, required)`` from ``fit``/``evaluate``'s ``metrics`` argument."""
    if isinstance(metrics, str) and metrics == "auto":
        return Accuracy(), False
    if metrics is None:
        return None, False
    items = [metrics] if isinstance(metrics, (str, Accuracy)) else list(metrics)
    found: list[Accuracy] = []
    for m in items:
        if isinstance(m, str) and m.lower() in ("accuracy", "acc"):
            found.append(Accuracy())
        elif isinstance(m, Accuracy):
            found.append(m)
        else:
            raise ValueError(
                f"unknown metric {m!r}: metrics is 'auto', None, 'accuracy' or an "
                "Accuracy(...) (or a list holding one of them)"
            )
    if len(found) > 1:
        raise ValueError(f"metrics names accuracy {len(found)} times")
    return (found[0], True) if found else (None, False)


def accuracy_count(output: np.ndarray, y: np.ndarray, loss_fn=None) -> int | None:
    """Correct predictions in a batch, read as ``loss_fn``'s outputs (see :class:`Accuracy`).

    Elements for a multi-label binary output; ``None`` when ``loss_fn`` and the shapes
    define no accuracy (regression; a single output column with an unknown loss).
    """
    counter = Accuracy().resolve(loss_fn, np.asarray(output), np.asarray(y), required=False)
    return None if counter is None else counter.count(np.asarray(output), np.asarray(y))[0]
