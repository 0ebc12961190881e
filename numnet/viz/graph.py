"""Computational graphs drawn as in seed 004: inputs and outputs white, parameters red,
operations blue.

Every :class:`~numnet.Tensor` computed from a tensor that requires grad remembers the
primitive that made it (``t._op``, e.g. ``"matmul"``) and its inputs (``t._parents``);
leaves have ``_op is None``. :func:`draw_graph` walks that record back from an output
and writes it in Graphviz's DOT language::

    import numnet
    from numnet import viz

    w = numnet.tensor([0.5, -1.0], requires_grad=True)
    b = numnet.tensor(0.25, requires_grad=True)
    x = numnet.tensor([1.0, 2.0])
    f = numnet.nn.functional.sign(x @ w + b, straight_through=True)
    g = viz.draw_graph(f, {"w": w, "b": b, "x": x})
    print(g.source)          # the DOT text: needs nothing but numnet
    g.render("sign.svg")     # needs Graphviz's ``dot`` program
    g                        # in a notebook: drawn as SVG when ``dot`` is installed

The DOT source is always available; drawing it needs the Graphviz binaries
(``apt-get install graphviz``, ``brew install graphviz``, ``conda install graphviz``),
used through the ``graphviz`` Python package when it is installed
(``pip install graphviz``, or ``pip install "numnet[graph]"``) and by running ``dot``
directly otherwise.

Values and adjoints
-------------------
``values=True`` writes each node's forward value on it (small tensors in full, larger
ones as mean and standard deviation); ``grads=True`` writes its adjoint ``.grad``.
Leaves keep their ``.grad`` after ``backward()``, but intermediate nodes do not,
unless asked (as in PyTorch): call :func:`retain_all_grads` on the output *before*
``backward()``::

    loss = model_loss(...)
    viz.retain_all_grads(loss)
    loss.backward()
    viz.draw_graph(loss, model, values=True, grads=True)

Constants
---------
Python numbers mixed into a computation (``2 * u``, ``u ** 2``) are recorded as
constant leaves; unless named in ``params`` they are not drawn as nodes but written
into their operation's label (``mul (0.01)``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from numnet.autograd.engine import post_order

__all__ = ["COLORS", "Graph", "draw_graph", "graph_nodes", "retain_all_grads"]

#: Fill colours of the node kinds (seed 004: white inputs and outputs, red parameters,
#: blue operations).
COLORS = {
    "input": "white",
    "output": "white",
    "parameter": "#f4a3a3",
    "operation": "#a9c8f0",
}

_INSTALL_HINT = (
    "drawing a graph needs Graphviz's 'dot' program: install it with your system's "
    "package manager (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
    "graphviz; conda: conda install graphviz), optionally with the Python bindings "
    "(pip install graphviz). Without it, Graph.source holds the DOT text, which any "
    "Graphviz viewer (or https://dreampuf.github.io/GraphvizOnline) draws."
)


def graph_nodes(output) -> list:
    """Every tensor in the graph recorded behind ``output``, inputs before their users.

    Walks ``_parents`` from ``output`` (iteratively: deep graphs need no recursion);
    the result ends with ``output``. Constants and inputs that do not require grad are
    included (they are parents of the operations that used them).
    """
    return post_order([output], lambda node: reversed(node._parents))


def retain_all_grads(output) -> list:
    """Make every intermediate node behind ``output`` keep its adjoint in ``.grad``.

    Call it *before* ``output.backward()`` (it is :meth:`~numnet.Tensor.retain_grad`
    on every recorded operation's result), then ``draw_graph(output, ...,
    grads=True)`` shows the adjoints of all the nodes, as in seed 004's annotated
    example. Returns the nodes it marked.
    """
    marked = []
    for node in graph_nodes(output):
        if node._op is not None and node.requires_grad:
            node.retain_grad()
            marked.append(node)
    return marked


def _named(params) -> dict[int, str]:
    """``id(tensor) -> name`` from a Module (``named_parameters``) or a mapping."""
    if params is None:
        return {}
    if hasattr(params, "named_parameters"):
        items = list(params.named_parameters())
    elif isinstance(params, Mapping):
        items = list(params.items())
    else:
        raise TypeError(
            "params must be a Module (its named_parameters() name the nodes) or a "
            f"mapping from names to tensors, not {type(params).__name__}"
        )
    names: dict[int, str] = {}
    for name, tensor in items:
        names.setdefault(id(tensor), str(name))
    return names


def _shape(t) -> str:
    shape = tuple(t.shape)
    if not shape:
        return "scalar"
    return "(" + ", ".join(str(n) for n in shape) + (",)" if len(shape) == 1 else ")")


def _fmt_array(a, max_elements: int) -> str:
    a = np.asarray(a)
    if a.size == 0:
        return "[]"
    if a.dtype.kind == "b" or a.dtype.kind in "iu":
        if a.size <= max_elements:
            return np.array2string(a, separator=", ")
        return f"{a.size} values"
    if a.size <= max_elements:
        if a.ndim == 0:
            return f"{float(a):.4g}"
        return np.array2string(
            a.astype(np.float64), precision=3, separator=", ", suppress_small=True,
            floatmode="maxprec",
        )
    return f"mean {float(a.mean()):.3g}, std {float(a.std()):.3g}"


def _scalar_constant(t, names) -> bool:
    return (
        t._op is None and not t.requires_grad and id(t) not in names
        and int(np.asarray(t.data).size) == 1
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Graph:
    """A computational graph in Graphviz's DOT language, drawable when ``dot`` is installed.

    Attributes
    ----------
    source : str
        The DOT text (always available).
    format : str
        ``"svg"`` or ``"png"``: what notebooks display and :meth:`render` writes by
        default.
    nodes : list of dict
        One per drawn node: ``id``, ``kind`` (``input``, ``parameter``, ``operation``,
        ``output``), ``label``, ``color``.
    edges : list of (str, str)
        Forward edges between node ids.
    """

    def __init__(self, source: str, nodes: list, edges: list, fmt: str = "svg") -> None:
        self.source = source
        self.nodes = nodes
        self.edges = edges
        self.format = fmt

    def __repr__(self) -> str:
        kinds: dict[str, int] = {}
        for n in self.nodes:
            kinds[n["kind"]] = kinds.get(n["kind"], 0) + 1
        counts = ", ".join(f"{v} {k}{'s' if v > 1 else ''}" for k, v in kinds.items())
        return f"<numnet.viz.Graph: {counts}; .source holds the DOT text>"

    def __str__(self) -> str:
        return self.source

    # -- rendering ---------------------------------------------------------------------
    @staticmethod
    def available() -> bool:
        """True when Graphviz's ``dot`` program can be run."""
        return shutil.which("dot") is not None

    def pipe(self, format: str | None = None) -> bytes:
        """The drawing as bytes (``svg``, ``png``, ``pdf``...), made by Graphviz's ``dot``.

        Raises
        ------
        RuntimeError
            When Graphviz is not installed (the message says how to install it).
        """
        fmt = format or self.format
        try:
            import graphviz
        except ImportError:
            graphviz = None
        if graphviz is not None:
            try:
                return graphviz.Source(self.source).pipe(format=fmt)
            except graphviz.ExecutableNotFound as exc:
                raise RuntimeError(_INSTALL_HINT) from exc
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(_INSTALL_HINT)
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=self.source.encode("utf-8"), capture_output=True,
            check=False, timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def render(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Draw the graph into ``path`` (format from ``format``, else the file's suffix,
        else :attr:`format`); ``.dot``/``.gv`` write the DOT source (no Graphviz needed).
        """
        path = Path(path)
        fmt = format or path.suffix.lstrip(".").lower() or self.format
        if fmt in ("dot", "gv"):
            data = self.source.encode("utf-8")
        else:
            data = self.pipe(fmt)
        from numnet._files import atomic_writer

        with atomic_writer(path) as fh:
            fh.write(data)
        return path

    def _repr_svg_(self):
        if self.format != "svg" or not self.available():
            return None
        return self.pipe("svg").decode("utf-8")

    def _repr_png_(self):
        if self.format != "png" or not self.available():
            return None
        return self.pipe("png")

    def _repr_markdown_(self):
        if self.available():
            return None  # the SVG/PNG is shown instead
        return (
            "*Graphviz's `dot` is not installed, so here is the graph's DOT source "
            "(apt-get install graphviz, or conda install graphviz, to see it drawn):*\n\n"
            "```dot\n" + self.source + "\n```"
        )


def draw_graph(
    output,
    params=None,
    *,
    values: bool = False,
    grads: bool = False,
    format: str = "svg",
    max_elements: int = 6,
    rankdir: str = "LR",
) -> Graph:
    """The computational graph behind ``output``, in seed 004's colours.

    Parameters
    ----------
    output : Tensor
        The result of a computation (a loss, a network's output).
    params : Module or mapping, optional
        Names for the nodes. A :class:`~numnet.nn.Module` names its parameters
        (``model.named_parameters()``: ``layers.0.weight``); a mapping
        ``{name: tensor}`` may name any tensor of the graph: parameters, inputs
        (``"x"``), intermediate results (``"u1"``, written ``u1 = matmul``) or the output.
    values : bool
        Write every node's forward value on it (in full up to ``max_elements``
        elements, else its mean and standard deviation).
    grads : bool
        Write every node's adjoint (``.grad``) on it. Intermediate nodes have one only
        if :func:`retain_all_grads` (or ``retain_grad()``) was called before
        ``backward()``; a warning says so when none has.
    format : {"svg", "png"}
        What a notebook displays and :meth:`Graph.render` writes by default.
    max_elements : int
        Largest tensor written in full by ``values``/``grads``.
    rankdir : str
        Graphviz layout direction: ``"LR"`` (left to right, default) or ``"TB"``.

    Returns
    -------
    Graph
        ``.source`` (DOT text), ``.nodes``, ``.edges``, ``.render(path)``; displayed
        as a drawing in a notebook when Graphviz is installed.

    Notes
    -----
    Nodes: leaves that require grad (parameters) are red; leaves that do not (inputs,
    data, named constants) and the output are white; each recorded operation is a blue
    node labelled with its primitive's name (``matmul``, ``sigmoid``...). Every node
    shows its shape. Unnamed scalar constants are written into their operation's
    label. Non-differentiable ops (``F.sign``, ``F.heaviside``, comparisons) are cut
    from the graph by design; pass ``straight_through=True`` to record them.
    """
    if format not in ("svg", "png"):
        raise ValueError(f"format must be 'svg' or 'png', not {format!r}")
    names = _named(params)
    missing_grads = [0]

    def annotate(lines: list[str], t) -> None:
        """Append the value and adjoint lines of ``t`` (counting missing adjoints)."""
        if values:
            lines.append("value " + _fmt_array(t.data, max_elements))
        if grads:
            if t.grad is not None:
                lines.append("grad " + _fmt_array(t.grad, max_elements))
            elif t.requires_grad:
                missing_grads[0] += t._op is not None

    nodes, edges = _graph_elements(graph_nodes(output), output, names, annotate)
    if grads and missing_grads[0]:
        warnings.warn(
            f"{missing_grads[0]} intermediate node(s) have no .grad: call "
            "numnet.viz.retain_all_grads(output) before output.backward() to keep them",
            UserWarning,
            stacklevel=2,
        )
    return Graph(_dot_source(nodes, edges, rankdir), nodes, edges, format)


def _graph_elements(order: list, output, names: dict, annotate) -> tuple[list, list]:
    """The nodes (dicts: id, kind, label) and edges (id pairs) drawn for ``order``;
    scalar constants are folded into their operation's label, and an operation's
    result gets a white output node after it."""
    ids = {id(t): f"n{i}" for i, t in enumerate(order)}
    nodes: list[dict] = []
    edges: list[tuple[str, str]] = []
    for t in order:
        if _scalar_constant(t, names) and t is not output:
            continue  # folded into the label of the operation that uses it
        node_id = ids[id(t)]
        name = names.get(id(t))
        if t._op is None:
            kind = "parameter" if t.requires_grad else "input"
            lines = [name or kind, _shape(t)]
        else:
            kind = "operation"
            consts = [
                _fmt_array(p.data, 1) for p in t._parents if _scalar_constant(p, names)
            ]
            op = t._op + (f" ({', '.join(consts)})" if consts else "")
            head = f"{name} = {op}" if name and t is not output else op
            lines = [head, _shape(t)]
            edges += [(ids[id(p)], node_id) for p in t._parents if not _scalar_constant(p, names)]
        if t is not output or t._op is None:
            annotate(lines, t)
        nodes.append({"id": node_id, "kind": kind, "label": "\n".join(lines)})

    if output._op is not None:  # the output: a white node after its operation
        lines = [names.get(id(output)) or "output", _shape(output)]
        annotate(lines, output)
        nodes.append({"id": "out", "kind": "output", "label": "\n".join(lines)})
        edges.append((ids[id(output)], "out"))
    elif nodes and nodes[-1]["kind"] == "input":
        nodes[-1]["kind"] = "output"  # a lone leaf: nothing was recorded behind it
    return nodes, edges


def _dot_source(nodes: list[dict], edges: list, rankdir: str) -> str:
    """The DOT text of the graph (each node dict also gets its fill ``color``)."""
    out = [
        "digraph numnet {",
        f"  graph [rankdir={rankdir}, fontname=Helvetica];",
        "  node [fontname=Helvetica, fontsize=11, style=\"rounded,filled\", shape=box];",
        "  edge [arrowsize=0.7];",
    ]
    for n in nodes:
        n["color"] = COLORS[n["kind"]]
        shape = ", shape=ellipse" if n["kind"] == "operation" else ""
        out.append(
            f'  {n["id"]} [label="{_escape(n["label"])}", fillcolor="{n["color"]}"'
            f'{shape}, tooltip="{n["kind"]}"];'
        )
    for a, b in edges:
        out.append(f"  {a} -> {b};")
    out.append("}")
    return "\n".join(out) + "\n"
