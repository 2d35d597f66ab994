"""The stages that differ for a universe: the data check of every symbol, and the
backtest across and per symbol. Each says what it reads and writes in the run's
:class:`~niftycnn.rundir.RunLayout`; ``niftycnn.workflow.stages`` calls them when the
plan holds a universe."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from niftycnn.backtest import accuracy_table, comparison_table, multiple_comparisons
from niftycnn.backtest.universe import XS_COLUMNS, UniverseResult, evaluate_universe
from niftycnn.data.universe_check import check_universe
from niftycnn.files import write_json
from niftycnn.rundir import RunLayout
from niftycnn.workflow.plan import Plan
from niftycnn.workflow.records import Tables, overfitting, records, write_metrics


def universe_data_stage(layout: RunLayout, plan: Plan) -> None:
    """Writes ``data.json``: the universe's provenance (its fingerprint covers every
    symbol), each member's, the symbols skipped and why, the notes (survivorship bias,
    a synthetic universe's oracle), the summary check and every symbol's report."""
    universe = plan.universe
    assert universe is not None
    check = check_universe(universe, plan.experiment.data.checks)
    write_json(
        layout.data,
        {
            "provenance": asdict(universe.provenance),
            "members": {s: asdict(p) for s, p in universe.members.items()},
            "skipped": universe.skipped,
            "notes": list(universe.notes),
            "details": universe.details,
            "check": check.summary,
            "checks": check.reports,
        },
    )


def universe_backtest_stage(layout: RunLayout, plan: Plan, predictions: pd.DataFrame) -> None:
    """Evaluates every model across the symbols and per symbol, tests the CNN against
    each baseline and all at once on the panel's losses per date, and measures
    overfitting across the models' long-short returns. Writes ``metrics/`` (summary,
    cross_section, quantiles, long_short, equity, ic, per_symbol, coverage,
    diebold_mariano, comparison, multiple, accuracy, overfitting) and ``verdict.json``
    (with ``cross_section``)."""
    experiment = plan.experiment
    config, seed = experiment.backtest, experiment.seed
    result = evaluate_universe(predictions, plan.closes(), config, seed=seed)
    comparison = comparison_table(result.diebold_mariano)
    tables: Tables = {
        "summary": (result.summary, True),
        "cross_section": (result.cross_section, False),
        "quantiles": (result.quantiles, False),
        "long_short": (result.long_short, True),
        "equity": (result.equity, True),
        "ic": (result.ic, True),
        "per_symbol": (result.per_symbol, False),
        "coverage": (result.coverage, True),
        "diebold_mariano": (result.diebold_mariano, False),
        "comparison": (comparison, False),
        "multiple": (multiple_comparisons(predictions, config, seed=seed), False),
        "accuracy": (accuracy_table(predictions, config, seed=seed), False),
        "overfitting": (overfitting(result.long_short), False),
    }
    verdict = write_metrics(layout, tables, experiment.walkforward.scheme)
    verdict["paths"] = []
    verdict["cross_section"] = cross_section_verdict(result, plan)
    write_json(layout.verdict, verdict)


def cross_section_verdict(result: UniverseResult, plan: Plan, reference: str = "cnn") -> dict:
    """The cross-sectional verdict: how the portfolios were built, every model's numbers
    and whether the reference model's ranking is an edge (long-short Sharpe interval
    above 0 after costs, mean rank IC above 0 at ``[backtest] alpha``)."""
    config = plan.experiment.backtest
    table = result.summary.reindex(columns=list(XS_COLUMNS)).reset_index()
    out: dict[str, object] = {
        "symbols": len(plan.dataset.symbols),
        "quantiles": config.quantiles,
        "weighting": config.weighting,
        "signal": config.signal,
        "cost_per_side_bps": config.cost_bps + config.slippage_bps,
        "models": records(table),
        "reference": reference,
    }
    if reference in result.summary.index:
        row = result.summary.loc[reference]
        edge = bool(row["sharpe_low"] > 0 and row["mean_ic"] > 0 and row["ic_p"] < config.alpha)
        out["edge"] = edge
        out["rebalance"] = int(row["rebalance"])
    return out
