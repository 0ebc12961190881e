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

Modes: :func:`save` records the modules in eval mode (metadata key ``eval_modules``,
a JSON list of their names, ``""`` for the model itself) and :func:`load` puts them
back in eval mode, as ``torch.save(model)`` / ``torch.load`` keep each module's
``training`` flag.

numnet writes and reads the container itself (an 8-byte little-endian header length,
a JSON header, the tensors' raw little-endian bytes): one implementation for both
directions, so what numnet writes is what its validating reader expects, and saving
or loading a model needs no optional dependency. The format is small enough for
that (the writer is some 20 lines), and the files stay standard: the ``safetensors``
package and ``safetensors.torch`` read numnet's files and numnet reads theirs (the
tests check both directions when the package is installed). numnet's reader adds
what a loader of untrusted files needs (see :func:`read_safetensors`).

Training checkpoints use the same container: :func:`save_checkpoint` stores any
nested structure of dicts/lists/numbers/strings/ndarrays, arrays as tensors and the
rest as JSON.

Errors: every loader raises :class:`ModelFileError` (a ``ValueError``) for a missing
or malformed file, naming the file and the problem; :func:`load_checkpoint` raises its
subclass :class:`CheckpointError`. Loading is bounded by what the file holds: the
header is validated (offsets, shapes, overlaps, coverage) before any tensor is read,
tensors are read straight into their arrays, and a model's architecture is compared
with its weights before any layer is built. See ``docs/file-formats.md``.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from pathlib import Path

import numpy as np

from numnet._files import atomic_writer
from numnet.nn.config import from_config, parameter_shapes, to_config
from numnet.nn.module import Module

FORMAT = "numnet"
FORMAT_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024  # bytes, as safetensors' own parser
#: Deepest nesting of JSON (header, architecture, checkpoint state) that is read.
MAX_JSON_DEPTH = 100
#: A model's architecture may hold at most this many times the parameter values its
#: file stores (plus :data:`_EXPANSION_MARGIN`): shared layers that the config rebuilds
#: as separate modules are counted once per name.
MAX_EXPANSION = 16
_EXPANSION_MARGIN = 1 << 20
_INTP_MAX = int(np.iinfo(np.intp).max)
_VERSION = re.compile(r"[0-9]{1,9}")


class ModelFileError(ValueError):
    """A model or checkpoint file is missing, corrupt, truncated or of the wrong kind.

    Raised by every loader of :mod:`numnet.io` for every problem with the file; the
    message names the file and what is wrong. A ``ValueError``, as before.
    """


class CheckpointError(ModelFileError):
    """A training checkpoint is malformed, or does not fit the run resuming from it.

    Raised by :func:`load_checkpoint` and by ``numnet.train.fit(checkpoint=...)``. A
    :class:`ModelFileError` (so a ``ValueError``).
    """


def _json_too_deep(obj, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``obj`` nests lists/dicts more than ``limit`` deep (iteratively)."""
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children)
    return False


def _parse_json(text, path, what: str, error=ModelFileError):
    """``json.loads(text)``, every failure (syntax, depth, huge ints) as ``error``."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise error(f"{path}: corrupt {what} (invalid JSON: {str(exc)[:200]})") from exc
    if _json_too_deep(value):
        raise error(f"{path}: corrupt {what} (JSON nested deeper than {MAX_JSON_DEPTH})")
    return value


#: safetensors dtype codes numnet reads and writes, and their little-endian NumPy dtypes.
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
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _DTYPES.items()}


# -- the safetensors container: writer ------------------------------------------------------
def _little_endian(name: str, value) -> np.ndarray:
    """``value`` as a C-contiguous little-endian array of a dtype safetensors stores."""
    arr = np.asarray(value)
    if arr.dtype.newbyteorder("=") not in _CODES:
        raise TypeError(
            f"tensor {name!r}: safetensors cannot store dtype {arr.dtype} "
            f"(numnet writes {', '.join(_DTYPES)})"
        )
    return arr.astype(arr.dtype.newbyteorder("<"), order="C", copy=False)  # 0-d stays 0-d


def _tensor_bytes(arr: np.ndarray) -> memoryview:
    """The raw bytes of a contiguous array, without a copy."""
    return memoryview(arr.reshape(-1).view(np.uint8))


