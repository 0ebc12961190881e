"""One randomness keyword per API family (see numnet.random's docstring).

* the PyTorch-shaped API takes ``generator=``; its older ``seed=`` / ``rng=`` still work,
  with a DeprecationWarning, and give the same bits;
* the scikit-learn-shaped estimators take ``random_state=``;
* ``None`` is numnet's default generator everywhere, so ``numnet.manual_seed(k)`` makes a
  ``None`` run repeatable in every family;
* a bad value raises TypeError / ValueError naming the keyword.
"""

from __future__ import annotations

import importlib
import inspect
import types
import warnings

import numpy as np
import pytest

import numnet
from numnet import nn
from numnet.classic import LogisticRegression, Perceptron, RandomPairProducts
from numnet.data import ArrayDataset, iterate_minibatches, train_val_split, xor
from numnet.random import as_generator, check_random_state, renamed_kwarg
from numnet.sklearn import MLPClassifier


def _data(n=40, d=3, seed=0):
    gen = np.random.default_rng(seed)
    X = gen.standard_normal((n, d)).astype(np.float32)
    y = (X[:, 0] + 0.3 * gen.standard_normal(n) > 0).astype(np.int64)
    return X, y


def _same(a, b):
    """Equal nested tuples/lists/dicts of arrays, bit for bit."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


# -- the deprecated keywords: a warning, and the same bits as generator= ------------------
def _split(**kw):
    X, y = _data()
    return train_val_split(X, y, 0.25, **kw)


def _dataset_split(**kw):
    X, y = _data()
    train, val = ArrayDataset(X, y).split(0.25, **kw)
    return train.X, train.y, val.X, val.y


def _fit(**kw):
    from numnet import optim, train
    from numnet.nn import functional as F

    X, y = _data()
    model = nn.Sequential(nn.Linear(3, 8, generator=0), nn.ReLU(), nn.Linear(8, 2, generator=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    history = train.fit(
        model, F.cross_entropy, opt, (X, y), epochs=2, batch_size=8, verbose=0, **kw
    )
    return history.history["loss"], model.state_dict()


#: (public callable, deprecated keyword, a call taking that keyword's value)
RENAMED = [
    (train_val_split, "seed", _split),
    (ArrayDataset.split, "seed", _dataset_split),
    ("numnet.train.fit", "seed", _fit),
]


@pytest.mark.parametrize("value", [3, "generator"], ids=["int", "Generator"])
@pytest.mark.parametrize(
    ("func", "old", "call"), RENAMED, ids=[r[1] + ":" + r[2].__name__ for r in RENAMED]
)
def test_renamed_keyword_warns_and_gives_the_same_bits(func, old, call, value):
    def source():
        return np.random.default_rng(7) if value == "generator" else value

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        new = call(generator=source())
    with pytest.warns(DeprecationWarning, match=f"{old}= is deprecated.*use generator="):
        deprecated = call(**{old: source()})
    _same(new, deprecated)


@pytest.mark.parametrize(("func", "old", "call"), RENAMED, ids=[r[2].__name__ for r in RENAMED])
def test_renamed_keyword_and_new_keyword_together_is_an_error(func, old, call):
    with pytest.raises(TypeError, match=f"'{old}' is the deprecated name of 'generator'"):
        call(generator=0, **{old: 0})


def test_renamed_kwarg_keeps_the_signature_and_records_the_alias():
    @renamed_kwarg("rng")
    @renamed_kwarg("seed")
    def draw(n, *, generator=None):
        """Doc."""
        return as_generator(generator).random(n)

    assert list(inspect.signature(draw).parameters) == ["n", "generator"]
    assert draw.__doc__ == "Doc."
    assert draw.__renamed_kwargs__ == {"seed": "generator", "rng": "generator"}
    for old in ("seed", "rng"):
        with pytest.warns(DeprecationWarning, match=f"{old}="):
            np.testing.assert_array_equal(draw(3, **{old: 5}), draw(3, generator=5))


def _public_callables(module):
    """``(qualified name, callable)`` for the public functions, classes and their public
    methods (``__init__`` included) of ``module`` and of its public submodules: the names
    in ``__all__``, or, without one, the public names the module defines."""
    seen, todo = set(), [module]
    while todo:
        mod = todo.pop()
        if mod.__name__ in seen:
            continue
        seen.add(mod.__name__)
        listed = getattr(mod, "__all__", None)
        names = listed or [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name)
            if isinstance(obj, types.ModuleType):
                if obj.__name__.startswith(module.__name__ + "."):
                    todo.append(obj)
                continue
            origin = getattr(obj, "__module__", None) or ""
            # without __all__, a module's public names are those it defines
            if not origin.startswith("numnet") or (not listed and origin != mod.__name__):
                continue
            if inspect.isclass(obj):
                yield f"{mod.__name__}.{name}", obj
                for attr, member in vars(obj).items():
                    if attr == "__init__" or not attr.startswith("_"):
                        member = getattr(obj, attr)
                        if callable(member) and not inspect.isclass(member):
                            yield f"{mod.__name__}.{name}.{attr}", member
            elif callable(obj):
                yield f"{mod.__name__}.{name}", obj


def _parameters(func) -> list[str]:
    try:
        return list(inspect.signature(func).parameters)
    except (TypeError, ValueError):  # builtins without a signature
        return []


TORCH_SHAPED = [
    "numnet.nn",
    "numnet.data",
    "numnet.utils.data",
    "numnet.train",
    "numnet.models",
    "numnet.autoencoder",
    "numnet.creation",
    "numnet.deep_linear",
]


@pytest.mark.parametrize("module", TORCH_SHAPED)
def test_pytorch_shaped_signatures_say_generator(module):
    found = list(_public_callables(importlib.import_module(module)))
    assert found, f"nothing public found in {module}"
    wrong = sorted(
        f"{name}({p}=)"
        for name, func in found
        for p in _parameters(func)
        if p in ("seed", "rng", "random_state")
    )
    assert not wrong, f"use generator= in the PyTorch-shaped API: {wrong}"


@pytest.mark.parametrize("module", ["numnet.classic", "numnet.sklearn"])
def test_estimators_say_random_state(module):
    found = list(_public_callables(importlib.import_module(module)))
    wrong = sorted(
        f"{name}({p}=)"
        for name, func in found
        for p in _parameters(func)
        if p in ("seed", "rng", "generator")
    )
    assert not wrong, f"use random_state= in the scikit-learn-shaped estimators: {wrong}"
    with_random_state = [n for n, f in found if "random_state" in _parameters(f)]
    assert with_random_state, f"no estimator of {module} takes random_state"


def _name(func) -> str:
    return f"{func.__module__}.{func.__qualname__}".replace("numnet.train.loop.", "numnet.train.")


def test_every_deprecated_alias_is_tested_here():
    tested = {(f if isinstance(f, str) else _name(f), old) for f, old, _ in RENAMED}
    aliases = {
        (_name(func), old)
        for module in TORCH_SHAPED
        for _, func in _public_callables(importlib.import_module(module))
        for old in getattr(func, "__renamed_kwargs__", {})
    }
    missing = aliases - tested
    assert not missing, f"add these deprecated keywords to RENAMED: {sorted(missing)}"


# -- None is numnet's default generator, in every family ----------------------------------
def _twice(run, k=123):
    numnet.manual_seed(k)
    first = run()
    numnet.manual_seed(k)
    return first, run()


def _perceptron():
    X, y = _data(seed=1)
    p = Perceptron(shuffle=True, max_epochs=5).fit(X, y)
    return p.coef_, p.intercept_, [e["nb_changes"] for e in p.log_]


def _mlp_classifier():
    X, y = _data(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning after 3 epochs
        est = MLPClassifier((5,), max_iter=3, batch_size=8, early_stopping=True).fit(X, y)
    return est.coefs_, est.intercepts_, est.loss_curve_


NONE_RUNS = {
    "nn.Linear": lambda: nn.Linear(4, 3).weight.data,
    "nn.Dropout": lambda: nn.Dropout(0.5)(numnet.ones(20)).data,
    "randn": lambda: numnet.randn(5).data,
    "models.mlp": lambda: numnet.models.mlp(4, (6,), 2).state_dict(),
    "data.xor": lambda: xor(20),
    "data.train_val_split": lambda: train_val_split(*_data(), 0.25),
    "data.iterate_minibatches": lambda: [b for b, _ in iterate_minibatches(np.arange(20), None, 6)],
    "classic.Perceptron": _perceptron,
    "classic.LogisticRegression": lambda: (
        LogisticRegression(init="normal", max_iter=0).fit(*_data()).coef_
    ),
    "classic.RandomPairProducts": lambda: RandomPairProducts(10).fit(_data()[0]).pairs_,
    "sklearn.MLPClassifier": _mlp_classifier,
}


@pytest.mark.parametrize("name", list(NONE_RUNS))
def test_none_is_the_default_generator(name):
    first, second = _twice(NONE_RUNS[name])
    _same(first, second)
    numnet.manual_seed(123)
    numnet.random.default_generator().random()  # the default generator has moved on
    moved = NONE_RUNS[name]()
    assert any(
        not np.array_equal(np.asarray(a), np.asarray(b))
        for a, b in zip(_flatten(first), _flatten(moved))
    ), "None did not draw from numnet's default generator"


def _flatten(obj):
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _flatten(v)]
    if isinstance(obj, (tuple, list)) and not np.isscalar(obj):
        return [x for v in obj for x in _flatten(v)]
    return [obj]


def test_none_draws_exactly_what_manual_seed_seeds():
    numnet.manual_seed(5)
    from_default = nn.Linear(4, 3).weight.data
    explicit = nn.Linear(4, 3, generator=np.random.default_rng(5)).weight.data
    np.testing.assert_array_equal(from_default, explicit)

    numnet.manual_seed(5)
    w = LogisticRegression(init="normal", max_iter=0).fit(*_data()).coef_
    np.testing.assert_array_equal(w, np.random.default_rng(5).standard_normal(3).astype(np.float32))


def test_check_random_state_is_the_one_helper():
    from numnet.classic import _validation

    assert _validation.check_random_state is check_random_state
    assert check_random_state(None) is numnet.random.default_generator()
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    s = np.random.SeedSequence(4)
    assert (
        check_random_state(s).random() == np.random.default_rng(np.random.SeedSequence(4)).random()
    )


# -- bad values name the keyword --------------------------------------------------------
BAD = [("a string", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError)]

GENERATOR_CALLS = {
    "train_val_split": lambda g: train_val_split(*_data(), 0.25, generator=g),
    "ArrayDataset.split": lambda g: ArrayDataset(*_data()).split(generator=g),
    "iterate_minibatches": lambda g: list(iterate_minibatches(np.arange(5), None, 2, generator=g)),
    "xor": lambda g: xor(8, generator=g),
    "randn": lambda g: numnet.randn(2, generator=g),
    "nn.Linear": lambda g: nn.Linear(2, 2, generator=g),
    "models.mlp": lambda g: numnet.models.mlp(2, (3,), 2, generator=g),
}

RANDOM_STATE_CALLS = {
    "Perceptron": lambda r: Perceptron(shuffle=True, random_state=r).fit(*_data()),
    "LogisticRegression": lambda r: LogisticRegression(init="normal", random_state=r).fit(*_data()),
    "RandomPairProducts": lambda r: RandomPairProducts(3, random_state=r).fit(_data()[0]),
    "MLPClassifier": lambda r: MLPClassifier((3,), max_iter=1, random_state=r).fit(*_data()),
}


@pytest.mark.parametrize(("bad", "error"), BAD, ids=[repr(b) for b, _ in BAD])
@pytest.mark.parametrize("name", list(GENERATOR_CALLS))
def test_bad_generator_names_the_keyword(name, bad, error):
    with pytest.raises(error, match="generator"):
        GENERATOR_CALLS[name](bad)


@pytest.mark.parametrize(("bad", "error"), BAD, ids=[repr(b) for b, _ in BAD])
@pytest.mark.parametrize("name", list(RANDOM_STATE_CALLS))
def test_bad_random_state_names_the_keyword(name, bad, error):
    with pytest.raises(error, match="random_state"):
        RANDOM_STATE_CALLS[name](bad)
