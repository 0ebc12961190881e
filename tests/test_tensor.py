"""The Tensor API and the engine: dtypes, graph recording, backward semantics, errors."""

import numpy as np
import pytest

import numnet
import numnet.nn
from numnet import Tensor


def test_float32_by_default_and_float64_on_request():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(3)).dtype == np.float32  # float64 ndarray -> float32
    assert Tensor(np.zeros(3), dtype=numnet.float64).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64
    assert numnet.from_numpy(np.zeros(2)).dtype == np.float64
    assert numnet.randn(2, 3, generator=0).dtype == np.float32


def test_scalars_and_arrays_do_not_upcast():
    x = Tensor([1.0, 2.0], requires_grad=True)
    for y in (
        x * 2,
        x * 2.5,
        2.0 - x,
        x / np.float64(3),
        x + np.array([1.0, 2.0]),
        x**2,
        numnet.exp(x),
        x.mean(),
        numnet.maximum(x, 0.0),
        x @ np.ones(2),
    ):
        assert y.dtype == np.float32, y
    (x * np.float64(3)).sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_float_dtypes_raise():
    a = Tensor([1.0])
    b = Tensor([1.0], dtype=numnet.float64)
    with pytest.raises(TypeError, match="float32 and float64"):
        a + b
    assert (a.double() + b).dtype == np.float64


def test_numpy_interop():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(np.asarray(x), np.ndarray)
    np.testing.assert_array_equal(np.asarray(x), [[1, 2], [3, 4]])
    assert x.numpy() is x.data
    y = np.ones(2, dtype=np.float32) * x  # ndarray on the left defers to Tensor
    assert isinstance(y, Tensor)
    assert float(x.sum()) == 10.0 and x[0, 1].item() == 2.0


def test_backward_simple_values():
    # y = sum(a*b + a^2) ; dy/da = b + 2a ; dy/db = a
    a = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0], requires_grad=True)
    (a * b + a**2).sum().backward()
    np.testing.assert_allclose(a.grad, [4 + 2, 5 - 4, 6 + 6])
    np.testing.assert_allclose(b.grad, [1, -2, 3])


def test_gradients_accumulate_and_zero():
    w = Tensor([2.0], requires_grad=True)
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad, [6.0])
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, [4.0])


def test_reused_node_gets_summed_adjoint():
    x = Tensor([3.0], requires_grad=True)
    y = x * x
    z = y + y * y  # dz/dx = 2x + 4x^3 = 6 + 108
    z.sum().backward()
    np.testing.assert_allclose(x.grad, [114.0])


def test_backward_twice_raises_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    y = (x.exp()).sum()
    x.grad = None
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_on_non_scalar_needs_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"non-scalar tensor of shape \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])
    with pytest.raises(ValueError, match="does not match"):
        (x * 2).backward(np.ones(3))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_no_grad_and_detach():
    x = Tensor([1.0], requires_grad=True)
    with numnet.no_grad():
        y = x * 2
        with numnet.enable_grad():
            z = x * 3
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad
    assert numnet.is_grad_enabled()

    @numnet.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf


def test_deep_graph_has_no_recursion_limit():
    x = Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0001**20000], rtol=1e-3)


def test_retain_grad_on_intermediate():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad, [6.0, 12.0])
    np.testing.assert_allclose(x.grad, [18.0, 36.0])


def test_indexing_with_repeated_integer_indices_accumulates():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])
    m = Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    m[1:, ::2].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0, 0, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0]])
    idx = Tensor([2, 0])
    np.testing.assert_array_equal(m[idx].data, [[8, 9, 10, 11], [0, 1, 2, 3]])


def test_shape_ops_values():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape(-1).shape == (24,)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.permute(1, 2, 0).shape == (3, 4, 2)
    assert x[0].T.shape == (4, 3)
    assert x.unsqueeze(1).shape == (2, 1, 3, 4)
    assert x.unsqueeze(1).squeeze(1).shape == (2, 3, 4)
    assert x.flatten(1).shape == (2, 12)
    assert numnet.cat([x, x], dim=1).shape == (2, 6, 4)
    assert numnet.stack([x, x], dim=0).shape == (2, 2, 3, 4)
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3, 4\)"):
        x.reshape(5, 5)


