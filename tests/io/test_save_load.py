"""numnet.save / numnet.load: safetensors + JSON config, exact round trips, safe loading."""

import pickle
import struct

import numpy as np
import pytest

import numnet
from numnet import io, models, nn


def model():
    return nn.Sequential(
        nn.Linear(4, 8, generator=0),
        nn.Tanh(),
        nn.Dropout(0.2),
        nn.Linear(8, 3, generator=1),
        nn.LeakyReLU(0.1),
    )


def test_round_trip_is_exact(tmp_path):
    m = model()
    path = io.save(m, tmp_path / "m.safetensors", metadata={"note": "hi"})
    back = io.load(path)
    assert repr(back) == repr(m)
    for (k, v), (k2, v2) in zip(m.state_dict().items(), back.state_dict().items()):
        assert k == k2 and v.dtype == v2.dtype
        np.testing.assert_array_equal(v, v2)
    x = numnet.randn(5, 4, generator=0)
    m.eval(), back.eval()
    np.testing.assert_array_equal(m(x).data, back(x).data)
    meta = io.load_metadata(path)
    assert meta["note"] == "hi" and meta["format_version"] == 1


def test_float64_and_mlp_builder_round_trip(tmp_path):
    m = models.mlp(3, [5, 5], 2, activation="sigmoid", dropout=0.5, generator=2).double()
    back = io.load(io.save(m, tmp_path / "m.safetensors"))
    assert back[0].weight.dtype == np.float64
    np.testing.assert_array_equal(back[0].weight.data, m[0].weight.data)


def test_safetensors_names_follow_pytorch(tmp_path):
    from safetensors.numpy import load_file

    io.save(model(), tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    assert sorted(tensors) == ["0.bias", "0.weight", "3.bias", "3.weight"]
    assert tensors["0.weight"].shape == (8, 4)


def _all_dtypes() -> dict[str, np.ndarray]:
    g = np.random.default_rng(0)
    out = {
        f"{np.dtype(t).name}": (g.standard_normal((2, 3)) * 50).astype(t)
        for t in ("f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1")
    }
    out["bool"] = g.random((3, 1)) > 0.5
    out["empty"] = np.zeros((0, 4), np.float32)
    out["scalar"] = np.array(2.5, np.float64)
    return out


def test_numnet_files_are_read_by_the_safetensors_package(tmp_path):
    from safetensors.numpy import load_file, safe_open

    tensors = _all_dtypes()
    tensors["big-endian"] = np.arange(6, dtype=">i4").reshape(2, 3)
    tensors["strided"] = np.arange(12.0).reshape(3, 4)[:, ::2]
    path = io.write_safetensors(tmp_path / "n.safetensors", tensors, {"k": "v", "ü": "☃"})
    back = load_file(path)
    assert set(back) == set(tensors)
    for name, arr in tensors.items():
        assert back[name].dtype == arr.dtype.newbyteorder("=") and back[name].shape == arr.shape
        np.testing.assert_array_equal(back[name], arr)
    with safe_open(path, framework="numpy") as fh:
        assert fh.metadata() == {"k": "v", "ü": "☃"}


def test_safetensors_package_files_are_read_by_numnet(tmp_path):
    from safetensors.numpy import save_file

    tensors = _all_dtypes()
    save_file(tensors, tmp_path / "p.safetensors", metadata={"format": "pt"})
    back, meta = io.read_safetensors(tmp_path / "p.safetensors")
    assert meta == {"format": "pt"} and set(back) == set(tensors)
    for name, arr in tensors.items():
        assert back[name].dtype == arr.dtype and back[name].shape == arr.shape
        np.testing.assert_array_equal(back[name], arr)
    save_file({"w": np.ones(3, np.float32)}, tmp_path / "q.safetensors")  # no metadata
    assert io.read_safetensors(tmp_path / "q.safetensors")[1] == {}


def test_write_refuses_what_safetensors_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="cannot store dtype complex128"):
        io.write_safetensors(tmp_path / "c.safetensors", {"z": np.zeros(2, complex)}, {})
    with pytest.raises(TypeError, match="metadata"):
        io.write_safetensors(tmp_path / "m.safetensors", {}, {"n": 1})
    assert list(tmp_path.iterdir()) == []


def test_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"0.weight": np.zeros(3)}))
    with pytest.raises(io.ModelFileError, match="never unpickles"):
        io.load(path)
    zipfile = tmp_path / "model.pt"
    zipfile.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(io.ModelFileError, match="pickle"):
        io.load(zipfile)


