"""Linear read-outs shared by the baselines: row-wise products and class probabilities.

A BLAS product's rounding depends on the number of rows, and a test block cut by
truncated data must give the same bits, so linear models predict one row at a time.
"""

from __future__ import annotations

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
