"""Loss modules (``torch.nn`` names) over :mod:`numnet.nn.functional`."""

from __future__ import annotations

from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


class _Loss(Module):
    """A loss module over a function of :mod:`numnet.nn.functional` (``_function``).

    The config's keys are the functional's keywords: ``forward`` passes
    :meth:`get_config` on (a kept constant Tensor as its array).
    """

    _function = None  # set by each subclass (a staticmethod)

    def __init__(self, reduction: str = "mean") -> None:
        F._check_reduction(reduction)
        self.reduction = reduction

    def get_config(self) -> dict:
        return {"reduction": self.reduction}

    def forward(self, input, target):
        options = {
            name: value.data if isinstance(value, Tensor) else value
            for name, value in self.get_config().items()
        }
        return self._function(input, target, **options)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"

    def _reduction_not_weight(self, weight) -> None:
        """``Loss("sum")``: the first positional argument is ``weight``, as in PyTorch."""
        if isinstance(weight, str):
            name = type(self).__name__
            raise TypeError(
                f"{name}: the first positional argument is weight (PyTorch's order); pass "
                f"the reduction by keyword: {name}(reduction={weight!r})"
            )


class MSELoss(_Loss):
    """Mean squared error; see :func:`numnet.nn.functional.mse_loss`."""

    _function = staticmethod(F.mse_loss)


def _kept(arr) -> Tensor:
    """A non-trainable Tensor copy of a constant (a loss's weights): the config
    describes this copy, not the caller's array, which the caller may change."""
    return Tensor(arr.copy(), dtype=arr.dtype)


class _WeightedLoss(_Loss):
    """A loss with optional per-class weights and an ignored target value.

    The weight is kept as a plain (non-trainable) :class:`~numnet.Tensor` attribute
    ``weight``: it is not a Parameter, so optimizers and ``state_dict`` never see it
    (numnet has no buffers). It is a constructor argument, so a model's JSON config
    (:mod:`numnet.nn.config`) stores its values and ``numnet.io.save``/``load``
    restore it. At each call it is cast to the input's floating dtype.
    """

    def __init__(self, weight=None, *, ignore_index: int = -100, reduction: str = "mean"):
        name = type(self).__name__
        self._reduction_not_weight(weight)
        super().__init__(reduction)
        self.weight = None if weight is None else _kept(F._as_weight_array(weight, name))
        self.ignore_index = F._check_ignore_index(ignore_index, name)

    def get_config(self) -> dict:
        return {"weight": self.weight, "ignore_index": self.ignore_index, **super().get_config()}

    def extra_repr(self) -> str:
        parts = []
        if self.weight is not None:
            parts.append(f"weight=<{self.weight.shape[0]} classes>")
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        parts.append(super().extra_repr())
        return ", ".join(parts)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits; see :func:`numnet.nn.functional.cross_entropy`.

    ``CrossEntropyLoss(weight=None, *, ignore_index=-100, reduction='mean',
    label_smoothing=0.0)``: PyTorch's order, with everything after ``weight``
    keyword-only (PyTorch also takes them positionally, after its deprecated
    ``size_average`` and ``reduce``, which numnet does not accept).

    Parameters
    ----------
    weight : (C,) floating array or Tensor, optional
        Per-class rescaling (copied; kept as the non-trainable Tensor ``self.weight``).
    ignore_index : int
        Class-label targets equal to it contribute nothing (default -100).
    reduction : 'mean' | 'sum' | 'none'
        'mean' with weights is ``Σ w_{y_n} ℓ_n / Σ w_{y_n}`` over non-ignored targets.
    label_smoothing : float in [0, 1]
    """

    _function = staticmethod(F.cross_entropy)

    def __init__(
        self,
        weight=None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, ignore_index=ignore_index, reduction=reduction)
        self.label_smoothing = F._check_label_smoothing(label_smoothing, "CrossEntropyLoss")

    def get_config(self) -> dict:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return f"{text}, label_smoothing={self.label_smoothing}" if self.label_smoothing else text


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see :func:`numnet.nn.functional.nll_loss`.

    ``NLLLoss(weight=None, *, ignore_index=-100, reduction='mean')``: PyTorch's order,
    with everything after ``weight`` keyword-only.

    Parameters
    ----------
    weight : (C,) floating array or Tensor, optional
        Per-class rescaling (copied; kept as the non-trainable Tensor ``self.weight``).
    ignore_index : int
        Targets equal to it contribute nothing (default -100).
    reduction : 'mean' | 'sum' | 'none'
    """

    _function = staticmethod(F.nll_loss)


class _ElementwiseWeightedLoss(_Loss):
    """A binary loss with an optional elementwise weight (and, for the logits loss, a
    weight of the positive term).

    Each is kept as a plain (non-trainable) :class:`~numnet.Tensor` copy, like the class
    weights of :class:`CrossEntropyLoss`: not a Parameter (numnet has no buffers), stored
    in the model's JSON config, so ``numnet.io.save``/``load`` restore it. Its shape is
    checked against the input's at each call, when it is also cast to the input's
    floating dtype.
    """

    def __init__(self, weight=None, *, reduction: str = "mean") -> None:
        self._reduction_not_weight(weight)
        super().__init__(reduction)
        self.weight = self._constant(weight, "weight")

    def _constant(self, value, arg: str) -> Tensor | None:
        if value is None:
            return None
        return _kept(F._constant_array(value, type(self).__name__, arg))

    def get_config(self) -> dict:
        return {"weight": self.weight, **super().get_config()}

    def extra_repr(self) -> str:
        parts = []
        for name in ("weight", "pos_weight"):
            value = getattr(self, name, None)
            if value is not None:
                parts.append(f"{name}=<shape {value.shape}>")
        parts.append(super().extra_repr())
        return ", ".join(parts)


class BCELoss(_ElementwiseWeightedLoss):
    """Binary cross-entropy of probabilities; see
    :func:`numnet.nn.functional.binary_cross_entropy`.

    ``BCELoss(weight=None, *, reduction='mean')``: PyTorch's order, with the reduction
    keyword-only (PyTorch also takes it positionally, after its deprecated
    ``size_average`` and ``reduce``, which numnet does not accept).

    Parameters
    ----------
    weight : floating array or Tensor, optional
        Rescaling of each element's loss, broadcast to the input's shape (copied; kept
        as the non-trainable Tensor ``self.weight``).
    reduction : 'mean' | 'sum' | 'none'
    """

    _function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_ElementwiseWeightedLoss):
    """Logistic loss from logits; see
    :func:`numnet.nn.functional.binary_cross_entropy_with_logits`.

    ``BCEWithLogitsLoss(weight=None, *, reduction='mean', pos_weight=None)``: PyTorch's
    order, with everything after ``weight`` keyword-only.

    Parameters
    ----------
    weight, reduction
        As for :class:`BCELoss`.
    pos_weight : floating array or Tensor, optional
        Weight of the positive term, broadcast from the input's last (class) axis, e.g.
        shape (C,) for (N, C) logits (copied; kept as ``self.pos_weight``).
    """

    _function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(weight, reduction=reduction)
        self.pos_weight = self._constant(pos_weight, "pos_weight")

    def get_config(self) -> dict:
        return {**super().get_config(), "pos_weight": self.pos_weight}


class HingeLoss(_Loss):
    """``max(0, margin - y s)`` with labels ±1 (margin 1: SVM; margin 0: perceptron)."""

    _function = staticmethod(F.hinge_loss)

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = float(margin)

    def get_config(self) -> dict:
        return {"margin": self.margin, **super().get_config()}