def test_truncated_and_corrupt_files(tmp_path):
    path = io.save(model(), tmp_path / "m.safetensors")
    blob = path.read_bytes()
    (tmp_path / "t.safetensors").write_bytes(blob[:-10])
    with pytest.raises(io.ModelFileError, match="truncated or corrupt"):
        io.load(tmp_path / "t.safetensors")
    (tmp_path / "h.safetensors").write_bytes(blob[:20])
    with pytest.raises(io.ModelFileError, match="header length"):
        io.load(tmp_path / "h.safetensors")
    n = struct.unpack("<Q", blob[:8])[0]
    bad = blob[:8] + b"{" * n + blob[8 + n :]
    (tmp_path / "c.safetensors").write_bytes(bad)
    with pytest.raises(io.ModelFileError, match="corrupt safetensors header"):
        io.load(tmp_path / "c.safetensors")
    (tmp_path / "e.safetensors").write_bytes(b"abc")
    with pytest.raises(io.ModelFileError, match="truncated"):
        io.load(tmp_path / "e.safetensors")
    with pytest.raises(io.ModelFileError, match="no such file"):
        io.load(tmp_path / "missing.safetensors")


def test_mismatched_weights_and_foreign_files(tmp_path):
    io.save_state_dict({"0.weight": np.zeros((2, 2), np.float32)}, tmp_path / "sd.safetensors")
    with pytest.raises(io.ModelFileError, match="not a numnet model file.*load_state_dict"):
        io.load(tmp_path / "sd.safetensors")
    assert list(io.load_state_dict(tmp_path / "sd.safetensors")) == ["0.weight"]
    io.save_checkpoint({"model": {"w": np.zeros(2, np.float32)}}, tmp_path / "ck.safetensors")
    with pytest.raises(io.ModelFileError, match="a training checkpoint: .*load_checkpoint"):
        io.load(tmp_path / "ck.safetensors")
    # weights whose shapes disagree with the stored architecture
    import json

    from numnet.nn.config import to_config

    m = model()
    state = m.state_dict()
    state["0.weight"] = np.zeros((9, 4), np.float32)
    io.write_safetensors(
        tmp_path / "x.safetensors",
        state,
        {"format": "numnet", "format_version": "1", "config": json.dumps(to_config(m))},
    )
    with pytest.raises(io.ModelFileError, match="do not match the architecture.*0.weight"):
        io.load(tmp_path / "x.safetensors")


def test_unknown_classes_are_not_built(tmp_path):
    class Mine(nn.Module):
        def __init__(self, n):
            self.lin = nn.Linear(n, 1)

        def forward(self, x):
            return self.lin(x)

    path = io.save(Mine(3), tmp_path / "mine.safetensors")
    with pytest.raises(io.ModelFileError, match="unknown module class"):
        io.load(path)
    back = io.load(path, classes={"Mine": Mine})
    assert back.lin.weight.shape == (1, 3)


