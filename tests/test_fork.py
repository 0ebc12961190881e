"""numnet in a child made by fork after the parent used numnet's threads.

A forked child inherits none of the parent's threads. numnet once kept a global thread
pool, which a child inherited without its workers (its first threaded pass waited
forever); now threads live only inside one call (a split pass, a
data-parallel step), and the conv workspace pool renews its lock in the child. Every
scenario runs
in a fresh interpreter in its own process group, killed after a timeout, so a hang fails
the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

TIMEOUT = 120  # seconds for a whole scenario; it takes ~5 s when nothing hangs
CHILD_TIMEOUT = 60  # seconds for the work in one child

COMMON = textwrap.dedent(
    f"""
    import multiprocessing
    import os
    import sys
    import threading
    import time
    import traceback
    import warnings

    import numpy as np

    import numnet
    import numnet.nn as nn
    import numnet.nn.functional as F
    from numnet import optim, parallel
    from numnet.ops import conv

    # 3.12+ warns that forking a multi-threaded process may deadlock: what is tested here
    warnings.simplefilter("ignore", DeprecationWarning)
    CHILD_TIMEOUT = {CHILD_TIMEOUT}


    def work(seed):
        '''A large ReLU (the threaded path) with its gradient, then SGD steps of a small
        conv net (threaded im2col, ReLU and max-pool passes). Returns
        (ReLU values and gradient right, the training losses).'''
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((64, 8192)).astype(np.float32)  # 2**19 entries
        t = numnet.Tensor(z, requires_grad=True)
        y = F.relu(t)
        y.sum().backward()
        relu_ok = bool(
            np.array_equal(y.numpy(), np.maximum(z, 0)) and np.array_equal(t.grad, z > 0)
        )
        x = numnet.Tensor(rng.standard_normal((64, 3, 24, 24)).astype(np.float32))
        labels = numnet.Tensor(rng.integers(0, 4, 64))
        net = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, generator=seed),
            nn.ReLU(),  # 64 * 8 * 24 * 24 entries: the threaded path
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(8 * 12 * 12, 4, generator=seed),
        )
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        losses = []
        for i in range(6):
            opt.zero_grad()
            if i % 2:  # a data-parallel step (threads, threadpoolctl) every other step
                loss = parallel.data_parallel_step(net, F.cross_entropy, x, labels, num_threads=2)
            else:
                loss = F.cross_entropy(net(x), labels)
                loss.backward()
            opt.step()
            losses.append(float(loss.item()))
        return relu_ok, losses


    def check(got, expected, where):
        relu_ok, losses = got
        assert relu_ok, f"{{where}}: wrong ReLU values or gradient"
        assert losses[-1] < losses[0], f"{{where}}: the conv net did not learn: {{losses}}"
        np.testing.assert_allclose(losses, expected[1], rtol=1e-4, err_msg=where)


    def fork_and_wait(child):
        '''Run ``child()`` in a raw os.fork() child; fail if it fails or hangs.'''
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                child()
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + CHILD_TIMEOUT
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise SystemExit(f"the forked child hung for {{CHILD_TIMEOUT}} s")
            time.sleep(0.05)
        code = os.waitstatus_to_exitcode(status)
        assert code == 0, f"the forked child failed with exit code {{code}}"


    numnet.set_num_threads(4)  # threads are used whatever the number of cores
    expected = work(0)
    check(expected, expected, "parent")
    """
)

SCENARIOS = {
    "raw_fork": """
        def child():
            check(work(0), expected, "os.fork child")
            print("child ok", flush=True)

        fork_and_wait(child)
        fork_and_wait(child)  # again: the parent's pool is still fine
        check(work(0), expected, "parent after the forks")
        print("parent ok", flush=True)
        """,
    "multiprocessing_fork_pool": """
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(2) as pool:
            results = pool.map_async(work, [0, 0, 0]).get(CHILD_TIMEOUT)
        for i, got in enumerate(results):
            check(got, expected, f"pool task {i}")
        print("child ok", flush=True)
        check(work(0), expected, "parent after the pool")
        print("parent ok", flush=True)
        """,
    "fork_while_a_thread_holds_the_workspace_lock": """
        # Another thread of the parent is inside the conv workspace pool when the main
        # thread forks: the child inherits the lock held, by a thread it does not have.
        inside, leave = threading.Event(), threading.Event()

        def holder():
            with conv.WORKSPACE._lock:
                inside.set()
                leave.wait()

        t = threading.Thread(target=holder)
        t.start()
        inside.wait()

        def child():
            assert conv.WORKSPACE._bytes == 0  # possibly half-updated: emptied
            check(work(0), expected, "child forked under the workspace lock")
            print("child ok", flush=True)

        try:
            fork_and_wait(child)
        finally:
            leave.set()
            t.join()
        check(work(0), expected, "parent after the fork")
        print("parent ok", flush=True)
        """,
}


def _run(scenario: str) -> subprocess.CompletedProcess:
    """The scenario in a new interpreter and process group; the group is killed on a
    timeout (with any forked children that hang)."""
    code = COMMON + textwrap.dedent(SCENARIOS[scenario])
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{scenario} hung for {TIMEOUT} s\nstdout:\n{out}\nstderr:\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_child_of_fork_trains_after_the_parent_used_threads(scenario):
    res = _run(scenario)
    assert res.returncode == 0, f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}"
    assert "child ok" in res.stdout and "parent ok" in res.stdout


BIG = (512, 1024)


def test_the_im2col_workspace_pool_is_fork_safe():
    """conv2d's scratch pool: registered for the hook, and a lock held at fork is renewed."""
    from numnet.ops import conv
    from numnet.ops.conv import WORKSPACE, BufferPool

    assert WORKSPACE in conv._POOLS
    pool = BufferPool(max_bytes=64 << 20)
    buf = pool.take(BIG, np.float32)
    pool.give(buf)
    pool._lock.acquire()  # as if a thread that did not survive the fork held it
    pool._after_fork_in_child()
    assert not pool._lock.locked()
    assert pool.take(BIG, np.float32) is not buf  # emptied: it was being changed
    pool.give(buf)
    pool._after_fork_in_child()  # not held: kept
    assert pool.take(BIG, np.float32) is buf


def test_no_thread_outlives_a_parallel_call():
    """Split passes and data-parallel steps join their threads before returning."""
    import threading

    import numnet
    import numnet.nn.functional as F
    from numnet import models, parallel

    before = {t.ident for t in threading.enumerate()}
    net = models.convnet(generator=0, channels=(2, 4), hidden=8)
    x = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
    y = numnet.Tensor(np.arange(8) % 10)
    parallel.data_parallel_step(net, F.cross_entropy, x, y, num_threads=3)
    parallel.parallel_batch(lambda a, b: None, 64)
    assert {t.ident for t in threading.enumerate()} == before
