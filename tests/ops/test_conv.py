"""Convolution and pooling: values against direct loops, seed examples, errors, modules.

Gradients are checked in ``test_gradcheck_ops.py`` (CASES) and against PyTorch in
``test_conv_torch.py``; this file needs only NumPy (and hypothesis).
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numnet
import numnet.nn as nn
from numnet import ops
from numnet.nn.config import from_config, to_config
from numnet.ops import conv as conv_mod
from numnet.testing import gradcheck


def f64(a, requires_grad=True):
    return numnet.Tensor(
        np.asarray(a, dtype=np.float64), dtype=np.float64, requires_grad=requires_grad
    )


def naive_conv2d(x, w, b=None, stride=(1, 1), pad=(0, 0), dilation=(1, 1), groups=1):
    """Seed 001's formula, literally: ``y[n,c,i,j] = Σ_k Σ_pq W[c,k,p,q] x[n,k,s·i+d·p,...]``."""
    n, cin, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    xp = np.zeros((n, cin, h + 2 * pad[0], wd + 2 * pad[1]))
    xp[:, :, pad[0] : pad[0] + h, pad[1] : pad[1] + wd] = x
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, cout, ho, wo))
    og = cout // groups
    for c, i, j in itertools.product(range(cout), range(ho), range(wo)):
        g = c // og
        for k, p, q in itertools.product(range(cg), range(kh), range(kw)):
            y[:, c, i, j] += (
                w[c, k, p, q]
                * xp[
                    :, g * cg + k, stride[0] * i + dilation[0] * p, stride[1] * j + dilation[1] * q
                ]
            )
    if b is not None:
        y += b[None, :, None, None]
    return y


