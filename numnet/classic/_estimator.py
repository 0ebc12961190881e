"""scikit-learn's estimator protocol, with scikit-learn optional.

When scikit-learn is installed, numnet's estimators inherit from its ``BaseEstimator``
and mixins (so ``clone``, ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, the HTML
repr and the tags machinery see native estimators). Without it they inherit from the
small stand-ins below, which give the same ``get_params`` / ``set_params`` (nested
``step__param`` names included), the same repr, and :func:`clone`.

The rules the estimators follow (scikit-learn's): ``__init__`` only stores its
arguments, unmodified, under their own names; everything learned by ``fit`` ends in
``_``; ``random_state`` is an int, a ``numpy.random.Generator``, a ``SeedSequence`` or
None (numnet's default generator), normalised by :func:`numnet.random.check_random_state`.
"""

from __future__ import annotations

import copy
import inspect

__all__ = [
    "HAVE_SKLEARN",
    "BaseEstimator",
    "ClassifierMixin",
    "DataConversionWarning",
    "NotFittedError",
    "RegressorMixin",
    "TransformerMixin",
    "clone",
    "sklearn_tags",
]

try:  # scikit-learn is optional: guard the import of its base classes
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.base import clone as _sk_clone
    from sklearn.exceptions import DataConversionWarning
    from sklearn.exceptions import NotFittedError as _SkNotFittedError

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised by the no-sklearn test in a subprocess
    HAVE_SKLEARN = False
    _sk_clone = None

    class DataConversionWarning(UserWarning):
        """Input data was converted (e.g. a column-vector ``y`` raveled)."""

    class _SkNotFittedError(ValueError, AttributeError):
        pass

    class BaseEstimator:
        """``get_params`` / ``set_params`` from the ``__init__`` signature (scikit-learn's)."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            init = cls.__init__
            if init is object.__init__:
                return []
            params = inspect.signature(init).parameters.values()
            names = [p.name for p in params if p.name != "self" and p.kind != p.VAR_KEYWORD]
            if any(p.kind == p.VAR_POSITIONAL for p in params):
                raise RuntimeError(f"{cls.__name__}: estimators take no *args in __init__")
            return sorted(names)

        def get_params(self, deep: bool = True) -> dict:
            out = {}
            for key in self._get_param_names():
                value = getattr(self, key)
                if deep and hasattr(value, "get_params") and not isinstance(value, type):
                    out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
                out[key] = value
            return out

        def set_params(self, **params):
            if not params:
                return self
            valid = self.get_params(deep=True)
            nested: dict[str, dict] = {}
            for key, value in params.items():
                key, delim, sub_key = key.partition("__")
                if key not in valid:
                    raise ValueError(
                        f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                        f"Valid parameters are: {sorted(self._get_param_names())!r}."
                    )
                if delim:
                    nested.setdefault(key, {})[sub_key] = value
                else:
                    setattr(self, key, value)
                    valid[key] = value
            for key, sub_params in nested.items():
                valid[key].set_params(**sub_params)
            return self

        def __repr__(self) -> str:
            defaults = {
                name: p.default
                for name, p in inspect.signature(type(self).__init__).parameters.items()
            }
            shown = []
            for key, value in self.get_params(deep=False).items():
                default = defaults.get(key, inspect.Parameter.empty)
                if default is inspect.Parameter.empty or not _same(value, default):
                    shown.append(f"{key}={value!r}")
            return f"{type(self).__name__}({', '.join(shown)})"

    class ClassifierMixin:
        _estimator_type = "classifier"

    class RegressorMixin:
        _estimator_type = "regressor"

    class TransformerMixin:
        def fit_transform(self, X, y=None, **fit_params):
            return self.fit(X, y, **fit_params).transform(X)


def _same(a, b) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:  # arrays and other objects without a plain truth value
        return False


class NotFittedError(_SkNotFittedError, RuntimeError):
    """A method that needs a fitted estimator was called before ``fit``.

    It is scikit-learn's ``NotFittedError`` (a ``ValueError`` and an ``AttributeError``)
    when scikit-learn is installed, and a ``RuntimeError`` as numnet raised before.
    """


def clone(estimator, *, safe: bool = True):
    """A new unfitted estimator with the same parameters (scikit-learn's ``clone``).

    Uses ``sklearn.base.clone`` when scikit-learn is installed; otherwise rebuilds
    ``type(estimator)(**estimator.get_params(deep=False))``, cloning nested estimators
    and deep-copying other parameters. Lists and tuples of estimators are cloned
    element by element.
    """
    if _sk_clone is not None:
        return _sk_clone(estimator, safe=safe)
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)(clone(e, safe=safe) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        if not safe:
            return copy.deepcopy(estimator)
        raise TypeError(
            f"Cannot clone object {estimator!r} (type {type(estimator)}): it does not "
            "implement get_params"
        )
    params = estimator.get_params(deep=False)
    new = {k: clone(v, safe=False) for k, v in params.items()}
    return type(estimator)(**new)


def sklearn_tags(estimator, tags, **changes):
    """Apply ``changes`` to scikit-learn ``Tags`` (``"input_tags.allow_nan"``-style keys
    as ``input_tags__allow_nan``) and return them."""
    for key, value in changes.items():
        parts = key.split("__")
        target = tags
        for part in parts[:-1]:
            target = getattr(target, part)
        setattr(target, parts[-1], value)
    return tags
