"""Log a finished run directory to MLflow (``--track mlflow``, ``niftycnn[track]``).

The run directory stays the source of truth: this reads its files and logs one MLflow
run per run directory, under an MLflow experiment named after the niftycnn experiment:
the resolved config as params (``table.key``), the summary metrics of every model
(``<model>.<metric>``), the verdict (``beats.<baseline>`` 1/0 and ``p.<baseline>`` per
comparison; the filter sentence and the effective-kernel pattern as tags), PBO and the
deflated Sharpe (``overfitting.*``), and the report and key tables as artefacts. Each
sweep point or search trial is a nested run with its knobs as params and its errors as
metrics. The default store is a local file store, ``./mlruns`` (MLflow 3 keeps its file
store in maintenance mode and refuses it unless ``MLFLOW_ALLOW_FILE_STORE`` is true: a
``file:`` URI opts in for the client made here; a database URI such as
``sqlite:///mlflow.db`` needs no opt-in).
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from niftycnn.extras import require
from niftycnn.rundir import RunLayout, read_json, require_run_dir

ARTEFACTS = ("report.html", "report.md", "verdict.json", "sweep.csv", "search.csv", "splits.csv")
PARENT_TAG = "mlflow.parentRunId"


def default_uri() -> str:
    """``./mlruns`` as a file-store URI."""
    return Path("mlruns").resolve().as_uri()


def log_run(run_dir: str | Path, tracking_uri: str | None = None) -> str:
    """Log ``run_dir`` (module docstring); returns the MLflow run id."""
    mlflow = require("mlflow", "--track mlflow")
    entities = require("mlflow.entities", "--track mlflow")
    layout = require_run_dir(run_dir)
    client = tracking_client(mlflow, tracking_uri or default_uri())
    config = dict(read_json(layout.run_record))["config"] if layout.run_record.is_file() else {}
    name = str(config.get("name", layout.root.parent.name))
    found = client.get_experiment_by_name(name)
    experiment_id = found.experiment_id if found else client.create_experiment(name)
    command = _command(layout)
    tags = {"niftycnn.run_dir": str(layout.root.resolve()), "niftycnn.command": command}
    run = client.create_run(
        experiment_id, run_name=layout.root.name, tags=tags | _verdict_tags(layout)
    )
    run_id = str(run.info.run_id)
    params = [entities.Param(k, _text(v)) for k, v in flatten(config).items()]
    client.log_batch(run_id, params=params, metrics=_metrics(entities, _run_metrics(layout)))
    for artefact in ARTEFACTS:
        if (layout.root / artefact).is_file():
            client.log_artifact(run_id, str(layout.root / artefact))
    if layout.metrics_dir.is_dir():
        client.log_artifacts(run_id, str(layout.metrics_dir), artifact_path="metrics")
    for table, folder in ((layout.sweep, "points"), (layout.search, "trials")):
        if table.is_file():
            _nested(client, entities, experiment_id, run_id, pd.read_csv(table), folder)
    client.set_terminated(run_id)
    return run_id


def tracking_client(mlflow: Any, uri: str) -> Any:
    """An ``MlflowClient`` for ``uri`` (a file store opted in, see the module docstring)."""
    with _file_store_allowed(uri):
        return mlflow.MlflowClient(tracking_uri=uri)


@contextmanager
def _file_store_allowed(uri: str) -> Iterator[None]:
    key = "MLFLOW_ALLOW_FILE_STORE"
    before = os.environ.get(key)
    if "://" in uri and not uri.startswith("file:"):
        yield
        return
    os.environ[key] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 0.001}}`` -> ``{"train.lr": 0.001}`` (arrays kept whole)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def _command(layout: RunLayout) -> str:
    record = read_json(layout.run_record) if layout.run_record.is_file() else {}
    return str(record.get("command", "run"))


def _run_metrics(layout: RunLayout) -> dict[str, float]:
    """Summary metrics per model, the verdict's comparisons, and overfitting."""
    out: dict[str, float] = {}
    summary = layout.metric("summary")
    if summary.is_file():
        for model, row in pd.read_csv(summary, index_col=0).iterrows():
            out |= {f"{model}.{k}": v for k, v in row.items() if _number(v)}
    overfitting = layout.metric("overfitting")
    if overfitting.is_file():
        row = pd.read_csv(overfitting).iloc[0]
        out |= {f"overfitting.{k}": v for k, v in row.items() if _number(v)}
    if layout.verdict.is_file():
        for c in read_json(layout.verdict).get("comparisons", []):
            out[f"beats.{c['baseline']}"] = float(bool(c.get("beats")))
            if _number(c.get("p")):
                out[f"p.{c['baseline']}"] = c["p"]
    return {k: float(v) for k, v in out.items()}


def _verdict_tags(layout: RunLayout) -> dict[str, str]:
    if not layout.verdict.is_file():
        return {}
    verdict = read_json(layout.verdict)
    tags = {"verdict.filters": str(verdict.get("filter_sentence", ""))}
    kernel = verdict.get("effective_kernel") or {}
    if isinstance(kernel, dict) and "pattern" in kernel:
        tags["verdict.effective_kernel"] = str(kernel["pattern"])
    return {k: v[:5000] for k, v in tags.items() if v}


def _nested(
    client: Any, entities: Any, experiment_id: str, parent: str, rows: pd.DataFrame, folder: str
) -> None:
    """One child run per sweep point or search trial."""
    errors = {"params", "train_loss", "val_loss", "test_loss", "test_accuracy", "gap"}
    for row in rows.to_dict("records"):  # per-column types (iterrows makes ints floats)
        name = str(row["point"])
        child = client.create_run(experiment_id, run_name=name, tags={PARENT_TAG: parent})
        child_id = str(child.info.run_id)
        knobs = [entities.Param(k, _text(v)) for k, v in row.items() if k not in errors]
        scores = {k: float(v) for k, v in row.items() if k in errors and _number(v)}
        client.log_batch(child_id, params=knobs, metrics=_metrics(entities, scores))
        client.set_tag(child_id, "niftycnn.folder", f"{folder}/{name}")
        client.set_terminated(child_id)


def _metrics(entities: Any, values: dict[str, float]) -> list[Any]:
    now = int(time.time() * 1000)
    return [entities.Metric(k, v, now, 0) for k, v in values.items()]


def _number(value: Any) -> bool:
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return real and math.isfinite(float(value))


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 6000 else text[:5997] + "..."
