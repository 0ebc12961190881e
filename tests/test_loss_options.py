"""Class weights, ignore_index and label smoothing of cross_entropy / nll_loss (and the
CrossEntropyLoss / NLLLoss modules): values by hand, float64 gradchecks, the all-ignored
NaN, validation messages, and saving a model that holds a weighted loss.

The values are also cross-checked against PyTorch in tests/test_torch_crosscheck.py.
"""

import warnings

import numpy as np
import pytest

import numnet
import numnet.nn.functional as F
from numnet import Tensor, io, nn
from numnet.nn.config import from_config, to_config
from numnet.testing import float64_tensor as t64
from numnet.testing import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def _reference(z, labels, weight, ignore_index, eps, reduction):
    """PyTorch's documented formula for (N, C) logits, written out with NumPy."""
    n, c = z.shape
    w = np.ones(c) if weight is None else weight
    logp = _log_softmax(z)
    keep = labels != ignore_index
    safe = np.where(keep, labels, 0)
    s = np.where(keep, w[safe], 0.0)
    nll = -logp[np.arange(n), safe] * s
    smooth = -(logp * w).sum(axis=1) * keep
    losses = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / s.sum()


# -- values -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_the_formula(weighted, ignore_index, eps, reduction):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((8, 4)) * 2
    labels = np.array([0, 2, -100, 3, 1, 2, -100, 0]) if ignore_index == -100 else \
        np.array([0, 2, 1, 3, 1, 2, 2, 0])
    w = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    got = F.cross_entropy(t64(z, False), Tensor(labels), w, ignore_index=ignore_index,
                          reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(got.data, _reference(z, labels, w, ignore_index, eps, reduction),
                               rtol=1e-12, atol=1e-14)
    assert got.dtype == np.float64


def test_weighted_mean_divides_by_the_sum_of_target_weights():
    logp = np.log(np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1]]))
    y = np.array([0, 1, -100])
    w = np.array([2.0, 4.0])
    expected = (2 * -np.log(0.5) + 4 * -np.log(0.75)) / (2 + 4)
    np.testing.assert_allclose(F.nll_loss(t64(logp, False), y, w).item(), expected, rtol=1e-12)
    np.testing.assert_allclose(
        F.nll_loss(t64(logp, False), y, w, reduction="none").data,
        [2 * -np.log(0.5), 4 * -np.log(0.75), 0.0], rtol=1e-12)


def test_spatial_options_equal_the_flattened_ones():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((2, 3, 4, 5))
    y = rng.integers(0, 3, (2, 4, 5))
    y[0, 0, :3] = -100
    w = np.array([1.0, 0.3, 2.0])
    flat_z = np.moveaxis(z, 1, -1).reshape(-1, 3)
    for reduction in REDUCTIONS:
        kw = {"reduction": reduction, "label_smoothing": 0.1}
        got = F.cross_entropy(t64(z, False), y, w, **kw).data
        flat = F.cross_entropy(t64(flat_z, False), y.reshape(-1), w, **kw).data
        np.testing.assert_allclose(got, flat.reshape(got.shape), rtol=1e-12)


def test_probability_targets_with_weight_and_smoothing():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((5, 3))
    t = rng.dirichlet(np.ones(3), size=5)
    w = np.array([1.0, 2.0, 0.5])
    smoothed = t * 0.7 + 0.3 / 3
    expected = -(_log_softmax(z) * smoothed * w).sum(axis=1)
    for reduction, ref in (("none", expected), ("sum", expected.sum()),
                           ("mean", expected.mean())):  # 'mean' divides by N here
        got = F.cross_entropy(t64(z, False), t64(t, False), w, reduction=reduction,
                              label_smoothing=0.3)
        np.testing.assert_allclose(got.data, ref, rtol=1e-12)


def test_default_path_is_the_single_fused_primitive():
    z = numnet.randn(6, 4, generator=0, requires_grad=True)
    y = Tensor(np.array([0, 1, 2, 3, 0, 1]))
    for kw in ({}, {"ignore_index": -100}, {"ignore_index": 7}, {"label_smoothing": 0.0}):
        assert F.cross_entropy(z, y, **kw)._op == "cross_entropy_logits"
    # ignore_index in range but never hit: still the fused primitive
    assert F.cross_entropy(z, Tensor(np.array([0, 1, 2, 0, 0, 1])), ignore_index=3)._op == \
        "cross_entropy_logits"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_options_stay_finite_at_logits_of_1e4(dtype):
    z = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [0.0, 1e4, -1e4]]), dtype=dtype,
               requires_grad=True)
    y = Tensor(np.array([1, -100, 2]))
    loss = F.cross_entropy(z, y, np.array([1.0, 2.0, 0.5]), label_smoothing=0.1)
    loss.backward()
    assert loss.dtype == dtype and z.grad.dtype == dtype
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    # -log p: sample 0 (label 1) [0, 2e4, 1e4], sample 2 (label 2) [1e4, 0, 2e4]; the
    # mean divides by w_1 + w_2 = 2.5: ((1-ε) w_y (-log p_y) + ε/3 Σ_c w_c (-log p_c)) / 2.5
    expected = (0.9 * 2 * 2e4 + 0.1 / 3 * 4.5e4 + 0.9 * 0.5 * 2e4 + 0.1 / 3 * 2e4) / 2.5
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    np.testing.assert_array_equal(z.grad[1], 0)  # the ignored sample


