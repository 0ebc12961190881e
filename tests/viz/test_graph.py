"""numnet.viz.draw_graph: seed 004's computational graphs, checked on the DOT source.

Seed 004: "white nodes correspond to inputs and outputs; red nodes correspond to model
parameters; blue nodes correspond to intermediate operations". The tests never need
Graphviz's ``dot`` binary.
"""

import re

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import nn, viz
from numnet.viz.graph import COLORS, Graph

NODE = re.compile(r'^\s+(\w+) \[label="((?:[^"\\]|\\.)*)", fillcolor="([^"]+)"', re.M)
EDGE = re.compile(r"^\s+(\w+) -> (\w+);", re.M)


def parse(source):
    """{id: (label, colour)} and the edges, read back from the DOT text."""
    nodes = {m[0]: (m[1].replace("\\n", "\n"), m[2]) for m in NODE.findall(source)}
    return nodes, EDGE.findall(source)


def by_colour(nodes, kind):
    return sorted(label.split("\n")[0] for label, c in nodes.values() if c == COLORS[kind])


def perceptron(p=3):
    """Seed 004: f(x) = sign(wᵀx + b), with the sign recorded (straight-through)."""
    w = numnet.tensor([0.5, -1.0, 2.0][:p], requires_grad=True)
    b = numnet.tensor(0.25, requires_grad=True)
    x = numnet.tensor([1.0, 2.0, 0.5][:p])
    f = F.sign(x @ w + b, straight_through=True)
    return f, {"w": w, "b": b, "x": x}


def test_sign_unit_nodes_colours_labels():
    f, names = perceptron()
    g = viz.draw_graph(f, names)
    nodes, edges = parse(g.source)
    assert g.source.startswith("digraph")
    # x, w, b; matmul, add, sign; the output
    assert len(nodes) == 7 and len(edges) == 6
    assert by_colour(nodes, "parameter") == ["b", "w"]
    assert by_colour(nodes, "operation") == ["add", "matmul", "straight_through_sign"]
    white = [label.split("\n")[0] for label, c in nodes.values() if c == "white"]
    assert sorted(white) == ["output", "x"]
    labels = {label.split("\n")[0]: label.split("\n")[1] for label, _ in nodes.values()}
    assert labels["w"] == "(3,)" and labels["x"] == "(3,)" and labels["b"] == "scalar"
    assert labels["matmul"] == "scalar"
    # edges follow the computation: x, w -> matmul -> add <- b -> sign -> output
    ids = {label.split("\n")[0]: i for i, (label, _) in nodes.items()}
    assert (ids["x"], ids["matmul"]) in edges and (ids["w"], ids["matmul"]) in edges
    assert (ids["matmul"], ids["add"]) in edges and (ids["b"], ids["add"]) in edges
    assert (ids["add"], ids["straight_through_sign"]) in edges
    assert (ids["straight_through_sign"], ids["output"]) in edges
    # the Graph object agrees with its source
    assert [n["kind"] for n in g.nodes].count("operation") == 3
    assert "2 parameters" in repr(g)


def test_sign_unit_values():
    f, names = perceptron()
    nodes, _ = parse(viz.draw_graph(f, names, values=True).source)
    labels = {label.split("\n")[0]: label for label, _ in nodes.values()}
    assert "value -0.5" in labels["matmul"]  # 0.5 - 2 + 1
    assert "value -0.25" in labels["add"]
    assert "value -1" in labels["output"]


def test_unnamed_nodes_and_cut_sign():
    f, _ = perceptron()
    nodes, _ = parse(viz.draw_graph(f).source)
    assert by_colour(nodes, "parameter") == ["parameter", "parameter"]
    # without straight_through the sign is not differentiable: nothing is recorded
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    g = viz.draw_graph(F.sign(w.sum()))
    assert [n["kind"] for n in g.nodes] == ["output"]


def mlp_loss(lam=0.01, p=3, q=2, seed=0):
    """Seed 004's annotated example: ℓ = cross_ent(y, σ(W₂ᵀσ(W₁ᵀx))) + λ(‖W₁‖ + ‖W₂‖)."""
    rng = np.random.default_rng(seed)
    x = numnet.tensor(rng.normal(size=p))
    y = numnet.tensor(1.0)
    W1 = numnet.tensor(rng.normal(size=(p, q)), requires_grad=True)
    W2 = numnet.tensor(rng.normal(size=q), requires_grad=True)
    u1 = x @ W1
    u2 = u1.sigmoid()
    u3 = u2 @ W2
    yhat = u3.sigmoid()
    u4 = W1.pow(2).sum().sqrt()
    u5 = W2.pow(2).sum().sqrt()
    u6 = u4 + u5
    u7 = lam * u6
    u8 = F.binary_cross_entropy(yhat, y)
    loss = u8 + u7
    names = dict(x=x, y=y, W1=W1, W2=W2, u1=u1, u2=u2, u3=u3, yhat=yhat, u4=u4, u5=u5,
                 u6=u6, u7=u7, u8=u8, l=loss)
    return loss, names


