"""``verdict.json``: the run's answer, machine-readable, from the run directory's files.

The backtest stage writes ``verdict.json`` first (``multiple``, ``accuracy``,
``overfitting``, ``paths``, ``scheme``: ``niftycnn.workflow.stages.backtest_stage``);
this stage, after the filter analysis, adds what the CNN learned and the ground truth.
Reads ``metrics/comparison.csv`` and ``metrics/summary.csv`` (backtest stage),
``filters/summary.json`` and ``filters/kernels_summary.csv`` (filter stage) and
``data.json``; rewrites ``verdict.json`` with the backtest's fields kept. Fields it adds
or replaces (the README documents them all for users):

- ``comparisons``: one entry per baseline (the oracle is not a competitor and has its own
  entry): ``baseline``, ``metric``, ``cnn``, ``baseline_value``, ``difference``
  (baseline - CNN loss: positive means the CNN is better), ``ci`` [low, high] of the
  difference, ``p`` (one-sided Diebold-Mariano), ``beats`` (ci low > 0 and p < alpha).
- ``filters``: one entry per analysed channel (``[filters] channel``, and the planted
  channel on synthetic runs): ``channel``, ``first_layer`` and ``effective_kernel``, each
  with ``pattern`` ("level", "momentum", "curvature" or "neither"), ``p``, ``span``
  (first layer: the filters' length; effective kernel: the days ending at the window's
  last day) and which ``null`` the p is against.
- ``effective_kernel``: the strongest effective-kernel finding over every channel.
- ``oracle`` (synthetic runs with a planted pattern): the planted ``pattern``,
  ``channel``, ``lookback``, the realised ``oracle_sharpe``, the oracle's and the majority
  class's log loss, the oracle's ``gain`` over majority and ``captured``: each model's
  share of that gain (1 = all of the attainable edge, 0 = none, < 0 = worse than majority).
- ``market``: the stylised facts of the data (``niftycnn.data.stats.market_stats``).
- ``filter_sentence``: the first-layer verdict as the report words it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from niftycnn.backtest.evaluate import comparison_outcome
from niftycnn.config import Experiment
from niftycnn.files import write_json
from niftycnn.filters.kernel_tests import kernel_verdict
from niftycnn.rundir import RunLayout, read_json
from niftycnn.workflow.plan import planted

ORACLE = "oracle"


def _float(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def comparisons(layout: RunLayout, alpha: float) -> list[dict[str, Any]]:
    """The CNN against each baseline (metrics/comparison.csv), the oracle left out."""
    path = layout.metric("comparison")
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    table = table[table["baseline"] != ORACLE]
    return [
        {
            "baseline": row.baseline,
            "metric": row.metric,
            "cnn": _float(row.cnn),
            "baseline_value": _float(row.baseline_value),
            "difference": _float(row.difference),
            "ci": [_float(row.ci_low), _float(row.ci_high)],
            "p": _float(row.p_value),
            "beats": comparison_outcome(row.ci_low, row.ci_high, row.p_value, alpha) == "beats",
        }
        for row in table.itertuples()
    ]


def analysed_channels(experiment: Experiment) -> list[str]:
    """``[filters] channel`` and, on a planted synthetic run, the planted channel."""
    channels = [experiment.filters.channel]
    truth = planted(experiment)
    if truth is not None and truth.channel not in channels:
        channels.append(truth.channel)
    return [c for c in channels if c in experiment.windows.features]


def filter_entries(layout: RunLayout, experiment: Experiment) -> list[dict[str, Any]]:
    """One entry per analysed channel: first-layer and effective-kernel verdicts."""
    first: dict[str, Any] = {}
    if layout.filter_verdict.is_file():
        first = {e["channel"]: e for e in read_json(layout.filter_verdict).get("entries", [])}
    kernels = pd.read_csv(layout.kernel_summary) if layout.kernel_summary.is_file() else None
    alpha = experiment.filters.alpha
    out = []
    for channel in analysed_channels(experiment):
        entry: dict[str, Any] = {"channel": channel, "first_layer": first.get(channel)}
        if kernels is not None:
            entry["effective_kernel"] = kernel_verdict(
                kernels, channel, alpha, experiment.filters.kernel_min_effect
            )
        out.append(entry)
    return out


def oracle_entry(layout: RunLayout, experiment: Experiment) -> dict[str, Any] | None:
    """The planted pattern and how much of the oracle's edge each model captures."""
    truth = read_json(layout.data)["provenance"].get("synthetic")
    summary_path = layout.metric("summary")
    if planted(experiment) is None or truth is None or not summary_path.is_file():
        return None
    summary = pd.read_csv(summary_path, index_col=0)
    if ORACLE not in summary.index or "majority" not in summary.index:
        return {**truth, "log_loss": None}
    loss = summary["log_loss"]
    gain = float(loss["majority"] - loss[ORACLE])
    captured = {
        m: (_float((loss["majority"] - loss[m]) / gain) if gain > 0 else None)
        for m in summary.index
        if m not in (ORACLE, "majority") and np.isfinite(loss[m])
    }
    return {
        **truth,
        "log_loss": float(loss[ORACLE]),
        "majority_log_loss": float(loss["majority"]),
        "gain": gain,
        "captured": captured,
    }


def build_verdict(layout: RunLayout, experiment: Experiment) -> dict[str, Any]:
    """The verdict of a finished run (module docstring): the backtest stage's
    ``verdict.json`` with the comparisons, filters, effective kernel, market and oracle."""
    data = read_json(layout.data)
    kernels = pd.read_csv(layout.kernel_summary) if layout.kernel_summary.is_file() else None
    verdict: dict[str, Any] = read_json(layout.verdict) if layout.verdict.is_file() else {}
    first = read_json(layout.filter_verdict) if layout.filter_verdict.is_file() else {}
    verdict |= {
        "experiment": experiment.name,
        "comparisons": comparisons(layout, experiment.backtest.alpha),
        "filters": filter_entries(layout, experiment),
        "effective_kernel": (
            kernel_verdict(
                kernels, None, experiment.filters.alpha, experiment.filters.kernel_min_effect
            )
            if kernels is not None
            else None
        ),
        "market": data.get("market"),
        "filter_sentence": first.get("verdict"),
    }
    oracle = oracle_entry(layout, experiment)
    if oracle is not None:
        verdict["oracle"] = oracle
    return verdict


def verdict_stage(layout: RunLayout, experiment: Experiment) -> dict[str, Any]:
    """Writes ``verdict.json`` (module docstring) and returns it."""
    verdict = build_verdict(layout, experiment)
    write_json(layout.verdict, verdict)
    return verdict
