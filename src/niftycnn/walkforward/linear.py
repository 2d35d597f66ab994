"""Linear models shared by the baselines: row-wise products, class probabilities, and
the (warm-startable) logistic fit.

A BLAS product's rounding depends on the number of rows, and a test block cut by
truncated data must give the same bits, so linear models predict one row at a time.
"""

from __future__ import annotations

import warnings
from typing import Any, Protocol, runtime_checkable

import numpy as np
from scipy.special import softmax


def rowwise(b: np.ndarray, coef: np.ndarray, intercept: np.ndarray | float) -> np.ndarray:
    """b @ coef.T + intercept, one row at a time (no shape-dependent BLAS rounding)."""
    return (b[:, None, :] * coef[None, :, :]).sum(-1) + intercept


def class_probabilities(logits: np.ndarray, classes: np.ndarray, n_classes: int) -> np.ndarray:
    """(n, n_classes) probabilities from a fitted scikit-learn classifier's logits over
    the classes it saw (``classes_``); classes absent from the training side get 0."""
    if logits.shape[1] == 1:  # two classes: sklearn's binary parametrisation
        logits = np.concatenate([np.zeros_like(logits), logits], axis=1)
    proba = np.zeros((len(logits), n_classes))
    proba[:, classes] = softmax(logits, axis=1)
    return proba


Solution = dict[str, np.ndarray]
"""A fitted convex model's solution (``coef``, ``intercept``, ``classes``): what the next
fold's fit starts from (``warm_start``) and what a fold's ``state.pt`` keeps for resuming."""


@runtime_checkable
class WarmStartable(Protocol):
    """A baseline whose fit can start from an earlier fold's solution."""

    def warm_start(self, solution: Solution) -> None: ...

    def solution(self) -> Solution: ...


def fit_logistic(
    inputs: np.ndarray, y: np.ndarray, C: float, tol: float, warm: Solution | None
) -> Any:
    """scikit-learn's multinomial lbfgs logistic regression, started from ``warm`` (the
    previous fold's solution) when it has the same classes and inputs: expanding
    training sides barely move the optimum, so the fit needs fewer iterations to the same
    tolerance. Its result equals a cold fit's within that tolerance, not bit for bit."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=C, max_iter=300, tol=tol)
    if warm is not None and np.array_equal(warm["classes"], np.unique(y)):
        if warm["coef"].shape[1] == inputs.shape[1]:
            model.set_params(warm_start=True)
            model.coef_, model.intercept_ = warm["coef"].copy(), warm["intercept"].copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs' iteration limit on a weak signal
        return model.fit(inputs, y)


def solution_of(model: Any) -> Solution:
    """A fitted scikit-learn linear classifier's solution."""
    return {"coef": model.coef_, "intercept": model.intercept_, "classes": model.classes_}
