"""Describe a model's architecture as JSON and rebuild it, without executing stored code.

Every :class:`~numnet.nn.Module` describes itself by :meth:`~numnet.nn.Module.get_config`
(its constructor arguments by name). ``to_config`` turns that into plain JSON,
``{"class": qualified name, "args": [...], "kwargs": {...}}``: sub-modules nested,
dtypes as names, constant arrays such as a loss's class weights as dtype, shape and
values; ``args`` holds only the list of a ``*args`` parameter (``Sequential``'s
modules), so the JSON reads as the constructor call. ``from_config`` looks classes up
by their qualified name among numnet's own modules
(:data:`~numnet.nn.module.MODULE_CLASSES`, plus those you pass explicitly), builds
the nested modules first and calls the class's
:meth:`~numnet.nn.Module.from_config`. Nothing is unpickled or evaluated. Weights
are not part of a config: they are loaded afterwards.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from numnet.nn.module import (
    MODULE_CLASSES,
    Module,
    _call_arguments,
    _init_signature,
    _named_arguments,
    qualified_name,
)
from numnet.nn.parameter import Parameter
from numnet.tensor import Tensor

_ARRAY_KINDS = "biuf"  # arrays of these kinds are stored as JSON lists (exact round trip)


def _encode(value, where: str):
    if isinstance(value, Module):
        return {"__module__": to_config(value)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.ndarray) or (
        isinstance(value, Tensor) and not isinstance(value, Parameter)
    ):
        arr = value.data if isinstance(value, Tensor) else value
        if arr.dtype.kind in _ARRAY_KINDS:  # small constant arrays (a loss's class weights)
            return {
                "__array__": {
                    "dtype": arr.dtype.name,
                    "shape": list(arr.shape),
                    "data": arr.ravel().tolist(),
                }
            }
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        return (
            {"__tuple__": [_encode(v, where) for v in value]}
            if isinstance(value, tuple)
            else [_encode(v, where) for v in value]
        )
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v, where) for k, v in value.items()}}
    raise ValueError(
        f"{where}: argument of type {type(value).__name__} cannot be stored as JSON; "
        "save the weights with numnet.save_state_dict and rebuild the model in code"
    )


def _decode(value, classes):
    if isinstance(value, list):
        return [_decode(v, classes) for v in value]
    if isinstance(value, dict):
        if "__module__" in value:
            return from_config(value["__module__"], classes=classes)
        if "__dtype__" in value:
            return _decode_dtype(value["__dtype__"])
        if "__tuple__" in value:
            return tuple(_decode(v, classes) for v in _tagged(value, "__tuple__", list))
        if "__array__" in value:
            return _decode_array(value["__array__"])
        if "__dict__" in value:
            return {k: _decode(v, classes) for k, v in _tagged(value, "__dict__", dict).items()}
        raise ValueError(f"malformed config entry {value!r:.200}")
    return value


def _tagged(value: dict, tag: str, kind: type):
    """The list or map under ``tag`` of a tagged entry, checked to be a ``kind``."""
    items = value[tag]
    if not isinstance(items, kind):
        what = "a list" if kind is list else "a map"
        raise ValueError(f"malformed config entry {value!r:.200} ({tag} not {what})")
    return items


@contextlib.contextmanager
def _malformed(what: str, value):
    """Turn a failure to decode ``value`` into ``ValueError("malformed <what> ...")``."""
    try:
        yield
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"malformed {what} in config: {value!r:.200} ({exc})") from exc


def _decode_dtype(name) -> np.dtype:
    with _malformed("dtype", name):
        if not isinstance(name, str):
            raise TypeError("not a name")
        dtype = np.dtype(name)
    if dtype.kind not in _ARRAY_KINDS:
        raise ValueError(f"malformed dtype in config: {name!r:.200} is not numeric")
    return dtype


def _decode_array(entry) -> np.ndarray:
    with _malformed("array", entry):
        if not isinstance(entry, dict):
            raise TypeError("not a map")
        dtype = _decode_dtype(entry["dtype"])
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise ValueError("shape must be a list of non-negative integers")
        data = np.asarray(entry["data"], dtype=dtype)
        if data.ndim != 1 or math.prod(shape) != data.size:
            raise ValueError(f"{data.size} values do not fill shape {shape}")
        return data.reshape(shape)


def to_config(module: Module) -> dict:
    """A JSON-serialisable description of ``module``: its class and :meth:`get_config`.

    Raises
    ------
    ValueError
        A value of the config that JSON cannot hold (e.g. a Parameter or a function).
    """
    name = qualified_name(type(module))
    args, kwargs = _call_arguments(type(module), module.get_config())
    return {
        "class": name,
        "args": [_encode(a, name) for a in args],
        "kwargs": {k: _encode(v, name) for k, v in kwargs.items()},
    }


def _check_config(config) -> tuple[str, list, dict]:
    """``(class name, args, kwargs)`` of a module config, or ValueError."""
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"not a numnet module config: {config!r:.200}")
    name, args, kwargs = config["class"], config.get("args", []), config.get("kwargs", {})
    if not isinstance(name, str):
        raise ValueError(f"module config 'class' must be a string, got {name!r:.200}")
    if not isinstance(args, list):
        raise ValueError(f"{name}: config 'args' must be a list, got {args!r:.200}")
    if not isinstance(kwargs, dict):
        raise ValueError(f"{name}: config 'kwargs' must be a map, got {kwargs!r:.200}")
    return name, args, kwargs


# numnet's subpackages that define modules but load on first use (``import numnet`` does
# not import them): a config naming one of their classes imports it first
_LAZY_MODULE_PACKAGES = ("numnet.autoencoder", "numnet.deep_linear")


def _import_lazy_packages(name: str) -> None:
    """Import the lazily loaded numnet subpackage a class name may come from (all of them
    for a bare name), so that its classes are registered. Only numnet's own packages from
    :data:`_LAZY_MODULE_PACKAGES`: a file never chooses what is imported."""
    import importlib

    for package in _LAZY_MODULE_PACKAGES:
        if "." not in name or name == package or name.startswith(package + "."):
            importlib.import_module(package)


def _resolve(name: str, classes: dict[str, type] | None) -> type:
    extra = classes or {}
    if not extra.get(name) and name not in MODULE_CLASSES:
        _import_lazy_packages(name)
    cls = extra.get(name) or extra.get(name.rsplit(".", 1)[-1])
    if cls is None and name.startswith("numnet."):
        cls = MODULE_CLASSES.get(name)
    if cls is None and (name.startswith("numnet.") or "." not in name):
        # numnet's own classes also by their public or bare name ("numnet.nn.Linear",
        # "Linear"), as a hand-written architecture file names them
        bare = name.rsplit(".", 1)[-1]
        found = {c for c in MODULE_CLASSES.values() if c.__name__ == bare}
        cls = found.pop() if len(found) == 1 else None
    if cls is None:
        raise ValueError(
            f"unknown module class {name!r}: numnet's layers are found by their name "
            "(e.g. 'Linear', 'numnet.nn.Sequential'); a class of your own must be passed "
            f"as load(..., classes={{{name!r}: cls}})"
        )
    return cls


def from_config(config: dict, *, classes: dict[str, type] | None = None) -> Module:
    """Rebuild a module from :func:`to_config`'s output.

    Parameters
    ----------
    config : dict
    classes : dict, optional
        Extra allowed classes, by qualified name (``"mypkg.models.Net"``) or bare name,
        for models defined outside numnet. Only numnet's modules and these are built.

    Returns
    -------
    Module
        ``cls.from_config(arguments by name)``; positional ``args`` are named by the
        constructor's signature first.

    Raises
    ------
    ValueError
        A malformed config (not a map, ``class`` not a string, ``args`` not a list,
        ``kwargs`` not a map, a malformed dtype, array or tagged entry) or a class
        that is not allowed. A constructor's own error (e.g. ``Linear(-1, 2)``, or a
        ``TypeError`` for arguments it does not take) propagates unchanged;
        :func:`numnet.io.load` turns every one into a
        :class:`~numnet.io.ModelFileError`.
    """
    name, args, kwargs = _check_config(config)
    cls = _resolve(name, classes)
    args = [_decode(a, classes) for a in args]
    kwargs = {k: _decode(v, classes) for k, v in kwargs.items()}
    return cls.from_config(_named_arguments(cls, args, kwargs) if args else kwargs)


# -- the parameters a config declares, without building it ---------------------------------
class _Sub:
    """A sub-module's config inside another's arguments (for :func:`parameter_shapes`)."""

    __slots__ = ("config",)

    def __init__(self, config) -> None:
        self.config = config


class _Unknown(Exception):
    """A class whose parameters cannot be told from its config (built to find out)."""


def _plain(value):
    """Decode a config value for shape rules: sub-modules stay configs, no arrays built."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        if "__module__" in value:
            return _Sub(value["__module__"])
        if "__tuple__" in value and isinstance(value["__tuple__"], list):
            return tuple(_plain(v) for v in value["__tuple__"])
        if "__dtype__" in value:
            return _decode_dtype(value["__dtype__"])
        if "__dict__" in value and isinstance(value["__dict__"], dict):
            return {k: _plain(v) for k, v in value["__dict__"].items()}
        return None  # a constant array or a malformed entry: from_config judges it
    return value


