"""The numnet command line: demo, train, evaluate, info, reproduce.

Exit status: 0 success; 1 training diverged; 2 a usage or input error (bad option
value, missing or unreadable data or model file, an --out folder holding an earlier
run); 130 interrupted (Ctrl-C). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import sys
import time
from pathlib import Path

TOY = ("spirals", "moons", "circles", "xor")
IMAGE = ("mnist", "fashion-mnist", "idx")
DATASETS = IMAGE + TOY
MODELS = ("mlp", "convnet", "resnet")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "softplus", "arctan")
TOY_SIZES = (3000, 1000)  # generated training and test points of a toy set

# what an earlier run leaves in --out: never overwritten without --force or --resume
RUN_FILES = (
    "model.safetensors",
    "checkpoint.safetensors",
    "history.csv",
    "history.json",
    "summary.json",
    "learning_curves.png",
)
# options that --resume may change; every other one must be the checkpointed run's
RESUMABLE = ("epochs", "resume", "force", "out", "data_dir")

DESCRIPTION = """\
Neural networks from first principles, in NumPy: train MLPs, ConvNets and residual
networks on MNIST, Fashion-MNIST, your own IDX files or toy problems, evaluate and
inspect saved models, and rerun the lecture notes' experiments.

Start with "numnet demo" (offline, seconds), then "numnet train --help".
Exit status: 0 success, 1 training diverged, 2 usage or input error, 130 interrupted.
"""

DATA_HELP = """\
MNIST and Fashion-MNIST are read from the IDX files (gzip-compressed or not) in
--data-dir, else in $NUMNET_DATA, else in ~/.cache/numnet (each in the folder itself
or in its mnist/ or fashion-mnist/ sub-folder); nothing is downloaded.
"""


class UsageError(Exception):
    """A bad option value or input found after parsing: exit status 2, one line."""


class Interrupted(Exception):
    """Ctrl-C during training, after the message was printed: exit status 130."""


# -- option types: each error names the option (argparse prefixes "argument --x:") ----------
def _int(text: str, *, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _int(text, minimum=1)


def nonnegative_int(text: str) -> int:
    return _int(text, minimum=0)


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def nonnegative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def open_fraction(text: str) -> float:
    value = _float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {text}")
    return value


def probability(text: str) -> float:
    value = _float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 0 and < 1, got {text}")
    return value


def decay_factor(text: str) -> float:
    value = _float(text)
    if value != 0 and not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or in (0, 1], got {text}")
    return value


def int_list(text: str) -> list[int]:
    """``"512,512,512"`` -> ``[512, 512, 512]``; ``"0"`` -> ``[]`` (none)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: give comma-separated sizes such as 512,512")
    if text.strip() == "0":
        return []
    items = text.split(",")
    sizes = []
    for item in items:
        if not item.strip():
            raise argparse.ArgumentTypeError(
                f"{text!r} has an empty item: give comma-separated sizes such as 512,512"
            )
        try:
            size = int(item.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item.strip()!r} in {text!r} is not an integer: give comma-separated "
                "sizes such as 512,512"
            ) from None
        if size < 1:
            raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {size} in {text!r}")
        sizes.append(size)
    return sizes


# -- data ------------------------------------------------------------------------------
def _toy(name: str, n: int, seed: int):
    from numnet import data

    makers = {
        "spirals": lambda: data.spirals(n, 3, generator=seed),
        "moons": lambda: data.two_moons(n, 0.15, generator=seed),
        "circles": lambda: data.circles(n, 0.08, generator=seed),
        "xor": lambda: data.xor(n, 0.15, generator=seed),
    }
    return makers[name]()


def _data_error(name: str, data_dir, exc: BaseException) -> UsageError:
    """A data loader's error, told in terms of the command's options."""
    from numnet.data import data_root

    where = data_root(data_dir)
    label = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "idx": "the IDX data set"}[name]
    folder = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "idx": "mnist"}[name]
    files = (
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte (each .gz or not)"
    )
    if data_dir:
        source = "--data-dir"
    else:
        source = "$NUMNET_DATA" if os.environ.get("NUMNET_DATA") else "the default folder"
    if isinstance(exc, FileNotFoundError):
        return UsageError(
            f"{label} not found in {where} or {where / folder} (from {source}). Put the "
            f"files {files} there, or pass --data-dir DIR (or set $NUMNET_DATA) to the "
            "folder that holds them"
        )
    text = " ".join(str(exc).split())
    # the library's advice names Python keywords; the CLI's names options
    text = text.replace(
        "delete it (download=True fetches it again) or pass verify=False.",
        "replace it with a good copy.",
    )
    for python, cli in (("download=True", "--data-dir"), ("root=", "--data-dir ")):
        text = text.replace(python, cli)
    return UsageError(
        f"cannot read {label} from {where} (from {source}): {text}. Check the files, or "
        "pass --data-dir DIR (or set $NUMNET_DATA) to another copy"
    )


_DATA_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError)


def _image_split(name: str, data_dir, train: bool, flatten: bool):
    from numnet import data

    cls = data.FashionMNIST if name == "fashion-mnist" else data.MNIST
    try:
        ds = cls(data_dir, train=train, verify=name != "idx")
        return ds.arrays(flatten)
    except _DATA_ERRORS as exc:
        raise _data_error(name, data_dir, exc) from None


def _load_train_test(name: str, data_dir, seed: int, flatten: bool):
    """(X_train, y_train, X_test, y_test) as float32 / int64."""
    if name in IMAGE:
        return (
            *_image_split(name, data_dir, True, flatten),
            *_image_split(name, data_dir, False, flatten),
        )
    X, y = _toy(name, TOY_SIZES[0], seed)
    Xt, yt = _toy(name, TOY_SIZES[1], seed + 1)
    return X, y, Xt, yt


def _load_test(name: str, data_dir, seed: int, flatten: bool):
    """Only the test split (``numnet evaluate``)."""
    if name in IMAGE:
        return _image_split(name, data_dir, False, flatten)
    return _toy(name, TOY_SIZES[1], seed + 1)


# -- models ----------------------------------------------------------------------------
def _uses_images(model) -> bool:
    """Whether ``model`` takes (N, C, H, W) images (it holds a convolution)."""
    from numnet import nn

    return any(isinstance(m, nn.Conv2d) for m in model.modules())


