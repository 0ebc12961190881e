"""``MLPClassifier``, ``MLPRegressor`` and ``ConvNetClassifier``: numnet networks trained by
:func:`numnet.train.fit`, behind scikit-learn's estimator API.

The parameters are scikit-learn's ``MLPClassifier``'s where they exist (so that code
moves over by changing an import), plus what scikit-learn's MLP does not have:
``dropout``, ``solver="rmsprop"``, float32/float64 ``dtype``, and a convolutional
network for images.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from numnet.classic._base import accuracy
from numnet.classic._estimator import BaseEstimator, ClassifierMixin, RegressorMixin
from numnet.classic._validation import (
    check_classes,
    check_classification_targets,
    check_fitted,
    validate_data,
)
from numnet.random import check_random_state
from numnet.train.callbacks import Callback

__all__ = ["ConvNetClassifier", "MLPClassifier", "MLPRegressor", "expected_failed_checks"]

_ACTIVATIONS = {"identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu", "softplus"}
_SOLVERS = ("adam", "sgd", "rmsprop")
_INITS = ("glorot_uniform", "pytorch")

try:
    from sklearn.exceptions import ConvergenceWarning
except ImportError:  # pragma: no cover

    class ConvergenceWarning(UserWarning):
        """The optimizer stopped at ``max_iter`` before the loss converged."""


def _activation(name: str):
    from numnet import nn

    if name == "identity":
        return None
    return nn.ACTIVATIONS["sigmoid" if name == "logistic" else name]()


def glorot_bound(fan_in: int, fan_out: int, activation: str) -> float:
    """scikit-learn's MLP initialisation bound ``√(factor / (fan_in + fan_out))``, with
    ``factor = 2`` for the logistic (sigmoid) activation and 6 otherwise (Glorot &
    Bengio, 2010; ``BaseMultilayerPerceptron._init_coef`` in scikit-learn)."""
    factor = 2.0 if activation in ("logistic", "sigmoid") else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def _glorot_uniform_(layer, activation: str, generator) -> None:
    """Refill a :class:`numnet.nn.Linear`'s weight, then its bias, from ``U(-b, b)``
    with ``b`` = :func:`glorot_bound` (scikit-learn's rule; its weights are drawn first,
    then its intercepts, layer by layer). Drawn in the layer's dtype (float32 draws stay
    float32): ``(2u - 1)·b`` with ``u ~ U[0, 1)``, so ``|w| <= b``."""
    from numnet.nn.init import _fill

    dtype = layer.weight.data.dtype
    bound = dtype.type(glorot_bound(layer.in_features, layer.out_features, activation))
    params = [layer.weight] + ([layer.bias] if layer.bias is not None else [])
    for p in params:
        u = generator.random(p.data.shape, dtype=dtype)
        u *= 2
        u -= 1
        u *= bound
        _fill(p, u)  # in place, version bumped (as numnet.nn.init's fills)


class _Monitor(Callback):
    """The stopping rule of scikit-learn's MLP, as a :class:`numnet.train.Callback`:
    stop once the training loss (or, with early stopping, the validation score) has not
    improved by ``tol`` for more than ``n_iter_no_change`` epochs; with early stopping,
    put back the weights of the best validation epoch."""

    def __init__(self, estimator, validation, check_convergence: bool) -> None:
        self.estimator = estimator
        self.validation = validation
        self.check_convergence = check_convergence
        self.best_state = None

    def on_epoch_end(self, loop, epoch, logs) -> None:
        est = self.estimator
        est.loss_curve_.append(float(logs["loss"]))
        est.n_iter_ += 1
        est.t_ += est._n_train
        if not self.check_convergence:
            return
        if self.validation is not None:
            score = est._score_arrays(*self.validation)
            est.validation_scores_.append(score)
            if score < est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_state = {k: v.copy() for k, v in loop.model.state_dict().items()}
        else:
            loss = est.loss_curve_[-1]
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, loss)
        if est._no_improvement_count > est.n_iter_no_change:
            est._converged = True
            loop.stop_training = True
        if est.verbose:
            line = f"Iteration {est.n_iter_}, loss = {est.loss_curve_[-1]:.8f}"
            if self.validation is not None:
                line += f", validation score = {est.validation_scores_[-1]:.6f}"
            print(line, flush=True)

    def on_train_end(self, loop, logs) -> None:
        if self.best_state is not None:
            loop.model.load_state_dict(self.best_state)


class _BaseNet(BaseEstimator):
    """What the three estimators share: parameters, the training loop, save/load."""

    _is_classifier = True

    # -- parameters ------------------------------------------------------------------------
    def _check_params(self) -> None:
        sizes = self._hidden_sizes()
        if any(h < 1 for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be >= 1, got {self.hidden_layer_sizes}")
        if self.activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {self.activation!r}"
            )
        if self.solver not in _SOLVERS:
            raise ValueError(
                f"solver must be one of {_SOLVERS}, got {self.solver!r} (numnet's full-batch "
                "L-BFGS is numnet.optim.LBFGS; it is not offered here)"
            )
        checks = (
            ("dropout", 0.0 <= float(self.dropout) < 1.0, "in [0, 1)"),
            ("alpha", float(self.alpha) >= 0, ">= 0"),
            ("learning_rate_init", float(self.learning_rate_init) > 0, "> 0"),
            ("max_iter", int(self.max_iter) >= 1, ">= 1"),
            ("momentum", 0 <= float(self.momentum) <= 1, "in [0, 1]"),
            ("beta_1", 0 <= float(self.beta_1) < 1, "in [0, 1)"),
            ("beta_2", 0 <= float(self.beta_2) < 1, "in [0, 1)"),
            ("epsilon", float(self.epsilon) > 0, "> 0"),
            ("validation_fraction", 0 < float(self.validation_fraction) < 1, "in (0, 1)"),
            ("n_iter_no_change", int(self.n_iter_no_change) >= 1, ">= 1"),
            ("tol", float(self.tol) >= 0, ">= 0"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name} must be {rule}, got {getattr(self, name)!r}")
        if not (
            self.batch_size == "auto"
            or (isinstance(self.batch_size, numbers.Integral) and self.batch_size >= 1)
        ):
            raise ValueError(f"batch_size must be 'auto' or >= 1, got {self.batch_size!r}")
        if np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self._init_rule() not in _INITS:
            raise ValueError(f"init must be one of {_INITS}, got {self._init_rule()!r}")

    def _init_rule(self) -> str:
        """How the fully connected layers are initialised: ``init`` (``MLPClassifier``,
        ``MLPRegressor``) or PyTorch's default (``ConvNetClassifier``)."""
        return self.init

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = (sizes,)
        return tuple(int(h) for h in sizes)

    def _batch_size(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    # -- the network -----------------------------------------------------------------------
    def _head(self, layers, width: int, n_out: int, generator):
        from numnet import nn

        dtype = np.dtype(self.dtype).type
        glorot = self._init_rule() == "glorot_uniform"

        def linear(n_in: int, n_out: int):
            if not glorot:  # PyTorch's default, drawn from generator
                return nn.Linear(n_in, n_out, generator=generator, dtype=dtype)
            # scikit-learn's rule for every layer, the output layer included (it uses
            # the hidden activation's factor there too); the placeholder weights that
            # Linear draws come from a throwaway seed, not from random_state
            layer = nn.Linear(n_in, n_out, generator=0, dtype=dtype)
            _glorot_uniform_(layer, self.activation, generator)
            return layer

        for h in self._hidden_sizes():
            layers.append(linear(width, h))
            act = _activation(self.activation)
            if act is not None:
                layers.append(act)
            if float(self.dropout) > 0:
                layers.append(nn.Dropout(float(self.dropout), generator=generator))
            width = h
        layers.append(linear(width, n_out))
        return nn.Sequential(*layers)

    def _build(self, n_out: int, generator):
        return self._head([], self.n_features_in_, n_out, generator)

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """``X`` as the network takes it (a ConvNet reshapes rows into images)."""
        return X

    def _optimizer(self, model, batch_size: int):
        from numnet import optim

        decay, no_decay = [], []
        for name, p in model.named_parameters():
            (no_decay if name.endswith("bias") else decay).append(p)
        # scikit-learn's penalty (alpha / 2) ‖W‖² / batch_size: weight decay alpha / batch
        wd = float(self.alpha) / batch_size
        groups = [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]
        lr = float(self.learning_rate_init)
        if self.solver == "adam":
            return optim.Adam(
                groups,
                lr=lr,
                betas=(float(self.beta_1), float(self.beta_2)),
                eps=float(self.epsilon),
            )
        if self.solver == "rmsprop":
            return optim.RMSprop(groups, lr=lr, eps=float(self.epsilon))
        momentum = float(self.momentum)
        return optim.SGD(
            groups,
            lr=lr,
            momentum=momentum,
            nesterov=bool(self.nesterovs_momentum) and momentum > 0,
        )

    # -- training --------------------------------------------------------------------------
    def _targets(self, y, *, first: bool, classes=None):
        raise NotImplementedError

    def _loss(self):
        raise NotImplementedError

    def _fit(self, X, y, *, incremental: bool, classes=None):
        from numnet import train

        self._check_params()
        X, targets = self._prepare(X, y, incremental=incremental, classes=classes)
        validation = None
        if self.early_stopping and not incremental:
            X, targets, validation = self._hold_out(X, targets)
        batch_size = self._batch_size(len(X))
        optimizer = self._start_run(batch_size, incremental=incremental)
        self._n_train = len(X)
        self._converged = False
        callbacks = [_Monitor(self, validation, check_convergence=not incremental)]
        if self.verbose:
            callbacks.append(train.ProgressBar(force=True))
        try:
            train.fit(
                self.model_,
                self._loss(),
                optimizer,
                (X, targets),
                epochs=1 if incremental else int(self.max_iter),
                batch_size=batch_size,
                shuffle=bool(self.shuffle),
                generator=self._random,
                callbacks=callbacks,
                verbose=0,
                metrics=None,
            )
        finally:
            del self._n_train
        if not incremental and not self._converged:
            warnings.warn(
                f"{type(self).__name__}: the optimizer reached max_iter={self.max_iter} "
                "epochs without converging (raise max_iter, or the tolerance tol)",
                ConvergenceWarning,
                stacklevel=3,
            )
        del self._converged
        return self

    def _prepare(self, X, y, *, incremental: bool, classes):
        """Validate ``(X, y)`` and return ``(inputs, targets)``; build a new network (and
        reset the fitted attributes) unless this call continues the fitted one."""
        reuse = hasattr(self, "model_") and (incremental or self.warm_start)
        X, y = validate_data(self, X, y, reset=not reuse, multi_output=not self._is_classifier)
        X = np.asarray(X, dtype=np.dtype(self.dtype))
        targets, n_out = self._targets(y, first=not reuse, classes=classes)
        X = self._inputs(X)
        if not reuse:
            self._random = check_random_state(self.random_state)
            self.model_ = self._build(n_out, self._random)
            self.loss_curve_, self.n_iter_, self.t_ = [], 0, 0
            self.best_loss_ = math.inf
            self.validation_scores_ = [] if self.early_stopping else None
            self.best_validation_score_ = -math.inf if self.early_stopping else None
            self._optimizer_ = None
        elif not incremental:  # warm start: same weights, a new run (scikit-learn's)
            self._random = check_random_state(self.random_state)
        return X, targets

    def _hold_out(self, X, targets):
        """Split off ``validation_fraction`` (stratified for a classifier) for early
        stopping: ``(X_train, targets_train, (X_val, targets_val))``."""
        from numnet.data.split import train_val_split

        X, targets, Xv, yv = train_val_split(
            X,
            targets,
            float(self.validation_fraction),
            stratify=self._is_classifier,
            generator=self._random,
        )
        if len(Xv) < 1 or len(X) < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no validation or "
                f"no training sample out of {len(X) + len(Xv)}"
            )
        if self.validation_scores_ is None:
            self.validation_scores_, self.best_validation_score_ = [], -math.inf
        return X, targets, (Xv, yv)

    def _start_run(self, batch_size: int, *, incremental: bool):
        """The optimizer of this call: ``partial_fit`` keeps the current one; ``fit``
        starts a new one and resets the stopping rule's state."""
        if incremental:
            if self._optimizer_ is None:
                self._optimizer_ = self._optimizer(self.model_, batch_size)
            return self._optimizer_
        self._optimizer_ = self._optimizer(self.model_, batch_size)
        self._no_improvement_count = 0
        if self.early_stopping:
            self.best_validation_score_ = -math.inf
        self.best_loss_ = math.inf
        return self._optimizer_

    def fit(self, X, y):
        """Train the network on ``(X, y)`` for up to ``max_iter`` epochs.

        With ``warm_start=True`` and a fitted network, training continues from its
        weights (with a new optimizer) instead of a new initialization.
        """
        return self._fit(X, y, incremental=False)

    def _outputs(self, X) -> np.ndarray:
        from numnet import train

        check_fitted(self, "model_")
        X = validate_data(self, X, reset=False)
        out_dtype = X.dtype  # outputs in the dtype of X (float32 or float64), as scikit-learn
        X = self._inputs(np.asarray(X, dtype=np.dtype(self.dtype)))
        return train.predict(self.model_, X, batch_size=1024).astype(out_dtype, copy=False)

    # -- scikit-learn's MLP attributes -------------------------------------------------------
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices of the fully connected layers, ``(in, out)`` as scikit-learn's."""
        check_fitted(self, "model_")
        from numnet import nn

        return [m.weight.data.T for m in self.model_.modules() if isinstance(m, nn.Linear)]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vectors of the fully connected layers."""
        check_fitted(self, "model_")
        from numnet import nn

        return [m.bias.data for m in self.model_.modules() if isinstance(m, nn.Linear)]

    # -- saving without pickle ---------------------------------------------------------------
    _FITTED = ("n_features_in_", "n_iter_", "t_", "loss_curve_", "best_loss_")

    def save(self, path):
        """Write the fitted network and the estimator's parameters and fitted attributes
        to a ``.safetensors`` file with :func:`numnet.save` (no pickle).

        ``random_state`` is stored only when it is an int or None.
        """
        from numnet.io import save

        check_fitted(self, "model_")
        params = {}
        for key, value in self.get_params(deep=False).items():
            if isinstance(value, (np.random.Generator, np.random.SeedSequence)):
                value = None
            params[key] = list(value) if isinstance(value, tuple) else value
        fitted = {key: getattr(self, key) for key in self._FITTED}
        fitted["validation_scores_"] = self.validation_scores_
        fitted["best_validation_score_"] = self.best_validation_score_
        fitted.update(self._extra_state())
        meta = {"estimator": type(self).__name__, "params": params, "fitted": fitted}
        return save(self.model_, path, metadata={"numnet.sklearn": _jsonable(meta)})

    @classmethod
    def load(cls, path):
        """Rebuild an estimator saved by :meth:`save`."""
        from numnet.io import load, load_metadata

        meta = load_metadata(path).get("numnet.sklearn")
        if not meta or meta.get("estimator") != cls.__name__:
            found = meta.get("estimator") if meta else "no numnet.sklearn estimator"
            raise ValueError(f"{path} holds {found}, not a {cls.__name__}")
        params = dict(meta["params"])
        for key in ("hidden_layer_sizes", "channels", "image_shape"):
            if isinstance(params.get(key), list):
                params[key] = tuple(params[key])
        est = cls(**params)
        est.model_ = load(path)
        fitted = dict(meta["fitted"])
        est._restore_extra_state(fitted)
        for key, value in fitted.items():
            setattr(est, key, value)
        est._random = check_random_state(est.random_state)
        est._optimizer_ = None
        return est

    def _extra_state(self) -> dict:
        return {}

    def _restore_extra_state(self, fitted: dict) -> None:
        pass

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        tags = {"non_deterministic": self.random_state is None}
        if np.dtype(self.dtype) == np.float32:
            tags["_xfail_checks"] = dict(_FLOAT32_XFAIL)
        return tags


_FLOAT32_XFAIL = {
    check: (
        "float32 matrix products (one per batch; im2col for convolutions) may round a "
        "sample's outputs differently depending on its position in the batch, as the BLAS "
        "kernel blocks the batch (seen with OpenBLAS's Sandybridge kernel for the MLP): "
        "differences of one float32 ulp (~1e-7 relative) exceed the check's rtol=1e-7; "
        "with dtype='float64' the check passes"
    )
    for check in ("check_methods_sample_order_invariance", "check_methods_subset_invariance")
}


def expected_failed_checks(estimator) -> dict[str, str]:
    """The scikit-learn common checks that cannot apply to ``estimator``, with reasons.

    For ``sklearn.utils.estimator_checks.check_estimator(est, expected_failed_checks=...)``
    and ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``
    (scikit-learn >= 1.6; older versions read the ``_xfail_checks`` tag).
    """
    if isinstance(estimator, _BaseNet) and np.dtype(estimator.dtype) == np.float32:
        return dict(_FLOAT32_XFAIL)
    return {}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)  # "inf", "-inf", "nan"
    return obj


def _unjson_float(value):
    return float(value) if isinstance(value, str) else value


class _ClassifierNet(ClassifierMixin, _BaseNet):
    def _targets(self, y, *, first: bool, classes=None):
        check_classification_targets(np.asarray(y))
        if first:
            if classes is not None:
                self.classes_ = np.unique(np.asarray(classes))
                if self.classes_.shape[0] < 2:
                    raise ValueError(f"classes must hold at least two classes, got {classes!r}")
            else:
                self.classes_, _ = check_classes(y)
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(
                f"y holds labels that are not in classes_ {self.classes_.tolist()}: "
                f"{np.unique(np.asarray(y)[unknown]).tolist()}"
            )
        return np.searchsorted(self.classes_, y).astype(np.int64), self.classes_.shape[0]

    def _loss(self):
        from numnet.nn import functional as F

        return F.cross_entropy

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer.

        ``classes`` (every label that will ever be seen) is required on the first call.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit (all the labels "
                "the model will see, e.g. classes=np.unique(y_all))"
            )
        if hasattr(self, "model_") and classes is not None:
            if not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(
                    f"classes={classes!r} is not the classes_ of the first call "
                    f"{self.classes_.tolist()}"
                )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, the softmax of the network's outputs, shape (N, K)."""
        logits = self._outputs(X)
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X) -> np.ndarray:
        """``log predict_proba``, computed stably."""
        logits = self._outputs(X)
        z = logits - logits.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X) -> np.ndarray:
        """The most probable class, shape (N,)."""
        best = np.argmax(self._outputs(X), axis=1)
        return self.classes_[best]

    def score(self, X, y, sample_weight=None) -> float:
        """The accuracy."""
        y = np.asarray(y)
        return accuracy(y.reshape(-1) if y.ndim == 2 else y, self.predict(X), sample_weight)

    def _score_arrays(self, X, y_index) -> float:
        from numnet import train

        out = train.predict(self.model_, X, batch_size=1024)
        return float(np.mean(np.argmax(out, axis=1) == y_index))

    def _extra_state(self) -> dict:
        return {"classes_": self.classes_}

    def _restore_extra_state(self, fitted: dict) -> None:
        fitted["classes_"] = np.asarray(fitted["classes_"])
        fitted["best_loss_"] = _unjson_float(fitted["best_loss_"])
        if fitted.get("best_validation_score_") is not None:
            fitted["best_validation_score_"] = _unjson_float(fitted["best_validation_score_"])