def test_annotated_mlp_graph():
    loss, names = mlp_loss()
    g = viz.draw_graph(loss, names)
    nodes, edges = parse(g.source)
    # inputs x, y; parameters W1, W2; 15 operations (‖W‖ = sqrt(sum(pow(W, 2))) is
    # three); the output l
    assert by_colour(nodes, "parameter") == ["W1", "W2"]
    ops = by_colour(nodes, "operation")
    assert len(ops) == 15
    heads = set(ops)
    for expected in ("u1 = matmul", "u2 = sigmoid", "u3 = matmul", "yhat = sigmoid",
                     "u4 = sqrt", "u5 = sqrt", "u6 = add", "u7 = mul (0.01)", "u8 = mean",
                     "binary_cross_entropy_probs", "pow (2)", "sum", "add"):
        assert expected in heads, expected
    white = sorted(label.split("\n")[0] for label, c in nodes.values() if c == "white")
    assert white == ["l", "x", "y"]
    assert len(nodes) == 20 and len(edges) == 21
    shapes = {label.split("\n")[0]: label.split("\n")[1] for label, _ in nodes.values()}
    assert shapes["W1"] == "(3, 2)" and shapes["u1 = matmul"] == "(2,)"
    assert shapes["l"] == "scalar"
    # W1 feeds both the network (u1) and its norm (pow): two paths, as in ∂l/∂W1
    ids = {label.split("\n")[0]: i for i, (label, _) in nodes.items()}
    assert sum(1 for a, _ in edges if a == ids["W1"]) == 2


def test_annotated_mlp_values_and_adjoints():
    loss, names = mlp_loss()
    viz.retain_all_grads(loss)
    loss.backward()
    g = viz.draw_graph(loss, names, values=True, grads=True)
    nodes, _ = parse(g.source)
    labels = {label.split("\n")[0]: label for label, _ in nodes.values()}
    # adjoints by hand: ∂l/∂u7 = 1, ∂l/∂u6 = λ, ∂l/∂u8 = 1, ∂l/∂ŷ = -y/ŷ for y = 1
    assert "grad 1" in labels["u7 = mul (0.01)"]
    assert "grad 0.01" in labels["u6 = add"] and "grad 0.01" in labels["u4 = sqrt"]
    yhat = float(names["yhat"].data)
    assert f"value {yhat:.4g}" in labels["yhat = sigmoid"]
    assert f"grad {-1 / yhat:.4g}" in labels["yhat = sigmoid"]
    assert "grad" in labels["W1"] and "value" in labels["x"]
    assert f"value {float(loss.data):.4g}" in labels["l"]


def test_grads_without_retain_warns():
    loss, names = mlp_loss()
    loss.backward()
    with pytest.warns(UserWarning, match="retain_all_grads"):
        g = viz.draw_graph(loss, names, grads=True)
    nodes, _ = parse(g.source)
    labels = {label.split("\n")[0]: label for label, _ in nodes.values()}
    assert "grad" in labels["W1"] and "grad" not in labels["u1 = matmul"]


class OneHidden(nn.Module):
    def __init__(self, p=3, q=2):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(p, q, bias=False, generator=0), nn.Sigmoid(),
            nn.Linear(q, 1, bias=False, generator=1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.layers(x)


def test_module_names_parameters():
    model = OneHidden()
    x = numnet.tensor(np.ones((4, 3)))
    y = numnet.tensor(np.array([[1.0], [0.0], [1.0], [1.0]]))
    lam = 0.01
    norms = [p.pow(2).sum().sqrt() for _, p in model.named_parameters()]
    loss = F.binary_cross_entropy(model(x), y) + lam * (norms[0] + norms[1])
    viz.retain_all_grads(loss)
    loss.backward()
    g = viz.draw_graph(loss, model, grads=True)
    nodes, _ = parse(g.source)
    assert by_colour(nodes, "parameter") == ["layers.0.weight", "layers.2.weight"]
    shapes = {label.split("\n")[0]: label.split("\n")[1] for label, _ in nodes.values()}
    assert shapes["layers.0.weight"] == "(2, 3)" and shapes["layers.2.weight"] == "(1, 2)"
    assert by_colour(nodes, "operation").count("linear") == 2
    assert by_colour(nodes, "input") == ["input", "input", "output"]  # x, y; the loss


def test_bad_arguments():
    f, names = perceptron()
    with pytest.raises(ValueError):
        viz.draw_graph(f, names, format="pdf")
    with pytest.raises(TypeError):
        viz.draw_graph(f, [1, 2])


def test_without_graphviz(tmp_path, monkeypatch):
    import shutil
    import sys

    f, names = perceptron()
    g = viz.draw_graph(f, names)
    assert isinstance(g, Graph) and str(g) == g.source
    assert g.render(tmp_path / "g.dot").read_text(encoding="utf-8") == g.source
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if not installed
    assert g._repr_svg_() is None
    assert "```dot" in g._repr_markdown_()
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.render(tmp_path / "g.svg")


@pytest.mark.skipif(not Graph.available(), reason="Graphviz's dot is not installed")
def test_render_with_graphviz(tmp_path):
    f, names = perceptron()
    g = viz.draw_graph(f, names)
    assert "<svg" in g._repr_svg_()
    assert g.render(tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
