"""The local runs at a glance (``niftycnn runs [ROOT]``), and what two runs' configs
differ in (``niftycnn runs --compare A B``), read from the run directories alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from niftycnn.errors import RunDirError
from niftycnn.rundir import RunLayout, read_json, require_run_dir
from niftycnn.workflow.resume import config_diff, stored_experiment

KEY_METRICS = ("log_loss", "accuracy", "sharpe")


def runs_table(root: str | Path = "reports") -> pd.DataFrame:
    """One row per run directory under ``root`` (any depth): its experiment, command,
    status, the CNN's key metrics, the baselines it beats and the PBO."""
    base = Path(root)
    if not base.is_dir():
        raise RunDirError(f"{base} is not a folder; pass the root of run directories (reports)")
    rows = []
    for config in sorted(base.glob("**/config.toml")):
        layout = RunLayout(config.parent)
        if layout.root.parent.name in ("points", "trials") or layout.root.name == "holdout":
            continue  # a sweep's or search's own sub-runs
        rows.append(_row(layout, base))
    return pd.DataFrame(rows, columns=_COLUMNS)


_COLUMNS = ["run", "experiment", "command", "status", *KEY_METRICS, "beats", "pbo"]


def _row(layout: RunLayout, base: Path) -> dict[str, Any]:
    record = read_json(layout.run_record) if layout.run_record.is_file() else {}
    row: dict[str, Any] = {
        "run": str(layout.root.relative_to(base)),
        "experiment": layout.root.parent.name,
        "command": record.get("command", "run"),
        "status": "finished" if layout.report_html.is_file() else "incomplete",
    }
    summary = layout.metric("summary")
    if summary.is_file():
        metrics = pd.read_csv(summary, index_col=0)
        if "cnn" in metrics.index:
            row |= {k: metrics.loc["cnn", k] for k in KEY_METRICS if k in metrics.columns}
    if layout.verdict.is_file():
        comparisons = read_json(layout.verdict).get("comparisons", [])
        beaten = [c["baseline"] for c in comparisons if c.get("beats")]
        row["beats"] = ", ".join(beaten) if beaten else "none"
    overfitting = layout.metric("overfitting")
    if overfitting.is_file():
        row["pbo"] = pd.read_csv(overfitting)["pbo"].iloc[0]
    return row


def list_runs(root: str | Path = "reports") -> str:
    """:func:`runs_table` as text."""
    table = runs_table(root)
    if table.empty:
        return f"no run directories under {root}"
    table["run"] = table["run"].str.ljust(int(table["run"].str.len().max()))
    return table.to_string(index=False, na_rep="-", float_format=lambda x: f"{x:.4g}")


def compare_runs(a: str | Path, b: str | Path) -> str:
    """The resolved-config keys two runs differ in, one ``[table] key: a -> b`` a line."""
    first, second = require_run_dir(a), require_run_dir(b)
    diff = config_diff(
        stored_experiment(first).resolved_dict(), stored_experiment(second).resolved_dict()
    )
    head = f"{first.root} -> {second.root}"
    return "\n".join([head, *diff]) if diff else f"{head}: the configs are the same"