def write_safetensors(path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> Path:
    """Write ``tensors`` with string ``metadata`` to ``path`` as a safetensors file, atomically.

    The format: an 8-byte little-endian header length ``n``, ``n`` bytes of JSON
    (``{"__metadata__": {...}, name: {"dtype", "shape", "data_offsets"}}``, padded with
    spaces to a multiple of 8), then the tensors' raw little-endian bytes, widest dtype
    first so that every tensor is aligned (the order of the ``safetensors`` package).

    Raises
    ------
    TypeError
        A tensor of a dtype safetensors does not store (e.g. complex, object), or
        metadata that is not a map of strings.
    """
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("safetensors metadata must map strings to strings")
    arrays = {name: _little_endian(name, value) for name, value in tensors.items()}
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)  # stable
    header: dict = {"__metadata__": dict(metadata)} if metadata else {}
    header.update({name: None for name in arrays})  # entries keep the caller's order
    offset = 0
    for name in order:
        arr = arrays[name]
        code = _CODES[arr.dtype.newbyteorder("=")]
        header[name] = {"dtype": code, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}  # fmt: skip
        offset += arr.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with atomic_writer(path) as fh:
        fh.write(struct.pack("<Q", len(text)) + text)
        for name in order:
            fh.write(_tensor_bytes(arrays[name]))
    return Path(path)


