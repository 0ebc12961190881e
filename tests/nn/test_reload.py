"""Architectures after ``importlib.reload``, and user classes saved through ``classes=``."""

import importlib

import numpy as np
import pytest

import numnet
from numnet import io, nn
from numnet.nn.config import from_config, to_config
from numnet.nn.module import MODULE_CLASSES, register_module_class


@pytest.fixture
def reloaded():
    """Reload numnet.nn.linear and numnet.nn.activation; restore both modules afterwards
    (other tests hold the original classes)."""
    modules = [importlib.import_module(n) for n in ("numnet.nn.linear", "numnet.nn.activation")]
    saved = [dict(vars(m)) for m in modules]
    registry = dict(MODULE_CLASSES)
    try:
        yield [importlib.reload(m) for m in modules]
    finally:
        for m, attrs in zip(modules, saved):
            vars(m).clear()
            vars(m).update(attrs)
        MODULE_CLASSES.clear()
        MODULE_CLASSES.update(registry)


def test_save_and_load_with_reloaded_layer_classes(tmp_path, reloaded):
    linear, activation = reloaded
    assert linear.Linear is not nn.Linear  # a new class object under the same name
    assert MODULE_CLASSES["numnet.nn.linear.Linear"] is linear.Linear
    assert MODULE_CLASSES["numnet.nn.activation.Tanh"] is activation.Tanh
    model = nn.Sequential(linear.Linear(3, 4, generator=0), activation.Tanh(),
                          nn.Linear(4, 2, generator=1), activation.LeakyReLU(0.2))  # fmt: skip
    back = io.load(io.save(model, tmp_path / "m.safetensors"))
    assert type(back[0]) is linear.Linear and type(back[1]) is activation.Tanh
    assert type(back[2]) is linear.Linear  # built from the registry: the reloaded class
    assert back[3].negative_slope == 0.2
    x = numnet.randn(5, 3, generator=0)
    np.testing.assert_array_equal(back(x).data, model(x).data)


def test_registering_a_class_again_is_a_no_op_and_a_reload_replaces_it(reloaded):
    linear, _ = reloaded
    before = dict(MODULE_CLASSES)
    assert register_module_class(linear.Linear) is linear.Linear
    assert MODULE_CLASSES == before
    old = nn.Linear  # the class the first import created, same qualified name
    register_module_class(old)
    assert MODULE_CLASSES["numnet.nn.linear.Linear"] is old
    assert len(MODULE_CLASSES) == len(before)


class Scaled(nn.Module):
    """A user module with an explicit config."""

    def __init__(self, n: int, *, scale: float = 1.0, generator=None) -> None:
        self.n, self.scale = n, scale
        self.lin = nn.Linear(n, n, generator=generator)

    def get_config(self) -> dict:
        return {"n": self.n, "scale": self.scale}

    def forward(self, x):
        return self.lin(x) * self.scale


class Stack(nn.Module):
    """A user module without get_config: its constructor arguments are recorded."""

    def __init__(self, *widths, activation="tanh", generator=None) -> None:
        self.layers = nn.ModuleList(
            nn.Linear(a, b, generator=generator) for a, b in zip(widths, widths[1:])
        )
        self.act = nn.ACTIVATIONS[activation]()

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return x


@pytest.mark.parametrize(
    "make", [lambda: Scaled(3, scale=0.5, generator=0), lambda: Stack(3, 5, 2, generator=0)]
)
def test_user_classes_round_trip_through_classes(tmp_path, make):
    model = make()
    path = io.save(model, tmp_path / "user.safetensors")
    with pytest.raises(io.ModelFileError, match="unknown module class"):
        io.load(path)
    back = io.load(path, classes={type(model).__name__: type(model)})
    assert type(back) is type(model)
    x = numnet.randn(4, 3, generator=1)
    np.testing.assert_array_equal(back(x).data, model(x).data)


def test_recorded_arguments_are_named_and_leave_out_generators():
    stack = Stack(3, 5, 2, activation="relu", generator=np.random.default_rng(0))
    assert stack.get_config() == {"widths": [3, 5, 2], "activation": "relu"}
    config = to_config(stack)
    assert config["args"] == [3, 5, 2] and config["kwargs"] == {"activation": "relu"}
    rebuilt = from_config(config, classes={"Stack": Stack})
    assert [m.out_features for m in rebuilt.layers] == [5, 2]
    assert Scaled(2, generator=7).get_config() == {"n": 2, "scale": 1.0}


def test_a_subclass_with_another_constructor_gets_the_recorded_default():
    class Wide(nn.Linear):  # inherits Linear.get_config, which describes Linear(...)
        def __init__(self, n):
            super().__init__(n, 2 * n)

    class Tagged(nn.Linear):  # same constructor: Linear's get_config still fits
        pass

    assert Wide(3).get_config() == {"n": 3}
    assert from_config(to_config(Wide(3)), classes={"Wide": Wide}).out_features == 6
    assert Tagged(2, 5).get_config()["out_features"] == 5
    assert "Wide" not in {c.__name__ for c in MODULE_CLASSES.values()}  # users' stay out


def test_every_numnet_module_class_describes_its_own_constructor():
    """numnet's classes define get_config beside their __init__ (no recorded arguments)."""
    import numnet.autoencoder  # noqa: F401 - registers the classes
    import numnet.deep_linear  # noqa: F401

    recorded = [name for name, cls in MODULE_CLASSES.items() if cls._auto_config]
    assert recorded == []
