"""``numnet train --model convnet | resnet | --arch FILE``, help texts, --version, and
``numnet reproduce --list`` (in-process: fast; tiny IDX files, no MNIST needed)."""

from __future__ import annotations

import argparse
import json
import shutil

import numpy as np
import pytest

from numnet.cli import build_parser, main


@pytest.fixture
def tiny_idx(tmp_path, monkeypatch, row_block_digits):
    """160 training and 60 test 28x28 'digits' (class k lights up row block k)."""
    monkeypatch.setenv("NUMNET_DATA", str(tmp_path / "no-data"))
    return row_block_digits(tmp_path / "idx", 160, 60)


OUTPUTS = (
    "model.safetensors",
    "history.csv",
    "history.json",
    "summary.json",
    "model_summary.txt",
    "learning_curves.png",
    "checkpoint.safetensors",
    "run.json",
)


def test_convnet_on_idx_files_then_evaluate_reads_only_the_test_split(tiny_idx, tmp_path, capsys):
    out = tmp_path / "cnn"
    argv = ["train", "--model", "convnet", "--data", "idx", "--data-dir", str(tiny_idx),
            "--channels", "4,8", "--kernel-size", "3", "--hidden", "16", "--epochs", "2",
            "--batch-size", "32", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Conv2d" in text and "(1, 8, 7, 7)" in text  # the per-layer summary
    assert "144 train + 16 validation, 60 test" in text and "epoch 2/2" in text
    for name in OUTPUTS:
        assert (out / name).exists(), name
    assert "MaxPool2d" in (out / "model_summary.txt").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["train_samples"] == 144 and summary["epochs_run"] == 2

    # evaluate needs only the test files, and knows the model takes images
    test_only = tmp_path / "test-only"
    test_only.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(tiny_idx / name, test_only / name)
    assert main(
        ["evaluate", str(out / "model.safetensors"), "--data-dir", str(test_only), "--json"]
    ) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["samples"] == 60
    assert res["test_error"] == pytest.approx(summary["test_error"])

    assert main(["info", str(out / "model.safetensors")]) == 0
    assert "0.weight" in capsys.readouterr().out


def test_resnet_on_a_toy_set(tmp_path, capsys):
    out = tmp_path / "res"
    argv = ["train", "--model", "resnet", "--depth", "3", "--hidden", "16", "--data", "moons",
            "--epochs", "3", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.count("(Residual)") == 3 and "2,700 train + 300 validation" in text
    from numnet import io, nn

    model = io.load(out / "model.safetensors")
    assert sum(isinstance(m, nn.Residual) for m in model.modules()) == 3
    assert json.loads((out / "summary.json").read_text())["test_error"] < 0.5


def test_residual_mlp_blocks_are_identity_plus_branch():
    import numnet
    from numnet import models

    model = models.residual_mlp(5, 6, 2, 3, activation="tanh", generator=0)
    x = numnet.Tensor(np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32))
    h = model[0](x)
    for block in (model[1], model[2]):
        expected = h.data + block.block(h).data
        h = block(h)
        np.testing.assert_allclose(h.data, expected, rtol=1e-6)
    with pytest.raises(ValueError):
        models.residual_mlp(5, 0, 2, 3)


@pytest.mark.parametrize("kind", ["json", "toml"])
def test_architecture_from_a_file(tmp_path, capsys, kind):
    from numnet import models
    from numnet.nn.config import to_config

    if kind == "json":
        arch = tmp_path / "net.json"
        arch.write_text(json.dumps(to_config(models.mlp(2, [12, 12], 2, activation="tanh"))))
    else:
        arch = tmp_path / "net.toml"
        arch.write_text(
            '[model]\nclass = "numnet.nn.containers.Sequential"\n'
            "[[model.args]]\n"
            '__module__ = { class = "numnet.nn.linear.Linear", args = [2, 12] }\n'
            "[[model.args]]\n"
            '__module__ = { class = "numnet.nn.activation.Tanh" }\n'
            "[[model.args]]\n"
            '__module__ = { class = "numnet.nn.linear.Linear", args = [12, 2] }\n'
        )
    out = tmp_path / "arch"
    argv = ["train", "--arch", str(arch), "--data", "xor", "--epochs", "2", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "(Tanh)" in text and "model: --arch" in text
    assert (out / "model.safetensors").exists()


def test_every_train_option_documents_its_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in sub.choices.items():
        for action in command._actions:
            if isinstance(action, argparse._HelpAction) or not action.option_strings:
                continue
            assert action.help and "default" in action.help, (name, action.option_strings)
    train_help = sub.choices["train"].format_help()
    for text in ("512,512,512", "relu, tanh", "fraction of the training set", "$NUMNET_DATA"):
        assert text in " ".join(train_help.split()), text
    top = parser.format_help()
    assert "``" not in top and ":func:" not in top


def test_version(capsys):
    import numnet

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"numnet {numnet.__version__}"


def test_reproduce_list_shows_times_and_mnist(capsys):
    from numnet import experiments

    assert main(["reproduce", "--list"]) == 0
    text = capsys.readouterr().out
    for name in experiments.registry():
        line = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert (" s " in line or " min " in line) and (
            " yes " in line or " no " in line or " full run " in line
        ), line
    assert "mnist-convnet" in text and "23 min" in text


def test_reproduce_unknown_experiment_is_a_usage_error(capsys):
    assert main(["reproduce", "no-such-thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment 'no-such-thing'" in err and "mnist-convnet" in err


def test_per_batch_error_of_a_batch_without_mistakes_is_exactly_zero():
    """The learning-curve figure's per-batch error comes from running means of whole
    counts: float residue (15/22 · 22 = 14.999999999999998) must not become an error of
    1e-12, which a log axis then stretches down to."""
    from numnet.cli import _BatchLog

    log = _BatchLog(n_samples=44, batch_size=22)
    rec = log.callback
    rec.on_epoch_begin(None, 1)
    rec.on_batch_end(None, 0, {"loss": 0.5, "accuracy": 15 / 22})  # 7 mistakes of 22
    rec.on_batch_end(None, 1, {"loss": 0.25, "accuracy": 37 / 44})  # then 22 of 22 right
    assert log.error[0] == pytest.approx(100 * 7 / 22)
    assert log.error[1] == 0.0
