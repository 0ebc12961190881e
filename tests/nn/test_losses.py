"""Class weights, ignore_index and label smoothing of cross_entropy / nll_loss (and the
CrossEntropyLoss / NLLLoss modules): values by hand, float64 gradchecks, the all-ignored
NaN, validation messages, and saving a model that holds a weighted loss. Likewise the
weight and pos_weight of binary_cross_entropy(_with_logits) and BCELoss /
BCEWithLogitsLoss.

The values are also cross-checked against PyTorch in tests/ops/test_torch_crosscheck.py.
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


# == binary cross-entropy: weight and pos_weight ================================================
def _log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def _bce_reference(z, y, weight, pos_weight, reduction, logits=True):
    """PyTorch's documented formula ``-w [p_w y log σ(z) + (1 - y) log(1 - σ(z))]`` in NumPy
    (``log σ(z) = -log(1 + e^{-z})``, ``log(1 - σ(z)) = log σ(-z)``; for probabilities the
    logs are clamped at -100)."""
    if logits:
        log_p, log_q = _log_sigmoid(z), _log_sigmoid(-z)
    else:
        with np.errstate(divide="ignore"):
            log_p, log_q = np.maximum(np.log(z), -100), np.maximum(np.log1p(-z), -100)
    pw = 1.0 if pos_weight is None else pos_weight
    w = 1.0 if weight is None else weight
    losses = -w * (pw * y * log_p + (1 - y) * log_q)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


BIN_SHAPE = (4, 3, 5)  # (N, C, L): pos_weight of shape (C, 1) is per class
WEIGHT_SHAPES = [None, (), (5,), (3, 1), (4, 1, 1), (4, 3, 5)]
POS_WEIGHT_SHAPES = [None, (5,), (3, 1), (1,), (4, 3, 5)]


def _bin_case(seed, logits=True):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(BIN_SHAPE) * 3 if logits else rng.uniform(0.02, 0.98, BIN_SHAPE)
    y = rng.uniform(0, 1, BIN_SHAPE)
    y.reshape(-1)[::3] = np.round(y.reshape(-1)[::3])  # hard and soft targets
    return z, y


def _maybe(shape, seed, low=0.2, high=3.0):
    return None if shape is None else np.random.default_rng(seed).uniform(low, high, shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pw_shape", POS_WEIGHT_SHAPES)
@pytest.mark.parametrize("w_shape", WEIGHT_SHAPES)
def test_bce_with_logits_weight_and_pos_weight_match_the_formula(w_shape, pw_shape, reduction):
    z, y = _bin_case(10)
    w, pw = _maybe(w_shape, 11), _maybe(pw_shape, 12, 0.1, 4.0)
    got = F.binary_cross_entropy_with_logits(t64(z, False), t64(y, False), w,
                                             reduction=reduction, pos_weight=pw)
    assert got.dtype == np.float64 and got.shape == (BIN_SHAPE if reduction == "none" else ())
    np.testing.assert_allclose(got.data, _bce_reference(z, y, w, pw, reduction),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", WEIGHT_SHAPES)
def test_bce_weight_matches_the_formula(w_shape, reduction):
    p, y = _bin_case(13, logits=False)
    p.reshape(-1)[:2] = [0.0, 1.0]  # the clamped logs
    w = _maybe(w_shape, 14)
    got = F.binary_cross_entropy(t64(p, False), t64(y, False), w, reduction=reduction)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data, _bce_reference(p, y, w, None, reduction, logits=False),
                               rtol=1e-12, atol=1e-14)


def test_bce_mean_divides_by_the_number_of_elements_not_the_weights():
    z = np.array([0.0, 0.0])
    y = np.array([1.0, 0.0])
    w = np.array([3.0, 1.0])
    got = F.binary_cross_entropy_with_logits(t64(z, False), y, w).item()
    np.testing.assert_allclose(got, (3 + 1) * np.log(2) / 2, rtol=1e-14)
    got = F.binary_cross_entropy(t64(np.full(2, 0.5), False), y, w).item()
    np.testing.assert_allclose(got, (3 + 1) * np.log(2) / 2, rtol=1e-14)
    # pos_weight scales the positive term only
    got = F.binary_cross_entropy_with_logits(t64(z, False), y, reduction="none",
                                             pos_weight=np.array([5.0])).data
    np.testing.assert_allclose(got, [5 * np.log(2), np.log(2)], rtol=1e-14)


def test_bce_default_path_is_the_single_fused_primitive():
    z = numnet.randn(4, 3, generator=0, requires_grad=True)
    y = numnet.rand(4, 3, generator=1)
    out = F.binary_cross_entropy_with_logits(z, y, None, reduction="none", pos_weight=None)
    assert out._op == "binary_cross_entropy_logits"
    mean = F.binary_cross_entropy_with_logits(z, y)
    assert mean._op == "mean" and mean._parents[0]._op == "binary_cross_entropy_logits"
    p = numnet.rand(4, 3, generator=2, requires_grad=True)
    assert F.binary_cross_entropy(p, y, reduction="none")._op == "binary_cross_entropy_probs"
    # pos_weight of ones gives the fused primitive's values
    np.testing.assert_allclose(
        F.binary_cross_entropy_with_logits(z, y, reduction="none", pos_weight=np.ones(3)).data,
        out.data, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pos_weight_and_weight_at_logits_of_1e3(dtype):
    z = Tensor(np.array([[1e3, -1e3, 1e3, -1e3], [0.0, 1e3, -1e3, 50.0]]), dtype=dtype,
               requires_grad=True)
    y = Tensor(np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 0.3, 0.7, 1.0]]), dtype=dtype,
               requires_grad=True)
    pw = np.array([2.0, 3.0, 0.5, 4.0])
    w = np.array([[1.0], [2.0]])
    out = F.binary_cross_entropy_with_logits(z, y, w, reduction="none", pos_weight=pw)
    out.sum().backward()
    for a in (out.data, z.grad, y.grad):
        assert a.dtype == dtype and np.all(np.isfinite(a))
    # ℓ = w [p_w y softplus(-z) + (1 - y) softplus(z)]
    expected = [[0.0, 3e3, 1e3, 0.0],
                [2 * 2 * np.log(2), 2 * 0.7 * 1e3, 2 * 0.5 * 0.7 * 1e3, 2 * 4 * np.exp(-50.0)]]
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=0)  # tiny values included
    # δz = w [(1 - y) σ(z) - p_w y σ(-z)];  δy = w [p_w softplus(-z) - softplus(z)]
    grad_z = [[0.0, -3.0, 1.0, 0.0],
              [-2 * 2 * 0.5, 2 * 0.7, -2 * 0.5 * 0.7, -2 * 4 * np.exp(-50.0)]]
    grad_y = [[-1e3, 3e3, -1e3, 4e3], [2 * np.log(2), -2e3, 2 * 0.5 * 1e3, -2 * 50.0]]
    np.testing.assert_allclose(z.grad, grad_z, rtol=1e-6, atol=1e-30)
    np.testing.assert_allclose(y.grad, grad_y, rtol=1e-6)


def test_pos_weight_path_has_no_cancellation_for_confident_logits():
    """Both terms are softplus of the right sign: e^{-40}-sized losses stay exact."""
    z = t64(np.array([40.0, -40.0, 30.0]), False)
    y = np.array([1.0, 0.0, 1.0])
    got = F.binary_cross_entropy_with_logits(z, y, reduction="none",
                                             pos_weight=np.array([2.0])).data
    np.testing.assert_allclose(got, [2 * np.log1p(np.exp(-40.0)), np.log1p(np.exp(-40.0)),
                                     2 * np.log1p(np.exp(-30.0))], rtol=1e-14)


# -- gradients ---------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pw_shape", [None, (5,), (3, 1)])
@pytest.mark.parametrize("w_shape", [None, (5,), (4, 1, 1), (4, 3, 5)])
def test_gradcheck_bce_with_logits_weight_and_pos_weight(w_shape, pw_shape, reduction):
    z, y = _bin_case(20)
    w, pw = _maybe(w_shape, 21), _maybe(pw_shape, 22, 0.1, 4.0)
    assert gradcheck(
        lambda z, y: F.binary_cross_entropy_with_logits(z, y, w, reduction=reduction,
                                                        pos_weight=pw),
        [t64(z), t64(y)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("w_shape", [None, (), (3, 1), (4, 3, 5)])
def test_gradcheck_bce_weight(w_shape, reduction):
    p, y = _bin_case(23, logits=False)
    w = _maybe(w_shape, 24)
    assert gradcheck(lambda p, y: F.binary_cross_entropy(p, y, w, reduction=reduction),
                     [t64(p), t64(y)])


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", [F.binary_cross_entropy, F.binary_cross_entropy_with_logits])
def test_bce_weight_validation(loss):
    name = loss.__name__
    x = numnet.full((2, 3), 0.5)
    y = numnet.ones(2, 3)
    with pytest.raises(TypeError, match=rf"{name}: the third positional argument is weight.*"
                                        r"reduction='sum'"):
        loss(x, y, "sum")
    with pytest.raises(TypeError, match="positional"):
        loss(x, y, None, "sum")
    for shape in [(2,), (3, 3), (2, 2, 3), (1, 2, 3)]:  # incl. shapes that would enlarge it
        with pytest.raises(ValueError, match=rf"{name}: weight of shape {re_shape(shape)} does "
                                             r"not broadcast to the input's shape \(2, 3\)"):
            loss(x, y, np.ones(shape))
    with pytest.raises(TypeError, match="weight must be floating point, got dtype int64"):
        loss(x, y, [1, 2, 3])
    with pytest.raises(TypeError, match="weight has dtype float64 but input has dtype float32"):
        loss(x, y, Tensor(np.ones(3), dtype=np.float64))
    with pytest.raises(ValueError, match=rf"{name}: weight requires grad, but the loss is not "
                                         r"differentiable with respect to weight"):
        loss(x, y, Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(ValueError, match=r"input shape \(2, 3\) and target shape \(3,\) differ"):
        loss(x, numnet.ones(3), np.ones(3))
    # array-likes in another float dtype are cast; negative weights are allowed (PyTorch)
    out = loss(x, y, [-1.0, 2.0, 0.5], reduction="none")
    assert out.dtype == np.float32 and out.shape == (2, 3)


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_pos_weight_validation():
    z = numnet.zeros(2, 3)
    y = numnet.ones(2, 3)
    loss = F.binary_cross_entropy_with_logits
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight of shape "
                                         r"\(2,\) does not broadcast to the input's shape "
                                         r"\(2, 3\).*shape \(3,\)"):
        loss(z, y, pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(1, 2, 3\)"):
        loss(z, y, pos_weight=np.ones((1, 2, 3)))
    with pytest.raises(TypeError, match="pos_weight must be floating point"):
        loss(z, y, pos_weight=np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="pos_weight has dtype float64 but input has dtype "
                                        "float32"):
        loss(z, y, pos_weight=Tensor(np.ones(3), dtype=np.float64))
    with pytest.raises(ValueError, match="pos_weight requires grad, but the loss is not "
                                         "differentiable with respect to pos_weight"):
        loss(z, y, pos_weight=Tensor(np.ones(3), requires_grad=True))
    # a Tensor of the input's dtype is used as it is
    out = loss(z, y, Tensor(np.full(3, 2.0), dtype=np.float32), reduction="sum",
               pos_weight=Tensor(np.full(3, 3.0), dtype=np.float32))
    np.testing.assert_allclose(out.item(), 6 * 2 * 3 * np.log(2), rtol=1e-6)


def test_bce_module_argument_validation():
    with pytest.raises(TypeError, match=r"first positional argument is weight.*"
                                        r"BCELoss\(reduction='sum'\)"):
        nn.BCELoss("sum")
    with pytest.raises(TypeError, match=r"BCEWithLogitsLoss\(reduction='none'\)"):
        nn.BCEWithLogitsLoss("none")
    with pytest.raises(TypeError, match="positional"):
        nn.BCEWithLogitsLoss(None, "sum")
    with pytest.raises(TypeError, match="BCELoss: weight must be floating point"):
        nn.BCELoss([1, 2])
    with pytest.raises(TypeError, match="BCEWithLogitsLoss: pos_weight must be floating point"):
        nn.BCEWithLogitsLoss(pos_weight=[1, 2])
    with pytest.raises(ValueError, match="BCEWithLogitsLoss: pos_weight requires grad"):
        nn.BCEWithLogitsLoss(pos_weight=Tensor(np.ones(2), requires_grad=True))
    with pytest.raises(ValueError, match="reduction"):
        nn.BCELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not broadcast to the "
                                         r"input's shape \(2, 4\)"):
        nn.BCEWithLogitsLoss([1.0, 2.0, 3.0])(numnet.zeros(2, 4), numnet.zeros(2, 4))


# -- modules: weight and pos_weight are non-trainable tensors stored in the config ---------------
def test_bce_modules_keep_copies_that_follow_the_input_dtype():
    w = np.array([[1.0], [2.0]])
    pw = np.array([0.5, 3.0, 1.5])
    loss = nn.BCEWithLogitsLoss(w, reduction="sum", pos_weight=pw)
    w[0], pw[0] = 99.0, 99.0  # the module keeps copies
    assert isinstance(loss.weight, Tensor) and not loss.weight.requires_grad
    np.testing.assert_array_equal(loss.weight.data, [[1.0], [2.0]])
    np.testing.assert_array_equal(loss.pos_weight.data, [0.5, 3.0, 1.5])
    assert list(loss.parameters()) == [] and len(loss.state_dict()) == 0
    z = numnet.randn(2, 3, generator=3)
    y = numnet.rand(2, 3, generator=4)
    out = loss(z, y)
    assert out.dtype == np.float32
    ref = F.binary_cross_entropy_with_logits(z, y, np.array([[1.0], [2.0]]), reduction="sum",
                                             pos_weight=np.array([0.5, 3.0, 1.5]))
    assert out.item() == ref.item()
    assert "weight=<shape (2, 1)>" in repr(loss) and "pos_weight=<shape (3,)>" in repr(loss)
    p = F.sigmoid(z)
    bce = nn.BCELoss(Tensor(np.array([1.0, 0.5, 2.0])), reduction="none")
    np.testing.assert_array_equal(
        bce(p, y).data, F.binary_cross_entropy(p, y, np.array([1.0, 0.5, 2.0]),
                                               reduction="none").data)
    assert repr(nn.BCELoss()) == "BCELoss(reduction='mean')"


def test_bce_config_round_trip_describes_the_module_s_copies():
    w = np.array([0.1, 1 / 3, 7.0], dtype=np.float32)
    pw = np.array([[2.0], [0.25]])
    loss = nn.BCEWithLogitsLoss(Tensor(w), reduction="none", pos_weight=pw)
    kw_loss = nn.BCELoss(weight=w)
    w[:], pw[:] = 0.0, 0.0  # the caller reuses its buffers
    back = from_config(to_config(loss))
    assert back.weight.dtype == np.float32 and back.pos_weight.dtype == np.float64
    np.testing.assert_array_equal(back.weight.data, np.array([0.1, 1 / 3, 7.0], np.float32))
    np.testing.assert_array_equal(back.pos_weight.data, [[2.0], [0.25]])
    assert back.reduction == "none"
    np.testing.assert_array_equal(from_config(to_config(kw_loss)).weight.data,
                                  np.array([0.1, 1 / 3, 7.0], np.float32))
    plain = from_config(to_config(nn.BCEWithLogitsLoss()))
    assert plain.weight is None and plain.pos_weight is None


def test_save_and_load_a_model_holding_a_weighted_bce_loss(tmp_path):
    w = np.array([0.25, 3.0, 1.0 / 7.0])
    pw = np.array([1.0 / 3.0, 2.0, 5.0])
    model = nn.Sequential(nn.Linear(4, 3, generator=0),
                          nn.BCEWithLogitsLoss(w, pos_weight=pw))
    back = io.load(io.save(model, tmp_path / "m.safetensors"))
    assert list(back.state_dict()) == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(back[1].weight.data, w)
    np.testing.assert_array_equal(back[1].pos_weight.data, pw)
    x = numnet.randn(5, 4, generator=2)
    y = numnet.rand(5, 3, generator=5)
    assert back[1](back[0](x), y).item() == model[1](model[0](x), y).item()
