"""The filter analysis: learned first-layer filters against references and a null.

Entry point :func:`analyze_filters` takes plain arrays (the walk-forward engine's
``first_layer.npy`` stacked over folds, a (fold, seed) index, optionally test windows)
and returns a :class:`FilterAnalysis` of tidy DataFrames; :func:`verdict` turns it into
the report's headline sentence. Statistics are documented in ``similarity`` (weights),
``functional`` (outputs), ``null`` (tests) and ``stability`` (matching).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.functional import functional_similarity, view_anchors
from niftycnn.filters.null import bh_qvalues, draw_init_filters, two_sample_tests, upper_tail
from niftycnn.filters.similarity import (
    Views,
    best_reference,
    make_views,
    view_taps,
    weight_similarity,
)
from niftycnn.filters.stability import filter_matches
from niftycnn.filters.tables import (
    DEFAULT_STATISTIC,
    P_COLUMN,
    STATISTICS,
    STATISTICS_ABS,
    by_fold_table,
    summary_table,
)
from niftycnn.kernels import random_kernel_weights, reference_matrix

SIGNED = ("cosine", "shape_cosine", "functional_corr", "functional_shape_corr")


@dataclass(frozen=True)
class FilterAnalysis:
    """Everything the report needs about the first-layer filters.

    Attributes:
        table: one row per (fold, seed, filter, channel, reference): ``cosine``,
            ``abs_cosine``, ``p_value``, ``percentile``, ``shape_cosine``,
            ``abs_shape_cosine``, ``shape_p_value``, ``shape_percentile``,
            ``energy_share``, ``functional_corr``, ``functional_p_value``,
            ``functional_shape_corr``, ``functional_shape_p_value`` (NaN without windows);
            each ``*p_value`` has a ``*q_value``: Benjamini-Hochberg across the filters of
            one channel x reference ("which filters" at a controlled false discovery rate);
            ``best_reference`` / ``best_sign`` (of the filter's channel, by |cosine|),
            ``model`` (row of the weights array). ``channel`` includes group views.
        summary: one row per (channel, reference, statistic): ``n``, ``mean_learned``,
            ``mean_null``, ``p_mean`` (mean test), ``n_significant``, ``p_share``
            (binomial), ``n_bh`` (BH q <= alpha), ``share_positive`` (of signed values);
            ``mean_random_kernels`` / ``p_random_kernels``: the same statistic of random
            ROCKET kernels (``niftycnn.kernels.random_kernel_weights``, the rocket
            baseline's law) and the permutation p of learned > random.
        null: one row per (draw, channel, reference) with the null's statistics.
        matches: filter matching across folds/seeds (see ``stability.filter_matches``).
        by_fold: per (fold, channel): share of momentum-/curvature-like filters,
            matched |cosine| with the previous fold, its null baseline.
        weights, model_index, channel_names, views, k, alpha, statistic, notes.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    null: pd.DataFrame
    matches: pd.DataFrame
    by_fold: pd.DataFrame
    weights: np.ndarray
    model_index: pd.DataFrame
    channel_names: tuple[str, ...]
    views: tuple[str, ...]
    k: int
    alpha: float
    statistic: str
    notes: tuple[str, ...] = field(default=())


def _check_inputs(
    weights: np.ndarray, model_index: pd.DataFrame, channel_names: Sequence[str]
) -> pd.DataFrame:
    if weights.ndim != 4:
        raise FilterAnalysisError(
            f"weights must be (n_models, F, C, k), got shape {weights.shape}; stack the "
            "folds' first_layer.npy arrays (n_seeds, F, C, k) along axis 0"
        )
    if len(model_index) != weights.shape[0]:
        raise FilterAnalysisError(
            f"model_index has {len(model_index)} rows for {weights.shape[0]} models; "
            "give one (fold, seed) row per model"
        )
    missing = {"fold", "seed"} - set(model_index.columns)
    if missing:
        raise FilterAnalysisError(
            f"model_index lacks columns {sorted(missing)}; it needs fold and seed"
        )
    if len(channel_names) != weights.shape[2]:
        raise FilterAnalysisError(
            f"{len(channel_names)} channel names for {weights.shape[2]} weight channels"
        )
    if not np.all(np.isfinite(weights)):
        raise FilterAnalysisError("weights contain NaN or inf; the training run diverged")
    return model_index.reset_index(drop=True)[["fold", "seed"]]


def _stats(
    filters: np.ndarray, views: Views, windows: np.ndarray | None, anchors: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """All per-(filter, view, reference) statistics of (M, C, k) filters."""
    out = weight_similarity(view_taps(filters, views))
    if windows is not None:
        out |= functional_similarity(filters, windows, views, anchors)
    return out


def _tidy(arrays: Mapping[str, np.ndarray], index: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({**index, **{k: v.reshape(-1) for k, v in arrays.items()}})


@dataclass(frozen=True)
class _Setup:
    """The shapes and names every step of one analysis shares."""

    views: Views
    ref_names: tuple[str, ...]
    n_filters: int
    shape: tuple[int, int, int]  # (models x filters, views, references)

    def labels(self, grid: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "channel": np.asarray(self.views.names)[grid[1]],
            "reference": np.asarray(self.ref_names)[grid[2]],
        }


def _filter_table(
    learned: dict[str, np.ndarray],
    null: dict[str, np.ndarray],
    index: pd.DataFrame,
    setup: _Setup,
) -> pd.DataFrame:
    """One row per (fold, seed, filter, view, reference), with per-filter p-values and
    Benjamini-Hochberg q-values against the null."""
    shape, n_null = setup.shape, len(null["cosine"])
    cols: dict[str, np.ndarray] = {}
    for key in SIGNED:
        prefix = P_COLUMN[STATISTICS_ABS[key]].removesuffix("p_value")
        if key in learned:
            x, x0 = np.abs(learned[key]), np.abs(null[key])
            p, pct = upper_tail(x.reshape(shape[0], -1), x0.reshape(n_null, -1))
            cols[key] = learned[key]
        else:  # no windows: functional columns exist, as NaN, so the schema is fixed
            p = pct = cols[key] = np.full(shape, np.nan)
        cols[f"{prefix}p_value"] = p.reshape(shape)
        cols[f"{prefix}percentile"] = pct.reshape(shape)
    best, sign = best_reference(learned["cosine"])
    cols |= {
        "energy_share": np.broadcast_to(learned["energy_share"][..., None], shape),
        "best_reference": np.broadcast_to(np.asarray(setup.ref_names)[best][..., None], shape),
        "best_sign": np.broadcast_to(sign[..., None], shape),
    }
    grid = np.indices(shape).reshape(3, -1)
    model = grid[0] // setup.n_filters
    where = {
        "fold": index["fold"].to_numpy()[model],
        "seed": index["seed"].to_numpy()[model],
        "model": model,
        "filter": grid[0] % setup.n_filters,
        **setup.labels(grid),
    }
    table = _tidy(cols, where)
    for key in SIGNED:
        table.insert(table.columns.get_loc(key) + 1, STATISTICS_ABS[key], table[key].abs())
    for p_col in P_COLUMN.values():  # BH across filters, within each channel x reference
        q = table.groupby(["channel", "reference"], sort=False)[p_col].transform(
            lambda p: pd.Series(bh_qvalues(p.to_numpy()), index=p.index)
        )
        table.insert(table.columns.get_loc(p_col) + 1, p_col.replace("p_value", "q_value"), q)
    return table


def _null_table(null: dict[str, np.ndarray], setup: _Setup) -> pd.DataFrame:
    """One row per (null draw, view, reference)."""
    n_null = len(null["cosine"])
    shape = (n_null, *setup.shape[1:])
    grid = np.indices(shape).reshape(3, -1)
    arrays = {key: null[key] for key in SIGNED if key in null}
    arrays["energy_share"] = np.broadcast_to(null["energy_share"][..., None], shape)
    table = _tidy(arrays, {"draw": grid[0], **setup.labels(grid)})
    for key in SIGNED:
        if key in table:
            table[STATISTICS_ABS[key]] = table[key].abs()
    return table


def _trained_null_tests(
    summary: pd.DataFrame,
    table: pd.DataFrame,
    trained: dict[str, np.ndarray] | None,
    setup: _Setup,
    n_resamples: int,
    seed: int,
    name: str = "trained_null",
) -> pd.DataFrame:
    """Add ``mean_<name>`` / ``p_<name>``: learned vs a second sample of filters (the
    trained null, or random ROCKET kernels), by a permutation test of the means."""
    mean_col, p_col = f"mean_{name}", f"p_{name}"
    summary = summary.assign(**{mean_col: np.nan, p_col: np.nan})
    if trained is None:
        return summary
    groups = dict(iter(table.groupby(["channel", "reference"], sort=False)))
    pairs = []
    for _, row in summary.iterrows():  # one row per (view, reference, statistic)
        key = STATISTICS[row["statistic"]]
        v = setup.views.names.index(row["channel"])
        r = setup.ref_names.index(row["reference"])
        x = groups[(row["channel"], row["reference"])][row["statistic"]].to_numpy()
        pairs.append((x, np.abs(trained[key][:, v, r])))
    tests = two_sample_tests(pairs, n_resamples, seed)  # one set of permutations per shape
    summary[[mean_col, p_col]] = np.asarray(tests, dtype=np.float64).reshape(-1, 2)
    return summary


def _notes(k: int, null_draws: int, has_windows: bool) -> tuple[str, ...]:
    energy = (
        "the degree 0-2 span is all of R^k, so energy_share is trivially 1; "
        "conclusions rest on the cosines."
        if k <= 3
        else "energy_share measures how polynomial (degree <= 2) a filter is."
    )
    notes = [
        f"k = {k}: {energy}",
        "p-values are one-sided Monte Carlo tests of |statistic| against "
        f"{null_draws} untrained filters (Conv1d default init).",
        "channel 'price' sums the taps over open/high/low/close (collinear channels); "
        "its shape cosines are the momentum-of-the-price-path measure.",
    ]
    if k < 3:
        notes.append(
            f"k = {k}: no curvature reference; the shape cosine with momentum is +-1 by "
            "construction (one zero-sum direction), so only raw cosines are informative."
        )
    if not has_windows:
        notes.append("no windows given: functional statistics are NaN.")
    return tuple(notes)


def analyze_filters(
    weights: np.ndarray,
    model_index: pd.DataFrame,
    channel_names: Sequence[str],
    windows: np.ndarray | None = None,
    null_draws: int = 1000,
    seed: int = 0,
    groups: Mapping[str, Sequence[str]] | None = None,
    alpha: float = 0.05,
    statistic: str = DEFAULT_STATISTIC,
    max_windows: int = 1000,
    n_resamples: int = 10_000,
    trained_null: np.ndarray | None = None,
) -> FilterAnalysis:
    """Compare learned first-layer filters with reference kernels and untrained filters.

    Args:
        weights: (n_models, F, C, k) learned first-layer weights (torch layout).
        model_index: one row per model with columns ``fold`` and ``seed``.
        channel_names: the C input channel names, in the windows' order.
        windows: (N, C, L) test windows, normalised as for training; enables the
            functional statistics. At most ``max_windows`` (seeded choice) are used.
        null_draws: untrained filters drawn with Conv1d's init (>= 1000 recommended).
        seed: seeds the null draws, the window subsample and the resampling tests.
        groups: channel groups analysed as extra views (their taps summed); default
            ``{"price": (open, high, low, close)}`` when those channels exist.
        alpha: level for "significant" filters and the verdict.
        statistic: the summary statistic that defines momentum-/curvature-like filters
            per fold (default ``abs_shape_cosine``, see ``similarity``).
        trained_null: optional (n, F, C, k) first layers of the same model trained where
            there is nothing to learn (shuffled labels, or a pattern-free market). The
            summary then also tests learned vs these (``p_trained_null``, a permutation
            test), which, unlike the init null, accounts for what training does to filters
            without a pattern; the verdict prefers it.
    """
    index = _check_inputs(weights, model_index, channel_names)
    if statistic not in STATISTICS:
        raise FilterAnalysisError(f"statistic {statistic!r} not in {sorted(STATISTICS)}")
    if statistic.startswith("functional") and windows is None:
        raise FilterAnalysisError(f"statistic {statistic!r} needs windows; pass the test windows")
    n_models, n_filt, n_chan, k = weights.shape
    if trained_null is not None and (
        trained_null.ndim != 4 or trained_null.shape[2:] != weights.shape[2:]
    ):
        raise FilterAnalysisError(
            f"trained_null must be (n, F, C={n_chan}, k={k}), got {trained_null.shape}"
        )
    names = tuple(channel_names)
    views = make_views(names, groups)
    anchors = view_anchors(views, names)
    ref_names, _ = reference_matrix(k)
    setup = _Setup(views, ref_names, n_filt, (n_models * n_filt, len(views.names), len(ref_names)))
    rng = np.random.default_rng(seed)
    if windows is not None and len(windows) > max_windows:
        windows = windows[np.sort(rng.choice(len(windows), max_windows, replace=False))]

    def stats(w: np.ndarray) -> dict[str, np.ndarray]:
        return _stats(w.reshape(-1, n_chan, k).astype(np.float64), views, windows, anchors)

    learned = stats(weights)
    null_w = draw_init_filters(null_draws, n_chan, k, seed)
    null = stats(null_w)
    table = _filter_table(learned, null, index, setup)
    null_table = _null_table(null, setup)
    summary = summary_table(table, null_table, alpha, n_resamples, seed)
    trained = None if trained_null is None else stats(trained_null)
    summary = _trained_null_tests(summary, table, trained, setup, n_resamples, seed)
    # the rocket baseline's kernel law at this k: are learned filters more aligned with
    # the references than random kernels are? (an extra null beside the untrained one)
    rocket = stats(random_kernel_weights(null_draws, n_chan, k, seed))
    summary = _trained_null_tests(
        summary, table, rocket, setup, n_resamples, seed, name="random_kernels"
    )
    matches = filter_matches(weights, index)
    return FilterAnalysis(
        table=table,
        summary=summary,
        null=null_table,
        matches=matches,
        by_fold=by_fold_table(table, matches, null_w, n_filt, alpha, statistic),
        weights=weights,
        model_index=index,
        channel_names=names,
        views=views.names,
        k=k,
        alpha=alpha,
        statistic=statistic,
        notes=_notes(k, null_draws, windows is not None),
    )


def write_tables(analysis: FilterAnalysis, directory: str | Path) -> dict[str, Path]:
    """Write the analysis tables as CSV (table, summary, by_fold, matches, notes) to a folder.

    The null draws are not written (they are re-drawn exactly from ``seed``).
    """
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("table", "summary", "by_fold", "matches"):
        paths[name] = out / f"filters_{name}.csv"
        getattr(analysis, name).to_csv(paths[name], index=False)
    paths["notes"] = out / "filters_notes.txt"
    paths["notes"].write_text("\n".join(analysis.notes) + "\n")
    return paths