def test_ignored_entries_with_minus_inf_scores_give_zero_not_nan():
    logp = Tensor(np.array([[-np.inf, 0.0], [np.log(0.5), np.log(0.5)]]), requires_grad=True)
    out = F.nll_loss(logp, np.array([-100, 1]), reduction="none")
    np.testing.assert_allclose(out.data, [0.0, np.log(2)], rtol=1e-6)
    z = Tensor(np.array([[-np.inf, 3.0, 1.0], [0.0, 0.0, 0.0]]), requires_grad=True)
    out = F.cross_entropy(z, np.array([-100, 1]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(out.item(), np.log(3), rtol=1e-6)
    out.backward()
    np.testing.assert_array_equal(z.grad[0], 0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("eps", [0.0, 0.1])
def test_ignored_rows_with_non_finite_scores_do_not_poison_the_loss(bad, eps):
    """PyTorch skips ignored targets: their scores (padding, masked logits) never reach
    the loss, even when they are NaN or ±inf (0 · NaN would be NaN). (NumPy may warn
    about the discarded inf - inf; the gradient of a NaN/+inf row is NaN, as in PyTorch.)"""
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 1.0], [0.3, 0.2, 0.1]])
    z[1, 1] = bad
    y = np.array([0, -100, 2])
    kept = z[[0, 2]]
    for reduction in REDUCTIONS:
        got = F.cross_entropy(t64(z, False), y, reduction=reduction, label_smoothing=eps)
        ref = _reference(kept, y[[0, 2]], None, -100, eps, reduction)
        if reduction == "none":
            ref = np.array([ref[0], 0.0, ref[1]])
        np.testing.assert_allclose(got.data, ref, rtol=1e-12)
        nll = F.nll_loss(t64(z, False), y, np.array([1.0, 2.0, 3.0]), reduction=reduction)
        assert np.all(np.isfinite(nll.data))
    zt = t64(z)
    F.cross_entropy(zt, y, label_smoothing=eps).backward()
    assert np.all(np.isfinite(zt.grad[[0, 2]]))
    if bad == -np.inf:  # a finite softmax: the ignored row's gradient is 0, as in PyTorch
        np.testing.assert_array_equal(zt.grad[1], 0)