def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    io.save(model(), path)
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(io, "_tensor_bytes", boom)  # fails after the header is written
    with pytest.raises(RuntimeError):
        io.save(model(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_checkpoint_round_trip(tmp_path):
    state = {
        "epoch": 3,
        "arrays": {0: {"m": np.arange(4.0)}},
        "rng": 2**90,
        "t": (1, "a"),
        "none": None,
    }
    back = io.load_checkpoint(io.save_checkpoint(state, tmp_path / "c.safetensors"))
    assert back["epoch"] == 3 and back["rng"] == 2**90 and back["t"] == (1, "a")
    np.testing.assert_array_equal(back["arrays"][0]["m"], np.arange(4.0))


def test_torch_loads_numnet_weights(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    m = models.mlp(4, [8], 3, activation="relu", generator=0)
    io.save(m, tmp_path / "m.safetensors")
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    tm.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_allclose(
        tm(torch.from_numpy(x)).detach().numpy(), m(numnet.Tensor(x)).data, rtol=1e-5, atol=1e-6
    )


def test_checkpoint_keys_never_collide_and_unsigned_arrays_load(tmp_path):
    state = {
        "a.b": np.zeros(2),
        "a": {"b": np.ones(2)},
        "x": [np.ones(1)],
        "x.0": np.zeros(1),
        "key": np.arange(3, dtype=np.uint32),
    }
    back = io.load_checkpoint(io.save_checkpoint(state, tmp_path / "c.safetensors"))
    np.testing.assert_array_equal(back["a.b"], [0, 0])
    np.testing.assert_array_equal(back["a"]["b"], [1, 1])
    np.testing.assert_array_equal(back["x"][0], [1])
    np.testing.assert_array_equal(back["x.0"], [0])
    assert back["key"].dtype == np.uint32


def _raw_safetensors(header: dict, payload: bytes) -> bytes:
    import json as _json

    text = _json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + payload


@pytest.mark.parametrize(
    "header,payload,match",
    [
        (
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
            },
            b"\0" * 8,
            "overlapping",
        ),
        (
            {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
            b"\0" * 8,
            "unexpected bytes",
        ),
        (
            {"a": {"dtype": "F32", "shape": [-1, -4], "data_offsets": [0, 16]}},
            b"\0" * 16,
            "non-negative",
        ),
        (
            {"a": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}},
            b"\0" * 8,
            "non-negative",
        ),
        (
            {"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}},
            b"\0" * 2,
            "does not read",
        ),
        ({"__metadata__": [1]}, b"", "metadata"),
    ],
)
def test_malformed_safetensors_are_rejected(tmp_path, header, payload, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_raw_safetensors(header, payload))
    with pytest.raises(io.ModelFileError, match=match):
        io.read_safetensors(path)


# -- tied (shared) parameters -----------------------------------------------------------
def _tied_torch_model(torch, d, m):
    class TiedAE(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Linear(d, m, bias=False)
            self.decoder = torch.nn.Module()
            self.decoder.weight = self.encoder.weight  # one Parameter, two names

        def forward(self, x):
            return torch.nn.functional.linear(self.encoder(x), self.decoder.weight.t())

    return TiedAE()


def test_tied_autoencoder_save_load_stays_tied(tmp_path):
    from safetensors.numpy import load_file

    from numnet.autoencoder import LinearAutoencoder, reconstruction_loss

    X = numnet.randn(32, 6, generator=1)
    ae = LinearAutoencoder(6, 2, tied=True, generator=0)
    opt = numnet.optim.SGD(ae.parameters(), lr=0.05)
    for _ in range(5):  # trains: one parameter, gradient from both uses
        opt.zero_grad()
        reconstruction_loss(ae(X), X).backward()
        opt.step()
    assert list(ae.state_dict()) == ["encoder.weight", "decoder.weight"]
    path = io.save(ae, tmp_path / "tied.safetensors")
    assert list(load_file(path)) == ["encoder.weight"]  # stored once
    assert io.load_metadata(path)["config"]["kwargs"]["tied"] is True
    back = io.load(path)
    assert back.decoder.weight is back.encoder.weight  # still one Parameter
    assert len(list(back.parameters())) == 1
    np.testing.assert_array_equal(back(X).data, ae(X).data)
    # the bare state dict round trip restores both names
    io.save_state_dict(ae.state_dict(), tmp_path / "sd.safetensors")
    assert list(load_file(tmp_path / "sd.safetensors")) == ["encoder.weight"]
    sd = io.load_state_dict(tmp_path / "sd.safetensors")
    assert sorted(sd) == ["decoder.weight", "encoder.weight"]
    np.testing.assert_array_equal(sd["decoder.weight"], ae.encoder.weight.data)


def test_tied_state_dict_from_torch_loads(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_model

    from numnet.autoencoder import LinearAutoencoder

    torch.manual_seed(0)
    tm = _tied_torch_model(torch, 6, 2)
    tsd = tm.state_dict()
    assert list(tsd) == ["encoder.weight", "decoder.weight"]  # torch lists both names
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    want = tm(torch.from_numpy(x)).detach().numpy()
    # the full state dict (both keys), converted to numpy
    ae = LinearAutoencoder(6, 2, tied=True, generator=1)
    assert ae.load_state_dict({k: v.numpy() for k, v in tsd.items()}) == ([], [])
    np.testing.assert_allclose(ae(numnet.Tensor(x)).data, want, rtol=1e-6, atol=1e-7)
    assert ae.decoder.weight is ae.encoder.weight
    # safetensors' own deduplicated file (one key, the alias in its metadata)
    save_model(tm, str(tmp_path / "torch.safetensors"))
    sd = io.load_state_dict(tmp_path / "torch.safetensors")
    assert len(sd) == 1
    ae2 = LinearAutoencoder(6, 2, tied=True, generator=2)
    ae2.load_state_dict(sd)
    np.testing.assert_allclose(ae2(numnet.Tensor(x)).data, want, rtol=1e-6, atol=1e-7)
    # and torch loads numnet's state dict of the tied model
    tm2 = _tied_torch_model(torch, 6, 2)
    tm2.load_state_dict({k: torch.from_numpy(v) for k, v in ae.state_dict().items()})
    assert tm2.decoder.weight is tm2.encoder.weight


def test_shared_layer_round_trip_and_corrupt_aliases(tmp_path):
    import json

    lin = nn.Linear(3, 3, generator=0)
    m = nn.Sequential(lin, nn.Tanh(), lin)
    path = io.save(m, tmp_path / "m.safetensors")
    back = io.load(path)
    # Sequential's config rebuilds two layers: the values of both names are restored
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[k], v)
    x = numnet.randn(2, 3, generator=0)
    np.testing.assert_array_equal(back(x).data, m(x).data)
    tensors, meta = io.read_safetensors(path)
    meta["aliases"] = json.dumps({"2.weight": "nope"})
    io.write_safetensors(tmp_path / "bad.safetensors", tensors, meta)
    with pytest.raises(io.ModelFileError, match="missing tensor 'nope'"):
        io.load(tmp_path / "bad.safetensors")
    meta["aliases"] = "[1"
    io.write_safetensors(tmp_path / "bad2.safetensors", tensors, meta)
    with pytest.raises(io.ModelFileError, match="aliases"):
        io.load_state_dict(tmp_path / "bad2.safetensors")


def test_save_refuses_a_state_dict_with_a_pointer_to_save_state_dict(tmp_path):
    m = model()
    with pytest.raises(TypeError, match="save_state_dict"):
        io.save(m.state_dict(), tmp_path / "sd.safetensors")
    assert not (tmp_path / "sd.safetensors").exists()


def test_a_text_file_is_called_not_a_model_file(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,accuracy\n1,0.5,0.9\n" * 10)
    with pytest.raises(io.ModelFileError, match="not a safetensors model file"):
        io.load(path)


def test_numnet_classes_are_found_by_public_or_bare_name():
    """A hand-written architecture may name numnet's layers as users know them."""
    from numnet.nn import config

    for name in ("Sequential", "numnet.nn.Sequential", "numnet.nn.containers.Sequential"):
        model = config.from_config({"class": name, "args": [
            {"__module__": {"class": "numnet.nn.Linear",
                            "kwargs": {"in_features": 4, "out_features": 3}}},
            {"__module__": {"class": "ReLU"}},
        ]})
        assert [type(m).__name__ for m in model] == ["Linear", "ReLU"]
    for name in ("os.system", "mypkg.Sequential", "NoSuchLayer"):
        with pytest.raises(ValueError, match="unknown module class"):
            config.from_config({"class": name})


def test_a_saved_autoencoder_loads_in_a_fresh_process(tmp_path):
    """numnet.autoencoder loads on first use; loading its model imports it (no 'unknown
    module class' because nobody imported numnet.autoencoder yet)."""
    import subprocess
    import sys

    from numnet.autoencoder import Autoencoder

    path = tmp_path / "ae.safetensors"
    numnet.save(Autoencoder(8, 2, (4,), generator=0), path)
    code = (
        "import numnet, sys; m = numnet.load(sys.argv[1]); "
        "print(type(m).__name__, 'numnet.autoencoder' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Autoencoder", "True"]


def test_modes_round_trip_like_torch_save(tmp_path):
    """torch.save(model) keeps each module's training flag; so does numnet.save."""
    m = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2))
    io.save(m, tmp_path / "train.safetensors")
    assert all(x.training for _, x in io.load(tmp_path / "train.safetensors").named_modules())
    m.eval()
    io.save(m, tmp_path / "eval.safetensors")
    assert not any(x.training for _, x in io.load(tmp_path / "eval.safetensors").named_modules())
    m.train()
    m[1].eval()  # one module frozen in eval mode
    io.save(m, tmp_path / "mixed.safetensors")
    got = io.load(tmp_path / "mixed.safetensors")
    assert [x.training for _, x in got.named_modules()] == [True, True, False, True]
    tensors, meta = io.read_safetensors(tmp_path / "mixed.safetensors")
    meta["eval_modules"] = '["7"]'
    io.write_safetensors(tmp_path / "bad.safetensors", tensors, meta)
    with pytest.raises(io.ModelFileError, match="unknown module '7'"):
        io.load(tmp_path / "bad.safetensors")
