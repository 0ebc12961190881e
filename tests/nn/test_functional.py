"""nn.functional: the seeds' identities, numerical stability, and input validation."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import numnet
import numnet.nn.functional as F
from numnet import Tensor
from numnet.testing import float64_tensor as t64
from numnet.testing import gradcheck

floats = st.floats(-30, 30, allow_nan=False, width=64)


# -- identities from the seeds --------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 20), elements=floats))
def test_sigmoid_derivative_is_sigma_one_minus_sigma(z):
    x = t64(z)
    s = F.sigmoid(x)
    s.sum().backward()
    np.testing.assert_allclose(x.grad, s.data * (1 - s.data), rtol=1e-12, atol=1e-300)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float64, st.integers(1, 20), elements=floats))
def test_tanh_is_rescaled_sigmoid(z):
    # seed 002/003: tanh(z) = 2 σ(2z) - 1
    np.testing.assert_allclose(F.tanh(t64(z)).data, 2 * F.sigmoid(t64(2 * z)).data - 1, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)), elements=floats),
    st.floats(-1e3, 1e3),
)
def test_softmax_unchanged_by_adding_a_constant(z, c):
    np.testing.assert_allclose(
        F.softmax(t64(z), dim=1).data, F.softmax(t64(z + c), dim=1).data, atol=1e-12
    )


def test_two_class_softmax_is_sigmoid_of_logit_difference():
    # seed 003: softmax([z1, z2])_1 = σ(z1 - z2)
    z = np.random.default_rng(0).normal(0, 3, (50, 2))
    p = F.softmax(t64(z), dim=1).data[:, 0]
    np.testing.assert_allclose(p, F.sigmoid(t64(z[:, 0] - z[:, 1])).data, rtol=1e-12)


def test_stack_of_linear_layers_is_one_affine_map():
    # seeds 002/003: without activations, W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)
    rng = np.random.default_rng(1)
    net = numnet.nn.Sequential(
        numnet.nn.Linear(4, 6, generator=rng), numnet.nn.Linear(6, 3, generator=rng)
    ).double()
    W1, b1, W2, b2 = (p.data for p in net.parameters())
    x = rng.standard_normal((10, 4))
    np.testing.assert_allclose(
        net(t64(x, False)).data, x @ (W2 @ W1).T + (W2 @ b1 + b2), rtol=1e-12
    )


def test_softplus_derivative_is_sigmoid():
    z = t64(np.linspace(-20, 20, 41))
    F.softplus(z).sum().backward()
    np.testing.assert_allclose(z.grad, F.sigmoid(t64(z.data)).data, rtol=1e-12)


# -- stability ------------------------------------------------------------------------------------
def test_cross_entropy_and_log_softmax_at_1e4():
    for dtype in (np.float32, np.float64):
        z = Tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype, requires_grad=True)
        y = Tensor([0, 2])
        loss = F.cross_entropy(z, y, reduction="sum")
        # row 0: lse = 1e4 -> loss 0; row 1: lse = 1e4 + log 2 -> loss log 2
        np.testing.assert_allclose(loss.item(), np.log(2), rtol=1e-6)
        loss.backward()
        expected = np.array([[0, 0, 0], [0, 0.5, -0.5]])
        np.testing.assert_allclose(z.grad, expected, atol=1e-7)
        ls = F.log_softmax(Tensor(z.data, dtype=dtype), dim=1).data
        assert np.all(np.isfinite(ls))
        np.testing.assert_allclose(ls[1], [-2e4 - np.log(2), -np.log(2), -np.log(2)], rtol=1e-6)


def test_sigmoid_and_bce_with_logits_at_1e3():
    for dtype in (np.float32, np.float64):
        z = Tensor([-1e3, 1e3, -1e3, 1e3], dtype=dtype, requires_grad=True)
        y = Tensor([0.0, 1.0, 1.0, 0.0], dtype=dtype)
        s = F.sigmoid(Tensor(z.data, dtype=dtype))
        np.testing.assert_array_equal(s.data, [0, 1, 0, 1])
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        np.testing.assert_allclose(loss.data, [0, 0, 1e3, 1e3])
        loss.sum().backward()
        np.testing.assert_allclose(z.grad, [0, 0, -1, 1])  # σ(z) - y


def test_bce_on_probabilities_is_clamped_not_log_zero():
    p = Tensor([0.0, 1.0, 0.5], requires_grad=True)
    y = Tensor([1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, y, reduction="none")
    assert np.all(np.isfinite(loss.data)) and loss.data[0] > 80
    np.testing.assert_allclose(loss.data[2], np.log(2), rtol=1e-6)
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


# -- values of the losses --------------------------------------------------------------------------
def test_loss_values_by_hand():
    z = Tensor([[2.0, 0.0], [0.0, 0.0]])
    # row 0: -log(e^2/(e^2+1)) = log(1 + e^-2); row 1: log 2
    np.testing.assert_allclose(
        F.cross_entropy(z, Tensor([0, 1])).item(), (np.log1p(np.exp(-2)) + np.log(2)) / 2, rtol=1e-6
    )
    np.testing.assert_allclose(F.mse_loss(Tensor([1.0, 3.0]), Tensor([0.0, 0.0])).item(), 5.0)
    np.testing.assert_allclose(
        F.hinge_loss(Tensor([2.0, 0.5, -1.0]), Tensor([1.0, 1.0, 1.0]), reduction="none").data,
        [0.0, 0.5, 2.0],
    )
    np.testing.assert_allclose(
        F.hinge_loss(Tensor([0.5, -1.0]), Tensor([1.0, -1.0]), margin=0.0).item(), 0.0
    )
    probs = Tensor([[0.25, 0.75]])
    np.testing.assert_allclose(
        F.cross_entropy(Tensor([[0.0, 0.0]]), probs).item(), np.log(2), rtol=1e-6
    )


def test_cross_entropy_soft_targets_equal_hard_for_one_hot():
    rng = np.random.default_rng(3)
    z = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    hard = F.cross_entropy(t64(z, False), Tensor(y))
    soft = F.cross_entropy(t64(z, False), t64(np.eye(4)[y], False))
    np.testing.assert_allclose(hard.item(), soft.item(), rtol=1e-12)


def test_cross_entropy_spatial_and_gradcheck():
    rng = np.random.default_rng(4)
    z = t64(rng.standard_normal((2, 3, 4)))
    y = Tensor(rng.integers(0, 3, (2, 4)))
    assert F.cross_entropy(z, y, reduction="none").shape == (2, 4)
    assert gradcheck(lambda z: F.cross_entropy(z, y), [z])


def test_nll_loss_spatial_values_by_hand():
    # input (N=2, C=3, d=2): the class axis is axis 1, targets are (N, d)
    logp = np.log(np.array([
        [[0.5, 0.1], [0.25, 0.3], [0.25, 0.6]],
        [[0.2, 0.7], [0.2, 0.2], [0.6, 0.1]],
    ]))
    y = Tensor(np.array([[0, 2], [2, 0]]))
    expected = -np.log([[0.5, 0.6], [0.6, 0.7]])
    lp = t64(logp, False)
    np.testing.assert_allclose(F.nll_loss(lp, y, reduction="none").data, expected)
    np.testing.assert_allclose(F.nll_loss(lp, y, reduction="sum").item(), expected.sum())
    np.testing.assert_allclose(F.nll_loss(lp, y).item(), expected.mean())
    x = t64(logp)
    F.nll_loss(x, y, reduction="sum").backward()
    picked = np.zeros_like(logp)
    picked[[0, 0, 1, 1], [0, 2, 2, 0], [0, 1, 0, 1]] = -1.0
    np.testing.assert_array_equal(x.grad, picked)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3), (2, 3, 2, 2)])
def test_nll_loss_and_cross_entropy_spatial_gradcheck(shape, reduction):
    rng = np.random.default_rng(7)
    z = t64(rng.standard_normal(shape))
    y = Tensor(rng.integers(0, shape[1], (shape[0], *shape[2:])))
    out = F.nll_loss(z, y, reduction=reduction)
    assert out.shape == (() if reduction != "none" else y.shape)
    assert gradcheck(lambda z: F.nll_loss(z, y, reduction=reduction), [z])
    assert gradcheck(lambda z: F.nll_loss(F.log_softmax(z, dim=1), y, reduction=reduction), [z])
    assert gradcheck(lambda z: F.cross_entropy(z, y, reduction=reduction), [z])
    # cross-entropy is the NLL of the log-softmax over the class axis, entry by entry
    np.testing.assert_allclose(
        F.cross_entropy(z, y, reduction="none").data,
        F.nll_loss(F.log_softmax(z, dim=1), y, reduction="none").data,
        rtol=1e-12,
    )


def test_nll_loss_single_sample_and_empty_batch():
    logp = Tensor([-1.0, -2.0, -3.0])
    assert F.nll_loss(logp, Tensor(np.array(1))).item() == 2.0
    assert F.nll_loss(logp, Tensor(np.array(2)), reduction="none").shape == ()
    # no losses to average: NaN (PyTorch's value), without NumPy's RuntimeWarning
    for z, y in [(numnet.zeros(0, 3), np.zeros(0, np.int64)),
                 (numnet.zeros(2, 3, 0), np.zeros((2, 0), np.int64))]:
        for loss in (F.nll_loss, F.cross_entropy):
            assert np.isnan(loss(z, Tensor(y)).item())
            assert loss(z, Tensor(y), reduction="sum").item() == 0.0
            assert loss(z, Tensor(y), reduction="none").shape == y.shape


@pytest.mark.parametrize("loss", [F.mse_loss, F.binary_cross_entropy_with_logits])
def test_losses_gradcheck(loss):
    rng = np.random.default_rng(5)
    assert gradcheck(
        lambda a, b: loss(a, b),
        [t64(rng.uniform(0.1, 0.9, (3, 2))), t64(rng.uniform(0.1, 0.9, (3, 2)))],
    )


def test_bce_and_hinge_gradcheck():
    rng = np.random.default_rng(6)
    p = t64(rng.uniform(0.1, 0.9, 6))
    y = t64(rng.uniform(0, 1, 6), False)
    assert gradcheck(lambda p: F.binary_cross_entropy(p, y), [p])
    s = t64(np.array([2.0, 0.3, -0.4, -2.0]))
    lab = t64(np.array([1.0, 1.0, -1.0, 1.0]), False)
    assert gradcheck(lambda s: F.hinge_loss(s, lab), [s])


# -- validation -------------------------------------------------------------------------------
def test_cross_entropy_errors():
    z = numnet.zeros(3, 4)
    with pytest.raises(ValueError, match=r"class label 4 is out of range for 4 classes"):
        F.cross_entropy(z, Tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="out of range"):
        F.cross_entropy(z, Tensor([0, -1, 2]))
    with pytest.raises(TypeError, match="non-integer"):
        F.cross_entropy(z, Tensor([0.0, 1.5, 2.0]))
    with pytest.raises(TypeError, match="integer dtype"):
        F.cross_entropy(z, Tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target shape \(2,\) does not match input shape"):
        F.cross_entropy(z, Tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, Tensor([0, 1, 2]), reduction="avg")


@pytest.mark.parametrize("loss", [F.nll_loss, F.cross_entropy])
@pytest.mark.parametrize("bad", [(4, 2), (2, 5), (2,), (2, 4, 1), (8,)])
def test_spatial_class_target_shape_errors_name_the_shapes(loss, bad):
    z = numnet.zeros(2, 3, 4)  # (N, C, d): targets must be (N, d) = (2, 4)
    name = loss.__name__
    pattern = (rf"{name}: target shape {re.escape(str(bad))} does not match input shape "
               r"\(2, 3, 4\) \(expected integer labels of shape \(2, 4\)")
    with pytest.raises(ValueError, match=pattern):
        loss(z, Tensor(np.zeros(bad, np.int64)))


def test_nll_loss_errors():
    with pytest.raises(ValueError, match=r"target shape \(1,\) does not match input shape \(4,\)"):
        F.nll_loss(numnet.zeros(4), Tensor(np.zeros(1, np.int64)))
    with pytest.raises(ValueError, match="class label 3 is out of range for 3 classes"):
        F.nll_loss(numnet.zeros(2, 3, 2), Tensor(np.array([[0, 1], [3, 2]])))
    with pytest.raises(TypeError, match="integer dtype"):
        F.nll_loss(numnet.zeros(2, 3, 2), Tensor(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="class dimension"):
        F.nll_loss(Tensor(1.0), Tensor(np.array(0)))


def test_shape_mismatch_errors():
    with pytest.raises(ValueError, match=r"input shape \(3,\) and target shape \(3, 1\)"):
        F.mse_loss(numnet.zeros(3), numnet.zeros(3, 1))
    with pytest.raises(ValueError, match="differ"):
        F.binary_cross_entropy_with_logits(numnet.zeros(2), numnet.zeros(3))
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.hinge_loss(numnet.zeros(2), Tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(Tensor([1.5]), Tensor([1.0]))
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\) does not match weight"):
        F.linear(numnet.zeros(2, 3), numnet.zeros(4, 5))


def test_heaviside_and_sign_forward_only():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    h = F.heaviside(x)
    np.testing.assert_array_equal(h.data, [0, 1, 1])
    assert not h.requires_grad
    np.testing.assert_array_equal(F.sign(x).data, [-1, 1, 1])
    F.heaviside(x, straight_through=True).sum().backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 1])


def test_dropout_inverted_and_seeded():
    x = numnet.ones(1000, 100)
    a = F.dropout(x, 0.3, training=True, generator=1).data
    b = F.dropout(x, 0.3, training=True, generator=1).data
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((a == 0).mean() - 0.3) < 0.01
    assert abs(a.mean() - 1.0) < 0.01  # E[dropout(x)] = x
    assert F.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.dropout(x, 1.5)
    xr = Tensor(np.ones(5), requires_grad=True)
    F.dropout(xr, 0.5, generator=0).sum().backward()
    np.testing.assert_array_equal(xr.grad, F.dropout(Tensor(np.ones(5)), 0.5, generator=0).data)


# -- PyTorch's `inplace` flags: accepted, computed out of place ----------------------------
def test_inplace_flags_are_accepted_and_never_modify_the_input():
    import numnet.nn as nn

    z = np.array([[-1.5, 0.0, 2.0], [3.0, -0.25, 0.5]], dtype=np.float32)
    for make in (
        lambda t: F.relu(t, inplace=True),
        lambda t: F.relu(t, True),
        lambda t: F.leaky_relu(t, 0.1, True),
        lambda t: nn.ReLU(inplace=True)(t),
        lambda t: nn.LeakyReLU(0.1, inplace=True)(t),
        lambda t: F.dropout(t, 0.5, True, True, generator=3),
        lambda t: nn.Dropout(0.5, inplace=True, generator=3)(t),
    ):
        x = Tensor(z.copy(), requires_grad=True)
        y = make(x)
        np.testing.assert_array_equal(x.data, z)  # the input is untouched
        y.sum().backward()
        assert x.grad is not None and x.grad.shape == z.shape
    np.testing.assert_array_equal(F.relu(Tensor(z), inplace=True).data, np.maximum(z, 0))
    np.testing.assert_allclose(
        F.leaky_relu(Tensor(z), 0.1, True).data, np.where(z > 0, z, 0.1 * z), rtol=1e-6
    )
    a = F.dropout(Tensor(z), 0.5, True, True, generator=3).data
    b = F.dropout(Tensor(z), 0.5, True, generator=3).data
    np.testing.assert_array_equal(a, b)
    assert "inplace=True" in repr(nn.ReLU(inplace=True))
    with pytest.raises(TypeError, match="inplace must be a bool"):
        F.relu(Tensor(z), inplace="yes")
    with pytest.raises(TypeError, match="inplace must be a bool"):
        nn.Dropout(0.5, 0.3)  # torch's positional order: (p, inplace)


def test_inplace_modules_round_trip_through_save_and_load(tmp_path):
    import numnet.io
    import numnet.nn as nn

    model = nn.Sequential(
        nn.Linear(3, 4, generator=0),
        nn.ReLU(inplace=True),
        nn.Dropout(0.2, True),
        nn.Linear(4, 2, generator=1),
        nn.LeakyReLU(0.2, inplace=True),
    )
    path = numnet.io.save(model, tmp_path / "m.safetensors")
    loaded = numnet.io.load(path)
    assert loaded[1].inplace and loaded[2].inplace and loaded[4].inplace
    x = Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3))
    model.eval()
    loaded.eval()
    np.testing.assert_array_equal(model(x).data, loaded(x).data)


def test_public_names_of_the_functional_package():
    import types

    names = {
        "linear", "sigmoid", "tanh", "relu", "softplus", "arctan", "leaky_relu",
        "heaviside", "sign", "softmax", "log_softmax", "mse_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "hinge_loss",
        "dropout", "conv2d", "conv1d", "max_pool2d", "avg_pool2d", "flatten",
    }
    assert set(F.__all__) == names
    for name in names:
        assert callable(getattr(F, name)) and not isinstance(getattr(F, name), types.ModuleType)
        assert getattr(numnet.nn.functional, name) is getattr(F, name)
