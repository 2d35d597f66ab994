"""Baselines scored on the very same folds as the CNN.

Each baseline sees one fold's training side (training + validation tail: baselines need
no early stopping) and predicts its test block. Outputs are per-sample arrays:
``proba`` (n, K) or None, and ``r_pred`` (n,).

- ``majority`` (classification): the training class frequencies as probabilities.
- ``mean`` (regression): the training mean return.
- ``logistic``: multinomial logistic regression on the flattened window (C*L inputs),
  standardised with a scaler fitted on the training side.
- ``ridge``: ridge regression of the return on the same inputs (a regression model: its
  class is the class of its predicted return under the fold's thresholds).
- ``momentum``: the sign of the window's L-day return. Windows are normalised as
  log(price / close_t), so ``-X[:, close, 0] = log(close_t / close_{t-L+1})``. It predicts
  a return, the sign times the mean absolute training return (its class is that return's
  class), and is scored like the regression baselines: it has no probabilities.
- CNN baselines (``fixed_kernels``): another architecture through the same CNN trainer;
  see :class:`CNNBaseline` and :mod:`niftycnn.walkforward.run`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import softmax
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

from niftycnn.errors import ConfigError

SIMPLE_BASELINES = ("majority", "mean", "logistic", "ridge", "momentum")


@dataclass(frozen=True)
class CNNBaseline:
    """An architecture preset trained by the same CNN trainer, reported as ``name``."""

    name: str
    preset: str


def resolve(baselines: tuple[str | CNNBaseline, ...]) -> tuple[list[str], list[CNNBaseline]]:
    simple, cnn = [], []
    for b in baselines:
        if isinstance(b, CNNBaseline):
            cnn.append(b)
        elif b == "fixed_kernels":
            cnn.append(CNNBaseline("fixed_kernels", "fixed_kernels"))
        elif b in SIMPLE_BASELINES:
            simple.append(b)
        else:
            raise ConfigError(
                f"unknown baseline {b!r}; allowed: {(*SIMPLE_BASELINES, 'fixed_kernels')}"
            )
    return simple, cnn


def _rowwise(b: np.ndarray, coef: np.ndarray, intercept: np.ndarray | float) -> np.ndarray:
    """b @ coef.T + intercept, one row at a time: a BLAS product's rounding depends on the
    number of rows, and a test block cut by truncated data must give the same bits."""
    return (b[:, None, :] * coef[None, :, :]).sum(-1) + intercept


def _flat(X: np.ndarray) -> np.ndarray:
    return X.reshape(len(X), -1).astype(np.float64)


def predict_baseline(
    name: str,
    X_fit: np.ndarray,
    y_fit: np.ndarray,
    r_fit: np.ndarray,
    X_test: np.ndarray,
    n_classes: int,
    close_channel: int = 0,
) -> tuple[np.ndarray | None, np.ndarray, str]:
    """(proba or None, r_pred or NaN, task) for one baseline on one fold."""
    n = len(X_test)
    if name == "majority":
        freq = np.bincount(y_fit, minlength=n_classes) / len(y_fit)
        return np.tile(freq, (n, 1)), np.full(n, np.nan), "classification"
    if name == "mean":
        return None, np.full(n, float(np.mean(r_fit))), "regression"
    if name == "momentum":
        # a rule, not a probabilistic classifier: scored like the regression baselines
        # (its one-hot "probabilities" would give an infinite log loss on every miss)
        up = -X_test[:, close_channel, 0] > 0
        return None, np.where(up, 1.0, -1.0) * float(np.mean(np.abs(r_fit))), "regression"
    scaler = StandardScaler().fit(_flat(X_fit))
    a, b = scaler.transform(_flat(X_fit)), scaler.transform(_flat(X_test))
    if name == "ridge":
        reg = Ridge(alpha=1.0).fit(a, r_fit)
        return None, _rowwise(b, reg.coef_[None, :], reg.intercept_)[:, 0], "regression"
    if name == "logistic":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = LogisticRegression(C=0.1, max_iter=300).fit(a, y_fit)
        proba = np.zeros((n, n_classes))
        logits = _rowwise(b, clf.coef_, clf.intercept_)
        if logits.shape[1] == 1:  # two classes: sklearn's binary parametrisation
            logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
        proba[:, clf.classes_] = softmax(logits, axis=1)
        return proba, np.full(n, np.nan), "classification"
    raise ConfigError(f"unknown baseline {name!r}; allowed: {SIMPLE_BASELINES}")
