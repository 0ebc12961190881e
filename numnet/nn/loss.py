"""Loss modules (``torch.nn`` names) over :mod:`numnet.nn.functional`."""

from __future__ import annotations

from numnet.nn import functional as F
from numnet.nn.module import Module
from numnet.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        F._check_reduction(reduction)
        self.reduction = reduction

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

    def _keep_copy(self, given, arr, arg: str, position: int | None = None) -> Tensor:
        """A non-trainable Tensor copy of ``arr`` (checked from the argument ``given``).

        The config (numnet.nn.config, numnet.io.save) must describe this copy, not the
        caller's array, which the caller may reuse or change afterwards. (Only where the
        constructor received that array, by keyword ``arg`` or at ``position``: a
        subclass may take other arguments.)
        """
        copy = Tensor(arr.copy(), dtype=arr.dtype)
        args, kwargs = getattr(self, "_init_args", ((), {}))
        if kwargs.get(arg) is given:
            self._init_args = (args, {**kwargs, arg: copy})
        elif position is not None and len(args) > position and args[position] is given:
            self._init_args = ((*args[:position], copy, *args[position + 1:]), kwargs)
        return copy

    @staticmethod
    def _array(value: Tensor | None):
        """The array of a kept constant (``None`` stays ``None``), for the functional call."""
        return None if value is None else value.data


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


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
        if weight is not None:
            weight = self._keep_copy(weight, F._as_weight_array(weight, name), "weight", 0)
        self.weight = weight
        self.ignore_index = F._check_ignore_index(ignore_index, name)

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

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            self._array(self.weight),
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )

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

    def forward(self, input, target):
        return F.nll_loss(
            input,
            target,
            self._array(self.weight),
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


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
        self.weight = self._constant(weight, "weight", 0)

    def _constant(self, value, arg: str, position: int | None = None) -> Tensor | None:
        if value is None:
            return None
        return self._keep_copy(
            value, F._constant_array(value, type(self).__name__, arg), arg, position
        )

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

    def forward(self, input, target):
        return F.binary_cross_entropy(
            input, target, self._array(self.weight), reduction=self.reduction
        )


class BCEWithLogitsLoss(_ElementwiseWeightedLoss):
    """Logistic loss from logits; see
    :func:`numnet.nn.functional.binary_cross_entropy_with_logits`.

    ``BCEWithLogitsLoss(weight=None, *, reduction='mean', pos_weight=None)``: PyTorch's
    order, with everything after ``weight`` keyword-only.

    Parameters
    ----------
    weight : floating array or Tensor, optional
        Rescaling of each element's loss, broadcast to the input's shape (copied; kept
        as the non-trainable Tensor ``self.weight``).
    reduction : 'mean' | 'sum' | 'none'
    pos_weight : floating array or Tensor, optional
        Weight of the positive term, broadcast from the input's last (class) axis, e.g.
        shape (C,) for (N, C) logits (copied; kept as ``self.pos_weight``).
    """

    def __init__(self, weight=None, *, reduction: str = "mean", pos_weight=None) -> None:
        super().__init__(weight, reduction=reduction)
        self.pos_weight = self._constant(pos_weight, "pos_weight")

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input,
            target,
            self._array(self.weight),
            reduction=self.reduction,
            pos_weight=self._array(self.pos_weight),
        )


class HingeLoss(_Loss):
    """``max(0, margin - y s)`` with labels ±1 (margin 1: SVM; margin 0: perceptron)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = float(margin)

    def forward(self, input, target):
        return F.hinge_loss(input, target, self.margin, self.reduction)
