"""Version counters: a backward pass never reads a tensor that was overwritten in place.

A graph keeps the arrays its VJPs need; an optimizer step (or any
other in-place write) between the forward pass and ``backward()`` must raise, as in
PyTorch ("one of the variables needed for gradient computation has been modified by
an inplace operation"), instead of silently using the new values.
"""

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import nn, optim
from numnet.autograd import PRIMITIVES

torch = pytest.importorskip("torch")
TF = torch.nn.functional

STALE = "modified by an inplace operation"


def _one_by_one():
    lin = nn.Linear(1, 1, bias=False)
    with numnet.no_grad():
        lin.weight.fill_(2.0)
    x = numnet.tensor([[3.0]], requires_grad=True)
    loss = 0.5 * (lin(x) ** 2).sum()
    return lin, x, loss


def test_a_retained_graph_raises_after_an_optimizer_step():
    lin, x, loss = _one_by_one()
    loss.backward(retain_graph=True)
    assert x.grad[0, 0] == pytest.approx(12.0)  # w² x = 4·3
    optim.SGD(lin.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match=STALE) as info:
        loss.backward()
    msg = str(info.value)
    assert "linear" in msg and "[1, 1]" in msg and "version" in msg
    assert x.grad[0, 0] == pytest.approx(12.0)  # nothing was accumulated

    # PyTorch raises on the same program
    tl = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        tl.weight.fill_(2.0)
    tx = torch.tensor([[3.0]], requires_grad=True)
    tloss = 0.5 * (tl(tx) ** 2).sum()
    tloss.backward(retain_graph=True)
    torch.optim.SGD(tl.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match=STALE):
        tloss.backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.1),
    ],
    ids=["sgd", "adam", "adamw", "rmsprop"],
)
def test_every_optimizer_step_bumps_the_version(make):
    lin, x, loss = _one_by_one()
    loss.backward(retain_graph=True)
    before = lin.weight._version
    make(lin.parameters()).step()
    assert lin.weight._version == before + 1
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_lbfgs_step_bumps_the_version():
    pytest.importorskip("scipy")
    lin, x, loss = _one_by_one()
    loss.backward(retain_graph=True)
    before = lin.weight._version
    opt = optim.LBFGS(lin.parameters(), max_iter=2)

    def closure():
        opt.zero_grad()
        out = 0.5 * (lin(numnet.tensor([[3.0]])) ** 2).sum()
        out.backward()
        return out

    opt.step(closure)
    assert lin.weight._version > before
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_gan_recipe_step_then_backward_a_loss_computed_before_raises():
    gen = nn.Linear(2, 2, generator=0)
    disc = nn.Linear(2, 1, generator=1)
    d_opt = optim.SGD(disc.parameters(), lr=0.1)
    fake = gen(numnet.randn(4, 2, generator=2))
    g_loss = disc(fake).mean()
    d_loss = -disc(fake.detach()).mean()
    d_opt.zero_grad()
    d_loss.backward()
    d_opt.step()  # the discriminator changed...
    with pytest.raises(RuntimeError, match=STALE):
        g_loss.backward()  # ...so g_loss's graph is stale


