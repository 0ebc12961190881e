"""``Tensor.max()`` / ``Tensor.min()`` without ``dim``: torch.max(input)'s gradient.

PyTorch has two VJPs for the extreme over all entries: ``torch.amax`` multiplies
(``(δy / count) ⊙ mask``), ``torch.max(input)`` fills a mask (``evenly_distribute_backward``:
``δy / count`` on the tied extremes, exactly 0 elsewhere, the NaN entries sharing ``δy``
when the extreme is NaN). numnet's ``Tensor.max()`` is ``ops.amax(x, masked_fill=True)``.
The edge values (±inf, NaN, empty) of both are swept in ``test_edge_sweep.py`` and
``test_nonfinite_adjoints.py``; here: finite differences, ties and the error.
"""

from __future__ import annotations

import numpy as np
import pytest

import numnet
from numnet import ops
from numnet.testing import gradcheck

inf, nan = np.inf, np.nan


def _leaf(a, dtype=np.float64) -> numnet.Tensor:
    return numnet.Tensor(np.asarray(a, dtype), dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_full_extreme_gradcheck_float64(name, shape):
    # distinct values: the extreme is unique, so the finite differences are defined
    x = np.random.default_rng(0).permutation(np.prod(shape, dtype=int)).reshape(shape) / 7.0
    assert gradcheck(lambda t: getattr(t, name)(), [_leaf(x)])


@pytest.mark.parametrize("masked_fill", [False, True])
def test_amax_gradcheck_with_and_without_masked_fill(masked_fill):
    x = np.random.default_rng(1).permutation(24).reshape(2, 3, 4) / 5.0
    for dim in (None, 1, (0, 2)):
        assert gradcheck(
            lambda t, d=dim: ops.amax(t, dim=d, masked_fill=masked_fill), [_leaf(x)]
        )
        assert gradcheck(
            lambda t, d=dim: ops.amin(t, dim=d, keepdim=True, masked_fill=masked_fill),
            [_leaf(x)],
        )


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize(
    "values",
    [
        [[1.0, 3.0, 3.0], [-2.0, 3.0, 0.5]],  # a three-way tie of the maximum
        [[-1.0, -1.0, 4.0], [4.0, -1.0, 0.0]],  # ties of the minimum
        [[nan, 1.0, nan], [2.0, inf, -inf]],  # NaN extremes: the NaN entries share δy
        [[inf, inf, -inf], [-inf, 0.0, 1.0]],  # infinite ties
        [[-0.0, 0.0, -0.0], [0.0, 0.0, -0.0]],  # signed zeros compare equal
    ],
)
@pytest.mark.parametrize("up", [2.5, inf, -inf, nan])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_full_extreme_matches_torch(name, values, up, dtype):
    torch = pytest.importorskip("torch")
    x = _leaf(values, dtype)
    y = getattr(x, name)()
    y.backward(numnet.Tensor(np.asarray(up, dtype), dtype=dtype))
    t = torch.tensor(np.asarray(values, dtype), requires_grad=True)
    ty = getattr(t, name)()
    ty.backward(torch.tensor(np.asarray(up, dtype)))
    assert y.shape == () and y.dtype == dtype and x.grad.dtype == dtype
    np.testing.assert_array_equal(np.asarray(y.data), ty.detach().numpy())
    # bit for bit: a masked fill of δy / count, the same division in the same dtype
    np.testing.assert_array_equal(np.asarray(x.grad.data), t.grad.numpy())


def test_ties_share_the_adjoint_and_the_rest_get_exact_zeros():
    x = _leaf([[3.0, 1.0, 3.0], [3.0, -inf, 2.0]])
    x.max().backward(numnet.Tensor(np.array(inf)))
    grad = np.asarray(x.grad.data)
    np.testing.assert_array_equal(grad, [[inf, 0.0, inf], [inf, 0.0, 0.0]])
    assert not np.signbit(grad).any()  # +0 off the maxima, as torch's zeros
    x = _leaf([nan, 1.0, nan, nan])
    x.min().backward(numnet.Tensor(np.array(6.0)))
    np.testing.assert_array_equal(np.asarray(x.grad.data), [2.0, 0.0, 2.0, 2.0])


def test_amax_keeps_torch_amax_product():
    """``ops.amax`` (no masked_fill) multiplies, as ``torch.amax``: ∞ · 0 = NaN."""
    x = _leaf([3.0, 1.0, 3.0])
    ops.amax(x).backward(numnet.Tensor(np.array(inf)))
    np.testing.assert_array_equal(np.asarray(x.grad.data), [inf, nan, inf])


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0, 4)])
def test_full_extreme_of_an_empty_tensor_raises(name, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Specify the reduction dim"):
        getattr(torch.zeros(shape), name)()
    with pytest.raises(ValueError, match=rf"^{name}\(\): cannot reduce an empty tensor"):
        getattr(numnet.zeros(*shape), name)()


def test_integer_and_bool_tensors_keep_their_dtype():
    x = numnet.Tensor(np.array([[1, 5], [5, -2]]))
    assert x.max().dtype == np.int64 and x.max().item() == 5 and x.min().item() == -2
    b = numnet.Tensor(np.array([True, False]))
    assert b.max().dtype == np.bool_ and bool(b.max().item()) and not bool(b.min().item())
