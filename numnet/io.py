"""Saving and loading: safetensors weights + a JSON architecture, never pickle.

A numnet model file is a standard ``.safetensors`` file: the tensors are the model's
``state_dict`` under PyTorch's names (``0.weight`` of shape ``(out, in)``...), so
``torch.nn.Sequential`` with the same layers loads them with ``load_state_dict``.
The header's metadata holds ``format = numnet``, ``format_version`` and the
architecture as JSON (:mod:`numnet.nn.config`). Files are written atomically
(temporary file, then rename). Loading parses the header, checks every offset and
size, and builds only numnet's own layer classes: it never executes stored code.

Tied weights: a parameter shared by several modules appears under every name in
``state_dict`` (as in PyTorch), but a safetensors file cannot hold two entries sharing
memory, so :func:`save` and :func:`save_state_dict` store it once, under its first
name, and record the other names in the metadata key ``aliases`` (JSON
``{alias: stored name}``, the mapping that ``safetensors.torch.save_model`` keeps as
metadata entries); :func:`load` and :func:`load_state_dict` restore every name.

Training checkpoints use the same container: :func:`save_checkpoint` stores any
nested structure of dicts/lists/numbers/strings/ndarrays, arrays as tensors and the
rest as JSON.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from numnet._files import atomic_writer
from numnet.nn.config import from_config, to_config
from numnet.nn.module import Module

FORMAT = "numnet"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, corrupt, truncated or of the wrong kind."""


def _safetensors():
    try:
        from safetensors.numpy import save
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("saving and loading need safetensors: pip install 'numnet[io]'") from exc
    return save


def write_safetensors(path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> Path:
    """Write ``tensors`` with string ``metadata`` to ``path`` atomically."""
    save = _safetensors()
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    blob = save(arrays, metadata=metadata)
    with atomic_writer(path) as fh:
        fh.write(blob)
    return Path(path)


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file, validating its structure; returns (tensors, metadata).

    Raises
    ------
    ModelFileError
        Naming the file and what is wrong (missing, pickle, truncated, corrupt header).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        looks_pickled = (
            head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
        ) or head[:4] == b"PK\x03\x04"

        def fail(reason: str):
            if looks_pickled:
                return ModelFileError(
                    f"{path}: this is a pickle or a PyTorch .pt/.pth archive; numnet never "
                    "unpickles files (unpickling can execute code). Convert it to safetensors."
                )
            return ModelFileError(f"{path}: {reason}")

        if len(head) < 8:
            raise fail(f"truncated ({size} bytes): not a safetensors file")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, _MAX_HEADER):
            raise fail(
                f"header length {n} exceeds the file size {size}: truncated or not a "
                "safetensors file"
            )
        try:
            header = json.loads(fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise fail(f"corrupt safetensors header ({exc})") from exc
        if not isinstance(header, dict):
            raise fail("corrupt safetensors header (not a JSON object)")
        metadata = header.pop("__metadata__", None) or {}
        payload = fh.read()
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ModelFileError(f"{path}: corrupt safetensors metadata (not a map of strings)")
    tensors, spans = {}, []
    for name, info in header.items():
        try:
            code = info["dtype"]
            shape = info["shape"]
            start, end = info["data_offsets"]
            if not all(isinstance(v, int) and v >= 0 for v in (*shape, start, end)):
                raise ValueError("shape and offsets must be non-negative integers")
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"{path}: corrupt entry for tensor {name!r}: {info!r:.200} ({exc})"
            ) from exc
        if code not in _DTYPES:
            raise ModelFileError(
                f"{path}: tensor {name!r} has dtype {code!r}, which numnet does not read "
                f"(supported: {', '.join(_DTYPES)})"
            )
        dtype = np.dtype(_DTYPES[code])
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if not (start <= end <= len(payload)) or end - start != expected:
            raise ModelFileError(
                f"{path}: tensor {name!r} needs bytes {start}..{end} ({expected} expected) but "
                f"the data section has {len(payload)} bytes: truncated or corrupt"
            )
        spans.append((start, end, name))
        arr = np.frombuffer(payload, dtype=dtype, count=expected // dtype.itemsize, offset=start)
        tensors[name] = arr.reshape(shape).astype(dtype.newbyteorder("="), copy=True)
    position = 0  # the tensors must tile the data section: no overlap, no hole
    for start, end, name in sorted(spans):
        if start != position:
            raise ModelFileError(
                f"{path}: tensor {name!r} starts at byte {start}, expected {position} "
                "(overlapping or missing data): corrupt file"
            )
        position = end
    if position != len(payload):
        raise ModelFileError(
            f"{path}: {len(payload) - position} unexpected bytes after the last tensor"
        )
    return tensors, metadata


_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
}