def _size(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r:.100}")
    return int(value)


def _linear(b) -> dict:
    i, o = _size(b["in_features"], "in_features"), _size(b["out_features"], "out_features")
    return {"weight": (o, i), **({"bias": (o,)} if b["bias"] else {})}


def _conv(dims: int):
    def rule(b) -> dict:
        i, o = _size(b["in_channels"], "in_channels"), _size(b["out_channels"], "out_channels")
        g = _size(b["groups"], "groups")
        k = b["kernel_size"]
        k = (k,) * dims if not isinstance(k, (tuple, list)) else tuple(k)
        if len(k) != dims:
            raise ValueError(f"kernel_size needs {dims} sizes, got {k!r:.100}")
        k = tuple(_size(v, "kernel_size") for v in k)
        if i % g or o % g:
            raise ValueError(f"groups={g} must divide in_channels={i} and out_channels={o}")
        return {"weight": (o, i // g, *k), **({"bias": (o,)} if b["bias"] else {})}

    return rule


def _children(pairs) -> dict:
    out = {}
    for prefix, sub in pairs:
        if sub is None:
            continue
        if not isinstance(sub, _Sub):
            raise ValueError(f"{prefix}: expected a module, got {sub!r:.100}")
        out.update({f"{prefix}.{k}": v for k, v in _shapes(sub.config).items()})
    return out


def _sequential(b) -> dict:
    mods = b["modules"]
    if len(mods) == 1 and isinstance(mods[0], (list, tuple)):
        mods = mods[0]
    return _children((str(i), m) for i, m in enumerate(mods))


def _module_list(b) -> dict:
    mods = b["modules"]
    if not isinstance(mods, (list, tuple)):
        raise ValueError(f"ModuleList needs a list of modules, got {mods!r:.100}")
    return _children((str(i), m) for i, m in enumerate(mods))


def _linear_autoencoder(b) -> dict:
    d, m = _size(b["in_features"], "in_features"), _size(b["bottleneck"], "bottleneck")
    return {"encoder.weight": (m, d), "decoder.weight": (m, d) if b["tied"] else (d, m)}


def _autoencoder(b) -> dict:
    d, m = _size(b["in_features"], "in_features"), _size(b["bottleneck"], "bottleneck")
    hidden = b["hidden"]
    if not isinstance(hidden, (list, tuple)):
        raise ValueError(f"hidden must be a list of sizes, got {hidden!r:.100}")
    widths = [d, *(_size(h, "hidden") for h in hidden), m]
    out = {}
    for part, ws, last_act in (
        ("encoder", widths, b["code_activation"]),
        ("decoder", widths[::-1], b["output_activation"]),
    ):
        index = 0
        for i, (a, c) in enumerate(zip(ws[:-1], ws[1:])):
            out[f"{part}.{index}.weight"] = (c, a)
            out[f"{part}.{index}.bias"] = (c,)
            act = last_act if i == len(ws) - 2 else b["activation"]
            index += 1 if act is None or act == "identity" else 2
    return out


def _deep_linear(b) -> dict:
    sizes = b["sizes"]
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(f"sizes must list at least 2 widths, got {sizes!r:.100}")
    sizes = [_size(s, "sizes") for s in sizes]
    return {f"layers.{i}.weight": (c, a) for i, (a, c) in enumerate(zip(sizes, sizes[1:]))}


_NO_PARAMETERS = (
    "numnet.nn.activation.Arctan", "numnet.nn.activation.Flatten",
    "numnet.nn.activation.Heaviside", "numnet.nn.activation.LeakyReLU",
    "numnet.nn.activation.LogSoftmax", "numnet.nn.activation.ReLU",
    "numnet.nn.activation.Sigmoid", "numnet.nn.activation.Sign",
    "numnet.nn.activation.Softmax", "numnet.nn.activation.Softplus",
    "numnet.nn.activation.Tanh", "numnet.nn.dropout.Dropout", "numnet.nn.linear.Identity",
    "numnet.nn.loss.BCELoss", "numnet.nn.loss.BCEWithLogitsLoss",
    "numnet.nn.loss.CrossEntropyLoss", "numnet.nn.loss.HingeLoss", "numnet.nn.loss.MSELoss",
    "numnet.nn.loss.NLLLoss", "numnet.nn.pooling.AvgPool2d", "numnet.nn.pooling.MaxPool2d",
    "numnet.autoencoder.noise.GaussianNoise", "numnet.autoencoder.noise.MaskingNoise",
)  # fmt: skip

#: qualified class name -> rule giving the state_dict shapes from the bound arguments
SHAPE_RULES = {
    "numnet.nn.linear.Linear": _linear,
    "numnet.nn.conv.Conv1d": _conv(1),
    "numnet.nn.conv.Conv2d": _conv(2),
    "numnet.nn.containers.Sequential": _sequential,
    "numnet.nn.containers.ModuleList": _module_list,
    "numnet.nn.residual.Residual": lambda b: _children(
        (("block", b["block"]), ("projection", b["projection"]))
    ),
    "numnet.autoencoder.linear.LinearAutoencoder": _linear_autoencoder,
    "numnet.autoencoder.models.Autoencoder": _autoencoder,
    "numnet.deep_linear.DeepLinearNetwork": _deep_linear,
    **{name: lambda b: {} for name in _NO_PARAMETERS},
}


def _shapes(config) -> dict:
    name, args, kwargs = _check_config(config)
    rule = SHAPE_RULES.get(name)
    cls = MODULE_CLASSES.get(name)
    if rule is None or cls is None:
        raise _Unknown(name)
    args, kwargs = [_plain(a) for a in args], {k: _plain(v) for k, v in kwargs.items()}
    try:
        if not args:  # a *args parameter may be given by name, as get_config does
            args, kwargs = _call_arguments(cls, kwargs)
        bound = _init_signature(cls).bind(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"{name}: arguments do not fit its constructor ({exc})") from exc
    bound.apply_defaults()
    return rule(bound.arguments)


def parameter_shapes(config, *, classes: dict[str, type] | None = None) -> dict | None:
    """The ``state_dict`` names and shapes :func:`from_config` would build, without building.

    Used by :func:`numnet.io.load` to compare a file's architecture with its weights
    before allocating anything (a 400-byte file whose config says ``Linear(12000,
    12000)`` is refused without allocating 576 MB).

    Returns
    -------
    dict of str to tuple of int, or None
        ``None`` when a class in the config has no shape rule (a class passed in
        ``classes``, or a numnet class without a rule in :data:`SHAPE_RULES`): the
        model must then be built to know its parameters.

    Raises
    ------
    ValueError
        A malformed config or arguments that no constructor accepts (a non-positive
        or non-integer size, a wrong number of arguments).
    """
    if classes:
        # a class given explicitly overrides numnet's of the same name: build it
        names = set(classes)

        def overridden(cfg) -> bool:
            stack = [cfg]
            while stack:
                item = stack.pop()
                if isinstance(item, dict):
                    c = item.get("class")
                    if isinstance(c, str) and (c in names or c.rsplit(".", 1)[-1] in names):
                        return True
                    stack.extend(item.values())
                elif isinstance(item, list):
                    stack.extend(item)
            return False

        if overridden(config):
            return None
    try:
        return _shapes(config)
    except _Unknown:
        return None
