"""``numnet.summary(model, input_size)``: a per-layer table of a model (like torchinfo, Keras).

The model is run once on zeros of ``input_size`` (in evaluation mode, without
recording a graph); every sub-module's call is recorded in call order with its output
shape. numnet's :class:`~numnet.nn.Module` has no forward hooks, so for the duration of
the pass each module's ``forward`` is wrapped by an instance attribute, removed
afterwards (along with the training modes, which are restored). Nothing else about the
model changes: no parameter is written, no random number is drawn (dropout is off).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from numnet._device import as_dtype

__all__ = ["LayerInfo", "ModelSummary", "summary"]


@dataclass(frozen=True)
class LayerInfo:
    """One call of a sub-module during the summary's forward pass.

    Attributes
    ----------
    name : str
        The module's dotted name in the model (``'0'``, ``'block.conv'``), as in
        ``named_modules()``.
    class_name : str
        ``'Linear'``, ``'Conv2d'``...
    depth : int
        1 for the model's children, 2 for their children, ...
    output_shape : tuple of int, list of tuples, or None
        Shape of the output (a list for a tuple/list of Tensors; ``None`` otherwise).
    num_params : int
        Parameters of this module and its sub-modules (each shared one counted once).
    trainable_params : int
        Of those, the ones with ``requires_grad``.
    own_params : int
        Parameters held directly by this module, not by a sub-module.
    is_leaf : bool
        The module has no sub-modules.
    repeated : bool
        The module was called before in this pass (shared or reused): its parameters
        are already counted.
    """

    name: str
    class_name: str
    depth: int
    output_shape: tuple | list | None
    num_params: int
    trainable_params: int
    own_params: int
    is_leaf: bool
    repeated: bool = False


@dataclass(frozen=True)
class ModelSummary:
    """What :func:`summary` measured; ``str()`` is the table.

    Attributes
    ----------
    model_name : str
        The model's class name.
    input_size : list of tuple of int
        The input shape(s) the model was run on.
    dtype : numpy.dtype
    layers : list of LayerInfo
        One row per sub-module call, in call order (the model itself not included).
    output_shape : tuple of int, list of tuples, or None
        Shape of the model's output.
    total_params, trainable_params, non_trainable_params : int
        Counted over ``model.parameters()`` (shared parameters once).
    param_bytes : int
        Memory held by the parameters' data.
    """

    model_name: str
    input_size: list
    dtype: np.dtype
    layers: list
    output_shape: tuple | list | None
    total_params: int
    trainable_params: int
    non_trainable_params: int
    param_bytes: int

    def __str__(self) -> str:
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            label = "  " * (layer.depth - 1) + f"{layer.name} ({layer.class_name})"
            if layer.repeated:
                count = "(recursive)"
            elif layer.is_leaf or layer.own_params:
                count = f"{layer.own_params:,}"
            else:
                count = "--"
            rows.append((label, _shape_str(layer.output_shape), count))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        widths[0] = max(widths[0], 24)
        widths[1] = max(widths[1], 16)

        def line(r):
            return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}"

        width = sum(widths) + 4
        inputs = ", ".join(_shape_str(s) for s in self.input_size)
        out = [
            f"Model: {self.model_name}, input {inputs} {self.dtype}",
            "=" * width,
            line(rows[0]),
            "=" * width,
            *(line(r) for r in rows[1:]),
            "=" * width,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
            f"Output shape: {_shape_str(self.output_shape)}",
            f"Params size (MB): {self.param_bytes / 1e6:.2f}",
            "=" * width,
        ]
        return "\n".join(out)

    __repr__ = __str__


def _shape_str(shape) -> str:
    if shape is None:
        return "--"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _output_shape(out):
    from numnet.tensor import Tensor

    if isinstance(out, Tensor):
        return tuple(out.shape)
    if isinstance(out, np.ndarray):
        return tuple(out.shape)
    if isinstance(out, (tuple, list)) and out:
        shapes = [_output_shape(o) for o in out]
        return None if any(s is None for s in shapes) else shapes
    return None


def _input_sizes(input_size) -> list[tuple[int, ...]]:
    if not isinstance(input_size, Sequence) or isinstance(input_size, str):
        raise TypeError(
            f"input_size must be a shape such as (1, 784) or a list of shapes, got {input_size!r}"
        )
    if all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in input_size):
        sizes = [tuple(int(d) for d in input_size)]
    else:
        sizes = [tuple(_input_sizes(s)[0]) for s in input_size]
    for s in sizes:
        if any(d < 0 for d in s):
            raise ValueError(f"input_size has a negative dimension: {s}")
    return sizes


def _count(params) -> tuple[int, int]:
    total = trainable = 0
    for p in params:
        total += p.data.size
        trainable += p.data.size if p.requires_grad else 0
    return int(total), int(trainable)


def _depths(model, modules) -> dict[int, int]:
    """Nesting depth of each module (by id), the model's being 0."""
    depths = {id(model): 0}
    for _, m in modules:  # depth first from the model: parents come before children
        for child in m.children():
            depths.setdefault(id(child), depths[id(m)] + 1)
    return depths