def test_zero_target_weights_with_label_smoothing_give_nan_like_pytorch():
    """PyTorch adds the smoothing term to an NLL mean of 0 / 0: NaN, not inf."""
    z = t64(np.random.default_rng(6).standard_normal((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(z, np.array([0, 0, 0]), np.array([0.0, 1.0, 1.0]),
                               label_smoothing=0.1)
        assert np.isnan(loss.item())


# -- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 4), (2, 4, 2, 3)])
@pytest.mark.parametrize("eps", [0.0, 0.3])
@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradcheck_cross_entropy_and_nll_options(weighted, ignore_index, eps, shape, reduction):
    rng = np.random.default_rng(3)
    z = t64(rng.standard_normal(shape))
    y = rng.integers(0, shape[1], (shape[0], *shape[2:]))
    y.reshape(-1)[:3] = [1, -100, 0] if ignore_index == -100 else [1, 2, 1]
    w = rng.uniform(0.2, 3.0, shape[1]) if weighted else None
    kw = {"ignore_index": ignore_index, "reduction": reduction}
    assert gradcheck(lambda z: F.cross_entropy(z, y, w, label_smoothing=eps, **kw), [z])
    assert gradcheck(lambda z: F.nll_loss(F.log_softmax(z, dim=1), y, w, **kw), [z])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_probability_targets_with_options(reduction):
    rng = np.random.default_rng(4)
    z = t64(rng.standard_normal((2, 3, 2, 2)))
    t = t64(np.ascontiguousarray(np.moveaxis(rng.dirichlet(np.ones(3), size=(2, 2, 2)), -1, 1)))
    w = np.array([0.5, 1.5, 2.0])
    assert gradcheck(
        lambda z, t: F.cross_entropy(z, t, w, reduction=reduction, label_smoothing=0.2), [z, t]
    )


# -- nothing to average ----------------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"weight": np.array([1.0, 2.0, 3.0])},
                                {"label_smoothing": 0.2},
                                {"weight": np.array([1.0, 2.0, 3.0]), "label_smoothing": 0.2}])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_target_ignored(kw, dtype):
    z = Tensor(np.random.default_rng(5).standard_normal((4, 3, 2)), dtype=dtype,
               requires_grad=True)
    y = np.full((4, 2), -100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean = F.cross_entropy(z, y, **kw)
        assert np.isnan(mean.item()) and mean.dtype == dtype
        mean.backward()
        np.testing.assert_array_equal(z.grad, 0)  # PyTorch's gradient too
        assert F.cross_entropy(z, y, reduction="sum", **kw).item() == 0.0
        np.testing.assert_array_equal(F.cross_entropy(z, y, reduction="none", **kw).data, 0)
        if "label_smoothing" not in kw:
            z.grad = None
            nll = F.nll_loss(z, y, kw.get("weight"))
            assert np.isnan(nll.item())
            nll.backward()
            np.testing.assert_array_equal(z.grad, 0)


def test_zero_weights_and_empty_batch_give_nan_without_warnings():
    z = t64(np.random.default_rng(6).standard_normal((3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(F.cross_entropy(z, np.array([0, 0, 0]), np.array([0.0, 1.0, 1.0])).item())
        assert np.isnan(F.nll_loss(z, np.array([0, 0, 0]), np.array([0.0, 1.0, 1.0])).item())
        empty = numnet.zeros(0, 3)
        assert np.isnan(F.cross_entropy(empty, np.zeros(0, np.int64), np.ones(3)).item())
        assert np.isnan(F.cross_entropy(empty, np.zeros(0, np.int64), label_smoothing=0.1).item())


# -- validation -------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
def test_weight_validation(loss):
    name = loss.__name__
    z = numnet.zeros(2, 3)
    y = np.array([0, 1])
    with pytest.raises(ValueError, match=rf"{name}: weight has shape \(4,\), expected \(3,\).*"
                                         r"input of shape \(2, 3\)"):
        loss(z, y, np.ones(4))
    with pytest.raises(ValueError, match=r"weight must be 1-D .* got shape \(1, 3\)"):
        loss(z, y, np.ones((1, 3)))
    with pytest.raises(TypeError, match="weight must be floating point, got dtype int64"):
        loss(z, y, np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="weight has dtype float64 but input has dtype float32"):
        loss(z, y, Tensor(np.ones(3), dtype=np.float64))
    with pytest.raises(ValueError, match="not differentiable with respect to the class weights"):
        loss(z, y, Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(TypeError, match=rf"{name}: the third positional argument is weight.*"
                                        r"reduction='sum'"):
        loss(z, y, "sum")
    # an array-like in another float dtype is cast; negative weights are allowed (PyTorch)
    out = loss(z, y, np.array([-1.0, 2.0, 0.5]), reduction="none")
    assert out.dtype == np.float32


def test_ignore_index_and_label_validation():
    z = numnet.zeros(3, 4)
    with pytest.raises(ValueError, match=r"class label -1 is out of range for 4 classes .*"
                                         r"or equal ignore_index=-100"):
        F.cross_entropy(z, np.array([0, -1, -100]))
    with pytest.raises(ValueError, match="class label 4 is out of range"):
        F.nll_loss(z, np.array([0, 4, 1]), ignore_index=-1)
    with pytest.raises(ValueError, match="class label -100 is out of range"):
        F.cross_entropy(z, np.array([0, -100, 1]), ignore_index=-1)
    # labels equal to a custom out-of-range ignore_index are accepted
    assert np.isfinite(F.cross_entropy(z, np.array([0, 9, 1]), ignore_index=9).item())
    with pytest.raises(TypeError, match="ignore_index must be an int, got 1.5"):
        F.cross_entropy(z, np.array([0, 1, 2]), ignore_index=1.5)
    probs = numnet.ones(3, 4) / 4
    with pytest.raises(ValueError, match="ignore_index=0 is not supported for probability"):
        F.cross_entropy(z, probs, ignore_index=0)
    assert np.isfinite(F.cross_entropy(z, probs, ignore_index=-1).item())


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_label_smoothing_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got"):
        F.cross_entropy(numnet.zeros(2, 3), np.array([0, 1]), label_smoothing=bad)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label_smoothing must be in \[0, 1\]"):
        nn.CrossEntropyLoss(label_smoothing=bad)


def test_module_argument_validation():
    with pytest.raises(TypeError, match=r"first positional argument is weight.*"
                                        r"CrossEntropyLoss\(reduction='sum'\)"):
        nn.CrossEntropyLoss("sum")
    with pytest.raises(TypeError, match=r"NLLLoss\(reduction='none'\)"):
        nn.NLLLoss("none")
    with pytest.raises(TypeError, match="positional"):
        nn.CrossEntropyLoss(None, -100)
    with pytest.raises(ValueError, match=r"NLLLoss: weight must be 1-D"):
        nn.NLLLoss(np.ones((2, 2)))
    with pytest.raises(TypeError, match="weight must be floating point"):
        nn.CrossEntropyLoss([1, 2, 3])
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"weight has shape \(3,\), expected \(4,\)"):
        nn.CrossEntropyLoss([1.0, 2.0, 3.0])(numnet.zeros(2, 4), np.array([0, 1]))


# -- modules: the weight is a non-trainable tensor stored in the config ---------------------
def test_module_weight_is_not_a_parameter_and_follows_the_input_dtype():
    w = np.array([1.0, 2.0, 0.5])
    loss = nn.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.1)
    w[0] = 99.0  # the module keeps a copy
    assert isinstance(loss.weight, Tensor) and not loss.weight.requires_grad
    np.testing.assert_array_equal(loss.weight.data, [1.0, 2.0, 0.5])
    assert list(loss.parameters()) == [] and len(loss.state_dict()) == 0
    z = numnet.randn(4, 3, generator=1)
    y = np.array([0, 1, 2, 2])
    out = loss(z, y)
    assert out.dtype == np.float32
    ref = F.cross_entropy(z, y, np.array([1.0, 2.0, 0.5]), ignore_index=1, label_smoothing=0.1)
    assert out.item() == ref.item()
    assert "ignore_index=1" in repr(loss) and "label_smoothing=0.1" in repr(loss)


def test_config_round_trip_keeps_the_weight_exactly():
    w = np.array([0.1, 1 / 3, 7.0], dtype=np.float32)
    loss = nn.CrossEntropyLoss(Tensor(w), ignore_index=2, reduction="sum", label_smoothing=0.05)
    back = from_config(to_config(loss))
    assert back.weight.dtype == np.float32
    np.testing.assert_array_equal(back.weight.data, w)
    assert (back.ignore_index, back.reduction, back.label_smoothing) == (2, "sum", 0.05)
    nll = from_config(to_config(nn.NLLLoss(np.array([1.0, 2.0]), reduction="none")))
    assert nll.weight.dtype == np.float64 and nll.reduction == "none"
    np.testing.assert_array_equal(nll.weight.data, [1.0, 2.0])
    assert from_config(to_config(nn.CrossEntropyLoss())).weight is None


def test_config_describes_the_module_s_copy_of_the_weight():
    """The module copies the weight; its config must not follow the caller's array."""
    w = np.array([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(w, ignore_index=1)
    kw_loss = nn.NLLLoss(weight=w)
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.CrossEntropyLoss(w))
    w[:] = 0.0  # the caller reuses its buffer
    for m in (loss, kw_loss):
        np.testing.assert_array_equal(from_config(to_config(m)).weight.data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(from_config(to_config(model))[1].weight.data, [1.0, 2.0, 3.0])
    loss.weight.data[0] = 9.0  # an in-place change of the module's weight is described
    np.testing.assert_array_equal(from_config(to_config(loss)).weight.data, [9.0, 2.0, 3.0])
    assert from_config(to_config(loss)).ignore_index == 1

    class Balanced(nn.CrossEntropyLoss):  # a subclass with other constructor arguments
        def __init__(self, n):
            super().__init__(np.arange(1.0, n + 1))

    back = from_config(to_config(Balanced(3)), classes={"Balanced": Balanced})
    np.testing.assert_array_equal(back.weight.data, [1.0, 2.0, 3.0])


def test_save_and_load_a_model_holding_a_weighted_loss(tmp_path):
    w = np.array([0.25, 3.0, 1.0 / 7.0])
    model = nn.Sequential(nn.Linear(4, 3, generator=0),
                          nn.CrossEntropyLoss(w, ignore_index=0, label_smoothing=0.2))
    back = io.load(io.save(model, tmp_path / "m.safetensors"))
    assert list(back.state_dict()) == ["0.weight", "0.bias"]  # the class weight is no parameter
    np.testing.assert_array_equal(back[1].weight.data, w)
    assert back[1].weight.dtype == np.float64
    x = numnet.randn(5, 4, generator=2)
    y = np.array([0, 1, 2, 1, 0])
    assert back[1](back[0](x), y).item() == model[1](model[0](x), y).item()
