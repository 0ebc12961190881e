"""Memory and process-wide state: no recycled-array cache, no import-time
environment writes; ``numnet.empty_cache()`` kept for compatibility."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest  # noqa: F401

import numnet
import numnet.nn.functional as F

PACKAGE = pathlib.Path(numnet.__file__).parent


def test_empty_cache_is_kept_and_empties_the_conv_workspace():
    from numnet.ops.conv import WORKSPACE

    x = numnet.Tensor(np.ones((2, 3, 8, 8), np.float32))
    w = numnet.Tensor(np.ones((4, 3, 3, 3), np.float32), requires_grad=True)
    F.conv2d(x, w).sum().backward()  # the graph is gone: its im2col buffer is back
    numnet.empty_cache()
    assert WORKSPACE._bytes == 0 and not WORKSPACE._free
    numnet.empty_cache()  # idempotent


def test_no_refcount_cache_is_left():
    from numnet import _memory

    for name in ("ArrayCache", "CACHE", "empty", "empty_like"):
        assert not hasattr(_memory, name)
    for path in PACKAGE.rglob("*.py"):
        assert "getrefcount" not in path.read_text(encoding="utf-8"), path


def _environ_writes(tree: ast.AST) -> list[int]:
    """Lines of ``os.environ[...] = ...``, ``os.environ.setdefault/update/pop/...`` and
    ``os.putenv``/``os.unsetenv`` calls."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if hasattr(node, "targets") else [node.target]
            for t in targets:
                if isinstance(t, ast.Subscript) and "environ" in ast.unparse(t.value):
                    lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, attr = ast.unparse(node.func.value), node.func.attr
            if "environ" in owner and attr in (
                "setdefault",
                "update",
                "pop",
                "popitem",
                "clear",
                "__setitem__",
            ):
                lines.append(node.lineno)
            if attr in ("putenv", "unsetenv"):
                lines.append(node.lineno)
    return lines


def test_no_module_writes_os_environ():
    bad = {}
    for path in PACKAGE.rglob("*.py"):
        lines = _environ_writes(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            bad[str(path.relative_to(PACKAGE))] = lines
    assert not bad, f"modules that write the process environment: {bad}"


def test_import_after_numpy_leaves_the_environment_alone():
    """NumPy imported first (as most users do): importing and training changes nothing."""
    code = (
        "import os, numpy as np\n"
        "before = dict(os.environ)\n"
        "import numnet, numnet.nn as nn, numnet.nn.functional as F\n"
        "from numnet import models, optim\n"
        "m = models.convnet(generator=0, channels=(2, 4), hidden=8)\n"
        "x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)\n"
        "y = np.arange(8) % 10\n"
        "numnet.train.fit(m, F.cross_entropy, optim.SGD(m.parameters(), lr=0.1), (x, y),\n"
        "                 epochs=1, batch_size=4, verbose=0, data_parallel=2)\n"
        # threadpoolctl (imported by the first data-parallel step) sets this one itself
        "after = {k: v for k, v in os.environ.items() if k != 'KMP_DUPLICATE_LIB_OK'}\n"
        "before.pop('KMP_DUPLICATE_LIB_OK', None)\n"
        "assert after == before, set(after.items()) ^ set(before.items())\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


def test_outputs_of_one_step_survive_the_next_step():
    """Hold one step's outputs and gradients while running the next: nothing changes."""
    rng = np.random.default_rng(0)
    x = numnet.Tensor(rng.standard_normal((64, 8, 30, 30), dtype=np.float32))
    w = numnet.Tensor(rng.standard_normal((16, 8, 3, 3), dtype=np.float32), requires_grad=True)
    lin = numnet.Tensor(rng.standard_normal((600, 1024), dtype=np.float32), requires_grad=True)

    def step(scale):
        y = F.relu(F.conv2d(x * scale, w, padding=1))
        p = F.max_pool2d(y, 2)
        z = F.relu(p.reshape(64, -1)[:, :1024] @ lin.T)
        z.sum().backward()
        return y, p, z

    y1, p1, z1 = step(1.0)
    snap = [t.numpy().copy() for t in (y1, p1, z1)]
    gw1, glin1 = w.grad, lin.grad
    gsnap = [gw1.copy(), glin1.copy()]
    w.grad = lin.grad = None
    y2, p2, z2 = step(-2.0)  # different values through the same shapes
    for t, s in zip((y1, p1, z1), snap):
        np.testing.assert_array_equal(t.numpy(), s)
    np.testing.assert_array_equal(gw1, gsnap[0])
    np.testing.assert_array_equal(glin1, gsnap[1])
    assert not np.array_equal(y2.numpy(), snap[0])


@pytest.mark.parametrize("shape", [(4, 300_000), (70, 61, 64)])
def test_large_relu_path_values_and_gradient(shape):
    rng = np.random.default_rng(1)
    z = rng.standard_normal(shape).astype(np.float32)
    z.flat[:5] = 0.0  # the gradient at 0 is 0
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    g = rng.standard_normal(shape).astype(np.float32)
    y.backward(numnet.Tensor(g))
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    np.testing.assert_array_equal(t.grad, g * (z > 0))


@pytest.mark.parametrize("perm", [(0, 3, 1, 2), (2, 0, 3, 1), (0, 1, 2, 3)])
def test_large_relu_on_permuted_views_keeps_the_memory_order(perm):
    """An NCHW view of channels-last memory (a conv output) takes the large-array path."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((16, 20, 30, 40)).astype(np.float32)  # 384k entries
    z = base.transpose(perm)
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    assert y.numpy().strides == z.strides  # computed in z's memory order
    g = rng.standard_normal(base.shape).astype(np.float32).transpose(perm)
    y.backward(numnet.Tensor(g))
    np.testing.assert_array_equal(t.grad, g * (z > 0))
    # a gradient in another layout takes the general path, same values
    t2 = numnet.Tensor(z, requires_grad=True)
    F.relu(t2).backward(numnet.Tensor(np.ascontiguousarray(g)))
    np.testing.assert_array_equal(t2.grad, g * (z > 0))


def test_reversed_strides_fall_back_to_the_general_path():
    z = np.linspace(-1, 1, 300_000, dtype=np.float32)[::-1]
    t = numnet.Tensor(z, requires_grad=True)
    y = F.relu(t)
    np.testing.assert_array_equal(y.numpy(), np.maximum(z, 0))
    y.sum().backward()
    np.testing.assert_array_equal(t.grad, (z > 0).astype(np.float32))


def test_thread_count_is_read_from_the_environment_when_used(monkeypatch):
    from numnet import parallel

    monkeypatch.setitem(parallel._threads, "n", None)
    monkeypatch.setenv("NUMNET_NUM_THREADS", "3")
    assert parallel.get_num_threads() == 3  # exported after import: honoured
    monkeypatch.delenv("NUMNET_NUM_THREADS")
    monkeypatch.setenv("OMP_NUM_THREADS", "5")
    assert parallel.get_num_threads() == 5
    parallel.set_num_threads(2)
    assert parallel.get_num_threads() == 2  # an explicit setting wins
