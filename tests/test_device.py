"""Device handling ("cpu" only), Tensor.to/cpu/device, Tensor.t, argmax/argmin."""

import pickle

import numpy as np
import pytest

import numnet
from numnet import nn

torch = pytest.importorskip("torch")

OTHER_DEVICES = ["cuda", "mps", "cuda:0", "cuda:1", "xpu"]


def test_device_class():
    d = numnet.device("cpu")
    assert d.type == "cpu" and d.index is None and str(d) == "cpu"
    assert repr(d) == "device(type='cpu')" == repr(torch.device("cpu"))
    d0 = numnet.device("cpu:0")
    assert (d0.type, d0.index, str(d0)) == ("cpu", 0, "cpu:0")
    assert repr(d0) == repr(torch.device("cpu:0"))
    assert numnet.device("cpu", 0) == d0 != d
    assert numnet.device(d0) == d0 and numnet.device(torch.device("cpu")) == d
    assert hash(numnet.device("cpu")) == hash(d)
    assert pickle.loads(pickle.dumps(d0)) == d0
    with pytest.raises(TypeError):
        numnet.device(3)
    with pytest.raises(RuntimeError):
        numnet.device("cpu:x")


@pytest.mark.parametrize("dev", [*OTHER_DEVICES, "torch-cuda"])
def test_other_devices_raise_runtime_error_saying_cpu_only(dev):
    if dev == "torch-cuda":
        dev = torch.device("cuda")
    x = numnet.randn(2, 3, generator=0)
    model = nn.Linear(3, 2, generator=0)
    calls = [
        lambda: numnet.device(dev),
        lambda: x.to(dev),
        lambda: x.to(dev, numnet.float64),
        lambda: x.to(device=dev),
        lambda: model.to(dev),
        lambda: model.to(device=dev, dtype=numnet.float64),
        lambda: numnet.zeros(2, device=dev),
        lambda: numnet.tensor([1.0], device=dev),
        lambda: numnet.randn(2, device=dev, generator=0),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="numnet runs on the CPU only"):
            call()
    assert model.weight.dtype == np.float32  # nothing converted before the error


def test_cuda_methods_raise():
    with pytest.raises(RuntimeError, match="CPU only"):
        numnet.zeros(2).cuda()
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2).cuda()
    assert numnet.zeros(2).is_cuda is False


def test_unknown_device_string_raises():
    with pytest.raises(RuntimeError, match="CPU only"):
        numnet.zeros(2).to("banana")


def test_tensor_to_forms_like_torch():
    a = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    x, t = numnet.tensor(a), torch.tensor(a)
    other64 = numnet.zeros(1, dtype=numnet.float64)
    for args, kwargs, targs, tkwargs in [
        (("cpu",), {}, ("cpu",), {}),
        ((numnet.device("cpu"),), {}, (torch.device("cpu"),), {}),
        ((torch.device("cpu"),), {}, (torch.device("cpu"),), {}),
        ((numnet.float32,), {}, (torch.float32,), {}),
        ((), {"device": "cpu", "dtype": numnet.float32}, (), {"device": "cpu",
                                                            "dtype": torch.float32}),
        ((x,), {}, (t,), {}),
    ]:
        assert x.to(*args, **kwargs) is x
        assert t.to(*targs, **tkwargs) is t  # torch returns self too
    for y in (x.to(numnet.float64), x.to("cpu", numnet.float64), x.to(other64),
              x.to(dtype=numnet.float64, device="cpu"), x.to(torch.float64),
              x.to(None, numnet.float64)):
        assert y is not x and y.dtype == np.float64
        np.testing.assert_array_equal(y.data, a.astype(np.float64))
    assert x.to("cpu:0") is x  # one CPU (torch copies, its tensor's device has no index)
    c = x.to("cpu", copy=True)
    assert c is not x and c.data is not x.data
    np.testing.assert_array_equal(c.data, a)
    assert x.to(numnet.int64).dtype == np.int64
    assert x.cpu() is x and t.cpu() is t
    assert x.device == numnet.device("cpu") and x.device.type == "cpu"
    assert nn.Parameter(a).device.type == "cpu"


