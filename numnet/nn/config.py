"""Describe a model's architecture as JSON and rebuild it, without executing stored code.

Every :class:`~numnet.nn.Module` remembers its constructor arguments. ``to_config``
turns them into plain JSON (sub-modules nested, dtypes as names, constant arrays
such as a loss's class weights as dtype, shape and values, random generators
dropped: weights are loaded afterwards); ``from_config`` looks classes up by their
qualified name among numnet's own modules (plus those you pass explicitly) and calls
their constructors with the stored arguments. Nothing is unpickled or evaluated.
"""

from __future__ import annotations

import numpy as np

from numnet.nn.module import MODULE_CLASSES, Module
from numnet.nn.parameter import Parameter
from numnet.tensor import Tensor

_DROPPED = ("generator", "rng", "random_state")
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
                "__array__": {"dtype": arr.dtype.name, "shape": list(arr.shape),
                              "data": arr.ravel().tolist()}
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
            return np.dtype(value["__dtype__"])
        if "__tuple__" in value:
            return tuple(_decode(v, classes) for v in value["__tuple__"])
        if "__array__" in value:
            return _decode_array(value["__array__"])
        if "__dict__" in value:
            return {k: _decode(v, classes) for k, v in value["__dict__"].items()}
        raise ValueError(f"malformed config entry {value!r}")
    return value


def _decode_array(entry) -> np.ndarray:
    try:
        dtype = np.dtype(entry["dtype"])
        if dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"dtype {dtype} is not numeric")
        return np.asarray(entry["data"], dtype=dtype).reshape(entry["shape"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed array in config: {entry!r:.200} ({exc})") from exc


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def to_config(module: Module) -> dict:
    """A JSON-serialisable description of ``module``'s class and constructor arguments."""
    args, kwargs = getattr(module, "_init_args", ((), {}))
    name = _class_name(type(module))
    return {
        "class": name,
        "args": [_encode(a, name) for a in args],
        "kwargs": {k: _encode(v, name) for k, v in kwargs.items() if k not in _DROPPED},
    }


def from_config(config: dict, *, classes: dict[str, type] | None = None) -> Module:
    """Rebuild a module from :func:`to_config`'s output.

    Parameters
    ----------
    config : dict
    classes : dict, optional
        Extra allowed classes, by qualified name (``"mypkg.models.Net"``) or bare name,
        for models defined outside numnet. Only numnet's modules and these are built.
    """
    if not isinstance(config, dict) or "class" not in config:
        raise ValueError(f"not a numnet module config: {config!r:.200}")
    name = config["class"]
    extra = classes or {}
    cls = extra.get(name) or extra.get(name.rsplit(".", 1)[-1])
    if cls is None and name.startswith("numnet."):
        cls = MODULE_CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"unknown module class {name!r}: pass it as load(..., classes={{{name!r}: cls}}) "
            "to allow it"
        )
    args = [_decode(a, classes) for a in config.get("args", [])]
    kwargs = {k: _decode(v, classes) for k, v in config.get("kwargs", {}).items()}
    return cls(*args, **kwargs)
