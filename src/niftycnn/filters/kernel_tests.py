"""Effective kernels against references and nulls: which pattern, on which channel, over
which span, with what p-value.

References (``kernel_references``): level, momentum and curvature as discrete Gram
polynomials (``niftycnn.kernels.gram_basis``) over a span of s days ending at the
window's last day (zeros before it), for each span in ``spans`` (the whole window among
them), and on synthetic data the planted kernel itself.

Statistic: for each model, channel and reference, the signed cosine between the model's
effective kernel on that channel and the reference; summarised by its mean over models
(signed: a trend-following network has a positive momentum cosine, a mean-reverting one a
negative cosine). Training moves every network's kernel whatever the labels (on the
price path towards "the last close against the window", which resembles every momentum
kernel), which is why the trained null, not the untrained one, decides. Tests,
two-sided, of "the learned mean differs from the null's":

- against networks of the same architecture trained on labels shuffled within the
  training side (the *trained null*: what training alone does to the kernel), K
  independent shuffles (``niftycnn.walkforward.nulls``): the run's statistic (mean cosine
  over a few folds, seed-0 networks) against the K shuffled runs' statistics, with the
  prediction-interval t test (:func:`replicate_p`). A run is the unit: every network of
  a run fits the same labels, so networks within it are not independent evidence (a
  paired test over 16 networks of one run, tried first, named momentum at p < 0.01 in a
  pattern-free market);
- against untrained networks (initialisations): the mean of as many draws from their pool,
  p likewise.

The verdict uses the trained null where it exists. Its family is every *identifiable*
view x {level, momentum, curvature} x span: the ``price`` view (open/high/low/close
kernels summed) instead of the four price channels where it exists (each price channel
alone is measured from the last close, so its kernel carries an anchor that only the
sum cancels; the single-channel rows are still tabulated), and every other channel. The
price path is a random walk: its kernels are compared in return space (see
``view_space``: the cosine there is the correlation of the two kernels' outputs), and
being shift-invariant it has no level reference in the family (a zero-sum "level of the
last s days" is the last s days against the window: a moving-average momentum). p-values
are Holm-adjusted across the family, and the verdict names the reference with the
smallest adjusted p if it is <= alpha (ties: the larger effect), else "neither". Models
of neighbouring folds share most of their training data, so they are not independent
draws: ``bench/power.py`` measures the size of this test on pattern-free markets (see
the README's power table).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from niftycnn.kernels import POLYNOMIAL_NAMES, gram_basis

PRICE_CHANNELS = ("open", "high", "low", "close")


def kernel_references(
    length: int, spans: Sequence[int], planted: np.ndarray | None = None
) -> dict[tuple[str, int], np.ndarray]:
    """Unit-norm references (L,) keyed by (pattern, span); ``("planted", k)`` for a
    planted kernel of k taps. Spans longer than the window are cut to it."""
    refs: dict[tuple[str, int], np.ndarray] = {}
    for span in sorted({min(int(s), length) for s in spans}):
        basis = gram_basis(span)
        for degree, name in enumerate(POLYNOMIAL_NAMES[: basis.shape[0]]):
            ref = np.zeros(length)
            ref[-span:] = basis[degree]
            refs[(name, span)] = ref
    if planted is not None and np.any(planted):
        ref = np.zeros(length)
        ref[-len(planted) :] = planted / np.linalg.norm(planted)
        refs[("planted", len(planted))] = ref
    return refs


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 1e-12)


RANDOM_WALK_VIEWS = ("price",)  # views whose series is a random walk (log prices)


def view_space(x: np.ndarray, view: str) -> np.ndarray:
    """Kernels (..., L) in the space their cosines are taken in. A log-price path is a
    random walk: the correlation of two kernels' outputs on it is the cosine of their
    return-space forms (for a zero-sum kernel k, k . c = sum_j K_j r_j with K_j the sum
    of k's taps from day j on), not of the price taps themselves; so the ``price`` view
    is centred (its kernels sum to zero already; references are projected) and mapped to
    returns. Other channels (volume, range, returns) are stationary: taps as they are."""
    if view not in RANDOM_WALK_VIEWS:
        return x
    centred = x - x.mean(-1, keepdims=True)
    return np.cumsum(centred[..., ::-1], -1)[..., ::-1][..., 1:]


def view_cosines(
    kernels: np.ndarray,
    views: Sequence[str],
    refs: dict[tuple[str, int], np.ndarray],
    *,
    unit: bool = True,
) -> np.ndarray:
    """Signed cosines (M, V, R) per view, in view space (:func:`view_space`); NaN for a
    reference that vanishes there (the whole-window level of the price view). With
    ``unit=False`` the kernels keep their size: the *response*, the change of the
    predicted expected return per unit of the (unit-norm) reference pattern."""
    out = np.full((len(kernels), len(views), len(refs)), np.nan)
    for v, view in enumerate(views):
        k = view_space(kernels[:, v], view)
        k = _unit(k) if unit else k
        for r, ref in enumerate(refs.values()):
            vec = view_space(ref, view)
            if np.linalg.norm(vec) > 1e-9:
                out[:, v, r] = k @ _unit(vec)
    return out


def in_family(views: Sequence[str]) -> set[str]:
    """The views the verdict tests (module docstring)."""
    if "price" in views:
        return {v for v in views if v not in PRICE_CHANNELS}
    return set(views)


def pool_p(x: np.ndarray, pool: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Two-sided p of mean(x) against means of len(x) draws from ``pool``, per column."""
    rng = np.random.default_rng(seed)
    centre = pool.mean(0)
    observed = np.abs(x.mean(0) - centre)
    hits = np.zeros(pool.shape[1])
    chunk = max(1, 2_000_000 // (len(x) * pool.shape[1]))
    for start in range(0, n_resamples, chunk):
        size = min(chunk, n_resamples - start)
        draws = pool[rng.integers(0, len(pool), (size, len(x)))].mean(1)  # (size, S)
        hits += (np.abs(draws - centre) >= observed - 1e-12).sum(0)
    return (1.0 + hits) / (n_resamples + 1.0)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN kept)."""
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok])]
    m = len(order)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def replicate_p(observed: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Two-sided p of one observed statistic against K independent null replicates
    (K, S), per column: the prediction-interval t test, (x - mean) / (sd sqrt(1 + 1/K))
    ~ t(K - 1) when the replicates and the observation are draws of one normal law."""
    k = len(draws)
    if k < 3:
        return np.full(observed.shape, np.nan)
    centre, sd = draws.mean(0), draws.std(0, ddof=1)
    t = np.abs(observed - centre) / np.where(sd > 0, sd * np.sqrt(1 + 1 / k), np.nan)
    return 2 * stats.t.sf(t, df=k - 1)


def kernel_summary(
    learned: np.ndarray,
    features: Sequence[str],
    refs: dict[tuple[str, int], np.ndarray],
    *,
    replicate: np.ndarray | None = None,
    shuffled: np.ndarray | None = None,
    untrained: np.ndarray | None = None,
    n_resamples: int = 20_000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per (channel, reference, span): mean cosine of the learned kernels and of
    each null, both tests, and ``p`` (the trained null's where there is one) with its
    Holm adjustment ``p_adjusted`` across the family (module docstring).

    The trained-null test compares *responses* (``view_cosines(..., unit=False)``), not
    cosines: networks trained on shuffled labels all reach one kernel shape (the last
    close against the window: |cosine| about 0.7 with every momentum reference on the
    offline default) with a random sign and a small size, so a cosine cannot tell a
    learned kernel from them, while its response is twenty times theirs
    (``response_learned`` / ``response_shuffled``, the means).

    ``learned`` (M, V, L): every model's kernels (the means). ``replicate`` (F, V, L): the
    learned kernels the trained-null test compares, one per null fold (seed 0);
    ``shuffled`` (K, F, V, L): the same for each of K shuffled-label draws. The statistic
    of a run is its mean cosine over the F folds."""
    cos = view_cosines(learned, features, refs)
    n_chan, n_ref = cos.shape[1:]
    flat = cos.reshape(len(cos), -1)
    nan = np.full(flat.shape[1], np.nan)
    table = {
        "channel": np.repeat(list(features), n_ref),
        "reference": np.tile([name for name, _ in refs], n_chan),
        "span": np.tile([span for _, span in refs], n_chan),
        "n": len(cos),
        "mean_learned": flat.mean(0),
        "sd_learned": flat.std(0, ddof=1) if len(flat) > 1 else nan,
        "mean_shuffled": nan,
        "p_shuffled": nan,
        "mean_untrained": nan,
        "p_untrained": nan,
        "response_learned": view_cosines(learned, features, refs, unit=False)
        .reshape(len(cos), -1)
        .mean(0),
        "response_shuffled": nan,
    }
    if shuffled is not None and replicate is not None and len(shuffled):
        size = {"unit": False}
        run = view_cosines(replicate, features, refs, **size).reshape(len(replicate), -1).mean(0)
        draws = np.stack(
            [view_cosines(d, features, refs, **size).reshape(len(d), -1).mean(0) for d in shuffled]
        )
        table["mean_shuffled"] = np.stack(
            [view_cosines(d, features, refs).reshape(len(d), -1).mean(0) for d in shuffled]
        ).mean(0)
        table["response_shuffled"] = draws.mean(0)
        table["p_shuffled"] = replicate_p(run, draws)
    if untrained is not None and len(untrained):
        null_flat = view_cosines(untrained, features, refs).reshape(len(untrained), -1)
        table["mean_untrained"] = null_flat.mean(0)
        table["p_untrained"] = pool_p(flat, null_flat, n_resamples, seed)
    out = pd.DataFrame(table).dropna(subset=["mean_learned"]).reset_index(drop=True)
    trained = bool(np.isfinite(out["p_shuffled"]).any())
    out["null"] = "shuffled" if trained else "untrained"
    out["p"] = out["p_shuffled"] if trained else out["p_untrained"]
    # a shift-invariant random-walk view has no level: its zero-sum "level over the last
    # s days" is the last s days against the window, a moving-average momentum in disguise
    shift_free = out["channel"].isin(RANDOM_WALK_VIEWS) & (out["reference"] == "level")
    family = (
        (out["reference"] != "planted") & out["channel"].isin(in_family(features)) & ~shift_free
    )
    out["p_adjusted"] = np.nan
    out.loc[family, "p_adjusted"] = holm(out.loc[family, "p"].fillna(1.0).to_numpy())
    out["effect"] = out["mean_learned"] - out[f"mean_{out['null'].iloc[0]}"]
    return out


def kernel_view(channel: str, views: Sequence[str]) -> str:
    """The view a channel's effective-kernel verdict reads: for a price channel, the
    ``price`` view (its open/high/low/close kernels summed) where there is one. Each price
    channel is measured from the last close, so one channel's raw kernel carries the
    anchor (minus every price channel's response at the last close); only their sum is
    the response to the price path itself."""
    return "price" if channel in PRICE_CHANNELS and "price" in views else channel


def kernel_verdict(
    summary: pd.DataFrame, channel: str | None, alpha: float, min_effect: float = 0.3
) -> dict[str, object]:
    """The effective-kernel verdict of one channel (or of all views: ``None``):
    ``pattern`` (level / momentum / curvature / neither), ``span``, ``p`` (Holm-adjusted),
    ``sign`` and ``cosine`` (the learned mean), ``null`` (which null the p is against),
    ``view`` (see :func:`kernel_view`).

    Significance and identity are separate questions: among the references whose test
    passes (adjusted p <= ``alpha``) and that the kernel resembles (cosine effect of at
    least ``min_effect`` in size) the verdict names the one it resembles most; the test
    alone says only that the kernel's response exceeds what training alone gives (a
    network that learned something is louder on every channel). With none passing, the
    row of smallest p is reported as "neither"."""
    rows = summary[(summary["reference"] != "planted") & summary["p_adjusted"].notna()]
    view = None if channel is None else kernel_view(channel, summary["channel"].unique())
    if view is not None:
        rows = rows[rows["channel"] == view]
    if rows.empty or rows["p_adjusted"].isna().all():
        return {"channel": channel, "view": view, "pattern": "neither", "span": None, "p": None}
    passed = rows[(rows["p_adjusted"] <= alpha) & (rows["effect"].abs() >= min_effect)]
    best = (
        passed.assign(size=passed["effect"].abs()).sort_values("size", ascending=False).iloc[0]
        if len(passed)
        else rows.sort_values("p_adjusted").iloc[0]
    )
    found = bool(len(passed))
    name = str(best["channel"])
    return {
        "channel": channel or ("close" if name == "price" else name),
        "view": name,
        "pattern": str(best["reference"]) if found else "neither",
        "span": int(best["span"]),
        "p": float(best["p_adjusted"]),
        "sign": int(np.sign(best["mean_learned"])),
        "cosine": round(float(best["mean_learned"]), 4),
        "null": str(best["null"]),
        "best_reference": str(best["reference"]),
    }


def stability_by_fold(kernels: np.ndarray, index: np.ndarray) -> pd.DataFrame:
    """Per fold and channel: the cosine between the fold's mean kernel (over its members)
    and the previous fold's, i.e. how stable the learned pattern is through time."""
    folds = np.unique(index[:, 0])
    means = np.stack([kernels[index[:, 0] == f].mean(0) for f in folds])  # (F, C, L)
    norms = np.linalg.norm(means, axis=-1, keepdims=True)
    unit = np.divide(means, norms, out=np.zeros_like(means), where=norms > 0)
    cos = np.full(unit.shape[:2], np.nan)
    cos[1:] = (unit[1:] * unit[:-1]).sum(-1)
    return pd.DataFrame(
        {
            "fold": np.repeat(folds, unit.shape[1]),
            "channel_index": np.tile(np.arange(unit.shape[1]), len(folds)),
            "cosine_with_previous": cos.ravel(),
        }
    )
