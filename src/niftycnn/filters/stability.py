"""Stability of learned filters across folds and seeds.

Filters of a layer are unordered, so two models are compared after matching their
filters one-to-one: the Hungarian assignment (``scipy.optimize.linear_sum_assignment``)
maximising the total |cosine| between flattened (C * k) filters. The sign is free (the
next layer can flip it), hence |cosine|. Each model is matched with the model of the
same seed in the previous fold (fold-to-fold drift); with one fold, each seed is matched
with the first seed (seed-to-seed agreement). The baseline is the same matching between
two sets of untrained filters: a matched |cosine| is only "stable" above that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from niftycnn.errors import FilterAnalysisError


def _unit_rows(filters: np.ndarray) -> np.ndarray:
    flat = filters.reshape(filters.shape[0], -1).astype(np.float64)
    norm = np.linalg.norm(flat, axis=1, keepdims=True)
    return flat / np.where(norm > 0, norm, 1.0)


def match_filters(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match the filters of ``a`` (F, C, k) to those of ``b``: maximum total |cosine|.

    Returns (index into b for each filter of a, |cosine|, sign of the cosine).
    """
    if a.shape != b.shape:
        raise FilterAnalysisError(f"cannot match filters of shapes {a.shape} and {b.shape}")
    cos = _unit_rows(a) @ _unit_rows(b).T
    rows, cols = linear_sum_assignment(-np.abs(cos))
    order = np.empty(len(rows), dtype=np.int64)
    order[rows] = cols
    matched = cos[np.arange(len(order)), order]
    return order, np.abs(matched), np.sign(matched)


def null_matched_cosine(null_filters: np.ndarray, n_filters: int, n_pairs: int = 20) -> float:
    """Mean matched |cosine| between disjoint sets of ``n_filters`` untrained filters."""
    n_pairs = min(n_pairs, len(null_filters) // (2 * n_filters))
    if n_pairs < 1:
        return float("nan")
    values = [
        match_filters(
            null_filters[2 * i * n_filters : (2 * i + 1) * n_filters],
            null_filters[(2 * i + 1) * n_filters : (2 * i + 2) * n_filters],
        )[1].mean()
        for i in range(n_pairs)
    ]
    return float(np.mean(values))


def filter_matches(weights: np.ndarray, model_index: pd.DataFrame) -> pd.DataFrame:
    """One row per (fold, seed, filter): its match in the comparison model.

    Columns: fold, seed, filter, matched_fold, matched_seed, matched_filter, abs_cosine,
    sign. Fold-to-fold (same seed, previous fold) when there are several folds, else
    seed-to-seed within the fold against its first seed. The first model has no row.
    """
    folds = sorted(model_index["fold"].unique())
    keys = list(zip(model_index["fold"], model_index["seed"], strict=True))
    position = {key: i for i, key in enumerate(keys)}
    frames = []
    for i, (fold, seed) in enumerate(keys):
        if len(folds) > 1:
            prev = folds.index(fold) - 1
            target = (folds[prev], seed) if prev >= 0 else None
        else:
            first_seed = model_index["seed"].iloc[0]
            target = (fold, first_seed) if seed != first_seed else None
        if target is None or target not in position:
            continue
        order, abs_cos, sign = match_filters(weights[i], weights[position[target]])
        frames.append(
            pd.DataFrame(
                {
                    "fold": fold,
                    "seed": seed,
                    "filter": np.arange(len(order)),
                    "matched_fold": target[0],
                    "matched_seed": target[1],
                    "matched_filter": order,
                    "abs_cosine": abs_cos,
                    "sign": sign,
                }
            )
        )
    columns = [
        "fold",
        "seed",
        "filter",
        "matched_fold",
        "matched_seed",
        "matched_filter",
        "abs_cosine",
        "sign",
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
