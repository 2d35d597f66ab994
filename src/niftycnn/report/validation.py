"""The report's sentences and section on validation beyond one path and one comparison:
the tests of all baselines at once (SPA / StepM), the CNN's accuracy against the
majority class and chance, backtest overfitting (PBO, deflated Sharpe) and the
distribution over CPCV's backtest paths. Each reads one ``metrics/`` table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from niftycnn.report import figures as fig
from niftycnn.report.document import Figure, Paragraph, Section, Table
from niftycnn.rundir import RunLayout

ALPHA = 0.05
LOSS_NAMES = {"log_loss": "log loss", "zero_one": "zero-one loss", "squared_error": "squared error"}
CPCV_CAVEAT = (
    "CPCV trains on data after the test block (a split's model has seen the future of "
    "most of its test samples): it is a model-selection tool that shows how stable "
    "out-of-sample performance is across paths, not a deployable backtest."
)


def _csv(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    return table if len(table) else None


def _p(p: float) -> str:
    return "p n/a" if pd.isna(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


def _names(text: object) -> str:
    return "none" if pd.isna(text) or not str(text) else str(text)


def spa_sentences(multiple: pd.DataFrame) -> list[str]:
    """One sentence per loss family of the SPA / StepM table: does the CNN beat any
    baseline, which (StepM), and does any baseline beat the CNN."""
    out = []
    for loss, family in multiple.groupby("loss", sort=False):
        beats = family[family["null"].str.startswith("every")].iloc[0]
        better = family[~family["null"].str.startswith("every")].iloc[0]
        where = (
            f"All baselines at once ({beats.baselines}; {LOSS_NAMES.get(str(loss), loss)}; "
            "Hansen's SPA)"
        )
        if beats.p_value < ALPHA:
            first = (
                f"the CNN beats at least one ({_p(beats.p_value)}) and, with the family-wise "
                f"error held at {ALPHA:.0%} (Romano-Wolf StepM), it beats: {_names(beats.stepm)}"
            )
        else:
            first = f"the CNN beats none of them once all are tested together ({_p(beats.p_value)})"
        if better.p_value < ALPHA:
            second = (
                f"some baseline beats the CNN ({_p(better.p_value)}; StepM: {_names(better.stepm)})"
            )
        else:
            second = f"no baseline beats the CNN ({_p(better.p_value)})"
        out.append(f"{where}: {first}; {second}.")
    return out


def accuracy_sentence(accuracy: pd.DataFrame) -> str:
    """The CNN's accuracy with its interval, against the majority class and chance."""
    r = accuracy.iloc[0]
    chance = "50 %" if abs(r.chance - 0.5) < 1e-12 else f"chance {r.chance:.3g}"
    diff = r.accuracy - r.majority_accuracy
    return (
        f"CNN accuracy {r.accuracy:.4f} (95% CI [{r.accuracy_low:.4f}, {r.accuracy_high:.4f}]) "
        f"on {int(r.n):,} out-of-sample dates: against the {r.benchmark} {r.majority_accuracy:.4f}"
        f" (difference {diff:+.4f}, 95% CI [{r.diff_low:+.4f}, {r.diff_high:+.4f}], "
        f"{_p(r.p_vs_majority)}) and against {chance} ({_p(r.p_vs_chance)}); "
        "one-sided Diebold-Mariano tests on zero-one loss."
    )


