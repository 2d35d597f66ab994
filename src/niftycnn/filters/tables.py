"""The analysis' summary tables (per channel x reference; per fold) and stacking the
folds' first layers."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.null import bh_qvalues, mean_tests, share_test
from niftycnn.filters.stability import null_matched_cosine

# |statistic| column -> its signed column, and the column of its per-filter p-value
STATISTICS: dict[str, str] = {
    "abs_cosine": "cosine",
    "abs_shape_cosine": "shape_cosine",
    "functional_abs_corr": "functional_corr",
    "functional_abs_shape_corr": "functional_shape_corr",
}
STATISTICS_ABS: dict[str, str] = {v: k for k, v in STATISTICS.items()}
P_COLUMN: dict[str, str] = {
    "abs_cosine": "p_value",
    "abs_shape_cosine": "shape_p_value",
    "functional_abs_corr": "functional_p_value",
    "functional_abs_shape_corr": "functional_shape_p_value",
}
DEFAULT_STATISTIC = "abs_shape_cosine"


def summary_table(
    table: pd.DataFrame, null_table: pd.DataFrame, alpha: float, n_resamples: int, seed: int
) -> pd.DataFrame:
    """Per (channel, reference, statistic): mean test, BH count and binomial share test."""
    keys, pairs = [], []
    null_groups = dict(iter(null_table.groupby(["channel", "reference"], sort=False)))
    for (channel, reference), group in table.groupby(["channel", "reference"], sort=False):
        null_group = null_groups[(channel, reference)]
        for signed, abs_name in STATISTICS_ABS.items():
            if abs_name not in null_group or group[abs_name].isna().all():
                continue
            keys.append((channel, reference, signed, abs_name, group))
            pairs.append((group[abs_name].to_numpy(), null_group[abs_name].to_numpy()))
    rows = []
    tests = mean_tests(pairs, n_resamples, seed)  # one set of draws per shape
    for (channel, reference, signed, abs_name, group), test in zip(keys, tests, strict=True):
        observed, null_mean, p_mean = test
        p_values = group[P_COLUMN[abs_name]].to_numpy()
        hits, n, p_share = share_test(p_values, alpha)
        q = bh_qvalues(p_values)
        values = group[signed].dropna()
        rows.append(
            {
                "channel": channel,
                "reference": reference,
                "statistic": abs_name,
                "n": n,
                "mean_learned": observed,
                "mean_null": null_mean,
                "p_mean": p_mean,
                "n_significant": hits,
                "p_share": p_share,
                "n_bh": int(np.sum(q <= alpha)),
                "share_positive": float(np.mean(values > 0)) if len(values) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def by_fold_table(
    table: pd.DataFrame,
    matches: pd.DataFrame,
    null_filters: np.ndarray,
    n_filters: int,
    alpha: float,
    statistic: str,
) -> pd.DataFrame:
    """Per (fold, channel): momentum-/curvature-like shares and fold-to-fold stability.

    A filter is momentum-like on a channel when its per-filter p-value for ``statistic``
    with momentum is <= alpha and the statistic is larger for momentum than curvature
    (curvature-like symmetrically).
    """
    p_col = P_COLUMN[statistic]
    wide = table.pivot_table(
        index=["fold", "seed", "filter", "channel"],
        columns="reference",
        values=[statistic, p_col],
        dropna=False,
    )
    refs = ["momentum", "curvature"]  # curvature is absent for k = 2: NaN, never "like"
    stat, p = wide[statistic].reindex(columns=refs), wide[p_col].reindex(columns=refs)
    mom = (p["momentum"] <= alpha) & (stat["momentum"] > stat["curvature"])
    curv = (p["curvature"] <= alpha) & (stat["curvature"] > stat["momentum"])
    flags = pd.DataFrame({"momentum_like": mom, "curvature_like": curv}).reset_index()
    out = flags.groupby(["fold", "channel"], sort=True)[["momentum_like", "curvature_like"]]
    out = out.mean().rename(columns=lambda c: f"share_{c}").reset_index()
    if len(matches):
        stab = matches.groupby("fold")["abs_cosine"].mean().rename("matched_abs_cosine")
        out = out.merge(stab.reset_index(), on="fold", how="left")
        prev = flags.rename(
            columns={
                "fold": "matched_fold",
                "seed": "matched_seed",
                "filter": "matched_filter",
                "momentum_like": "matched_momentum_like",
            }
        )
        persist = matches.merge(
            prev[
                [
                    "matched_fold",
                    "matched_seed",
                    "matched_filter",
                    "channel",
                    "matched_momentum_like",
                ]
            ],
            on=["matched_fold", "matched_seed", "matched_filter"],
        )
        persist = persist.merge(flags, on=["fold", "seed", "filter", "channel"])
        was = persist[persist["matched_momentum_like"].astype(bool)]
        kept = was.groupby(["fold", "channel"])["momentum_like"].mean()
        cos = was.groupby(["fold", "channel"])["abs_cosine"].mean()
        out = out.merge(
            kept.rename("momentum_persistence").reset_index(), on=["fold", "channel"], how="left"
        )
        out = out.merge(
            cos.rename("momentum_matched_abs_cosine").reset_index(),
            on=["fold", "channel"],
            how="left",
        )
    else:
        out["matched_abs_cosine"] = np.nan
    out["null_matched_abs_cosine"] = null_matched_cosine(null_filters, n_filters)
    return out


def stack_folds(first_layers: Mapping[int, np.ndarray]) -> tuple[np.ndarray, pd.DataFrame]:
    """Stack per-fold ``first_layer.npy`` arrays (n_seeds, F, C, k) for :func:`analyze_filters`.

    ``first_layers`` maps fold number -> that fold's array (e.g.
    ``{f: np.load(run / f"fold_{f}" / "first_layer.npy") for f in folds}``). Returns the
    (n_models, F, C, k) weights and the matching (fold, seed) index, seeds numbered
    0..n_seeds-1 within each fold, folds in increasing order.
    """
    if not first_layers:
        raise FilterAnalysisError("no folds given; pass {fold: first_layer array}")
    shapes = {np.shape(w)[1:] for w in first_layers.values()}
    if len(shapes) != 1 or any(np.ndim(w) != 4 for w in first_layers.values()):
        raise FilterAnalysisError(
            f"every fold's first layer must be (n_seeds, F, C, k) of one shape, got {shapes}"
        )
    folds = sorted(first_layers)
    weights = np.concatenate([np.asarray(first_layers[f], dtype=np.float64) for f in folds])
    index = pd.DataFrame(
        {
            "fold": np.concatenate([np.full(len(first_layers[f]), f) for f in folds]),
            "seed": np.concatenate([np.arange(len(first_layers[f])) for f in folds]),
        }
    )
    return weights, index