def test_the_right_order_works_and_matches_torch():
    gen = nn.Linear(2, 2, generator=0)
    disc = nn.Linear(2, 1, generator=1)
    z = numnet.randn(4, 2, generator=2)
    fake = gen(z)
    g_loss = disc(fake).mean()
    g_loss.backward()  # backward first, then step: fine
    optim.SGD(disc.parameters(), lr=0.1).step()
    tg, td = torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)
    with torch.no_grad():
        tg.weight.copy_(torch.from_numpy(gen.weight.data))
        tg.bias.copy_(torch.from_numpy(gen.bias.data))
        # disc was stepped; compare the gradient of gen, computed before the step
    td.weight.data = torch.from_numpy(disc.weight.data + 0.1 * disc.weight.grad)
    td.bias.data = torch.from_numpy(disc.bias.data + 0.1 * disc.bias.grad)
    td(tg(torch.from_numpy(z.data))).mean().backward()
    np.testing.assert_allclose(gen.weight.grad, tg.weight.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_bumps_the_version():
    lin, x, loss = _one_by_one()
    before = lin.weight._version
    lin.load_state_dict({"weight": np.array([[5.0]], np.float32)})
    assert lin.weight._version > before
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


@pytest.mark.parametrize(
    "init",
    [
        lambda w: nn.init.zeros_(w),
        lambda w: nn.init.ones_(w),
        lambda w: nn.init.constant_(w, 0.5),
        lambda w: nn.init.uniform_(w, generator=0),
        lambda w: nn.init.xavier_uniform_(w, generator=0),
        lambda w: nn.init.kaiming_normal_(w, generator=0),
    ],
)
def test_nn_init_on_an_existing_parameter_bumps_the_version(init):
    lin, x, loss = _one_by_one()
    init(lin.weight)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def _mutators():
    return {
        "zero_": lambda t: t.zero_(),
        "fill_": lambda t: t.fill_(1.5),
        "copy_": lambda t: t.copy_(t * 0 + 0.25),
        "add_": lambda t: t.add_(1.0, alpha=2),
        "sub_": lambda t: t.sub_(t * 0 + 1),
        "mul_": lambda t: t.mul_(3.0),
        "div_": lambda t: t.div_(2.0),
        "clamp_": lambda t: t.clamp_(min=0.0),
        "setitem": lambda t: t.__setitem__(0, 7.0),
        "iadd": lambda t: t.__iadd__(1.0),
        "isub": lambda t: t.__isub__(1.0),
        "imul": lambda t: t.__imul__(2.0),
        "itruediv": lambda t: t.__itruediv__(2.0),
        "data_setter": lambda t: setattr(t, "data", t.data * 2),
    }


@pytest.mark.parametrize("name", sorted(_mutators()))
def test_in_place_methods_bump_and_are_detected(name):
    w = numnet.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = numnet.tensor([1.0, 2.0, 3.0])
    loss = (w * x).sum()  # mul saves w and x
    with numnet.no_grad():
        out = _mutators()[name](x)
    if out is not None:
        assert out is x  # in place: the same object
    assert x._version == 1
    with pytest.raises(RuntimeError, match="input 1 of 'mul'"):
        loss.backward()


def test_in_place_values_match_torch():
    a = np.array([[0.5, -1.0, 2.0], [3.0, -4.0, 0.0]], np.float32)
    for name, fn in _mutators().items():
        if name == "data_setter":
            continue
        n, t = numnet.tensor(a.copy()), torch.tensor(a.copy())
        fn(n)
        fn(t)
        np.testing.assert_allclose(n.data, t.numpy(), err_msg=name)


def test_manual_sgd_on_data_is_detected():
    # the teaching idiom: p.data -= lr * p.grad (an augmented assignment to .data)
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    w.data -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_in_place_on_a_leaf_that_requires_grad_raises_like_torch():
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    for fn in (lambda t: t.add_(1.0), lambda t: t.__setitem__(0, 1.0), lambda t: t.zero_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn(w)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            fn(tw)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        w += 1
    with numnet.no_grad():
        w -= 0.5  # the PyTorch update idiom
    np.testing.assert_allclose(w.data, [0.5, 1.5])
    assert w.requires_grad and w.is_leaf and w._version == 1


def test_augmented_assignment_with_a_recorded_operand_keeps_the_gradient():
    w = numnet.tensor([1.0, 2.0], requires_grad=True)
    total = numnet.tensor(0.0)
    total += (w * w).sum()  # torch records this in-place op; numnet rebinds
    total.backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0])
    h = w * 2
    h += 1  # a non-leaf: out of place, same values and gradient as torch
    h.sum().backward()
    np.testing.assert_allclose(w.grad, [4.0, 6.0])


def test_writes_to_an_unsaved_input_are_allowed_like_torch():
    # add's VJP does not read its inputs: torch lets them change, and so does numnet
    a = numnet.tensor([1.0, 2.0], requires_grad=True)
    b = numnet.tensor([3.0, 4.0])
    y = (a + b).sum()
    b.add_(1.0)
    y.backward()
    np.testing.assert_allclose(a.grad, [1.0, 1.0])
    ta, tb = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0, 4.0])
    ty = (ta + tb).sum()
    tb.add_(1.0)
    ty.backward()  # no error in torch either


def test_a_saved_output_overwritten_raises_like_torch():
    x = numnet.tensor([0.1, 0.2], requires_grad=True)
    y = x.exp()  # exp's VJP reads its output
    with numnet.no_grad():
        y.mul_(2.0)
    with pytest.raises(RuntimeError, match="output of 'exp'"):
        y.sum().backward()
    tx = torch.tensor([0.1, 0.2], requires_grad=True)
    ty = tx.exp()
    with torch.no_grad():
        ty.mul_(2.0)
    with pytest.raises(RuntimeError, match=STALE):
        ty.sum().backward()