@contextlib.contextmanager
def _recorded_calls(model, modules):
    """In eval mode, record every sub-module call as ``[module, repeated, output shape]``
    (in call order) in the list the block gets; the forwards and training modes are put
    back after it."""
    calls: list[list] = []
    seen: set[int] = set()
    patched: list[tuple[object, bool, object]] = []
    modes = [(m, "training" in vars(m), m.training) for _, m in modules]

    def wrap(module, forward):
        def recording_forward(*args, **kwargs):
            record = [module, id(module) in seen, None]
            seen.add(id(module))
            calls.append(record)
            out = forward(*args, **kwargs)
            record[2] = _output_shape(out)
            return out

        return recording_forward

    try:
        for name, m in modules:
            if not name:
                continue  # the model itself: its output is the summary's output
            own = vars(m)
            patched.append((m, "forward" in own, own.get("forward")))
            m.forward = wrap(m, m.forward)
        model.eval()
        yield calls
    finally:
        for m, had, previous in patched:
            if had:
                m.forward = previous
            else:
                del m.forward
        for m, had_mode, mode in modes:
            if had_mode:
                m.training = mode
            else:
                vars(m).pop("training", None)  # back to the class default


def _layer_info(module, name: str, depth: int, repeated: bool, shape) -> LayerInfo:
    total, trainable = _count(module.parameters())
    own, _ = _count(p for _, p in module._own_parameters())
    return LayerInfo(
        name=name,
        class_name=type(module).__name__,
        depth=depth,
        output_shape=shape,
        num_params=total,
        trainable_params=trainable,
        own_params=own,
        is_leaf=next(iter(module.children()), None) is None,
        repeated=repeated,
    )


def summary(model, input_size, *, dtype=np.float32) -> ModelSummary:
    """A per-layer table of ``model``: output shapes and parameter counts (like torchinfo).

    Parameters
    ----------
    model : numnet.nn.Module
    input_size : tuple of int, or list of tuples
        Shape of the input *including* the batch dimension, e.g. ``(1, 784)`` or
        ``(1, 1, 28, 28)`` (torchinfo's convention); a list of shapes for a model that
        takes several inputs.
    dtype : numpy dtype
        dtype of the zero input(s), float32 by default.

    Returns
    -------
    ModelSummary
        ``str()`` is the table (layer name and class, output shape, parameter count
        for leaves; totals); its fields (``layers``, ``total_params``,
        ``trainable_params``...) can be read.

    Raises
    ------
    TypeError, ValueError
        If ``input_size`` is not a shape or list of shapes.
    Exception
        Whatever the model's forward pass raises for inputs of that shape; the model is
        left as it was.

    Notes
    -----
    Every sub-module call of the pass is a row, in call order, indented by depth; a
    container's row shows ``--`` unless it holds parameters directly (its children's
    rows show theirs), so the column adds up to the total. A module called again (a
    shared layer) shows ``(recursive)``. Modules the forward pass does not call are not
    listed, but their parameters are counted in the totals.

    Examples
    --------
    >>> print(numnet.summary(numnet.models.mlp(784, [128], 10), (1, 784)))  # doctest: +SKIP
    """
    from numnet.autograd import no_grad
    from numnet.tensor import Tensor

    dtype = as_dtype(dtype)
    sizes = _input_sizes(input_size)
    modules = list(model.named_modules())
    with _recorded_calls(model, modules) as calls, no_grad():
        out = model(*(Tensor._wrap(np.zeros(s, dtype=dtype)) for s in sizes))
    names = {id(m): name for name, m in modules}
    depths = _depths(model, modules)
    layers = [
        _layer_info(module, names[id(module)], depths[id(module)], repeated, shape)
        for module, repeated, shape in calls
    ]
    params = list(model.parameters())
    total, trainable = _count(params)
    return ModelSummary(
        model_name=type(model).__name__,
        input_size=sizes,
        dtype=dtype,
        layers=layers,
        output_shape=_output_shape(out),
        total_params=total,
        trainable_params=trainable,
        non_trainable_params=total - trainable,
        param_bytes=int(sum(p.data.nbytes for p in params)),
    )
