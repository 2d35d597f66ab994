"""Small helpers the backtest stages share: tables as JSON records, PBO across models."""

from __future__ import annotations

import pandas as pd

from niftycnn.backtest import BENCHMARK, overfitting_table


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
