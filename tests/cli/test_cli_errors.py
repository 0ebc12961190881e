"""``numnet`` as a user runs it, in subprocesses: bad input is refused with a one-line
message naming the option (exit status 2) before anything is written; divergence,
Ctrl-C, damaged files and an --out holding an earlier run never show a traceback.

None of these tests needs MNIST: $NUMNET_DATA points at an empty folder, the data are
toy sets or tiny IDX files written here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

TIMEOUT = 120


def _env(tmp_path: Path) -> dict:
    empty = tmp_path / "no-data"
    empty.mkdir(exist_ok=True)
    env = dict(os.environ, NUMNET_DATA=str(empty), PYTHONUNBUFFERED="1")
    env.pop("NUMNET_CLI_TEST", None)
    return env


def numnet(tmp_path: Path, *args: str, timeout: float = TIMEOUT):
    return subprocess.run(
        [sys.executable, "-m", "numnet", *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def snapshot(root: Path) -> dict:
    """Every file under ``root`` with its bytes, and every folder: nothing written (not
    even an empty folder), nothing lost."""
    return {
        str(p.relative_to(root)): p.read_bytes() if p.is_file() else "folder"
        for p in sorted(root.rglob("*"))
    }


def assert_clean_error(res, status: int, *needles: str) -> None:
    assert res.returncode == status, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr + res.stdout, res.stderr
    lines = [line for line in res.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, res.stderr)


@pytest.fixture
def work(tmp_path):
    """A working folder holding an unrelated file that must survive every refusal (and
    the empty $NUMNET_DATA folder the commands run with)."""
    (tmp_path / "keep.txt").write_text("mine")
    (tmp_path / "no-data").mkdir()
    return tmp_path


@pytest.fixture
def tiny_idx(tmp_path, row_block_digits):
    """120 training and 40 test 28x28 'digits' in IDX files (class k lights row block k)."""
    return row_block_digits(tmp_path / "idx", 120, 40)


TOY = ["train", "--data", "xor", "--epochs", "1", "--out", "run"]

BAD_VALUES = [
    (["--hidden", "512,,512"], "argument --hidden", "empty item"),
    (["--hidden", ""], "argument --hidden", "empty"),
    (["--hidden", "abc"], "argument --hidden", "'abc'"),
    (["--hidden", "-5"], "argument --hidden", ">= 1"),
    (["--hidden", "64,0"], "argument --hidden", ">= 1"),
    (["--epochs", "-3"], "argument --epochs", ">= 1"),
    (["--epochs", "0"], "argument --epochs", ">= 1"),
    (["--epochs", "2.5"], "argument --epochs", "integer"),
    (["--validation", "0"], "argument --validation", "between 0 and 1"),
    (["--validation", "1"], "argument --validation", "between 0 and 1"),
    (["--validation", "abc"], "argument --validation", "number"),
    (["--batch-size", "0"], "argument --batch-size", ">= 1"),
    (["--batch-size", "5000"], "argument --batch-size", "larger than the training set"),
    (["--lr", "0"], "argument --lr", "> 0"),
    (["--lr", "nan"], "argument --lr", "finite"),
    (["--dropout", "1"], "argument --dropout", "< 1"),
    (["--momentum", "-0.1"], "argument --momentum", ">= 0"),
    (["--l2", "-0.01"], "argument --l2", ">= 0"),
    (["--lr-decay", "1.5"], "argument --lr-decay", "(0, 1]"),
    (["--patience", "-1"], "argument --patience", ">= 0"),
    (["--activation", "swish"], "argument --activation", "invalid choice"),
    (["--model", "convnet"], "argument --model", "needs images"),
    (["--channels", "8,16"], "argument --channels", "convnet only"),
    (["--depth", "3"], "argument --depth", "resnet only"),
    (["--model", "resnet", "--hidden", "8,8"], "argument --hidden", "one width"),
    (["--arch", "missing.json"], "argument --arch", "missing.json"),
]


@pytest.mark.parametrize(("extra", "option", "message"), BAD_VALUES)
def test_bad_values_are_refused_before_anything_is_written(work, extra, option, message):
    before = snapshot(work)
    res = numnet(work, *TOY, *extra)
    assert_clean_error(res, 2, option, message)
    assert snapshot(work) == before
    assert not (work / "run").exists()


def test_unknown_data_is_a_usage_error_without_a_python_tuple(work):
    before = snapshot(work)
    res = numnet(work, "train", "--data", "cifar", "--out", "run")
    assert_clean_error(res, 2, "argument --data", "invalid choice: 'cifar'", "mnist")
    assert "('" not in res.stderr and "usage: numnet train" in res.stderr
    assert snapshot(work) == before


def test_convnet_options_are_checked_against_the_images(work, tiny_idx):
    before = snapshot(work)
    common = ["train", "--data", "idx", "--data-dir", str(tiny_idx), "--model", "convnet"]
    res = numnet(work, *common, "--channels", "4,4,4,4,4,4", "--out", "run")
    assert_clean_error(res, 2, "argument --channels", "too small")
    res = numnet(work, *common, "--kernel-size", "4", "--out", "run")
    assert_clean_error(res, 2, "argument --kernel-size", "odd")
    res = numnet(work, *common, "--hidden", "64,64", "--out", "run")
    assert_clean_error(res, 2, "argument --hidden", "one width")
    assert snapshot(work) == before


@pytest.mark.parametrize(
    ("text", "suffix", "message"),
    [
        ("{not json", ".json", "not valid JSON"),
        ('{"layers": 3}', ".json", "does not describe a model"),
        ('{"class": "os.system", "args": ["echo hi"]}', ".json", "unknown module class"),
        ("class = 3 = 4", ".toml", "not valid TOML"),
    ],
)
def test_bad_architecture_files(work, text, suffix, message):
    (work / f"arch{suffix}").write_text(text)
    before = snapshot(work)
    res = numnet(work, *TOY, "--arch", f"arch{suffix}")
    assert_clean_error(res, 2, "argument --arch", message)
    assert "hi" not in res.stdout
    assert snapshot(work) == before


def test_architecture_that_does_not_fit_the_data(work):
    from numnet import models
    from numnet.nn.config import to_config

    (work / "arch.json").write_text(json.dumps(to_config(models.mlp(784, [8], 10))))
    before = snapshot(work)
    res = numnet(work, *TOY, "--arch", "arch.json")
    assert_clean_error(res, 2, "argument --arch", "(1, 2)")
    (work / "arch.json").write_text(json.dumps(to_config(models.mlp(2, [8], 7))))
    before = snapshot(work)
    res = numnet(work, *TOY, "--arch", "arch.json")
    assert_clean_error(res, 2, "argument --arch", "2 classes")
    assert snapshot(work) == before


def test_missing_mnist_gives_cli_advice(work):
    before = snapshot(work)
    for args in (
        ["train", "--data", "mnist", "--out", "run"],
        ["reproduce", "mnist-convnet", "--quick"],
        ["reproduce", "mnist-mlp-table", "--quick"],
    ):
        res = numnet(work, *args)
        assert_clean_error(res, 2, "MNIST not found", "--data-dir", "$NUMNET_DATA")
        assert "download=True" not in res.stderr and "root=" not in res.stderr
    res = numnet(work, "train", "--data", "fashion-mnist", "--data-dir", "nowhere", "--out", "run")
    assert_clean_error(res, 2, "Fashion-MNIST not found", "--data-dir")
    assert snapshot(work) == before


def test_damaged_idx_file_is_one_line(work, tiny_idx):
    (tiny_idx / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    before = snapshot(work)
    res = numnet(work, "train", "--data", "idx", "--data-dir", str(tiny_idx), "--out", "run")
    assert_clean_error(res, 2, "cannot read the IDX data set", "--data-dir")
    assert snapshot(work) == before


def test_files_that_fail_mnists_checksums_get_cli_advice(work, tiny_idx):
    # valid IDX files under MNIST's names, but not MNIST: the checksum check refuses them
    before = snapshot(work)
    res = numnet(work, "train", "--data", "mnist", "--data-dir", str(tiny_idx), "--out", "run")
    assert_clean_error(res, 2, "checksum mismatch", "--data-dir")
    assert "verify=False" not in res.stderr and "download=True" not in res.stderr
    assert snapshot(work) == before


def test_out_holding_an_earlier_run_needs_force_or_resume(work):
    args = ["train", "--data", "xor", "--hidden", "8", "--epochs", "2", "--out", "run"]
    first = numnet(work, *args)
    assert first.returncode == 0, first.stderr
    assert "2,700 train + 300 validation, 1,000 test" in first.stdout
    before = snapshot(work)
    refused = numnet(work, *args)
    assert_clean_error(refused, 2, "argument --out", "earlier run", "--force", "--resume")
    assert snapshot(work) == before  # nothing overwritten, nothing lost

    # --resume continues the run, saying from which epoch
    resumed = numnet(work, *args[:-4], "--epochs", "3", "--out", "run", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from the checkpoint of epoch 2" in resumed.stdout
    assert "epoch 3/3" in resumed.stdout and "epoch 1/3" not in resumed.stdout
    assert len(json.loads((work / "run" / "history.json").read_text())["epochs"]) == 3

    # --resume with nothing more to train, or other options, is refused
    res = numnet(work, *args[:-4], "--epochs", "3", "--out", "run", "--resume")
    assert_clean_error(res, 2, "argument --epochs", "already has 3 epochs")
    res = numnet(work, *args[:-4], "--epochs", "4", "--lr", "0.1", "--out", "run", "--resume")
    assert_clean_error(res, 2, "argument --resume", "--lr")
    res = numnet(work, *TOY[:-1], "fresh", "--resume")
    assert_clean_error(res, 2, "argument --resume", "no checkpoint")

    # --force starts afresh
    forced = numnet(work, *args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "epoch 1/2" in forced.stdout and "resuming" not in forced.stdout


def test_divergence_writes_the_last_finite_model_and_exits_non_zero(work):
    res = numnet(work, "train", "--data", "spirals", "--lr", "1e6", "--epochs", "5", "--out", "run")
    assert_clean_error(res, 1, "training diverged", "epoch 1, batch")
    assert "wrote the last finite model" in res.stderr and "smaller --lr" in res.stderr
    model = work / "run" / "model.safetensors"
    assert model.exists()
    from numnet import io

    m = io.load(model)
    assert all(np.isfinite(p.data).all() for p in m.parameters())
    assert "diverged" in io.load_metadata(model)


@pytest.mark.parametrize(
    "damage",
    ["empty", "garbage", "truncated", "header", "checkpoint", "folder", "missing", "config"],
)
def test_unreadable_model_file_is_one_line(work, damage):
    from numnet import io, models

    good = work / "good.safetensors"
    io.save(models.mlp(2, [4], 2), good)
    path = work / "bad.safetensors"
    blob = good.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(os.urandom(300))
    elif damage == "truncated":
        path.write_bytes(blob[: len(blob) - 20])
    elif damage == "header":
        path.write_bytes(len(b"{bad json").to_bytes(8, "little") + b"{bad json")
    elif damage == "checkpoint":
        io.save_checkpoint({"epoch": 1, "w": np.zeros(3)}, path)
    elif damage == "folder":
        path.mkdir()
    elif damage == "config":
        header_len = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + header_len])
        header["__metadata__"]["config"] = '{"class": "numnet.nn.linear.Linear", "args": ["x"]}'
        raw = json.dumps(header).encode()
        raw += b" " * (-len(raw) % 8)
        path.write_bytes(len(raw).to_bytes(8, "little") + raw + blob[8 + header_len :])
    before = snapshot(work)
    for command in (["info", "bad.safetensors"], ["evaluate", "bad.safetensors", "--data", "xor"]):
        res = numnet(work, *command)
        assert_clean_error(res, 2, "bad.safetensors")
    assert snapshot(work) == before


def test_ctrl_c_writes_a_checkpoint_and_prints_a_working_resume_command(work):
    args = ["train", "--data", "spirals", "--hidden", "256,256", "--batch-size", "16",
            "--epochs", "500", "--out", "run"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "numnet", *args],
        cwd=work,
        env=_env(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        seen = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen.append(line)
            if line.startswith("epoch 1/500"):
                break
            assert line, "".join(seen) + proc.stderr.read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert (work / "run" / "checkpoint.safetensors").exists()
    match = re.search(r"checkpoint of epoch (\d+).*?resume with\n\s*(numnet .*)", err, re.S)
    assert match, err
    epoch, command = int(match[1]), shlex.split(match[2].strip())
    assert epoch >= 1 and command[0] == "numnet" and "--resume" in command
    # the printed command works: run it with fewer epochs left to keep the test short
    command[command.index("--epochs") + 1] = str(epoch + 1)
    res = numnet(work, *command[1:])
    assert res.returncode == 0, res.stderr
    assert f"resuming from the checkpoint of epoch {epoch}" in res.stdout
    assert f"epoch {epoch + 1}/{epoch + 1}" in res.stdout
    assert (work / "run" / "model.safetensors").exists()