def test_reductions_values():
    x = Tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    np.testing.assert_array_equal(x.sum(dim=0).data, [5, 7, 9])
    np.testing.assert_array_equal(x.mean(dim=1, keepdim=True).data, [[3], [4]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5, 6])
    np.testing.assert_array_equal(indices.data, [1, 2])
    assert x.min().item() == 1.0
    np.testing.assert_allclose(x.var(dim=1).data, [4.0, 4.0])
    np.testing.assert_allclose(x.logsumexp(dim=1).data, np.log(np.exp(x.data).sum(1)), rtol=1e-6)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbiased_var_and_std_of_one_element_are_nan(name, dtype):
    # n - 1 = 0 degrees of freedom: NaN value and NaN gradient, as in PyTorch (not 0);
    # a UserWarning, and no NumPy RuntimeWarning (pytest turns those into errors)
    x = Tensor([3.0], dtype=dtype, requires_grad=True)
    with pytest.warns(UserWarning, match=rf"{name}\(\): degrees of freedom is <= 0"):
        y = getattr(x, name)()
    assert y.shape == () and y.dtype == dtype and np.isnan(y.item())
    y.backward()
    assert x.grad.dtype == dtype and np.isnan(x.grad).all()
    # per-row reduction over an axis of length 1
    x = Tensor(np.arange(3.0).reshape(3, 1), dtype=dtype, requires_grad=True)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        y = getattr(x, name)(dim=1, keepdim=True)
    assert y.shape == (3, 1) and np.isnan(y.data).all()
    y.sum().backward()
    assert np.isnan(x.grad).all()


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_with_enough_degrees_of_freedom_do_not_warn(name, recwarn):
    x = Tensor([3.0], dtype=numnet.float64, requires_grad=True)
    y = getattr(x, name)(unbiased=False)  # n = 1 entry, no correction: exactly 0
    assert y.item() == 0.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0])  # std: 0 at zero spread, like torch
    x = Tensor([[1.0, 3.0], [2.0, 2.0]], dtype=numnet.float64, requires_grad=True)
    y = getattr(x, name)(dim=1)
    expected = np.array([2.0, 0.0])
    np.testing.assert_allclose(y.data, expected if name == "var" else np.sqrt(expected))
    y.sum().backward()
    assert np.all(np.isfinite(x.grad))
    assert not recwarn.list


def test_var_of_an_empty_reduction_is_nan():
    x = Tensor(np.zeros((2, 0)), dtype=numnet.float64)
    for unbiased in (True, False):
        with pytest.warns(UserWarning, match="degrees of freedom"):
            y = x.var(dim=1, unbiased=unbiased)
        assert y.shape == (2,) and np.isnan(y.data).all()


def test_max_gradient_split_on_ties():
    x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0, 0.5, 0.5])


def test_matmul_shape_error_names_both_shapes():
    a, b = numnet.zeros(3, 4), numnet.zeros(5, 2)
    with pytest.raises(ValueError, match=r"\(3, 4\) and \(5, 2\)"):
        a @ b


def test_batched_matmul_values():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, a @ b, rtol=1e-5)


def test_where_maximum_clip():
    x = Tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = numnet.where(x.data > 0, x * 2, x * 0)
    np.testing.assert_array_equal(y.data, [0, 1, 6])
    np.testing.assert_array_equal(x.clamp(-1, 1).data, [-1, 0.5, 1])
    np.testing.assert_array_equal(numnet.maximum(x, 0.0).data, [0, 0.5, 3])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 2, 2])


def test_requires_grad_only_for_floats():
    with pytest.raises(TypeError, match="floating"):
        Tensor([1, 2], requires_grad=True)