def test_views_share_the_counter():
    w = numnet.tensor(np.ones((2, 3)), requires_grad=True)
    x = numnet.tensor(np.ones((4, 3)))
    y = (x @ w.T).sum()  # matmul saves the transposed view of w
    with numnet.no_grad():
        w.reshape(-1)[0] = 5.0  # a write through another view of w
    assert w._version == 1
    with pytest.raises(RuntimeError, match="input 1 of 'matmul'"):
        y.backward()
    d = w.detach()
    assert d._version == w._version
    d.zero_()
    assert w._version == 2 and float(w.data.sum()) == 0.0
    c = x.reshape(12) * 1.0  # a copy has a counter of its own
    c.zero_()
    assert x._version == 0 and c._version == 1
    assert x.reshape(2, 6)._vc is x._vc


def test_retain_graph_second_backward_without_writes_still_works():
    lin, x, loss = _one_by_one()
    loss.backward(retain_graph=True)
    loss.backward()
    assert x.grad[0, 0] == pytest.approx(24.0)


def test_training_loop_is_unaffected():
    model = nn.Sequential(nn.Linear(3, 8, generator=0), nn.ReLU(), nn.Linear(8, 2, generator=1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = numnet.randn(16, 3, generator=3)
    y = numnet.tensor(np.arange(16) % 2)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = numnet.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


# -- the declarations are truthful ------------------------------------------------------
# ``saves=``/``saves_output=`` let the engine skip checks on arrays a VJP never reads. If
# a declaration were wrong (a VJP reads an input declared unsaved), a write to that input
# would change the gradient silently. Below, for every primitive with a gradcheck case,
# every array the target op declares unsaved is overwritten (behind numnet's back) after
# the forward pass: the gradients must not change.


def _cases():
    from tests.ops.test_gradients import CASES

    for name, checks in sorted(CASES.items()):
        for k, (fn, inputs) in enumerate(checks):
            yield pytest.param(name, fn, inputs, id=f"{name}-{k}")


def _graph(root):
    nodes, stack, seen = [], [root], set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        nodes.append(n)
        stack.extend(n._parents)
    return nodes


def _saved_arrays(node):
    out = []
    for i, _ in node._saved or ():
        out.append(node._data if i == -1 else node._parents[i]._data)
    return out


@pytest.mark.parametrize(("name", "fn", "inputs"), list(_cases()))
def test_unsaved_declarations_are_truthful(name, fn, inputs):
    def run(mutate):
        xs = [numnet.Tensor(x.data.copy(), dtype=x.dtype, requires_grad=True) for x in inputs]
        out = fn(*xs)
        if isinstance(out, tuple):
            out = out[0]
        root = out.sum() if out.ndim else out
        if mutate:
            nodes = _graph(root)
            saved = [a for n in nodes for a in _saved_arrays(n)]
            for node in nodes:
                if node._op != name:
                    continue
                saved_idx = {i for i, _ in node._saved or ()}
                candidates = [p._data for i, p in enumerate(node._parents) if i not in saved_idx]
                if -1 not in saved_idx and node is not root:
                    candidates.append(node._data)
                for arr in candidates:
                    if arr.dtype.kind != "f" or not arr.flags.writeable or arr.size == 0:
                        continue
                    if any(np.may_share_memory(arr, s) for s in saved):
                        continue
                    arr[...] = arr * 1.7 + 0.3  # behind numnet's back: no version bump
        root.backward()
        return [x.grad for x in xs]

    clean, mutated = run(False), run(True)
    for a, b in zip(clean, mutated):
        if a is None:
            assert b is None
        else:
            np.testing.assert_array_equal(a, b)


def test_every_primitive_declares_what_it_saves_consistently():
    for name, prim in PRIMITIVES.items():
        if not prim.differentiable:
            continue
        assert prim.saves is None or all(isinstance(i, int) and i >= 0 for i in prim.saves), name
        if prim.view:
            assert prim.saves == (), f"{name}: a view op that saves its input"


# == Found by review ======================================================================
# Index and label arrays are snapshotted by the forward pass (a copy of a few integers):
# the gradient is the one of the computation that ran, even if the caller's index or
# target is overwritten before backward(). (PyTorch raises instead; both avoid a wrong
# gradient, numnet's way also gives the right one.)


@pytest.mark.parametrize("loss_fn", [F.cross_entropy, F.nll_loss], ids=["ce", "nll"])
def test_a_target_overwritten_after_the_forward_does_not_change_the_gradient(loss_fn):
    logits = [[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]]
    z = numnet.tensor(logits, requires_grad=True)
    t = numnet.tensor([0, 1])
    loss = loss_fn(z, t)
    t.fill_(2)
    loss.backward()
    tz = torch.tensor(logits, requires_grad=True)
    getattr(TF, loss_fn.__name__)(tz, torch.tensor([0, 1])).backward()
    np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("as_array", [False, True], ids=["tensor", "ndarray"])
def test_an_index_overwritten_after_the_forward_does_not_change_the_gradient(as_array):
    x = numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = np.array([0, 1]) if as_array else numnet.tensor([0, 1])
    y = x[i]
    i.fill(2) if as_array else i.fill_(2)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])