# -- models -------------------------------------------------------------------------------
def save(model: Module, path, *, metadata: dict | None = None) -> Path:
    """Save ``model``'s weights and architecture to a ``.safetensors`` file (atomically).

    Parameters
    ----------
    model : Module built from numnet layers (its constructor arguments must be JSON-able)
    path : path-like
    metadata : dict, optional
        Extra JSON-able information stored in the header (e.g. training settings).

    Returns
    -------
    pathlib.Path

    Notes
    -----
    A shared (tied) parameter is stored once, under its first name; its other names
    go to the ``aliases`` metadata (see the module docstring).
    """
    config = to_config(model)
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(config),
        "user": json.dumps(metadata or {}),
    }
    state = model.state_dict()
    aliases = {
        alias: names[0] for names in model.shared_parameter_names().values() for alias in names[1:]
    }
    for alias in aliases:
        del state[alias]
    if aliases:
        meta["aliases"] = json.dumps(aliases)
    return write_safetensors(path, state, meta)


def load(path, *, classes: dict[str, type] | None = None) -> Module:
    """Rebuild a model saved by :func:`save` and load its weights.

    Raises
    ------
    ModelFileError
        Missing/corrupt/truncated file, a pickle, a file of another format or version,
        or weights that do not fit the stored architecture.
    """
    tensors, meta = read_safetensors(path)
    _check_format(path, meta, "model")
    try:
        model = from_config(json.loads(meta["config"]), classes=classes)
    except (KeyError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild the architecture: {exc}") from exc
    tensors = _expand_aliases(path, tensors, meta)
    dtypes = {a.dtype for a in tensors.values() if a.dtype.kind == "f"}
    if dtypes == {np.dtype(np.float64)}:
        model.double()
    try:
        model.load_state_dict(tensors)
    except (KeyError, ValueError, RuntimeError) as exc:
        reason = str(exc).replace(":\n\t", ": ").replace("\n\t", "; ")
        raise ModelFileError(f"{path}: weights do not match the architecture: {reason}") from exc
    return model


def load_metadata(path) -> dict:
    """The user metadata and format information stored with a model."""
    _, meta = read_safetensors(path)
    _check_format(path, meta, "model")
    return {
        "format_version": int(meta["format_version"]),
        "config": json.loads(meta["config"]),
        **json.loads(meta.get("user", "{}")),
    }


def save_state_dict(state: dict[str, np.ndarray], path) -> Path:
    """Save a bare state dict (e.g. for a model defined in your own code).

    Parameters
    ----------
    state : mapping of str to array_like
        Entries that are the same array, or views of the same memory with the same
        dtype, shape and strides (a shared parameter: :meth:`Module.state_dict` and
        ``{k: v.numpy() for k, v in torch_model.state_dict().items()}`` both give
        one array under several names), are stored once, under the first name, and
        the other names recorded as ``aliases`` in the metadata.
    path : path-like

    Returns
    -------
    pathlib.Path
    """
    tensors: dict[str, np.ndarray] = {}
    aliases: dict[str, str] = {}
    first: dict[tuple, str] = {}
    for name, value in state.items():
        arr = np.asarray(value)
        key = (
            arr.__array_interface__["data"][0],
            arr.dtype.str,
            arr.shape,
            arr.strides,
        )
        if arr.size and key in first:
            aliases[name] = first[key]
            continue
        first.setdefault(key, name)
        tensors[name] = arr
    meta = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    if aliases:
        meta["aliases"] = json.dumps(aliases)
    return write_safetensors(path, tensors, meta)


def load_state_dict(path) -> dict[str, np.ndarray]:
    """Load a state dict from any safetensors file (numnet's or PyTorch's).

    Returns
    -------
    dict[str, numpy.ndarray]
        Every stored tensor by name, plus, for a numnet file with ``aliases``, each
        alias holding the same array as the name it aliases (as in ``state_dict``).

    Raises
    ------
    ModelFileError
        The file is missing, corrupt, or its ``aliases`` name a tensor it lacks.
    """
    tensors, meta = read_safetensors(path)
    if meta.get("format") == FORMAT:
        tensors = _expand_aliases(path, tensors, meta)
    return tensors


def _expand_aliases(path, tensors: dict, meta: dict) -> dict:
    """Add the names recorded in ``meta["aliases"]`` (``{alias: stored name}``)."""
    if "aliases" not in meta:
        return tensors
    try:
        aliases = json.loads(meta["aliases"])
    except json.JSONDecodeError as exc:
        raise ModelFileError(f"{path}: corrupt 'aliases' metadata ({exc})") from exc
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        raise ModelFileError(f"{path}: corrupt 'aliases' metadata (not a map of names)")
    out = dict(tensors)
    for alias, name in aliases.items():
        if name not in tensors:
            raise ModelFileError(f"{path}: alias {alias!r} refers to a missing tensor {name!r}")
        if alias in tensors:
            raise ModelFileError(f"{path}: alias {alias!r} is also stored as a tensor")
        out[alias] = tensors[name]
    return out


def _check_format(path, meta: dict, kind: str) -> None:
    if meta.get("format") != FORMAT or ("config" not in meta and kind == "model"):
        raise ModelFileError(f"{path}: not a numnet {kind} file (no numnet metadata)")
    version = int(meta.get("format_version", -1))
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format version {version} is newer than this numnet supports "
            f"({FORMAT_VERSION}); upgrade numnet"
        )


