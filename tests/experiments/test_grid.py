"""The experiment grid runner (numnet.experiments.grid): keys, resume, failures, Dask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from numnet.experiments import grid
from numnet.experiments.grid import make_tasks, run_grid, task_key

CELLS = {"narrow": {"width": 4, "lr": 0.1}, "wide": {"width": 16, "lr": 0.1}}


def toy_task(settings, *, log_dir=None, fail_once=None, kill_once=None):
    """Train a small MLP on two moons; returns its final loss and train accuracy.

    ``log_dir``: a file per call is left there (to count calls across processes);
    ``fail_once``: ``(cell width, marker path)``: the task of that width raises on its
    first call; ``kill_once``: a marker path: the first task to run kills its process.
    """
    import numnet.nn.functional as F
    from numnet import data, models, optim, train

    if log_dir is not None:
        name = f"{settings['width']}-{settings['seed']}-{uuid.uuid4().hex}"
        Path(log_dir, name).write_text("")
    if kill_once is not None:
        try:
            fd = os.open(kill_once, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pass
        else:
            os.close(fd)
            os._exit(1)  # the worker process dies mid-task
    if fail_once is not None and settings["width"] == fail_once[0]:
        marker = Path(fail_once[1])
        if not marker.exists():
            marker.write_text("")
            raise RuntimeError("diverged (simulated)")
    X, y = data.two_moons(200, 0.15, generator=settings["seed"])
    model = models.mlp(2, [settings["width"]], 2, generator=settings["seed"])
    opt = optim.SGD(model.parameters(), lr=settings["lr"], momentum=0.9)
    history = train.fit(
        model, F.cross_entropy, opt, (X, y), epochs=5, batch_size=32, generator=settings["seed"]
    )
    return {"loss": history["loss"][-1], "accuracy": history["accuracy"][-1],
            "losses": list(history["loss"])}


def calls(log_dir: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[0] for p in log_dir.iterdir())


def test_keys_are_stable_and_depend_on_settings_and_function():
    a = task_key(toy_task, {"width": 4, "lr": 0.1, "seed": 0})
    assert a == task_key(toy_task, {"seed": 0, "lr": 0.1, "width": 4})  # order-free
    assert a == task_key("test_grid:toy_task", {"width": 4, "lr": 0.1, "seed": 0}) or (
        toy_task.__module__ != "test_grid"
    )
    assert a != task_key(toy_task, {"width": 4, "lr": 0.1, "seed": 1})
    assert a != task_key(calls, {"width": 4, "lr": 0.1, "seed": 0})
    assert len(a) == 64 and int(a, 16) >= 0
    with pytest.raises(TypeError, match="JSON-able"):
        task_key(toy_task, {"x": object()})
    with pytest.raises(ValueError, match="top-level"):
        task_key(lambda s: s, {})


def test_make_tasks():
    tasks = make_tasks(CELLS, 2)
    assert [(t.cell, t.seed) for t in tasks] == [
        ("narrow", 0), ("narrow", 1), ("wide", 0), ("wide", 1)
    ]
    assert tasks[1].settings == {"width": 4, "lr": 0.1, "seed": 1}
    assert [t.seed for t in make_tasks(CELLS, [5, 7])][:2] == [5, 7]
    with pytest.raises(ValueError, match="seed"):
        make_tasks({"a": {"seed": 1}}, 2)
    with pytest.raises(ValueError, match="repeated"):
        make_tasks(CELLS, [1, 1])


def test_serial_grid_writes_results_and_rerun_skips(tmp_path):
    log = tmp_path / "log"
    log.mkdir()
    out = tmp_path / "results"
    first = run_grid(toy_task, CELLS, out, seeds=2, context={"log_dir": str(log)},
                     progress=False)
    assert first.ran == 4 and first.skipped == 0 and not first.failed
    assert len(calls(log)) == 4
    files = sorted(out.glob("*.json"))
    assert len(files) == 4
    saved = json.loads(files[0].read_text())
    assert saved["key"] == files[0].stem == task_key(toy_task, saved["settings"])
    assert not list(out.glob(".*.part"))  # atomic writes left no temporary file
    # a re-run reads every result and calls nothing
    again = run_grid(toy_task, CELLS, out, seeds=2, context={"log_dir": str(log)},
                     progress=False)
    assert again.ran == 0 and again.skipped == 4 and len(calls(log)) == 4
    assert again.metrics() == first.metrics()
    assert all(t.cached for t in again.tasks)
    # one more seed runs only the two new tasks
    more = run_grid(toy_task, CELLS, out, seeds=3, context={"log_dir": str(log)},
                    progress=False)
    assert more.ran == 2 and more.skipped == 4 and len(calls(log)) == 6
    summary = more.summary("loss")
    assert set(summary) == {"narrow", "wide"}
    s = summary["wide"]
    assert s.n == 3 and s.std is not None and s.std >= 0
    assert s.best == min(s.values.values()) and s.values[s.best_seed] == s.best
    assert " ± " in s.format(3)
    # a damaged result file is run again
    files[0].write_text("{not json")
    fixed = run_grid(toy_task, CELLS, out, seeds=2, progress=False)
    assert fixed.ran == 1 and fixed.metrics() == first.metrics()


def test_failing_task_is_reported_and_a_rerun_resumes(tmp_path, capsys):
    log = tmp_path / "log"
    log.mkdir()
    out = tmp_path / "results"
    context = {"log_dir": str(log), "fail_once": (16, str(tmp_path / "failed-once"))}
    first = run_grid(toy_task, CELLS, out, seeds=2, context=context, progress=True)
    # the first "wide" task raised: reported, the grid went on
    assert [(t.cell, t.seed) for t in first.failed] == [("wide", 0)]
    assert "RuntimeError: diverged" in first.failed[0].error
    assert "task failed: cell 'wide', seed 0" in capsys.readouterr().err
    assert len(first.tasks) == 4 and sum(t.ok for t in first.tasks) == 3
    summary = first.summary("loss")
    assert summary["wide"].n == 1 and summary["wide"].failed == 1
    assert summary["wide"].std is None
    # the re-run (the "killed run" resumed) runs only the unfinished task
    second = run_grid(toy_task, CELLS, out, seeds=2, context=context, progress=False)
    assert second.ran == 1 and second.skipped == 3 and not second.failed
    assert calls(log).count("16-0") == 2 and len(calls(log)) == 5
    reference = run_grid(toy_task, CELLS, tmp_path / "fresh", seeds=2, progress=False)
    assert second.metrics() == reference.metrics()


def test_serial_grid_does_not_import_dask(tmp_path):
    script = (
        "import sys\n"
        "from numnet.experiments.grid import run_grid\n"
        "def task(settings):\n"
        "    return {'x': settings['a'] * settings['seed']}\n"
        f"r = run_grid(task, {{'one': {{'a': 2}}}}, {str(tmp_path)!r}, seeds=2,"
        " progress=False)\n"
        "assert [t.metrics['x'] for t in r.tasks] == [0, 2], r.tasks\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


# -- on a Dask LocalCluster -------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    import cloudpickle

    # the workers cannot import this test module: send its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_dask_grid_is_bit_identical_to_serial(tmp_path, dask_client):
    serial = run_grid(toy_task, CELLS, tmp_path / "serial", seeds=2, progress=False)
    dask = run_grid(toy_task, CELLS, tmp_path / "dask", seeds=2, client=dask_client,
                    progress=False)
    assert dask.ran == 4 and not dask.failed
    assert dask.metrics() == serial.metrics()  # exact float equality, task by task
    workers = {t.worker for t in dask.tasks}
    assert all(w.split(":")[1] != str(os.getpid()) for w in workers)  # ran elsewhere
    # the files written from Dask's results are the serial run's, task by task
    for path in (tmp_path / "serial").glob("*.json"):
        a = json.loads(path.read_text())
        b = json.loads((tmp_path / "dask" / path.name).read_text())
        assert a["metrics"] == b["metrics"] and a["settings"] == b["settings"]


def test_dask_worker_killed_mid_grid_completes(tmp_path, dask_client, capsys):
    serial = run_grid(toy_task, CELLS, tmp_path / "serial", seeds=2, progress=False)
    marker = tmp_path / "killed-once"
    result = run_grid(toy_task, CELLS, tmp_path / "dask", seeds=2, client=dask_client,
                      context={"kill_once": str(marker)}, progress=True)
    assert marker.exists()  # a worker did die in a task
    assert not result.failed and result.ran == 4
    assert result.metrics() == serial.metrics()
    # the lost worker was seen and reported (Dask rescheduled its task)
    assert result.worker_events and "lost" in result.worker_events[0]
    assert "lost" in capsys.readouterr().err


def test_dask_missing_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("distributed", "dask"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError, match=r"numnet\[distributed\]"):
        run_grid(toy_task, CELLS, tmp_path, workers=2, progress=False)


def test_grid_module_is_not_an_experiment():
    from numnet import experiments

    assert grid.__name__ not in {m.__name__ for m in experiments.registry().values()}