GEOMETRIES = [  # (N, C_in, H, W, C_out, kH, kW, stride, padding, dilation, groups)
    (2, 3, 5, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (1, 2, 7, 6, 3, 2, 3, (2, 1), (0, 2), (1, 1), 1),
    (2, 4, 9, 8, 6, 3, 2, (2, 3), (1, 0), (2, 1), 2),
    (1, 3, 5, 5, 3, 1, 1, (1, 1), (0, 0), (1, 1), 3),
    (3, 1, 6, 4, 2, 5, 3, (1, 1), (2, 1), (1, 1), 1),
]


@pytest.mark.parametrize("geom", GEOMETRIES)
def test_conv2d_matches_the_seed_formula(geom):
    n, c, h, w, co, kh, kw, s, p, d, g = geom
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((co, c // g, kh, kw))
    b = rng.standard_normal(co)
    y = ops.conv2d(f64(x), f64(wt), f64(b), stride=s, padding=p, dilation=d, groups=g)
    np.testing.assert_allclose(y.data, naive_conv2d(x, wt, b, s, p, d, g), atol=1e-12)


def test_conv2d_hand_example():
    # One 3×3 image, one 2×2 filter, bias 1 (seed 001, l = 0.5 "width", no padding):
    # x = [[1, 2, 0],      W = [[1, 0],
    #      [0, 1, 3],           [-1, 2]]
    #      [2, 0, 1]]
    # y_00 = 1·1 + 2·0 + 0·(-1) + 1·2 + 1 = 4      y_01 = 2·1 + 0·0 + 1·(-1) + 3·2 + 1 = 8
    # y_10 = 0·1 + 1·0 + 2·(-1) + 0·2 + 1 = -1     y_11 = 1·1 + 3·0 + 0·(-1) + 1·2 + 1 = 4
    x = numnet.Tensor([[[[1, 2, 0], [0, 1, 3], [2, 0, 1]]]], dtype=np.float64)
    w = numnet.Tensor([[[[1, 0], [-1, 2]]]], dtype=np.float64)
    y = ops.conv2d(x, w, numnet.Tensor([1.0], dtype=np.float64))
    np.testing.assert_array_equal(y.data[0, 0], [[4, 8], [-1, 4]])
    # stride 2, padding 1: windows at rows/cols 0 and 2 of the zero-padded 5×5 input
    #   (0,0): [[0,0],[0,1]] -> 1·2 = 2            (0,2): [[0,0],[2,0]] -> 2·(-1) = -2
    #   (2,0): [[0,0],[0,2]] -> 2·2 = 4            (2,2): [[1,3],[0,1]] -> 1·1 + 1·2 = 3
    y = ops.conv2d(x, w, stride=2, padding=1)
    np.testing.assert_array_equal(y.data[0, 0], [[2, -2], [4, 3]])


def test_padding_same_keeps_the_size_and_pads_like_pytorch():
    x = f64(np.arange(2 * 6 * 7, dtype=float).reshape(1, 2, 6, 7))
    w = f64(np.random.default_rng(1).standard_normal((3, 2, 4, 3)))
    y = ops.conv2d(x, w, padding="same")
    assert y.shape == (1, 3, 6, 7)
    # even kernel: PyTorch pads 1 before and 2 after along H
    xp = np.pad(x.data, ((0, 0), (0, 0), (1, 2), (1, 1)))
    np.testing.assert_allclose(y.data, naive_conv2d(xp, w.data), atol=1e-12)
    assert ops.conv2d(x, w, padding="valid").shape == (1, 3, 3, 5)


def test_conv1d_is_seed_000_correlation_and_convolve1d_the_true_convolution():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(11), rng.standard_normal(4)
    y = ops.conv1d(f64(x[None, None]), f64(w[None, None]))
    np.testing.assert_allclose(y.data[0, 0], np.correlate(x, w, mode="valid"), atol=1e-12)
    # seed 000: (w ∗ x)_i = Σ_j w_j x_{i-j}, NumPy's convolve
    y = ops.convolve1d(f64(x[None, None]), f64(w[None, None]))
    np.testing.assert_allclose(y.data[0, 0], np.convolve(x, w, mode="valid"), atol=1e-12)


def test_convolve2d_equals_conv2d_with_a_flipped_kernel_and_has_gradients():
    rng = np.random.default_rng(3)
    x, w = f64(rng.standard_normal((2, 2, 6, 5))), f64(rng.standard_normal((3, 2, 3, 2)))
    flipped = f64(w.data[:, :, ::-1, ::-1].copy(), requires_grad=False)
    np.testing.assert_allclose(
        ops.convolve2d(x, w, padding=1).data, ops.conv2d(x, flipped, padding=1).data
    )
    assert gradcheck(lambda a, b: ops.convolve2d(a, b, stride=2), [x, w])


def test_conv1d_gradcheck_and_multichannel_filter_bank():
    rng = np.random.default_rng(4)
    x, w, b = (
        f64(rng.standard_normal((2, 3, 9))),
        f64(rng.standard_normal((4, 3, 3))),
        f64(rng.standard_normal(4)),
    )
    assert gradcheck(
        lambda a, k, c: ops.conv1d(a, k, c, stride=2, padding=1, dilation=2), [x, w, b]
    )
    # y^j = Σ_i w^{ij} ⋆ x^i + b_j (seed 000's filter bank)
    y = ops.conv1d(x, w, b)
    expected = np.stack(
        [
            sum(np.correlate(x.data[n, i], w.data[j, i], "valid") for i in range(3)) + b.data[j]
            for n in range(2)
            for j in range(4)
        ]
    ).reshape(2, 4, -1)
    np.testing.assert_allclose(y.data, expected, atol=1e-12)


def test_max_pool_is_seed_001_block_max_and_routes_ties_to_the_first():
    x = numnet.Tensor(
        [[[[1, 3, 2, 2], [3, 0, 2, 2], [0, 0, -1, 5], [0, 0, 4, -2]]]],
        dtype=np.float32,
        requires_grad=True,
    )
    y = ops.max_pool2d(x, kernel_size=2)
    np.testing.assert_array_equal(y.data[0, 0], [[3, 2], [0, 5]])
    y.backward(np.ones((1, 1, 2, 2), np.float32))
    # each block's gradient goes to its first maximum in row-major order
    np.testing.assert_array_equal(
        x.grad[0, 0], [[0, 1, 1, 0], [0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]]
    )


def test_avg_pool_values():
    x = numnet.Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(
        ops.avg_pool2d(x, kernel_size=2).data[0, 0], [[2.5, 4.5], [10.5, 12.5]]
    )


def test_float32_in_float32_out_including_gradients():
    x = numnet.Tensor(np.random.default_rng(0).random((2, 3, 8, 8)), requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1, generator=0)
    y = ops.avg_pool2d(ops.max_pool2d(conv(x), kernel_size=2), kernel_size=2)
    y.sum().backward()
    assert y.dtype == np.float32
    assert x.grad.dtype == np.float32 and conv.weight.grad.dtype == np.float32
    assert conv.bias.grad.dtype == np.float32


# -- translation equivariance (seed 000: the layer commutes with shifts) ---------------------
@settings(max_examples=25, deadline=None)
@given(
    st.integers(-2, 2),
    st.integers(-2, 2),
    st.integers(0, 2**31 - 1),
    st.sampled_from([1, 3]),
    st.sampled_from([3, 5]),
)
def test_conv2d_commutes_with_translations(dy, dx, seed, c_in, k):
    rng = np.random.default_rng(seed)
    x = np.zeros((1, c_in, 14, 14))
    x[:, :, 5:9, 5:9] = rng.standard_normal((1, c_in, 4, 4))  # content away from the border
    w, b = rng.standard_normal((2, c_in, k, k)), rng.standard_normal(2)

    def layer(a):
        return ops.conv2d(f64(a, False), f64(w, False), f64(b, False), padding="same").data

    def shift(a):
        return np.roll(a, (dy, dx), axis=(2, 3))

    np.testing.assert_allclose(layer(shift(x)), shift(layer(x)), atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(-2, 2), st.integers(-2, 2), st.integers(0, 2**31 - 1))
def test_max_pool_commutes_with_shifts_by_whole_blocks(by, bx, seed):
    x = np.zeros((1, 2, 16, 16))
    x[:, :, 6:10, 6:10] = np.random.default_rng(seed).standard_normal((1, 2, 4, 4))
    pool = nn.MaxPool2d(2)
    shifted = pool(f64(np.roll(x, (2 * by, 2 * bx), axis=(2, 3)), False)).data
    np.testing.assert_array_equal(shifted, np.roll(pool(f64(x, False)).data, (by, bx), (2, 3)))


# -- errors name the shapes -------------------------------------------------------------------
@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs,match",
    [
        ((3, 8, 8), (4, 3, 3, 3), {}, r"\(N, C_in, H, W\).*\(3, 8, 8\)"),
        ((2, 2, 8, 8), (4, 3, 3, 3), {}, r"\(2, 2, 8, 8\).*2 channels.*\(4, 3, 3, 3\)"),
        ((2, 3, 4, 4), (4, 3, 7, 7), {"padding": 1}, r"kernel.*\(7, 7\).*padded input.*\(6, 6\)"),
        ((2, 3, 8, 8), (4, 3, 3), {}, r"weight.*\(4, 3, 3\)"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"groups": 2}, r"groups=2.*\(2, 3, 8, 8\)"),
    ],
)
def test_conv2d_errors_name_the_shapes(x_shape, w_shape, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.conv2d(numnet.zeros(*x_shape), numnet.zeros(*w_shape), **kwargs)


@pytest.mark.parametrize("kwargs", [{"stride": 0}, {"stride": (1, -1)}, {"dilation": 0}])
def test_conv2d_rejects_non_positive_stride_and_dilation(kwargs):
    with pytest.raises(ValueError, match="positive"):
        ops.conv2d(numnet.zeros(1, 1, 5, 5), numnet.zeros(1, 1, 3, 3), **kwargs)


def test_other_bad_arguments():
    x = numnet.zeros(1, 2, 6, 6)
    with pytest.raises(ValueError, match="'same' needs stride 1"):
        ops.conv2d(x, numnet.zeros(2, 2, 3, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="non-negative"):
        ops.conv2d(x, numnet.zeros(2, 2, 3, 3), padding=-1)
    with pytest.raises(ValueError, match=r"bias of shape \(3,\)"):
        ops.conv2d(x, numnet.zeros(2, 2, 3, 3), numnet.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, C_in, L\).*\(2, 6, 6, 1\)"):
        ops.conv1d(numnet.zeros(2, 6, 6, 1), numnet.zeros(2, 6, 3))
    with pytest.raises(ValueError, match=r"conv1d.*larger than the padded input"):
        ops.conv1d(numnet.zeros(2, 6, 2), numnet.zeros(2, 6, 3))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\).*\(6, 6\)"):
        ops.max_pool2d(numnet.zeros(6, 6), kernel_size=2)
    with pytest.raises(ValueError, match=r"kernel.*\(7, 7\).*\(6, 6\).*\(1, 2, 6, 6\)"):
        ops.max_pool2d(x, kernel_size=7)
    with pytest.raises(ValueError, match="positive"):
        ops.avg_pool2d(x, kernel_size=2, stride=0)
    with pytest.raises(ValueError, match="half the kernel"):
        ops.max_pool2d(x, kernel_size=2, padding=2)
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.Conv2d(4, 6, 3, groups=3)


# -- memory: chunked evaluation, chunked col2im, pooled buffers --------------------------------
def test_chunked_paths_give_the_same_numbers(monkeypatch):
    rng = np.random.default_rng(5)
    x = f64(rng.standard_normal((5, 4, 7, 6)))
    w, b = f64(rng.standard_normal((6, 2, 3, 3))), f64(rng.standard_normal(6))

    def run():
        y = ops.conv2d(x, w, b, padding=1, stride=(1, 2), groups=2)
        with numnet.no_grad():
            y_eval = ops.conv2d(x, w, b, padding=1, stride=(1, 2), groups=2).data
        x.grad = None
        y.backward(np.cos(np.arange(y.data.size)).reshape(y.shape))
        return y.data, y_eval, x.grad

    whole = run()
    monkeypatch.setattr(conv_mod, "_NO_GRAD_CHUNK_BYTES", 1)  # one sample per chunk
    monkeypatch.setattr(conv_mod, "_COL2IM_CHUNK_BYTES", 1)
    chunked = run()
    for a, c in zip(whole, chunked):
        np.testing.assert_allclose(a, c, atol=1e-12)
    np.testing.assert_allclose(whole[0], whole[1], atol=1e-12)


def test_pooled_buffers_are_not_reused_while_a_graph_holds_them():
    rng = np.random.default_rng(6)
    w = numnet.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    xs = [numnet.Tensor(rng.standard_normal((2, 2, 6, 6))) for _ in range(3)]

    def grad_of(x):
        w.grad = None
        ops.conv2d(x, w).sum().backward()
        return w.grad.copy()

    expected = [grad_of(x) for x in xs]  # buffers are released and reused in between
    w.grad = None
    losses = [ops.conv2d(x, w).sum() for x in xs]  # three graphs alive at once
    for loss, e in zip(losses, expected):
        w.grad = None
        loss.backward()
        np.testing.assert_allclose(w.grad, e, rtol=1e-6)


def test_buffer_pool_caps_its_size():
    pool = conv_mod.BufferPool(max_bytes=1000)
    a = pool.take((100,), np.float32)
    pool.give(a)
    assert pool.take((100,), np.float32) is a
    pool.give(np.empty(1000, np.float32))  # larger than the cap: dropped
    assert pool.take((1000,), np.float32) is not None
    pool.clear()


# -- modules ------------------------------------------------------------------------------------
def test_conv2d_module_shapes_init_and_config():
    conv = nn.Conv2d(4, 6, (3, 5), stride=2, padding=1, groups=2, generator=0)
    assert conv.weight.shape == (6, 2, 3, 5) and conv.bias.shape == (6,)
    bound = 1 / np.sqrt(2 * 3 * 5)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"]
    y = conv(numnet.zeros(2, 4, 9, 8))
    assert y.shape == (2, 6, 5, 3)
    rebuilt = from_config(to_config(conv))
    rebuilt.load_state_dict(conv.state_dict())
    x = numnet.Tensor(np.random.default_rng(0).random((2, 4, 9, 8)))
    np.testing.assert_array_equal(rebuilt(x).data, conv(x).data)
    assert "groups=2" in repr(conv)
    assert nn.Conv2d(1, 2, 3, bias=False, padding="same")(numnet.zeros(1, 1, 5, 5)).shape == (
        1,
        2,
        5,
        5,
    )


def test_conv1d_module():
    conv = nn.Conv1d(3, 5, 3, padding="same", generator=1)
    assert conv.weight.shape == (5, 3, 3)
    assert conv(numnet.zeros(2, 3, 10)).shape == (2, 5, 10)
    assert nn.Conv1d(3, 5, 4, stride=2, bias=False)(numnet.zeros(2, 3, 10)).shape == (2, 5, 4)


def test_convnet_builder_trains_on_a_tiny_problem():
    from numnet import models, optim

    rng = np.random.default_rng(0)
    # class = whether the bright bar is horizontal or vertical
    x = np.zeros((64, 1, 8, 8), np.float32)
    y = rng.integers(0, 2, 64)
    pos = rng.integers(1, 7, 64)
    for i in range(64):
        if y[i]:
            x[i, 0, :, pos[i]] = 1
        else:
            x[i, 0, pos[i], :] = 1
    model = models.convnet(
        1, 2, image_size=8, channels=(4,), kernel_size=3, hidden=16, dropout=0.1, generator=0
    )
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(numnet.Tensor(x)), numnet.Tensor(y))
        loss.backward()
        opt.step()
    assert loss.item() < 0.1
    assert [k for k in model.state_dict()] == [
        "0.weight",
        "0.bias",
        "4.weight",
        "4.bias",
        "7.weight",
        "7.bias",
    ]


def test_threaded_passes_give_the_same_numbers(monkeypatch):
    """im2col, col2im and pooling split the batch over threads: same results as serial."""
    rng = np.random.default_rng(7)
    x = f64(rng.standard_normal((7, 3, 9, 8)))
    w, b = f64(rng.standard_normal((4, 3, 3, 3))), f64(rng.standard_normal(4))

    def run():
        x.grad = w.grad = None
        h = ops.conv2d(x, w, b, padding=1)
        y = ops.avg_pool2d(ops.max_pool2d(h, kernel_size=2), kernel_size=2, stride=1)
        y.backward(np.sin(np.arange(y.data.size)).reshape(y.shape))
        return y.data.copy(), x.grad.copy(), w.grad.copy()

    previous = conv_mod.get_num_threads()
    serial = run()
    import numnet.parallel

    monkeypatch.setattr(numnet.parallel, "_MIN_ITEMS_PER_THREAD", 1)
    try:
        conv_mod.set_num_threads(3)
        threaded = run()
    finally:
        conv_mod.set_num_threads(previous)
    for a, c in zip(serial, threaded):
        np.testing.assert_allclose(a, c, atol=1e-12)
    with pytest.raises(ValueError):
        conv_mod.set_num_threads(0)


def test_functional_aliases_take_pytorch_positional_arguments():
    import numnet.nn.functional as F

    x = numnet.randn(2, 3, 8, 8, generator=0)
    w = numnet.randn(4, 3, 3, 3, generator=1)
    np.testing.assert_array_equal(
        F.conv2d(x, w, None, 1, 1).data, ops.conv2d(x, w, stride=1, padding=1).data
    )
    assert F.max_pool2d(x, 2).shape == (2, 3, 4, 4)
    assert F.avg_pool2d(x, 2, 2).shape == (2, 3, 4, 4)
    assert F.conv1d(numnet.randn(2, 3, 9), numnet.randn(4, 3, 3), None, 2).shape == (2, 4, 4)