def test_item_and_bool_errors():
    with pytest.raises(ValueError, match="one element"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_seeded_factories_reproducible():
    a = numnet.randn(3, 3, generator=42).data
    b = numnet.randn(3, 3, generator=np.random.default_rng(42)).data
    np.testing.assert_array_equal(a, b)
    numnet.manual_seed(7)
    c = numnet.rand(4).data
    numnet.manual_seed(7)
    np.testing.assert_array_equal(c, numnet.rand(4).data)


def test_tuple_inside_index_is_an_integer_array():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x[((0, 0),)].sum().backward()
    np.testing.assert_array_equal(x.grad, [[2, 2, 2], [0, 0, 0]])


def test_zero_dim_tensors_get_array_gradients():
    p = Tensor(np.float32(2.0), requires_grad=True)
    (p * p).backward()
    assert isinstance(p.grad, np.ndarray) and p.grad.shape == () and p.grad == 4.0
    (p * p).backward()
    assert isinstance(p.grad, np.ndarray) and p.grad == 8.0


def test_integer_inputs_give_float32_results():
    # a layer refuses integer inputs, as torch does (unscaled pixel values would train
    # silently); converted, they give float32
    with pytest.raises(TypeError, match=r"linear\(\): mixing float32 and int64 .*\.float\(\)"):
        numnet.nn.Linear(2, 3)(Tensor([[1, 2]]))
    with pytest.raises(TypeError, match=r"linear\(\): mixing float32 and uint8"):
        numnet.nn.Linear(2, 3)(np.array([[1, 2]], np.uint8))
    assert numnet.nn.Linear(2, 3)(Tensor([[1, 2]]).float()).dtype == np.float32
    assert (Tensor([1, 2]) / 2).dtype == np.float32
    with pytest.raises(TypeError, match="mean"):  # as torch: no float dtype to infer
        Tensor([1, 2]).mean()
    assert Tensor([1, 2]).float().mean().dtype == np.float32
    assert (Tensor([1, 2]) + 1).dtype == np.int64  # integer arithmetic stays integer


# -- factories' dtypes against torch.* -------------------------------------------------
@pytest.mark.parametrize(
    "expr",
    [
        "full((2, 3), 3)", "full((2,), 3.0)", "full((2,), True)", "full((4,), -1)",
        "tensor([1.0, 2])", "tensor([1, 2])", "tensor(True)", "arange(5)",
        "arange(0.0, 1.0, 0.25)", "eye(2)", "linspace(0, 1, 3)", "zeros(2, 3)",
    ],
)
def test_factory_dtypes_follow_torch(expr):
    torch = pytest.importorskip("torch")
    ours = eval("numnet." + expr)
    theirs = eval("torch." + expr, {"torch": torch})
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), expr
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_tensor_keeps_numnets_dtype_families_on_purpose():
    """Documented difference: NumPy float64 -> float32, int32 -> int64 (torch keeps both);
    from_numpy keeps the dtype and the memory."""
    assert numnet.tensor(np.zeros(2)).dtype == np.float32
    assert numnet.tensor(np.zeros(2, np.int32)).dtype == np.int64
    assert numnet.tensor(np.zeros(2), dtype=np.float64).dtype == np.float64
    a = np.zeros(2)
    t = numnet.from_numpy(a)
    assert t.dtype == np.float64
    a[0] = 5.0
    assert t.numpy()[0] == 5.0


def test_full_rejects_a_fill_value_it_cannot_infer():
    with pytest.raises(TypeError, match="fill_value must be a bool, int or float"):
        numnet.full((2,), "a")
    assert numnet.full((2,), "7", dtype=np.int64).numpy().tolist() == [7, 7]


def test_top_level_max_min_amax_amin_follow_torch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 5.0, 5.0], [4.0, -2.0, 6.0]], np.float32)
    b = np.array([[2.0, 0.0, 7.0], [1.0, 1.0, 1.0]], np.float32)
    for name in ("max", "min"):
        ours, theirs = getattr(numnet, name), getattr(torch, name)
        x, t = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ours(x).backward()
        theirs(t).backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())  # ties share δy
        v, i = ours(Tensor(a), 1, keepdim=True)
        tv, ti = theirs(torch.tensor(a), 1, keepdim=True)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        assert v.shape == tuple(tv.shape) and i.shape == tuple(ti.shape)
        pair = ours(Tensor(a), Tensor(b))
        np.testing.assert_array_equal(pair.numpy(), theirs(torch.tensor(a), torch.tensor(b)))
    for name in ("amax", "amin"):
        got = getattr(numnet, name)(Tensor(a), dim=0)
        np.testing.assert_array_equal(got.numpy(), getattr(torch, name)(torch.tensor(a), dim=0))
    with pytest.raises(ValueError, match="empty"):
        numnet.max(numnet.zeros(0))