class MLPClassifier(_ClassifierNet):
    """A multi-layer perceptron classifier: ``Linear → φ → [Dropout] → ... → Linear``,
    trained on the cross-entropy of the softmax by :func:`numnet.train.fit`.

    The parameters are those of ``sklearn.neural_network.MLPClassifier`` (same names,
    same defaults, same stopping rule), plus ``dropout`` and ``dtype``.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Widths of the hidden layers; ``()`` gives softmax regression.
    activation : {'relu', 'tanh', 'logistic', 'identity', 'leaky_relu', 'softplus'}
        The hidden units' non-linearity (``'sigmoid'`` is ``'logistic'``).
    dropout : float in [0, 1), default 0
        Probability of dropping each hidden unit during training (inverted dropout).
    alpha : float, default 1e-4
        L2 penalty on the weights (not the biases), scaled as scikit-learn's: the loss
        of a batch of B samples gets ``alpha / (2B) Σ‖W‖²`` (weight decay ``alpha / B``).
    solver : {'adam', 'sgd', 'rmsprop'}, default 'adam'
    learning_rate_init : float, default 1e-3
    momentum, nesterovs_momentum : SGD's momentum (0.9) and Nesterov's variant (True)
    beta_1, beta_2, epsilon : Adam's (and RMSprop's ``epsilon``)
    batch_size : int or 'auto', default 'auto'
        ``'auto'`` is ``min(200, n_samples)``.
    max_iter : int, default 200
        Epochs at most.
    shuffle : bool, default True
        A new order of the samples every epoch.
    tol : float, default 1e-4
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified), stop when
        its accuracy has not improved by ``tol`` for more than ``n_iter_no_change``
        epochs, and keep the weights of the best epoch. Without it, training stops when
        the training loss has not improved by ``tol`` for that many epochs.
    validation_fraction : float, default 0.1
    n_iter_no_change : int, default 10
        The patience.
    random_state : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Initial weights, dropout masks, shuffles and the validation split, normalised by
        :func:`numnet.random.check_random_state`. ``None`` uses numnet's default
        generator (re-seeded by :func:`numnet.manual_seed`), not NumPy's global state;
        an int gives the same network on every ``fit``.
    warm_start : bool, default False
        ``fit`` continues from the current weights.
    verbose : bool or int, default False
        A progress bar per epoch and one line per epoch (loss, validation score).
    dtype : {'float32', 'float64'}, default 'float32'
        The network's dtype (inputs are converted to it).
    init : {'glorot_uniform', 'pytorch'}, default 'glorot_uniform'
        The initial weights and biases of every ``Linear`` layer, drawn from
        ``random_state`` in ``dtype`` (float32 draws, no float64 detour):

        * ``'glorot_uniform'``: scikit-learn's MLP rule (``_init_coef`` in
          ``sklearn/neural_network/_multilayer_perceptron.py``; Glorot & Bengio, 2010):
          weights *and* biases from ``U(-b, b)``, ``b = √(factor / (fan_in + fan_out))``,
          ``factor = 2`` for ``activation='logistic'`` and 6 otherwise, the same factor
          for the output layer; layer by layer, the weight drawn before the bias.
        * ``'pytorch'``: :class:`numnet.nn.Linear`'s own default (PyTorch's
          ``U(-1/√fan_in, 1/√fan_in)``).

        The default differs from :class:`numnet.nn.Linear`'s on purpose: these are the
        scikit-learn-shaped estimators, and the same initial scale as scikit-learn's
        makes their training comparable. (:class:`ConvNetClassifier` has no
        scikit-learn counterpart and keeps PyTorch's default.) The same ``init`` and
        integer ``random_state`` give the same bits on every ``fit``; they are not
        scikit-learn's bits (another generator).

    Attributes
    ----------
    model_ : numnet.nn.Sequential
        The network (logits out); ``numnet.save(est.model_, path)`` saves it.
    classes_ : ndarray, shape (K,)
    n_features_in_ : int
    loss_curve_ : list of float
        The mean training loss of each epoch (cross-entropy, without the penalty).
    validation_scores_ : list of float or None
        The validation accuracy of each epoch (with ``early_stopping``).
    best_validation_score_, best_loss_ : float
    n_iter_ : int
        Epochs run (accumulated over ``warm_start`` and ``partial_fit`` calls).
    t_ : int
        Training samples seen.
    coefs_, intercepts_ : lists of ndarray
        The weights ``(in, out)`` and biases of the fully connected layers.
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        dropout: float = 0.0,
        alpha: float = 1e-4,
        solver: str = "adam",
        learning_rate_init: float = 1e-3,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size="auto",
        max_iter: int = 200,
        shuffle: bool = True,
        tol: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state=None,
        warm_start: bool = False,
        verbose=False,
        dtype: str = "float32",
        init: str = "glorot_uniform",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype
        self.init = init


class ConvNetClassifier(_ClassifierNet):
    """A convolutional network classifier: ``[Conv k×k → φ → MaxPool 2] × len(channels)
    → Flatten → [Linear → φ → Dropout] × len(hidden_layer_sizes) → Linear``.

    The seeds' MNIST ConvNet with ``channels=(32, 64), kernel_size=5,
    hidden_layer_sizes=(1024,)``. ``X`` is ``(N, C·H·W)`` (flattened images, as in a
    ``Pipeline``; ``image_shape`` says how to unflatten them) or ``(N, C, H, W)``.

    Parameters
    ----------
    channels : tuple of int, default (32, 64)
        Output channels of the convolutional stages.
    kernel_size : int, default 5
        Odd filter size; 'same' zero padding keeps the image size.
    image_shape : (C, H, W), (H, W) or None
        The images' shape for 2-D ``X``. ``None``: ``(1, s, s)`` when the number of
        features is a square ``s²`` (MNIST's 784 = 28²), else ``(1, 1, D)`` (a 1-row
        image). Each stage pools 2×2 (or 1×2 / 2×1 on a side already of size 1).
    hidden_layer_sizes : int or tuple of int, default (128,)
        The fully connected hidden layers after the convolutions.
    max_iter : int, default 20
    batch_size : int or 'auto', default 'auto'
        ``'auto'`` is ``min(64, n_samples)``.

    Notes
    -----
    The other parameters (``activation``, ``dropout``, ``alpha``, ``solver``,
    ``learning_rate_init``, ``momentum``, ``nesterovs_momentum``, ``beta_1``,
    ``beta_2``, ``epsilon``, ``shuffle``, ``tol``, ``early_stopping``,
    ``validation_fraction``, ``n_iter_no_change``, ``random_state``, ``warm_start``,
    ``verbose``, ``dtype``) mean what they mean in :class:`MLPClassifier`, with the
    same defaults. There is no ``init``: scikit-learn has no convolutional estimator
    whose initialisation to match, so every layer keeps PyTorch's default.
    """

    _FITTED = (*_BaseNet._FITTED, "image_shape_")

    def __init__(
        self,
        channels=(32, 64),
        kernel_size: int = 5,
        *,
        image_shape=None,
        hidden_layer_sizes=(128,),
        activation: str = "relu",
        dropout: float = 0.0,
        alpha: float = 1e-4,
        solver: str = "adam",
        learning_rate_init: float = 1e-3,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        batch_size="auto",
        max_iter: int = 20,
        shuffle: bool = True,
        tol: float = 1e-4,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        random_state=None,
        warm_start: bool = False,
        verbose=False,
        dtype: str = "float32",
    ) -> None:
        self.channels = channels
        self.kernel_size = kernel_size
        self.image_shape = image_shape
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    def _check_params(self) -> None:
        super()._check_params()
        k = self.kernel_size
        if not isinstance(k, numbers.Integral) or k < 1 or k % 2 != 1:
            raise ValueError(f"kernel_size must be an odd positive integer, got {k!r}")
        if any(int(c) < 1 for c in self.channels):
            raise ValueError(f"channels must be >= 1, got {self.channels!r}")

    def _batch_size(self, n: int) -> int:
        return min(64, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _init_rule(self) -> str:
        # scikit-learn has no convolutional estimator whose initialisation to match:
        # every layer (convolutions and the fully connected head) keeps PyTorch's default
        return "pytorch"

    def _image_shape(self, n_features: int) -> tuple[int, int, int]:
        shape = self.image_shape
        if shape is None:
            side = math.isqrt(n_features)
            shape = (1, side, side) if side * side == n_features else (1, 1, n_features)
        shape = tuple(int(s) for s in shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or math.prod(shape) != n_features or min(shape) < 1:
            raise ValueError(
                f"image_shape={self.image_shape!r} does not fit {n_features} features: pass "
                "(C, H, W) with C·H·W = n_features"
            )
        return shape

    def _fit(self, X, y, *, incremental: bool, classes=None):
        if not (hasattr(self, "model_") and (incremental or self.warm_start)):
            arr = np.asarray(X) if not hasattr(X, "toarray") else X
            if getattr(arr, "ndim", 2) == 4:  # (N, C, H, W) images
                self.image_shape_ = tuple(int(s) for s in arr.shape[1:])
                X = arr.reshape(len(arr), -1)
            else:
                self.image_shape_ = None
        elif getattr(X, "ndim", 2) == 4:
            X = np.asarray(X).reshape(len(X), -1)
        out = super()._fit(X, y, incremental=incremental, classes=classes)
        return out

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        if X.ndim == 4:
            return X
        if getattr(self, "image_shape_", None) is None:
            self.image_shape_ = self._image_shape(X.shape[1])
        return X.reshape(len(X), *self.image_shape_)

    def _outputs(self, X) -> np.ndarray:
        if getattr(X, "ndim", 2) == 4:
            X = np.asarray(X).reshape(len(X), -1)
        return super()._outputs(X)

    def _build(self, n_out: int, generator):
        from numnet import nn

        dtype = np.dtype(self.dtype).type
        width, h, w = self.image_shape_
        k = int(self.kernel_size)
        layers = []
        for c in self.channels:
            conv = nn.Conv2d(width, int(c), k, padding=k // 2, generator=generator, dtype=dtype)
            layers.append(conv)
            act = _activation(self.activation)
            if act is not None:
                layers.append(act)
            pool = (2 if h >= 2 else 1, 2 if w >= 2 else 1)
            if pool != (1, 1):
                layers.append(nn.MaxPool2d(pool))
            width, h, w = int(c), h // pool[0], w // pool[1]
        layers.append(nn.Flatten())
        return self._head(layers, width * h * w, n_out, generator)

    def _extra_state(self) -> dict:
        return {**super()._extra_state(), "image_shape_": list(self.image_shape_)}

    def __sklearn_tags__(self):
        return super().__sklearn_tags__()  # expected_failed_checks() for scikit-learn >= 1.6

    def _restore_extra_state(self, fitted: dict) -> None:
        super()._restore_extra_state(fitted)
        fitted["image_shape_"] = tuple(fitted["image_shape_"])


class MLPRegressor(RegressorMixin, _BaseNet):
    """A multi-layer perceptron regressor trained on the mean squared error.

    The parameters and attributes are :class:`MLPClassifier`'s (those of
    ``sklearn.neural_network.MLPRegressor``); ``y`` may be ``(N,)`` or ``(N, T)`` (T
    outputs), ``predict`` returns the same shape, ``score`` is R² (averaged over the
    outputs), and ``validation_scores_`` holds the validation R² of each epoch.
    """

    _is_classifier = False

    # the same parameters, defaults and stored attributes as the classifier's
    __init__ = MLPClassifier.__init__

    def _targets(self, y, *, first: bool, classes=None):
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"MLPRegressor needs numeric targets y, got {y.dtype}") from exc
        if first:
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
            self._y_1d = y.ndim == 1
        elif (1 if y.ndim == 1 else y.shape[1]) != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1:]} outputs, the model {self.n_outputs_}")
        return y.reshape(len(y), -1).astype(np.dtype(self.dtype)), self.n_outputs_

    def _loss(self):
        from numnet.nn import functional as F

        return F.mse_loss

    def partial_fit(self, X, y):
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer."""
        return self._fit(X, y, incremental=True)

    def predict(self, X) -> np.ndarray:
        """The network's outputs: shape (N,) for a 1-D ``y``, else (N, T)."""
        out = self._outputs(X)
        return out[:, 0] if self._y_1d else out

    def score(self, X, y, sample_weight=None) -> float:
        """The coefficient of determination R² (uniform average over the outputs)."""
        y = np.asarray(y, dtype=np.float64)
        return _r2(y.reshape(len(y), -1), self.predict(X).reshape(len(y), -1), sample_weight)

    def _score_arrays(self, X, y) -> float:
        from numnet import train

        out = train.predict(self.model_, X, batch_size=1024)
        return _r2(np.asarray(y, dtype=np.float64), out.astype(np.float64), None)

    def _extra_state(self) -> dict:
        return {"n_outputs_": self.n_outputs_, "_y_1d": bool(self._y_1d)}

    def _restore_extra_state(self, fitted: dict) -> None:
        fitted["best_loss_"] = _unjson_float(fitted["best_loss_"])
        if fitted.get("best_validation_score_") is not None:
            fitted["best_validation_score_"] = _unjson_float(fitted["best_validation_score_"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {**super()._more_tags(), "multioutput": True}


def _r2(y: np.ndarray, pred: np.ndarray, sample_weight) -> float:
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[:, None]
    pred = pred.astype(np.float64)
    mean = np.average(y, axis=0, weights=None if w is None else w[:, 0])
    ss_res = np.sum((w if w is not None else 1.0) * (y - pred) ** 2, axis=0)
    ss_tot = np.sum((w if w is not None else 1.0) * (y - mean) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
    r2 = np.where((ss_tot == 0) & (ss_res == 0), 1.0, r2)
    return float(np.mean(r2))