def _read_arch(path: str) -> dict:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise UsageError(f"argument --arch: cannot read {path}: {exc.strerror or exc}") from None
    try:
        if p.suffix.lower() == ".toml":
            try:
                import tomllib
            except ImportError:  # Python 3.10
                raise UsageError(
                    "argument --arch: TOML needs Python >= 3.11; write the architecture as JSON"
                ) from None
            config = tomllib.loads(raw.decode("utf-8"))
        else:
            config = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        kind = "TOML" if p.suffix.lower() == ".toml" else "JSON"
        raise UsageError(f"argument --arch: {path} is not valid {kind}: {exc}") from None
    if isinstance(config, dict) and "class" not in config and isinstance(config.get("model"), dict):
        config = config["model"]  # a [model] table
    if not isinstance(config, dict) or "class" not in config:
        raise UsageError(
            f"argument --arch: {path} does not describe a model: expected the format of "
            'numnet.nn.config.to_config, e.g. {"class": "numnet.nn.containers.Sequential", '
            '"args": [...], "kwargs": {}}'
        )
    return config


def _model_from_arch(args):
    """The model of --arch FILE, its random initialisation drawn after manual_seed(--seed)."""
    import numnet
    from numnet.nn.config import from_config

    config = _read_arch(args.arch)
    numnet.manual_seed(args.seed)
    try:
        return from_config(config)
    except Exception as exc:  # anything a hand-written file can get wrong
        reason = " ".join(str(exc).split())
        raise UsageError(
            f"argument --arch: cannot build the model in {args.arch}: {reason}"
        ) from None


def _mlp(args, in_features: int, image_shape, n_classes: int):
    from numnet import models

    hidden = [512, 512, 512] if args.hidden is None else args.hidden
    return models.mlp(
        in_features, hidden, n_classes,
        activation=args.activation, dropout=args.dropout, generator=args.seed,
    )  # fmt: skip


def _convnet(args, in_features: int, image_shape, n_classes: int):
    from numnet import models

    hidden = [1024] if args.hidden is None else args.hidden
    if len(hidden) > 1:
        raise UsageError(
            "argument --hidden: --model convnet has one fully connected hidden layer: "
            f"give one width (e.g. 1024, or 0 for none), got {','.join(map(str, hidden))}"
        )
    try:
        return models.convnet(
            image_shape[0], n_classes,
            image_size=image_shape[-1], channels=args.channels, kernel_size=args.kernel_size,
            hidden=hidden[0] if hidden else 0, padding=args.padding, dropout=args.dropout,
            generator=args.seed,
        )  # fmt: skip
    except ValueError as exc:
        msg = str(exc).removeprefix("convnet: ")
        raise UsageError(f"argument --channels: {msg}") from None


def _resnet(args, in_features: int, image_shape, n_classes: int):
    from numnet import models

    hidden = [128] if args.hidden is None else args.hidden
    if len(hidden) != 1:
        raise UsageError(
            "argument --hidden: --model resnet has one width for all its blocks: give one "
            f"positive number (e.g. 128), got {','.join(map(str, hidden)) or '0'}"
        )
    return models.residual_mlp(
        in_features, hidden[0], args.depth, n_classes,
        activation=args.activation, generator=args.seed,
    )  # fmt: skip


_MODEL_BUILDERS = {"mlp": _mlp, "convnet": _convnet, "resnet": _resnet}


def _build_model(args, in_features: int, image_shape, n_classes: int):
    """The model the options describe (``image_shape``: (C, H, W) of image data, or None)."""
    if args.arch:
        return _model_from_arch(args)
    return _MODEL_BUILDERS[args.model](args, in_features, image_shape, n_classes)


def _check_model(model, input_shape, n_classes: int, what: str):
    """Run ``numnet.summary`` on one zero input; a usage error if the model does not fit."""
    import numnet

    try:
        table = numnet.summary(model, (1, *input_shape))
    except Exception as exc:
        raise UsageError(
            f"{what}: the model does not accept inputs of shape {(1, *input_shape)}: {exc}"
        ) from None
    shape = table.output_shape
    if isinstance(shape, tuple) and shape != (1, n_classes):
        raise UsageError(
            f"{what}: the model outputs shape {shape} for one input, but the data has "
            f"{n_classes} classes (expected (1, {n_classes}))"
        )
    return table


def _optimizer(args, model):
    from numnet import optim
    from numnet.models import weight_decay_groups

    groups = weight_decay_groups(model, args.l2)
    if args.optimizer == "sgd":
        return optim.SGD(groups, lr=args.lr, momentum=args.momentum, nesterov=args.nesterov)
    if args.optimizer == "adam":
        return optim.Adam(groups, lr=args.lr)
    return optim.RMSprop(groups, lr=args.lr)


class _BatchLog:
    """Training loss and error of every batch (recovered from fit's running means)."""

    def __init__(self, n_samples: int, batch_size: int):
        from numnet import train

        self.n, self.bs = n_samples, batch_size
        self.n_batches = math.ceil(n_samples / batch_size)
        self.x: list[float] = []
        self.loss: list[float] = []
        self.error: list[float] = []
        log = self

        class Recorder(train.Callback):
            def on_epoch_begin(self, loop, epoch):
                self.epoch, self.sums = epoch, (0.0, 0.0, 0)

            def on_batch_end(self, loop, batch, logs):
                seen = min((batch + 1) * log.bs, log.n)
                loss_sum = logs["loss"] * seen
                # (a mean of whole counts: round away the float residue, so a batch
                # without mistakes has an error of exactly 0, not 1e-12)
                acc = logs.get("accuracy", float("nan"))
                correct = round(acc * seen) if acc == acc else float("nan")
                prev_loss, prev_correct, prev_seen = self.sums
                k = seen - prev_seen
                if k > 0:
                    log.x.append(self.epoch - 1 + (batch + 1) / log.n_batches)
                    log.loss.append((loss_sum - prev_loss) / k)
                    log.error.append(100 * (1 - (correct - prev_correct) / k))
                self.sums = (loss_sum, correct, seen)

        self.callback = Recorder()