# -- checkpoints of arbitrary nested state --------------------------------------------------
def _flatten(obj, prefix: str, tensors: dict):
    if isinstance(obj, np.ndarray):
        key = f"t{len(tensors)}:{prefix}"[:200]  # unique: a counter, then the path
        tensors[key] = obj
        return {"__tensor__": key}
    if isinstance(obj, dict):
        bad = [k for k in obj if not isinstance(k, (str, int))]
        if bad:
            raise TypeError(f"checkpoint dict keys must be str or int, got {bad[0]!r}")
        return {
            "__dict__": [
                [k, _flatten(v, f"{prefix}.{k}" if prefix else str(k), tensors)]
                for k, v in obj.items()
            ]
        }
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{prefix}.{i}", tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint (at {prefix!r})")


def _unflatten(obj, tensors: dict):
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return tensors[obj["__tensor__"]]
        if "__tuple__" in obj:
            return tuple(_unflatten(v, tensors) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {k: _unflatten(v, tensors) for k, v in obj["__dict__"]}
        raise ValueError(f"malformed checkpoint entry {obj!r:.200}")
    return obj


def save_checkpoint(state: dict, path) -> Path:
    """Save nested training state (arrays, numbers, strings, dicts, lists) atomically."""
    tensors: dict[str, np.ndarray] = {}
    structure = _flatten(state, "", tensors)
    meta = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "kind": "checkpoint",
        "state": json.dumps(structure),
    }
    return write_safetensors(path, tensors, meta)


def load_checkpoint(path) -> dict:
    """Load what :func:`save_checkpoint` saved (exact arrays and values)."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT or meta.get("kind") != "checkpoint":
        raise ModelFileError(f"{path}: not a numnet checkpoint")
    try:
        return _unflatten(json.loads(meta["state"]), tensors)
    except (KeyError, json.JSONDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path}: corrupt checkpoint ({exc})") from exc


__all__ = [
    "ModelFileError",
    "load",
    "load_checkpoint",
    "load_metadata",
    "load_state_dict",
    "save",
    "save_checkpoint",
    "save_state_dict",
    "read_safetensors",
    "write_safetensors",
]