def overfitting_sentence(overfitting: pd.DataFrame) -> str:
    """PBO across the models (or sweep points) and their deflated Sharpe ratios."""
    r = overfitting.iloc[0]
    dsr = [f"{r.reference} {r.reference_dsr:.3f}"] if "reference_dsr" in r else []
    if r.best != r.reference and "best_dsr" in r and pd.notna(r.best_dsr):
        dsr.append(f"the best, {r.best}, {r.best_dsr:.3f}")
    return (
        f"Backtest overfitting across the run's {int(r.n_strategies)} {r.set} (daily net "
        f"returns; CSCV, "
        f"{int(r.n_blocks)} blocks, {int(r.n_combinations):,} combinations): PBO = {r.pbo:.2f} "
        f"(the in-sample best Sharpe is at or below the median out of sample in "
        f"{r.pbo:.0%} of combinations; its out-of-sample Sharpe is negative in "
        f"{r.prob_oos_loss:.0%}). Deflated Sharpe ratio with {int(r.n_strategies)} trials: "
        f"{', '.join(dsr) or 'n/a'}."
    )


def _loss_column(paths: pd.DataFrame) -> str:
    return "log_loss" if paths["log_loss"].notna().any() else "rmse"


def paths_sentence(paths: pd.DataFrame) -> str:
    """The CNN's net Sharpe and loss across CPCV's paths, and the caveat."""
    cnn = paths[paths["model"] == "cnn"]
    loss = _loss_column(paths)
    sharpe, lval = cnn["sharpe"].to_numpy(float), cnn[loss].to_numpy(float)
    return (
        f"CPCV, {paths['path'].nunique()} backtest paths: CNN net Sharpe mean "
        f"{np.mean(sharpe):.2f} (range [{np.min(sharpe):.2f}, {np.max(sharpe):.2f}]), "
        f"{loss.replace('_', ' ')} mean {np.mean(lval):.4f} (range [{np.min(lval):.4f}, "
        f"{np.max(lval):.4f}]). {CPCV_CAVEAT}"
    )


def verdict_sentences(run: RunLayout) -> list[str]:
    """The verdict's sentences beyond the pairwise comparisons (each optional)."""
    out: list[str] = []
    multiple = _csv(run.metric("multiple"))
    if multiple is not None:
        out += spa_sentences(multiple)
    accuracy = _csv(run.metric("accuracy"))
    if accuracy is not None:
        out.append(accuracy_sentence(accuracy))
    overfitting = _csv(run.metric("overfitting"))
    if overfitting is not None:
        out.append(overfitting_sentence(overfitting))
    paths = _csv(run.metric("paths"))
    if paths is not None and paths["path"].nunique() > 1:
        out.append(paths_sentence(paths))
    return out


def paths_section(run: RunLayout) -> Section | None:
    """CPCV only: every model's net Sharpe and loss over the backtest paths."""
    paths = _csv(run.metric("paths"))
    if paths is None or paths["path"].nunique() < 2:
        return None
    loss = _loss_column(paths)
    section = Section("Backtest paths (CPCV)", anchor="paths")
    section.add(Paragraph(CPCV_CAVEAT, emphasis=True))
    summary = (
        paths.groupby("model", sort=False)[["sharpe", loss, "total_return"]]
        .agg(["mean", "std", "min", "max"])
        .round(4)
    )
    summary.columns = [f"{a} {b}" for a, b in summary.columns]
    section.add(
        Table(summary, f"Net Sharpe, {loss.replace('_', ' ')} and total return over the paths")
    )
    section.add(Figure("paths", fig.path_distribution(paths, loss), "Per-path results"))
    return section


def tables_section(run: RunLayout) -> Section | None:
    """The SPA / StepM, accuracy and overfitting tables."""
    section = Section("Multiple comparisons and overfitting", anchor="multiple")
    for name, caption in (
        ("multiple", "CNN against all baselines at once (SPA p-values, StepM sets)"),
        ("accuracy", "Accuracy against the majority class and chance"),
        ("overfitting", "Probability of backtest overfitting and deflated Sharpe"),
    ):
        table = _csv(run.metric(name))
        if table is not None:
            section.add(Table(table, caption, index=False))
    return section if section.blocks else None


def n_paths(run: RunLayout) -> int:
    """How many backtest paths the run has (1 for a walk-forward)."""
    paths = _csv(run.metric("paths"))
    return 1 if paths is None else int(paths["path"].nunique())