def test_tensor_to_is_differentiable():
    x = numnet.tensor([1.0, 2.0], requires_grad=True)
    (x.to(numnet.float64) * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert x.grad.dtype == np.float32


def test_tensor_to_rejects_bad_arguments():
    x = numnet.zeros(2)
    with pytest.raises(TypeError):
        x.to(numnet.float64, bogus=1)
    with pytest.raises(TypeError):
        x.to("cpu", numnet.float64, False, False, 1)


def test_module_to_and_cpu():
    model = nn.Sequential(nn.Linear(3, 4, generator=0), nn.ReLU(), nn.Linear(4, 2, generator=1))
    versions = [p._version for p in model.parameters()]
    assert model.to("cpu") is model and model.cpu() is model
    assert model.to(numnet.device("cpu:0")) is model and model.to(torch.device("cpu")) is model
    assert model.to(numnet.float32) is model
    assert [p._version for p in model.parameters()] == versions  # nothing written
    model(numnet.randn(5, 3, generator=2)).sum().backward()
    assert model.to("cpu", numnet.float64) is model
    for p in model.parameters():
        assert p.dtype == np.float64 and p.grad.dtype == np.float64  # grads follow, as torch
    model.to(numnet.zeros(1))  # a tensor's dtype
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to(dtype=torch.float64, device="cpu")
    assert all(p.dtype == np.float64 for p in model.parameters())
    with pytest.raises(TypeError):
        model.to(numnet.int64)
    with pytest.raises(TypeError):
        torch.nn.Linear(2, 2).to(torch.int64)  # the same error type in torch


def test_factories_accept_cpu_device():
    for dev in (None, "cpu", "cpu:0", numnet.device("cpu"), torch.device("cpu")):
        assert numnet.zeros(2, 3, device=dev).shape == (2, 3)
        assert numnet.ones(2, device=dev).dtype == np.float32
        assert numnet.full((2,), 3.0, device=dev).data.tolist() == [3.0, 3.0]
        assert numnet.eye(2, device=dev).shape == (2, 2)
        assert numnet.arange(3, device=dev).data.tolist() == [0, 1, 2]
        assert numnet.linspace(0, 1, 3, device=dev).shape == (3,)
        assert numnet.randn(2, generator=0, device=dev).shape == (2,)
        assert numnet.rand(2, generator=0, device=dev).shape == (2,)
        assert numnet.tensor([1, 2], device=dev).dtype == np.int64
        z = numnet.zeros(2)
        assert numnet.zeros_like(z, device=dev).shape == numnet.ones_like(z, device=dev).shape


def test_t_matches_torch():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(numnet.tensor(a).t().data, torch.tensor(a).t().numpy())
    v = numnet.tensor([1.0, 2.0])
    assert v.t().shape == (2,) and numnet.tensor(1.0).t().shape == ()
    with pytest.raises(RuntimeError, match="t\\(\\) expects a tensor with <= 2 dimensions"):
        numnet.zeros(2, 3, 4).t()
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        torch.zeros(2, 3, 4).t()
    x = numnet.tensor(a, requires_grad=True)
    (x.t() * numnet.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(3, 2).T)


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_top_level_argmax_argmin_match_torch(fn, dim, keepdim):
    a = np.random.default_rng(1).standard_normal((4, 5)).astype(np.float32)
    got = getattr(numnet, fn)(numnet.tensor(a), dim=dim, keepdim=keepdim)
    want = getattr(torch, fn)(torch.tensor(a), dim=dim, keepdim=keepdim)
    assert isinstance(got, numnet.Tensor) and got.dtype == np.int64
    assert got.shape == tuple(want.shape)
    np.testing.assert_array_equal(got.data, want.numpy())
    # positional dim, as torch.argmax(x, 1)
    np.testing.assert_array_equal(
        getattr(numnet, fn)(numnet.tensor(a), 1).data, getattr(torch, fn)(torch.tensor(a), 1)
    )


def test_public_names_are_reachable():
    import subprocess
    import sys

    code = (
        "import sys, numnet\n"
        "assert 'numnet.utils' not in sys.modules\n"
        "from numnet.utils.data import DataLoader, TensorDataset\n"
        "assert numnet.utils.data.DataLoader is DataLoader\n"
        "assert numnet.summary is numnet.utils.summary\n"
        "assert numnet.nn.utils.clip_grad_norm_ and numnet.nn.utils.clip_grad_value_\n"
        "assert isinstance(numnet.device, type) and 'device' in numnet.__all__\n"
        "assert {'utils', 'summary'} <= set(dir(numnet))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