def test_max_dim_indices_overwritten_after_the_forward_do_not_change_the_gradient():
    x = numnet.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    indices.fill_(2)
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_tensor_of_a_tensor_shares_the_version_counter():
    # numnet.Tensor(x) aliases x's memory with a fresh counter; torch.Tensor(x) shares
    # the counter (torch raises below).
    w = numnet.tensor([2.0], requires_grad=True)
    x = numnet.tensor([3.0])
    loss = (w * x).sum()
    numnet.Tensor(x).fill_(100.0)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_parameter_of_a_tensor_shares_the_version_counter():
    w = numnet.tensor([2.0], requires_grad=True)
    x = numnet.tensor([3.0])
    loss = (w * x).sum()
    p = nn.Parameter(x)
    with numnet.no_grad():
        p.fill_(100.0)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


# -- in-place methods whose operand requires grad ---------------------------------------
# PyTorch records them in the graph; numnet does not record in-place operations, so it
# refuses them (the gradient would be lost) and says to use the out-of-place form.
@pytest.mark.parametrize(
    "write",
    [
        lambda x, w: x.add_(w),
        lambda x, w: x.sub_(w),
        lambda x, w: x.mul_(w),
        lambda x, w: x.div_(w),
        lambda x, w: x.copy_(w * 2),
        lambda x, w: x.__setitem__(slice(0, 2), w[1:]),
        lambda x, w: x.fill_(w[0]),
    ],
    ids=["add_", "sub_", "mul_", "div_", "copy_", "setitem", "fill_"],
)
def test_in_place_with_an_operand_that_requires_grad_raises(write):
    x, w = numnet.ones(3), numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="operand that requires grad"):
        write(x, w)
    np.testing.assert_array_equal(x.data, [1.0, 1.0, 1.0])  # nothing written
    with numnet.no_grad():
        write(x, w)  # allowed where nothing is recorded, as in torch
    assert x._version == 1


# -- indexing a single element: torch returns a view ------------------------------------
@pytest.mark.parametrize("index", [0, (0, 1)], ids=["1d", "2d"])
def test_inplace_on_a_single_element_writes_through_like_torch(index):
    shape = (3,) if index == 0 else (2, 3)
    t = torch.zeros(shape)
    t[index].fill_(5.0)
    x = numnet.zeros(*shape)
    x[index].fill_(5.0)  # x[index] is a 0-d view: the write goes through
    np.testing.assert_array_equal(x.data, t.numpy())


# -- false positives: numnet raises where torch does not ---------------------------------
def test_linear_bias_written_after_forward_does_not_raise_like_torch():
    # linear's VJP never reads the bias (torch's addmm does not save it)
    x = numnet.tensor([[1.0, 2.0]], requires_grad=True)
    lin = nn.Linear(2, 1)
    loss = lin(x).sum()
    with numnet.no_grad():
        lin.bias.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad, lin.weight.data)


def test_conv2d_bias_written_after_forward_does_not_raise_like_torch():
    x = numnet.randn(1, 1, 4, 4, generator=0, requires_grad=True)
    conv = nn.Conv2d(1, 2, 3)
    loss = conv(x).sum()
    with numnet.no_grad():
        conv.bias.add_(1.0)
    loss.backward()
    assert x.grad.shape == (1, 1, 4, 4)


def test_clone_source_written_after_forward_does_not_raise_like_torch():
    # torch's CloneBackward saves nothing, and neither does numnet's clone
    w = numnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w.clone()
    with numnet.no_grad():
        w.add_(1.0)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0, 1.0])


# -- in-place methods vs torch's dtype rules ----------------------------------------------
@pytest.mark.parametrize(
    "op",
    [lambda t: t.sub_(True), lambda t: t.sub_(numnet.tensor([True, False, True]))],
    ids=["python-bool", "bool-tensor"],
)
def test_sub_inplace_refuses_a_bool_operand_like_sub(op):
    with pytest.raises(RuntimeError):
        torch.tensor([1.0, 2.0, 3.0]).sub_(torch.tensor([True, False, True]))
    for t in (numnet.tensor([1, 2, 3]), numnet.tensor([1.0, 2.0, 3.0])):
        with pytest.raises(TypeError):
            op(t)
