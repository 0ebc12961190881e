"""``import numnet`` reaches every public subpackage, lazily (PEP 562), like ``import torch``."""

import subprocess
import sys

import numnet

LAZY = ["autoencoder", "classic", "data", "deep_linear", "experiments", "io", "models",
        "sklearn", "testing", "train", "utils", "viz"]


def test_subpackages_load_on_first_use_in_a_fresh_process():
    code = (
        "import sys, numnet\n"
        f"lazy = {LAZY!r}\n"
        "assert not [m for m in lazy if 'numnet.' + m in sys.modules], 'imported eagerly'\n"
        "for m in lazy:\n"
        "    assert getattr(numnet, m).__name__ == 'numnet.' + m\n"
        "assert numnet.save is numnet.io.save and numnet.load is numnet.io.load\n"
        "assert set(lazy) <= set(dir(numnet))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_unknown_attribute_raises_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        numnet.nonexistent  # noqa: B018


def test_top_level_save_and_load_round_trip(tmp_path):
    import numpy as np

    model = numnet.nn.Sequential(numnet.nn.Linear(3, 2, generator=0), numnet.nn.ReLU())
    path = numnet.save(model, tmp_path / "m.safetensors")
    again = numnet.load(path)
    x = numnet.randn(4, 3, generator=1)
    np.testing.assert_array_equal(model(x).data, again(x).data)
