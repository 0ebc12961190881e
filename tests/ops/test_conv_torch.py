"""Convolution, pooling and the ConvNet against PyTorch (skipped when torch is missing)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F_t = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

import numnet  # noqa: E402
import numnet.nn as nn  # noqa: E402
from numnet import models, ops  # noqa: E402


def both(a):
    return (
        numnet.Tensor(a, dtype=np.float64, requires_grad=True),
        torch.tensor(a, dtype=torch.float64, requires_grad=True),
    )


def compare(ours, theirs, inputs, rng, atol=1e-10):
    """Values, then gradients for the same random output weighting."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=atol)
    u = rng.standard_normal(ours.shape)
    ours.backward(u)
    theirs.backward(torch.tensor(u))
    for a, b in inputs:
        np.testing.assert_allclose(a.grad, b.grad.numpy(), atol=atol)


CONV2D = [  # (x shape, weight shape, kwargs)
    ((2, 3, 8, 7), (4, 3, 3, 3), {"padding": 1}),
    ((2, 3, 9, 9), (6, 1, 3, 3), {"stride": 2, "groups": 3}),
    (
        (1, 4, 11, 10),
        (2, 2, 5, 3),
        {"stride": (2, 1), "padding": (2, 0), "dilation": (1, 2), "groups": 2},
    ),
    ((3, 2, 7, 7), (3, 2, 4, 4), {"padding": "same"}),
    ((2, 2, 6, 9), (5, 2, 1, 2), {"padding": "valid", "stride": 3}),
]


@pytest.mark.parametrize("xs,ws,kwargs", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(xs, ws, kwargs, bias):
    rng = np.random.default_rng(0)
    x, tx = both(rng.standard_normal(xs))
    w, tw = both(rng.standard_normal(ws))
    b, tb = both(rng.standard_normal(ws[0]))
    ours = ops.conv2d(x, w, b, **kwargs) if bias else ops.conv2d(x, w, **kwargs)
    theirs = F_t.conv2d(tx, tw, tb if bias else None, **kwargs)
    compare(ours, theirs, [(x, tx), (w, tw)] + ([(b, tb)] if bias else []), rng)


@pytest.mark.parametrize(
    "kwargs", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2}, {"padding": "same"}]
)
def test_conv1d_matches_torch(kwargs):
    rng = np.random.default_rng(1)
    x, tx = both(rng.standard_normal((2, 4, 13)))
    w, tw = both(rng.standard_normal((6, 4 // kwargs.get("groups", 1), 3)))
    b, tb = both(rng.standard_normal(6))
    compare(
        ops.conv1d(x, w, b, **kwargs),
        F_t.conv1d(tx, tw, tb, **kwargs),
        [(x, tx), (w, tw), (b, tb)],
        rng,
    )


POOLS = [(2, None, 0), (3, 2, 1), (3, 1, 0), ((2, 3), (1, 2), (1, 1)), (2, 2, 1)]


@pytest.mark.parametrize("kernel,stride,padding", POOLS)
@pytest.mark.parametrize("name", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("channels_last", [False, True])
def test_pooling_matches_torch(kernel, stride, padding, name, channels_last):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((2, 3, 7, 8))
    a[:, :, :2, :2] = 1.0  # ties: the gradient goes to the first maximum, as in PyTorch
    a[:, 1] = np.round(a[:, 1])
    x, tx = both(a)
    if channels_last:  # the layout conv2d produces
        x.data = np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    ours = getattr(ops, name)(x, kernel_size=kernel, stride=stride, padding=padding)
    theirs = getattr(F_t, name)(tx, kernel, stride, padding)
    compare(ours, theirs, [(x, tx)], rng)


def torch_convnet(dropout=0.0):
    tn = torch.nn
    layers = [
        tn.Conv2d(1, 32, 5, padding=2),
        tn.ReLU(),
        tn.MaxPool2d(2),
        tn.Conv2d(32, 64, 5, padding=2),
        tn.ReLU(),
        tn.MaxPool2d(2),
        tn.Flatten(),
        tn.Linear(3136, 1024),
        tn.ReLU(),
    ]
    if dropout:
        layers.append(tn.Dropout(dropout))
    return tn.Sequential(*layers, tn.Linear(1024, 10))


def test_convnet_state_dict_loads_into_torch_and_gives_the_same_outputs_and_gradients():
    ours = models.convnet(generator=0, dropout=0.5)
    theirs = torch_convnet(dropout=0.5)
    sd = ours.state_dict()
    assert {k: v.shape for k, v in sd.items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(3).random((4, 1, 28, 28), dtype=np.float32)
    y = np.array([0, 3, 9, 1])
    out = ours(numnet.Tensor(x))
    tout = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=2e-5)
    nn.functional.cross_entropy(out, numnet.Tensor(y)).backward()
    F_t.cross_entropy(tout, torch.from_numpy(y)).backward()
    for name, p in ours.named_parameters():
        tp = dict(theirs.named_parameters())[name]
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), atol=1e-5, rtol=1e-4)


def test_conv_modules_load_into_torch_modules():
    rng = np.random.default_rng(4)
    for ours, theirs, shape in [
        (
            nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, generator=0),
            torch.nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2),
            (2, 4, 9, 8),
        ),
        (
            nn.Conv1d(3, 5, 3, padding="same", bias=False, generator=0),
            torch.nn.Conv1d(3, 5, 3, padding="same", bias=False),
            (2, 3, 11),
        ),
    ]:
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
        x = rng.random(shape, dtype=np.float32)
        np.testing.assert_allclose(
            ours(numnet.Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), atol=1e-5
        )


def test_residual_conv_block_matches_torch():
    block = nn.Sequential(
        nn.Conv2d(3, 3, 3, padding=1, generator=0),
        nn.ReLU(),
        nn.Conv2d(3, 3, 3, padding=1, generator=1),
    )
    res = nn.Residual(block)
    tblock = torch.nn.Sequential(
        torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(3, 3, 3, padding=1)
    )
    tblock.load_state_dict(
        {k.removeprefix("block."): torch.from_numpy(v) for k, v in res.state_dict().items()}
    )
    x = np.random.default_rng(5).random((2, 3, 6, 6), dtype=np.float32)
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(
        res(numnet.Tensor(x)).data, (tblock(xt) + xt).detach().numpy(), atol=1e-5
    )
