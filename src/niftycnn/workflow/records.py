"""Small helpers the backtest stages share (one series and a universe): tables as JSON
records, PBO across models, the metrics tables and the verdict fields both write."""

from __future__ import annotations

import pandas as pd

from niftycnn.backtest import BENCHMARK, overfitting_table
from niftycnn.rundir import RunLayout, write_csv

Tables = dict[str, tuple[pd.DataFrame, bool]]
"""``metrics/<name>.csv`` -> (table, whether its index is written)."""


def records(table: pd.DataFrame) -> list[dict[str, object]]:
    """A table's rows as JSON-ready dicts (NaN as null)."""
    clean = table.astype(object).where(table.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in clean.to_dict(orient="records")]


def overfitting(returns: pd.DataFrame) -> pd.DataFrame:
    """PBO and deflated Sharpe across the run's models (not buy-and-hold), from their
    returns (date x model); empty with fewer than 2 models or 16 dates."""
    models = returns.drop(columns=BENCHMARK, errors="ignore")
    if models.shape[1] < 2 or len(models) < 16:
        return pd.DataFrame()
    return overfitting_table(models, "cnn", "models")


def write_metrics(layout: RunLayout, tables: Tables, scheme: str) -> dict[str, object]:
    """Writes every table to ``metrics/``; returns the verdict fields they give (the
    comparisons, multiple, accuracy, overfitting records and the validation scheme)."""
    for name, (table, index) in tables.items():
        write_csv(layout.metric(name), table, index=index)
    verdict: dict[str, object] = {
        name: records(tables[name][0]) for name in ("multiple", "accuracy", "overfitting")
    }
    return verdict | {"comparisons": records(tables["comparison"][0]), "scheme": scheme}