# -- the safetensors container: reader, validating everything before reading a tensor -------
def _entry(path, name, info) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """Validate one header entry: (little-endian dtype, shape, start, end)."""

    def bad(reason: str) -> ModelFileError:
        return ModelFileError(
            f"{path}: corrupt entry for tensor {name!r:.100}: {info!r:.200} ({reason})"
        )

    def is_int(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if not isinstance(info, dict):
        raise bad("not a map")
    missing = [k for k in ("dtype", "shape", "data_offsets") if k not in info]
    if missing:
        raise bad(f"no {', '.join(missing)}")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(code, str):
        raise bad("dtype must be a string")
    if code not in _DTYPES:
        raise ModelFileError(
            f"{path}: tensor {name!r:.100} has dtype {code!r:.50}, which numnet does not "
            f"read (supported: {', '.join(_DTYPES)})"
        )
    if not isinstance(shape, list) or not all(is_int(v) and v >= 0 for v in shape):
        raise bad("shape and offsets must be non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2):
        raise bad("data_offsets must be a list [start, end]")
    start, end = offsets
    if not (is_int(start) and is_int(end) and start >= 0 and end >= 0):
        raise bad("shape and offsets must be non-negative integers")
    if len(shape) > 64:
        raise bad(f"{len(shape)} dimensions; NumPy arrays have at most 64")
    dtype = np.dtype(_DTYPES[code])
    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow, no wrap
    if math.prod(d for d in shape if d) * dtype.itemsize > _INTP_MAX:
        raise bad(f"shape {shape} is too large for any array")
    if end - start != nbytes:
        raise ModelFileError(
            f"{path}: tensor {name!r:.100} of shape {shape} needs {nbytes} bytes but its "
            f"data_offsets span {end - start}: truncated or corrupt"
        )
    return dtype, tuple(shape), start, end


def read_safetensors(path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file, validating its structure; returns (tensors, metadata).

    Everything is checked before any tensor is read: the header length against the
    file size, the JSON (at most :data:`MAX_JSON_DEPTH` deep), every entry's dtype,
    shape and offsets (with exact integer arithmetic), and that the tensors tile the
    data section (no overlap, no hole, nothing after). Tensors are then read straight
    into their arrays, so memory stays about the file's size.

    Returns
    -------
    tensors : dict of str to numpy.ndarray
        Native-endian, writable arrays, in the header's order.
    metadata : dict of str to str

    Raises
    ------
    ModelFileError
        Naming the file and what is wrong (missing, a pickle, truncated, corrupt
        header or entry, overlapping tensors, unsupported dtype). No other exception
        escapes for any content of the file (``OSError`` only if it cannot be read).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        header, n = _read_header(fh, path, size)
        metadata = _metadata(path, header.pop("__metadata__", None))
        entries = {name: _entry(path, name, info) for name, info in header.items()}
        _check_tiling(path, entries, data_size=size - 8 - n)
        arrays = _read_tensors(fh, path, entries, base=8 + n)
    return {name: arrays[name] for name in entries}, metadata


def _read_header(fh, path, size: int) -> tuple[dict, int]:
    """The parsed JSON header of the open file and its length ``n`` (bytes 8 to 8 + n)."""
    head = fh.read(8)
    looks_pickled = (
        head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    ) or head[:4] == b"PK\x03\x04"

    def fail(reason: str) -> ModelFileError:
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
            f"not a safetensors model file, or a truncated one (its first 8 bytes give "
            f"a header length of {n}, more than the file's {size} bytes)"
        )
    try:
        text = fh.read(n).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"corrupt safetensors header ({exc})") from exc
    try:
        header = _parse_json(text, path, "safetensors header")
    except ModelFileError as exc:
        if looks_pickled:
            raise fail("") from exc
        raise
    if not isinstance(header, dict):
        raise fail("corrupt safetensors header (not a JSON object)")
    return header, n


def _metadata(path, metadata) -> dict[str, str]:
    """The header's ``__metadata__``: absent or ``null`` (``{}``), or a map of strings."""
    metadata = {} if metadata is None else metadata
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ModelFileError(f"{path}: corrupt safetensors metadata (not a map of strings)")
    return metadata


def _by_offset(entries: dict) -> list:
    return sorted(entries.items(), key=lambda e: e[1][2:])


def _check_tiling(path, entries: dict, data_size: int) -> None:
    """The tensors must tile the data section: no overlap, no hole, nothing after."""
    position = 0
    for name, (_, _, start, end) in _by_offset(entries):
        if start != position:
            raise ModelFileError(
                f"{path}: tensor {name!r:.100} starts at byte {start}, expected {position} "
                "(overlapping or missing data): corrupt file"
            )
        position = end
    if position > data_size:
        raise ModelFileError(
            f"{path}: the tensors need {position} bytes but the data section has "
            f"{data_size}: truncated or corrupt"
        )
    if position != data_size:
        raise ModelFileError(
            f"{path}: {data_size - position} unexpected bytes after the last tensor"
        )


def _read_tensors(fh, path, entries: dict, base: int) -> dict[str, np.ndarray]:
    """Read each validated entry straight into a new native-endian array."""
    arrays = {}
    for name, (dtype, shape, start, end) in _by_offset(entries):
        arr = np.empty(shape, dtype=dtype)
        if end > start:
            fh.seek(base + start)
            if fh.readinto(_tensor_bytes(arr)) != end - start:
                raise ModelFileError(f"{path}: truncated while reading (file changed?)")
        if dtype.kind == "b":  # any non-zero byte is True; keep NumPy bools 0/1
            arr = arr.view(np.uint8) != 0
        elif not dtype.isnative:
            arr = arr.astype(dtype.newbyteorder("="))
        arrays[name] = arr
    return arrays


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

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`~numnet.nn.Module` (a state dict goes to
        :func:`save_state_dict`).
    """
    if not isinstance(model, Module):
        hint = (
            "; to save a state dict (weights only), use numnet.io.save_state_dict(state, path)"
            if isinstance(model, dict)
            else ""
        )
        raise TypeError(f"numnet.save expects a numnet.nn.Module, got {type(model).__name__}{hint}")
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
    evaluating = [name for name, m in model.named_modules() if not m.training]
    if evaluating:  # as torch.save(model) keeps each module's mode ("" is the model)
        meta["eval_modules"] = json.dumps(evaluating)
    return write_safetensors(path, state, meta)


def _check_weights(path, config, tensors: dict, classes) -> None:
    """Compare the parameters the architecture declares with the stored tensors, and
    bound what building it allocates, before building anything."""
    try:
        declared = parameter_shapes(config, classes=classes)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild the architecture: {exc}") from exc
    if declared is None:  # a class without a shape rule (e.g. passed in classes=): build it
        return
    problems = []
    missing = [k for k in declared if k not in tensors]
    unexpected = [k for k in tensors if k not in declared]
    if missing:
        problems.append(f"missing {', '.join(map(repr, missing[:10]))}")
    if unexpected:
        problems.append(f"unexpected {', '.join(map(repr, unexpected[:10]))}")
    for name, shape in declared.items():
        if name in tensors and tuple(tensors[name].shape) != tuple(shape):
            problems.append(
                f"{name!r}: the architecture says shape {tuple(shape)}, the file holds "
                f"{tuple(tensors[name].shape)}"
            )
            if len(problems) >= 10:
                break
    if problems:
        raise ModelFileError(
            f"{path}: weights do not match the architecture: {'; '.join(problems)}"
        )
    stored = sum(a.size for a in {id(a): a for a in tensors.values()}.values())
    wanted = sum(math.prod(s) for s in declared.values())
    if wanted > MAX_EXPANSION * stored + _EXPANSION_MARGIN:
        raise ModelFileError(
            f"{path}: the architecture builds {wanted} parameter values from {stored} "
            f"stored ones (aliases repeat one tensor under {len(declared)} names); more "
            f"than {MAX_EXPANSION} times is refused"
        )


def load(path, *, classes: dict[str, type] | None = None) -> Module:
    """Rebuild a model saved by :func:`save` and load its weights.

    The architecture's declared parameter names and shapes are compared with the
    stored tensors before any layer is built, so a small file cannot make numnet
    allocate a large model (for the layers of numnet; a class passed in ``classes``
    is built, then checked).

    Parameters
    ----------
    path : path-like
    classes : dict, optional
        Extra module classes allowed in the architecture (see
        :func:`numnet.nn.config.from_config`).

    Returns
    -------
    Module
        The model, in float64 if every stored floating tensor is float64.

    Raises
    ------
    ModelFileError
        Missing/corrupt/truncated file, a pickle, a file of another format or version
        (or a non-numeric ``format_version``), an architecture that is malformed,
        names a class that is not allowed, or cannot be built from its arguments, or
        weights that do not match the stored architecture. Nothing else escapes.

    Notes
    -----
    Weight values are not checked for being finite: NaN and infinity load as they
    are, as in :meth:`Module.load_state_dict` and PyTorch.
    """
    tensors, meta = read_safetensors(path)
    _check_format(path, meta, "model")
    config = _parse_json(meta["config"], path, "architecture ('config' metadata)")
    tensors = _expand_aliases(path, tensors, meta)
    _check_weights(path, config, tensors, classes)
    try:
        model = from_config(config, classes=classes)
    except Exception as exc:  # noqa: BLE001 - any constructor error is the file's fault
        raise ModelFileError(
            f"{path}: cannot rebuild the architecture: {type(exc).__name__}: {str(exc)[:300]}"
        ) from exc
    if not isinstance(model, Module):
        raise ModelFileError(f"{path}: the architecture does not build a Module")
    dtypes = {a.dtype for a in tensors.values() if a.dtype.kind == "f"}
    if dtypes == {np.dtype(np.float64)}:
        model.double()
    try:
        model.load_state_dict(tensors)
    except (KeyError, ValueError, RuntimeError, TypeError) as exc:
        reason = str(exc).replace(":\n\t", ": ").replace("\n\t", "; ")
        raise ModelFileError(f"{path}: weights do not match the architecture: {reason}") from exc
    _restore_modes(path, model, meta)
    return model


def _restore_modes(path, model: Module, meta: dict) -> None:
    """Put the modules saved in eval mode back in eval mode (only those: a model saved
    training with one frozen layer loads the same way)."""
    names = _parse_json(meta.get("eval_modules", "[]"), path, "'eval_modules' metadata")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ModelFileError(f"{path}: corrupt 'eval_modules' metadata (not a list of names)")
    modules = dict(model.named_modules())
    for name in names:
        if name not in modules:
            raise ModelFileError(f"{path}: 'eval_modules' names an unknown module {name!r}")
        modules[name].training = False


def load_metadata(path) -> dict:
    """The user metadata and format information stored with a model.

    Returns
    -------
    dict
        ``format_version`` (int), ``config`` (the architecture, a dict) and the
        user's metadata entries.

    Raises
    ------
    ModelFileError
        Missing or malformed file (see :func:`read_safetensors`), not a numnet model,
        a non-numeric or too new ``format_version``, or ``config``/``user`` metadata
        that is not a JSON object.
    """
    _, meta = read_safetensors(path)
    version = _check_format(path, meta, "model")
    config = _parse_json(meta["config"], path, "architecture ('config' metadata)")
    user = _parse_json(meta.get("user", "{}"), path, "'user' metadata")
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: corrupt architecture ('config' is not a JSON object)")
    if not isinstance(user, dict):
        raise ModelFileError(f"{path}: corrupt 'user' metadata (not a JSON object)")
    return {"format_version": version, "config": config, **user}


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
        The file is missing or malformed (see :func:`read_safetensors`), or its
        ``aliases`` are not a map of names or name a tensor it lacks.

    Notes
    -----
    Values are not checked for being finite (as in PyTorch).
    """
    tensors, meta = read_safetensors(path)
    if meta.get("format") == FORMAT:
        tensors = _expand_aliases(path, tensors, meta)
    return tensors


def _expand_aliases(path, tensors: dict, meta: dict) -> dict:
    """Add the names recorded in ``meta["aliases"]`` (``{alias: stored name}``)."""
    if "aliases" not in meta:
        return tensors
    aliases = _parse_json(meta["aliases"], path, "'aliases' metadata")
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


def _what_it_is(meta: dict, kind: str) -> str:
    """What a file that is not a numnet ``kind`` file holds, and what loads it."""
    if meta.get("format") == FORMAT and meta.get("kind") == "checkpoint":
        return "a training checkpoint: numnet.io.load_checkpoint(path), or fit(checkpoint=path)"
    weights = (
        "; a file of weights only loads with numnet.io.load_state_dict(path), then "
        "model.load_state_dict(...)" if kind == "model" else ""
    )
    if meta.get("format") == FORMAT:  # save_state_dict: numnet's, without an architecture
        return "weights without an architecture" + weights
    return "no numnet metadata" + weights


def _check_format(path, meta: dict, kind: str, error=ModelFileError) -> int:
    """Check the numnet format keys; returns the format version (1 if not recorded)."""
    if meta.get("format") != FORMAT or ("config" not in meta and kind == "model"):
        raise error(f"{path}: not a numnet {kind} file ({_what_it_is(meta, kind)})")
    text = meta.get("format_version", str(FORMAT_VERSION))
    if not _VERSION.fullmatch(text) or int(text) < 1:
        raise error(f"{path}: corrupt format_version {text!r:.50} (not a positive integer)")
    version = int(text)
    if version > FORMAT_VERSION:
        raise error(
            f"{path}: format version {version} is newer than this numnet supports "
            f"({FORMAT_VERSION}); upgrade numnet"
        )
    return version


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
    """Rebuild :func:`_flatten`'s output; ValueError for anything it cannot have written."""
    if isinstance(obj, list):
        return [_unflatten(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if len(obj) != 1:
            raise ValueError(f"malformed checkpoint entry {obj!r:.200}")
        ((tag, value),) = obj.items()
        if tag == "__tensor__":
            if not isinstance(value, str) or value not in tensors:
                raise ValueError(f"checkpoint refers to a missing tensor {value!r:.100}")
            return tensors[value]
        if tag == "__tuple__" and isinstance(value, list):
            return tuple(_unflatten(v, tensors) for v in value)
        if tag == "__dict__" and isinstance(value, list):
            out = {}
            for pair in value:
                if not (
                    isinstance(pair, list)
                    and len(pair) == 2
                    and isinstance(pair[0], (str, int))
                    and not isinstance(pair[0], bool)
                ):
                    raise ValueError(f"malformed checkpoint dict item {pair!r:.200}")
                out[pair[0]] = _unflatten(pair[1], tensors)
            return out
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
    """Load what :func:`save_checkpoint` saved (exact arrays and values).

    Returns
    -------
    dict
        The saved state (a checkpoint whose top level is not a dict is refused).

    Raises
    ------
    CheckpointError
        The file is missing or malformed (any :func:`read_safetensors` problem), not a
        numnet checkpoint, of a newer or non-numeric format version, or its ``state``
        is not valid JSON (or nests deeper than :data:`MAX_JSON_DEPTH`), refers to
        missing tensors or is not what :func:`save_checkpoint` writes. A
        :class:`ModelFileError`.
    """
    try:
        tensors, meta = read_safetensors(path)
    except CheckpointError:
        raise
    except ModelFileError as exc:
        raise CheckpointError(str(exc)) from exc
    if meta.get("format") != FORMAT or meta.get("kind") != "checkpoint":
        raise CheckpointError(f"{path}: not a numnet checkpoint")
    _check_format(path, meta, "checkpoint", CheckpointError)
    if "state" not in meta:
        raise CheckpointError(f"{path}: corrupt checkpoint (no 'state' metadata)")
    structure = _parse_json(meta["state"], path, "checkpoint state", CheckpointError)
    try:
        state = _unflatten(structure, tensors)
    except (ValueError, TypeError, RecursionError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint ({exc})") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: corrupt checkpoint (the state is not a dict)")
    return state


__all__ = [
    "CheckpointError",
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