def _smooth(values, x):
    import numpy as np

    v = np.asarray(values, dtype=float)
    w = max(1, min(50, len(v) // 10))
    if w == 1:
        return np.asarray(x), v
    kernel = np.ones(w) / w
    return np.asarray(x)[w - 1 :], np.convolve(v, kernel, mode="valid")


def _plot_run(history, batches: _BatchLog, test_error: float | None, path: Path, title: str):
    """Loss and error: every batch (smoothed), every epoch's validation, the test error."""
    try:
        from numnet.viz import new_figure, save_figure

        fig, axes = new_figure(1, 2, size=(10, 3.6))
    except ImportError:
        print("(matplotlib not installed: no learning-curve PNG; pip install 'numnet[plot]')")
        return None
    h = history.history if hasattr(history, "history") else history
    epochs = h.get("epoch") or list(range(1, len(h["loss"]) + 1))
    for ax, key, values in (
        (axes[0, 0], "loss", batches.loss),
        (axes[0, 1], "error", batches.error),
    ):
        if values:
            ax.plot(batches.x, values, color="tab:blue", alpha=0.25, lw=0.7)
            ax.plot(*_smooth(values, batches.x), color="tab:blue", label="train (per batch)")
        if key == "loss":
            train_epoch = h.get("loss", [])
            val = h.get("val_loss", [])
        else:
            train_epoch = [100 * (1 - a) for a in h.get("accuracy", []) if a is not None]
            val = [100 * (1 - a) for a in h.get("val_accuracy", []) if a is not None]
        if len(train_epoch) == len(epochs):
            ax.plot(epochs, train_epoch, "s--", color="tab:blue", ms=4, lw=0.8,
                    label="train (epoch mean)")  # fmt: skip
        if len(val) == len(epochs):
            ax.plot(epochs, val, "o-", color="tab:orange", ms=5, label="validation")
        if key == "error" and test_error is not None:
            ax.axhline(100 * test_error, color="tab:green", ls=":", label="test (kept model)")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if key == "loss" else "error (%)")
        ax.set_yscale("log", nonpositive="mask")  # batches without mistakes: not drawn
        ax.set_title("cross-entropy loss" if key == "loss" else "classification error")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


def _fmt(n: int) -> str:
    return f"{n:,}"


def _command_line(argv: list[str], *extra: str) -> str:
    """The ``numnet`` command that reruns ``argv`` with ``extra`` options added."""
    kept = [a for a in argv if a not in ("--force", "--resume", *extra)]
    return shlex.join(["numnet", *kept, *extra])


# -- train -----------------------------------------------------------------------------
class _SafeInterrupt:
    """Ctrl-C never lands between the end of an epoch and its checkpoint.

    ``fit`` prints the epoch's line and then writes the checkpoint: a SIGINT in
    between is held back until the next epoch begins (or training ends), so that a
    user who interrupts after seeing "epoch N" finds the checkpoint of epoch N.
    """

    def __init__(self):
        from numnet import train

        class Guard(train.Callback):
            def on_epoch_end(guard, loop, epoch, logs):
                self.holding = True

            def on_epoch_begin(guard, loop, epoch):
                self.release()

            def on_train_end(guard, loop, logs):
                self.release()

        self.callback = Guard()
        self.holding = False
        self.pending = False
        self.previous = None

    def release(self):
        self.holding = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def _handler(self, signum, frame):
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def __enter__(self):
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave SIGINT alone
            self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False


def _checkpoint_epoch(path: Path) -> tuple[int, int | None]:
    """(epochs done, epoch that stopped the run early or None) of a CLI checkpoint."""
    from numnet import io

    try:
        state = io.load_checkpoint(path)
        epoch = int(state["epoch"])
        stopped = state.get("history", {}).get("stopped_epoch")
    except Exception as exc:  # a damaged checkpoint, whatever is wrong inside it
        raise UsageError(
            f"argument --resume: cannot read the checkpoint {path}: {' '.join(str(exc).split())}"
        ) from None
    return epoch, None if stopped is None else int(stopped)


def _check_out(args, argv) -> tuple[Path, int]:
    """Refuse to overwrite an earlier run; the epoch a --resume starts after (else 0)."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"argument --out: {out} exists and is not a folder")
    ckpt = out / "checkpoint.safetensors"
    if args.resume:
        if not ckpt.exists():
            raise UsageError(
                f"argument --resume: {out} holds no checkpoint.safetensors to resume from "
                "(run without --resume to start a new run)"
            )
        run = out / "run.json"
        if run.exists():
            try:
                before = json.loads(run.read_text())["args"]
            except (OSError, ValueError, KeyError, TypeError):
                before = None
            if isinstance(before, dict):
                now = _run_args(args)
                changed = [
                    k
                    for k in sorted(set(before) | set(now))
                    if k not in RESUMABLE and before.get(k) != now.get(k)
                ]
                if changed:
                    opts = ", ".join(
                        f"--{k.replace('_', '-')} (was {before.get(k)!r}, now {now.get(k)!r})"
                        for k in changed
                    )
                    raise UsageError(
                        f"argument --resume: the run in {out} was started with other "
                        f"options: {opts}; resume with the same options (only --epochs "
                        "may grow), or start afresh with --force"
                    )
        epoch, stopped = _checkpoint_epoch(ckpt)
        if stopped is not None:
            raise UsageError(
                f"argument --resume: the run in {out} stopped early at epoch {stopped} "
                "(--patience) and is finished; start afresh with --force"
            )
        if epoch >= args.epochs:
            raise UsageError(
                f"argument --epochs: the run in {out} already has {epoch} epochs; pass "
                f"--epochs larger than {epoch} with --resume to train more"
            )
        return out, epoch
    earlier = [name for name in RUN_FILES if (out / name).exists()]
    if earlier and not args.force:
        raise UsageError(
            f"argument --out: {out} holds an earlier run ({', '.join(earlier)}); pass "
            "--force to overwrite it, --resume to continue it, or another --out"
        )
    return out, 0


def _run_args(args) -> dict:
    return {k: v for k, v in vars(args).items() if k not in ("func", "command")}


class _TrainData:
    """The arrays of a ``numnet train`` run: training (after the validation split),
    validation and test, with the classes and the model's input shape."""

    def __init__(self, train, val, test, n_classes: int, input_shape: tuple) -> None:
        (self.X, self.y), (self.Xv, self.yv), (self.Xt, self.yt) = train, val, test
        self.n_classes, self.input_shape = n_classes, input_shape

    def split_message(self) -> str:
        n_train, n_val, n_test = (_fmt(len(a)) for a in (self.X, self.Xv, self.Xt))
        return f"{n_train} train + {n_val} validation, {n_test} test"


def _check_train_options(args) -> None:
    """Refuse options that do not go together; fill in the model options' defaults."""
    if args.model == "convnet" and not args.arch and args.data not in IMAGE:
        raise UsageError(
            f"argument --model: convnet needs images: use --data {', '.join(IMAGE)} "
            f"(--data {args.data} is a set of 2-D points; try --model mlp or resnet)"
        )
    if args.arch and args.model != "mlp":
        raise UsageError("argument --arch: give either --arch FILE or --model, not both")
    for option, value, models_ in (
        ("--channels", args.channels_given, ("convnet",)),
        ("--kernel-size", args.kernel_size_given, ("convnet",)),
        ("--padding", args.padding_given, ("convnet",)),
        ("--depth", args.depth_given, ("resnet",)),
    ):
        if value and (args.arch or args.model not in models_):
            raise UsageError(f"argument {option}: applies to --model {models_[0]} only")
    args.channels = args.channels if args.channels is not None else [32, 64]
    args.kernel_size = args.kernel_size if args.kernel_size is not None else 5
    args.padding = args.padding or "same"
    args.depth = args.depth if args.depth is not None else 8
    if args.model == "convnet" and not args.channels:
        raise UsageError("argument --channels: give at least one stage, e.g. 32,64")
    if args.kernel_size % 2 != 1:
        raise UsageError(f"argument --kernel-size: must be odd, got {args.kernel_size}")


def _train_data_and_model(args):
    """``(data, model, summary table)``: the data loaded and split, the model built and
    checked against it (images reshaped to (N, 1, H, W) for a convolutional model)."""
    X, y, Xt, yt = _load_train_test(args.data, args.data_dir, args.seed, flatten=True)
    n_classes = int(max(y.max(), yt.max())) + 1
    side = int(round(math.sqrt(X.shape[1])))
    image_shape = (1, side, side) if args.data in IMAGE else None
    model = _build_model(args, int(X.shape[1]), image_shape, n_classes)
    if _uses_images(model):
        if image_shape is None:
            raise UsageError(
                f"argument --arch: the model is convolutional, but --data {args.data} is not images"
            )
        X, Xt = X.reshape(len(X), *image_shape), Xt.reshape(len(Xt), *image_shape)
    input_shape = tuple(X.shape[1:])
    table = _check_model(
        model, input_shape, n_classes, "argument --arch" if args.arch else "argument --model"
    )
    train, val = _hold_out_validation(args, X, y)
    return _TrainData(train, val, (Xt, yt), n_classes, input_shape), model, table


def _hold_out_validation(args, X, y):
    """``((X_train, y_train), (X_val, y_val))``: --validation held out, stratified."""
    from numnet.data import train_val_split

    Xd, yd, Xv, yv = train_val_split(X, y, args.validation, stratify=True, generator=args.seed)
    if len(Xd) == 0 or len(Xv) == 0:
        raise UsageError(
            f"argument --validation: holding out {args.validation} of the {_fmt(len(X))} "
            "training samples leaves no training or no validation sample"
        )
    if args.batch_size > len(Xd):
        raise UsageError(
            f"argument --batch-size: {args.batch_size} is larger than the training set "
            f"({_fmt(len(Xd))} samples after holding out --validation {args.validation}); "
            f"use at most {len(Xd)}"
        )
    return (Xd, yd), (Xv, yv)


def _start_run(args, out: Path, data: _TrainData, model, table, resumed_from: int) -> None:
    """Clear an earlier run (--force), write run.json and model_summary.txt, say what
    is trained on what."""
    out.mkdir(parents=True, exist_ok=True)
    if args.force and not args.resume:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    run_info = {
        "args": _run_args(args),
        "input_shape": list(data.input_shape),
        "classes": data.n_classes,
    }
    (out / "run.json").write_text(json.dumps(run_info, indent=1) + "\n")
    (out / "model_summary.txt").write_text(str(table) + "\n")
    print(table, flush=True)
    what = "--arch " + args.arch if args.arch else f"{args.model}"
    print(
        f"model: {what}, {model.num_parameters():,} parameters; data: {args.data}, "
        f"{data.split_message()}; seed {args.seed}",
        flush=True,
    )
    if resumed_from:
        ckpt = out / "checkpoint.safetensors"
        print(f"resuming from the checkpoint of epoch {resumed_from} in {ckpt}", flush=True)


def _train_callbacks(args, out: Path, opt, *extra) -> list:
    """The loggers, the keeper of the best epoch, the --lr-decay schedule, then ``extra``."""
    from numnet import train

    callbacks = [train.CSVLogger(out / "history.csv"), train.JSONLogger(out / "history.json")]
    # patience = all the epochs: it never stops early, it only keeps the best weights
    callbacks.append(train.EarlyStopping("val_accuracy", patience=args.patience or args.epochs))
    if args.lr_decay:
        from numnet.optim.lr_scheduler import ExponentialLR

        callbacks.append(train.LearningRateScheduler(ExponentialLR(opt, args.lr_decay)))
    return callbacks + list(extra)


def _save_model(model, path: Path, args, data: _TrainData, **metadata) -> None:
    from numnet import io

    io.save(
        model,
        path,
        metadata={
            "data": args.data,
            **metadata,
            "input_shape": list(data.input_shape),
            "args": _run_args(args),
        },
    )


def _report_divergence(exc, args, out: Path, data, model, batch_log, title: str) -> int:
    """Save the last finite model (and the curves so far); exit status 1."""
    done = len(exc.history)
    when = f"end of epoch {done}" if done else "the initial weights: no epoch finished"
    _save_model(model, out / "model.safetensors", args, data, diverged=str(exc))
    if len(exc.history):
        _plot_run(exc.history, batch_log, None, out / "learning_curves.png", title)
    print(
        f"numnet train: error: training diverged: {exc}.\nwrote the last finite model "
        f"({when}) to {out / 'model.safetensors'}; try a smaller --lr (was {args.lr})",
        file=sys.stderr,
    )
    return 1


def _report_interrupt(ckpt: Path, argv) -> Interrupted:
    """Say how to resume after Ctrl-C; the exception that exits with status 130."""
    sys.stdout.flush()
    if ckpt.exists():
        epoch, _ = _checkpoint_epoch(ckpt)
        print(
            f"\ninterrupted: the checkpoint of epoch {epoch} is in {ckpt}; resume with\n"
            f"  {_command_line(argv, '--resume')}",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            "\ninterrupted before the first epoch ended: no checkpoint to resume from",
            file=sys.stderr,
            flush=True,
        )
    return Interrupted()


def _report_results(args, out: Path, data, model, history, batch_log, title, t0) -> None:
    """Test the kept model; write model.safetensors, summary.json and the curves (``t0``:
    when training started)."""
    import numnet.nn.functional as F
    from numnet import train

    test = train.evaluate(model, F.cross_entropy, (data.Xt, data.yt), batch_size=1000)
    best = history.best("val_accuracy", mode="max")
    _save_model(
        model,
        out / "model.safetensors",
        args,
        data,
        selected_epoch=best["epoch"],
        test_error=1 - test["accuracy"],
    )
    summary = {
        "test_error": 1 - test["accuracy"],
        "test_loss": test["loss"],
        "selected_epoch": best["epoch"],
        "val_error": 1 - best["val_accuracy"],
        "epochs_run": len(history),
        "train_samples": len(data.X),
        "validation_samples": len(data.Xv),
        "test_samples": len(data.Xt),
        "parameters": model.num_parameters(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    png = _plot_run(history, batch_log, summary["test_error"], out / "learning_curves.png", title)
    print(
        f"test error {100 * summary['test_error']:.2f}%  (model of epoch {best['epoch']}, "
        f"validation error {100 * summary['val_error']:.2f}%)  in {summary['seconds']}s"
    )
    print(
        f"wrote {out}/model.safetensors, history.csv, history.json, summary.json, "
        "model_summary.txt" + (f", {png.name}" if png else "")
    )


def cmd_train(args, argv) -> int:
    import numnet.nn.functional as F
    from numnet import train

    # 1. everything that can be refused is checked before anything is written
    _check_train_options(args)
    out, resumed_from = _check_out(args, argv)
    data, model, table = _train_data_and_model(args)

    # 2. the run
    _start_run(args, out, data, model, table, resumed_from)
    ckpt = out / "checkpoint.safetensors"
    opt = _optimizer(args, model)
    batch_log = _BatchLog(len(data.X), args.batch_size)
    guard = _SafeInterrupt()
    callbacks = _train_callbacks(args, out, opt, batch_log.callback, guard.callback)
    option = f"--arch {args.arch}" if args.arch else f"--model {args.model}"
    title = f"numnet train {option} --data {args.data}: {model.num_parameters():,} parameters"
    t0 = time.perf_counter()
    try:
        with guard:
            history = train.fit(
                model, F.cross_entropy, opt, (data.X, data.y),
                epochs=args.epochs, batch_size=args.batch_size, validation=(data.Xv, data.yv),
                callbacks=callbacks, generator=args.seed, checkpoint=ckpt,
                verbose=2 if not sys.stderr.isatty() else 1,
            )  # fmt: skip
    except train.TrainingDivergedError as exc:
        return _report_divergence(exc, args, out, data, model, batch_log, title)
    except KeyboardInterrupt:
        raise _report_interrupt(ckpt, argv) from None

    # 3. results
    _report_results(args, out, data, model, history, batch_log, title, t0)
    return 0


# -- evaluate, info ----------------------------------------------------------------------
def _load_model(path: str):
    """(model, metadata); a one-line usage error whatever is wrong with the file."""
    from numnet import io

    p = Path(path)
    if not p.exists():
        raise UsageError(f"model file {path} does not exist")
    if p.is_dir():
        hint = (
            " (did you mean its model.safetensors?)" if (p / "model.safetensors").exists() else ""
        )
        raise UsageError(f"model file {path} is a folder{hint}")
    try:
        meta = io.load_metadata(p)
        model = io.load(p)
    except Exception as exc:  # whatever is wrong inside the file: one line, no traceback
        reason = " ".join(str(exc).split()) or type(exc).__name__
        reason = reason.removeprefix(f"{p}: ").removeprefix(f"{path}: ")
        raise UsageError(f"cannot read model file {path}: {reason}") from None
    return model, meta


def cmd_evaluate(args, argv) -> int:
    import numnet.nn.functional as F
    from numnet import train

    model, meta = _load_model(args.model)
    saved = meta.get("args") if isinstance(meta.get("args"), dict) else {}
    name = args.data or meta.get("data") or "mnist"
    if name not in DATASETS:
        raise UsageError(f"argument --data: the model file names an unknown data set {name!r}")
    seed = args.seed if args.seed is not None else int(saved.get("seed", 0))
    images = _uses_images(model)
    if images and name not in IMAGE:
        raise UsageError(
            f"argument --data: the model is convolutional; --data {name} is not images"
        )
    Xt, yt = _load_test(name, args.data_dir, seed, flatten=True)
    if images:
        side = int(round(math.sqrt(Xt.shape[1])))
        Xt = Xt.reshape(len(Xt), 1, side, side)
    try:
        res = train.evaluate(model, F.cross_entropy, (Xt, yt), batch_size=1000)
    except (ValueError, IndexError) as exc:
        raise UsageError(
            f"the model in {args.model} does not fit --data {name} "
            f"(inputs {tuple(Xt.shape[1:])}): {' '.join(str(exc).split())}"
        ) from None
    error = 1 - res["accuracy"]
    if args.json:
        print(json.dumps({"test_loss": res["loss"], "test_error": error, "samples": len(Xt)}))
    else:
        print(f"test error {100 * error:.2f}%  test loss {res['loss']:.4f}  "
              f"({_fmt(len(Xt))} test samples of {name})")  # fmt: skip
    return 0


def cmd_info(args, argv) -> int:
    model, meta = _load_model(args.model)
    print(model)
    print(f"parameters: {model.num_parameters():,}")
    for name, p in model.named_parameters():
        print(f"  {name:<20} {p.shape!s:<14} {p.dtype}")
    extra = {k: _rounded(v) for k, v in meta.items() if k not in ("config",)}
    print(json.dumps(extra, indent=1, default=str))
    return 0


def _rounded(value, digits: int = 10):
    """``value`` with its floats rounded to ``digits`` significant digits (for display:
    0.049000000000000044 prints as 0.049), through lists and dicts."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


# -- reproduce -------------------------------------------------------------------------
# Wall times on this project's 2-core machine. quick: `numnet reproduce NAME --quick
# --data-dir <MNIST>`; full: as recorded in docs/ (None: not measured). MNIST: "yes"
# needs it even with --quick, "full run" needs it without --quick (--quick falls back
# to synthetic digits when MNIST is not found), "no" never.
EXPERIMENT_TIMES: dict[str, tuple[float | None, float | None, str]] = {
    "backward-cost": (2.3, 5, "no"),
    "deep-linear-dynamics": (1.6, 3, "no"),
    "denoising-ae": (4.9, 42, "full run"),
    "gradient-descent": (1.8, 6, "no"),
    "lda-vs-logistic": (1.3, 25, "no"),
    "linear-ae-pca": (3.9, 43, "full run"),
    "logistic-gd": (0.8, None, "no"),
    "mnist-8-vs-rest": (1.3, 95, "full run"),
    "mnist-autoencoder": (3.4, 30, "full run"),
    "mnist-convnet": (35.0, 23 * 60, "yes"),
    "mnist-mlp-table": (24.2, 45 * 60, "yes"),  # one seed: 3 seeds took 8,195 task-s
    "overfitting-2d": (1.3, 20, "no"),
    "perceptron-mnist": (1.7, 5, "full run"),
    "residual-depth": (1.1, 20, "yes"),
    "shift-equivariance": (1.3, 3, "full run"),
    "universal-approximation": (1.5, 27, "no"),
    "vanishing-gradients": (2.6, None, "full run"),
    "xor-features": (0.7, None, "no"),
}


# the table-shaped experiments, whose cells `reproduce NAME --cells` runs one by one
# (imported by name: the whole registry takes a second to import, these two 10 ms)
TABLE_EXPERIMENTS = {
    "mnist-mlp-table": "numnet.experiments.mnist_mlp_table",
    "mnist-convnet": "numnet.experiments.mnist_convnet",
}


def table_cells() -> dict[str, dict[str, object]]:
    """Each table experiment's cells: command-line name -> the key its run(cells=) takes."""
    import importlib

    from numnet.experiments._protocol import cell_names

    return {
        name: cell_names(importlib.import_module(module))
        for name, module in TABLE_EXPERIMENTS.items()
    }


def _selected_cells(name: str, text: str) -> list:
    """``--cells a,b`` of experiment ``name`` as the keys its run(cells=) takes."""
    tables = table_cells()
    if name not in tables:
        raise UsageError(
            f"argument --cells: {name} has no cells; only the tables do: "
            + ", ".join(tables)
        )
    cells = tables[name]
    chosen = [item.strip() for item in text.split(",")]
    if not any(chosen) or not all(chosen):
        raise UsageError(
            f"argument --cells: {text!r} has an empty item; give comma-separated cell "
            f"names of {name}: {', '.join(cells)}"
        )
    unknown = [item for item in chosen if item not in cells]
    if unknown:
        raise UsageError(
            f"argument --cells: unknown cell{'s' * (len(unknown) > 1)} "
            f"{', '.join(map(repr, unknown))} of {name}; choose from: {', '.join(cells)}"
        )
    return [cells[item] for item in dict.fromkeys(chosen)]


def _cells_help() -> str:
    lines = [f"{name}: {', '.join(cells)}" for name, cells in table_cells().items()]
    return (
        "run only these cells of a table, comma-separated (default: every cell); a "
        "finished cell is kept in --out/cells/ and reused by later runs. Cells: "
        + "; ".join(lines)
    )


# the table-shaped experiments that run as grids: --seeds K, --workers N, --scheduler ADDRESS
GRID_EXPERIMENTS = (
    "mnist-mlp-table", "mnist-convnet", "residual-depth", "universal-approximation",
    "overfitting-2d", "denoising-ae",
)


def _grid_options(args) -> dict:
    """--seeds/--workers/--scheduler as run() keywords ({} without them: today's run)."""
    options = {}
    if args.seeds is not None:
        options["seeds"] = args.seeds
    if args.workers is not None:
        options["workers"] = args.workers
    if args.scheduler is not None:
        options["scheduler"] = args.scheduler
    if options and args.name not in GRID_EXPERIMENTS:
        given = ", ".join(f"--{k}" for k in options)
        raise UsageError(
            f"argument {given}: {args.name} is not a grid; these are: "
            + ", ".join(GRID_EXPERIMENTS) + " (docs/grids.md)"
        )
    return options


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _find_mnist() -> str | None:
    """Where ``numnet train`` finds MNIST without --data-dir ($NUMNET_DATA, then
    ~/.cache/numnet, in mnist/ or the folder itself), or None if it is not there."""
    from numnet.data import MNIST, data_root

    root = data_root(None)
    names = [n for pair in MNIST.files.values() for n in pair]
    for folder in (root / MNIST.folder, root):
        if all((folder / n).is_file() or (folder / n.removesuffix(".gz")).is_file() for n in names):
            return str(folder)
    return None


def _list_experiments() -> None:
    """Print the experiments with their run times, whether they need MNIST, and how to
    run one."""
    from numnet import experiments

    registry = experiments.registry()
    width = max(map(len, registry)) + 2
    print(f"{'experiment':<{width}}{'--quick':>9}  {'full run':>13}  {'MNIST':<10}description")
    for name, module in registry.items():
        quick, full, mnist = EXPERIMENT_TIMES.get(name, (None, None, "?"))
        print(
            f"{name:<{width}}{_duration(quick):>9}  {_duration(full):>13}  {mnist:<10}"
            f"{module.DESCRIPTION}"
        )
    print(
        "\ntimes: wall clock on a 2-core machine (--quick measured with MNIST present; "
        "full runs as recorded in docs/).\nMNIST: 'yes' needs MNIST even with --quick; "
        "'full run': --quick uses synthetic digits when MNIST is not found.\n"
        + DATA_HELP.strip()
        + "\n"
        "Run one: numnet reproduce NAME [--quick] [--data-dir DIR] [--out DIR]\n"
        "One cell of a table: numnet reproduce mnist-mlp-table --cells relu-512x3/l2 "
        "(numnet reproduce --help lists the cells)"
    )


def cmd_reproduce(args, argv) -> int:
    from numnet import experiments

    if args.cells is not None and not args.name and not args.list:
        raise UsageError(
            "argument --cells: name the experiment, e.g. numnet reproduce mnist-convnet "
            "--cells l2 (cells of: " + ", ".join(TABLE_EXPERIMENTS) + ")"
        )
    if args.list or not args.name:
        _list_experiments()
        return 0
    try:
        module = experiments.get(args.name)
    except KeyError:
        known = ", ".join(experiments.registry())
        raise UsageError(
            f"argument name: unknown experiment {args.name!r}; choose from: {known} "
            "(numnet reproduce --list)"
        ) from None
    cells = None if args.cells is None else _selected_cells(args.name, args.cells)
    grid_options = _grid_options(args)
    out = Path(args.out or f"runs/{args.name}")
    from numnet.data import DownloadError, IDXFormatError

    data_dir = args.data_dir if args.data_dir is not None else _find_mnist()
    from numnet.io import ModelFileError

    try:
        options = {} if cells is None else {"cells": cells}
        options.update(grid_options)
        summary = module.run(out, quick=args.quick, data_dir=data_dir, seed=args.seed, **options)
    except (FileNotFoundError, IDXFormatError, DownloadError) as exc:
        raise _data_error("mnist", args.data_dir, exc) from None
    except ImportError as exc:
        if not grid_options or "numnet[distributed]" not in str(exc):
            raise
        raise UsageError(f"{exc}") from None
    except ModelFileError as exc:  # a damaged checkpoint of an earlier, interrupted run
        raise UsageError(
            f"{' '.join(str(exc).split())}; delete it to start the experiment afresh, or "
            "pass another --out"
        ) from None
    print(json.dumps(summary, indent=1, default=str))
    print(f"wrote results to {out}/")
    return 0


# -- demo ------------------------------------------------------------------------------
def cmd_demo(args, argv) -> int:
    """Train, keep the epoch of best validation loss, report its test accuracy.

    The exit status says whether the demo ran, not how well it learned: the accuracy
    is printed. The last epoch of a fixed schedule can land on a loss spike (which one
    does depends on the BLAS kernel's rounding), so the demo keeps the weights of the
    epoch with the lowest loss on a validation split held out from the training data
    (the test set plays no part in the choice), and says which epoch that was.
    """
    import numnet.nn.functional as F
    from numnet import models, optim, train
    from numnet.data import spirals, train_val_split

    print("numnet demo: a 2-64-64-3 ReLU MLP learns three interleaved spirals")
    X, y = spirals(3000, 3, generator=args.seed)
    X, y, Xt, yt = train_val_split(X, y, 0.2, generator=args.seed)
    X, y, Xv, yv = train_val_split(X, y, 0.1, generator=args.seed + 1)
    model = models.mlp(2, [64, 64], 3, activation="relu", generator=args.seed)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    # patience = all the epochs: it never stops early, it only keeps the best weights
    keep_best = train.EarlyStopping("val_loss", patience=args.epochs, restore_best_weights=True)
    t0 = time.perf_counter()
    hist = train.fit(
        model, F.cross_entropy, opt, (X, y), epochs=args.epochs, batch_size=32,
        validation=(Xv, yv), callbacks=[keep_best], generator=args.seed, verbose=2,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    val = train.evaluate(model, F.cross_entropy, (Xv, yv))  # the kept weights
    test = train.evaluate(model, F.cross_entropy, (Xt, yt))
    print(
        f"kept epoch {keep_best.best_epoch}/{len(hist)} (lowest validation loss): "
        f"val_loss {val['loss']:.4f}  val_accuracy {val['accuracy']:.4f}"
    )
    print(
        f"test accuracy {100 * test['accuracy']:.1f}%  test loss {test['loss']:.4f}  "
        f"({len(hist)} epochs, {seconds:.1f}s)"
    )
    if args.out:
        try:
            from numnet.viz import plot_decision_boundary

            png = plot_decision_boundary(model, Xt, yt, Path(args.out) / "demo_spirals.png")
            print(f"wrote {png}")
        except ImportError:
            print("(install matplotlib for the decision-boundary PNG: pip install 'numnet[plot]')")
    return 0


# -- parser ----------------------------------------------------------------------------
class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=30, width=min(100, _terminal_width()))


def _terminal_width() -> int:
    try:
        return os.get_terminal_size().columns
    except OSError:
        return 100


class _Given(argparse.Action):
    """Store the value and remember that the option was given (``<dest>_given``)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def _option(*flags: str, **keywords) -> tuple[tuple[str, ...], dict]:
    """One argument spec: ``parser.add_argument(*flags, **keywords)``."""
    return flags, keywords


def _add_options(parser, options) -> None:
    """Add ``(flags, keywords)`` argument specs to a parser or an argument group, in order."""
    for flags, keywords in options:
        parser.add_argument(*flags, **keywords)


def _seed_option(default: int | None, help: str):
    return _option("--seed", type=nonnegative_int, default=default, metavar="N", help=help)


def _data_dir_option(what: str = "the IDX files"):
    return _option(
        "--data-dir",
        default=None,
        metavar="DIR",
        help=f"folder holding {what} (default: $NUMNET_DATA, else ~/.cache/numnet)",
    )


def _model_file_argument():
    return _option("model", metavar="MODEL_FILE", help="a model.safetensors written by numnet")


DEMO_OPTIONS = (
    _option("--epochs", type=positive_int, default=40, metavar="N",
            help="passes over the training points (default: 40)"),
    _seed_option(0, "random seed of data, weights and shuffles (default: 0)"),
    _option("--out", default="runs/demo", metavar="DIR",
            help="folder for the decision-region PNG, '' for none (default: runs/demo)"),
)  # fmt: skip

TRAIN_DATA_OPTIONS = (
    _option("--data", default="mnist", choices=DATASETS, metavar="NAME",
            help=f"data set, one of: {', '.join(DATASETS)} (default: mnist). idx: any "
            "IDX files in MNIST's layout, read without checksums. Toy sets: "
            f"{_fmt(TOY_SIZES[0])} training and {_fmt(TOY_SIZES[1])} test 2-D points"),
    _data_dir_option(),
    _option("--validation", type=open_fraction, default=0.1, metavar="FRACTION",
            help="fraction of the training set held out (stratified) to select the "
            "epoch, strictly between 0 and 1 (default: 0.1, i.e. MNIST's 60,000 "
            "-> 54,000 train + 6,000 validation)"),
)  # fmt: skip

TRAIN_MODEL_OPTIONS = (
    _option("--model", default="mlp", choices=MODELS, metavar="KIND",
            help="mlp: fully connected; convnet: the seeds' ConvNet [conv k x k -> "
            "ReLU -> max-pool 2] per --channels stage -> fc --hidden -> fc; "
            "resnet: Linear -> --depth residual blocks x + Linear(act(x)) of "
            "width --hidden -> act -> Linear (default: mlp)"),
    _option("--arch", default=None, metavar="FILE",
            help="build the model from a JSON or TOML (.toml) file in the format of "
            "numnet.nn.config.to_config (the 'config' of a saved model) instead "
            "of --model; default: none"),
    _option("--hidden", type=int_list, default=None, metavar="SIZES",
            help="hidden units, comma-separated. mlp: one size per layer (default: "
            "512,512,512; 0 for none); convnet: width of the fully connected "
            "layer (default: 1024; 0 for none); resnet: width of every block "
            "(default: 128)"),
    _option("--activation", default="relu", choices=ACTIVATIONS, metavar="NAME",
            help=f"mlp and resnet nonlinearity, one of: {', '.join(ACTIVATIONS)} "
            "(default: relu; convnet always uses relu)"),
    # the options of one kind of model remember whether they were given (<dest>_given)
    _option("--channels", type=int_list, default=None, action=_Given, metavar="SIZES",
            help="convnet: output channels of each convolutional stage, "
            "comma-separated; each stage halves the image side (default: 32,64)"),
    _option("--kernel-size", type=positive_int, default=None, action=_Given, metavar="K",
            help="convnet: odd side of the square filters, in pixels (default: 5)"),
    _option("--padding", choices=("same", "valid"), default=None, action=_Given,
            help="convnet: 'same' zero-pads to keep the image size, 'valid' trims "
            "k-1 pixels per convolution (default: same)"),
    _option("--depth", type=positive_int, default=None, action=_Given, metavar="N",
            help="resnet: number of residual blocks (default: 8)"),
    _option("--dropout", type=probability, default=0.0, metavar="P",
            help="probability of dropping a hidden unit in training, in [0, 1); "
            "mlp: every hidden layer; convnet: the fully connected one "
            "(default: 0, off)"),
)  # fmt: skip

TRAIN_TRAINING_OPTIONS = (
    _option("--optimizer", default="sgd", choices=("sgd", "adam", "rmsprop"), metavar="NAME",
            help="one of: sgd, adam, rmsprop (default: sgd)"),
    _option("--lr", type=positive_float, default=0.05, metavar="RATE",
            help="learning rate, > 0 (default: 0.05)"),
    _option("--lr-decay", type=decay_factor, default=0.0, metavar="FACTOR",
            help="multiply the learning rate by FACTOR in (0, 1] after every epoch; 0 turns "
            "it off (default: 0)"),
    _option("--momentum", type=probability, default=0.9, metavar="BETA",
            help="sgd momentum coefficient, in [0, 1) (default: 0.9)"),
    _option("--nesterov", action="store_true", help="sgd: Nesterov momentum (default: off)"),
    _option("--l2", type=nonnegative_float, default=0.0, metavar="LAMBDA",
            help="weight decay λ of the penalty λ/2 Σ‖W‖² on weights, not biases, >= 0 "
            "(default: 0)"),
    _option("--epochs", type=positive_int, default=20, metavar="N",
            help="passes over the training set, >= 1; with --resume, the total "
            "including the epochs already done (default: 20)"),
    _option("--batch-size", type=positive_int, default=128, metavar="N",
            help="samples per minibatch, from 1 to the training-set size (default: 128)"),
    _option("--patience", type=nonnegative_int, default=0, metavar="EPOCHS",
            help="stop after this many epochs without a better validation accuracy "
            "(default: 0, never stop early; the best epoch's model is kept "
            "either way)"),
    _seed_option(0, "random seed of the weights, the split and the shuffles (default: 0)"),
)  # fmt: skip

TRAIN_OUTPUT_OPTIONS = (
    _option("--out", default="runs/train", metavar="DIR",
            help="output folder (default: runs/train); one holding an earlier run is "
            "refused unless --force or --resume"),
    _option("--force", action="store_true",
            help="overwrite the earlier run in --out (default: refuse)"),
    _option("--resume", action="store_true",
            help="continue the run in --out from its checkpoint (after Ctrl-C, or "
            "with a larger --epochs); the other options must be the same (default: "
            "start a new run)"),
)  # fmt: skip

TRAIN_DESCRIPTION = (
    "Train a classifier by minibatch SGD (or Adam/RMSprop), keep the epoch with the\n"
    "best validation accuracy, and report its test error. Writes to --out:\n"
    "model.safetensors, history.csv/.json, learning_curves.png, summary.json,\n"
    "model_summary.txt, run.json and checkpoint.safetensors (one per epoch; Ctrl-C\n"
    "prints the command that resumes from it).\n\n" + DATA_HELP
)

EVALUATE_OPTIONS = (
    _model_file_argument(),
    _option("--data", default=None, choices=DATASETS, metavar="NAME",
            help=f"one of: {', '.join(DATASETS)} (default: the data set the model was "
            "trained on)"),
    _data_dir_option(),
    _seed_option(None, "seed of a toy test set (default: the training run's seed)"),
    _option("--json", action="store_true",
            help='print {"test_loss", "test_error", "samples"} as JSON, for scripts '
            "(default: one readable line)"),
)  # fmt: skip


def _reproduce_options():
    """``reproduce``'s options but --workers/--scheduler (built when the parser is: the
    --cells help lists the tables' cells)."""
    return (
        _option("name", nargs="?", metavar="NAME", help="experiment name (see --list)"),
        _option("--list", action="store_true",
                help="list the experiments with their run times and whether they need "
                "MNIST (default: list when no NAME is given)"),
        _option("--quick", action="store_true",
                help="a reduced version, under a minute (default: the full experiment)"),
        _data_dir_option("the MNIST IDX files"),
        _option("--out", default=None, metavar="DIR",
                help="output folder (default: runs/NAME)"),
        _seed_option(0, "random seed (default: 0)"),
        _option("--cells", default=None, metavar="CELL[,CELL...]", help=_cells_help()),
        _option("--seeds", type=positive_int, default=None, metavar="K",
                help="run each cell of a table for K seeds (--seed, ..., --seed + K - 1) "
                "and report mean ± std and the best seed per cell; finished tasks are "
                "kept in --out/grid/ (tables only: " + ", ".join(GRID_EXPERIMENTS)
                + "; docs/grids.md; default: one seed, today's run)"),
    )  # fmt: skip


REPRODUCE_WHERE_OPTIONS = (
    _option("--workers", type=positive_int, default=None, metavar="N",
            help="run the table's tasks on a local Dask cluster of N processes, each with "
            "cores/N BLAS threads (needs numnet[distributed]; default: serial)"),
    _option("--scheduler", default=None, metavar="ADDRESS",
            help="run the table's tasks on an existing Dask cluster, e.g. tcp://host:8786 "
            "(needs numnet[distributed]; default: serial)"),
)  # fmt: skip


def _subcommand(sub, name: str, func, help: str, description: str, options=()):
    """The parser of one subcommand, with ``options`` added and ``func`` to run it."""
    parser = sub.add_parser(name, help=help, description=description, formatter_class=_Formatter)
    _add_options(parser, options)
    parser.set_defaults(func=func)
    return parser


def _add_train(sub) -> None:
    parser = _subcommand(
        sub,
        "train",
        cmd_train,
        "train an MLP, ConvNet or residual network and report its test error",
        TRAIN_DESCRIPTION,
    )
    for title, options in (
        ("data", TRAIN_DATA_OPTIONS),
        ("model", TRAIN_MODEL_OPTIONS),
        ("training", TRAIN_TRAINING_OPTIONS),
        ("output", TRAIN_OUTPUT_OPTIONS),
    ):
        _add_options(parser.add_argument_group(title), options)
    parser.set_defaults(
        channels_given=False, kernel_size_given=False, padding_given=False, depth_given=False
    )


def _add_reproduce(sub) -> None:
    parser = _subcommand(
        sub,
        "reproduce",
        cmd_reproduce,
        "run one of the lecture notes' experiments (--list: names and times)",
        "Run one of the seeds' experiments; it writes tables (Markdown, CSV, JSON) and "
        "figures (PNG) to --out.\n\n" + DATA_HELP,
        _reproduce_options(),
    )
    _add_options(parser.add_mutually_exclusive_group(), REPRODUCE_WHERE_OPTIONS)


def build_parser() -> argparse.ArgumentParser:
    from numnet import __version__

    p = argparse.ArgumentParser(prog="numnet", description=DESCRIPTION, formatter_class=_Formatter)
    p.add_argument("--version", action="version", version=f"numnet {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _subcommand(
        sub,
        "demo",
        cmd_demo,
        "train a small MLP on generated spirals (offline, a few seconds)",
        "Train a 2-64-64-3 ReLU MLP on three interleaved spirals (offline).",
        DEMO_OPTIONS,
    )
    _add_train(sub)
    _subcommand(
        sub,
        "evaluate",
        cmd_evaluate,
        "test error of a saved model (loads only the test split)",
        "Print the test error and loss of a model saved by numnet train (or, with --json, "
        "a JSON object).\n\n" + DATA_HELP,
        EVALUATE_OPTIONS,
    )
    _subcommand(
        sub,
        "info",
        cmd_info,
        "architecture, parameters and metadata of a saved model",
        "Print a saved model's layers, parameter shapes and training metadata.",
        (_model_file_argument(),),
    )
    _add_reproduce(sub)
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        return args.func(args, argv)
    except UsageError as exc:
        command = getattr(locals().get("args"), "command", None)
        print(f"numnet{' ' + command if command else ''}: error: {exc}", file=sys.stderr)
        return 2
    except Interrupted:
        return 130
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # numnet ... | head
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
