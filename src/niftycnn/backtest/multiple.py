"""The CNN against all baselines at once: Hansen's SPA and Romano-Wolf StepM (``arch``),
and the CNN's accuracy against the majority class and against chance.

The pairwise Diebold-Mariano tests (``evaluate``) ask "is the CNN's loss below this
baseline's?" once per baseline, so with five baselines one of them will look significant
by chance far more often than 5 % of the time. The tests here ask about all baselines
together, on the same per-sample losses (``niftycnn.backtest.losses``: path-averaged
under CPCV), with a stationary (or moving) block bootstrap of ``[backtest] bootstrap``
resamples and blocks of the label horizon:

- SPA (Hansen 2005), "the CNN beats at least one baseline": H0 is that every baseline's
  expected loss is at most the CNN's. arch's SPA tests whether any *model* beats its
  *benchmark*; here the models are the loss differences L_cnn - L_j against a zero
  benchmark, so a small p-value means some baseline is beaten. StepM (Romano & Wolf
  2005) on the same construction lists the baselines the CNN beats with the family-wise
  error rate held at ``alpha``: the multiplicity-corrected version of the pairwise
  "beats" sentences.
- SPA the other way round, "no baseline beats the CNN": benchmark = the CNN, models = the
  baselines; a small p-value means some baseline is better than the CNN, and StepM names
  those.

Each family is one loss: ``[backtest] loss`` over the baselines that have it (log loss
needs probabilities), and, when some baselines lack it, zero-one loss over every baseline
that predicts a class. p-values are arch's "consistent" ones (lower and upper bounds
alongside).

Accuracy: the CNN's hit rate with its block-bootstrap interval, against the majority
class (the ``majority`` baseline on the same rows when the run has it, else the test
period's most common class, a benchmark chosen in hindsight) and against chance 1/K (50 %
for two classes), each with a one-sided Diebold-Mariano p-value on zero-one loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
from arch.bootstrap import SPA

from niftycnn.backtest.losses import available_losses, loss_table
from niftycnn.backtest.significance import Interval, bootstrap_ci, diebold_mariano
from niftycnn.config import BacktestConfig
from niftycnn.schema import labelled, n_classes_of


def spa_tests(
    losses: pd.DataFrame,
    reference: str,
    *,
    block: int,
    reps: int = 1000,
    alpha: float = 0.05,
    method: str = "stationary",
    seed: int = 0,
) -> list[dict[str, object]]:
    """Both SPA tests and StepM sets of ``reference`` against the other columns of
    ``losses`` (date x model per-sample losses); see the module docstring."""
    baselines = [c for c in losses.columns if c != reference]
    ref = losses[reference].to_numpy(float)
    others = losses[baselines].to_numpy(float)
    size = max(int(block), 1)
    boot: Literal["stationary", "mbb"] = "mbb" if method == "moving" else "stationary"
    diffs = pd.DataFrame(ref[:, None] - others, columns=baselines)
    rows = []
    for null, benchmark, models in (
        ("every baseline is at least as good as the CNN", np.zeros(len(ref)), diffs),
        ("no baseline is better than the CNN", ref, pd.DataFrame(others, columns=baselines)),
    ):
        spa = SPA(benchmark, models, block_size=size, reps=reps, bootstrap=boot, seed=seed)
        spa.compute()
        superior = _stepm(benchmark, models, alpha, size, reps, boot, seed)
        p = spa.pvalues
        rows.append(
            {
                "null": null,
                "baselines": ", ".join(baselines),
                "n": len(ref),
                "p_value": float(p["consistent"]),
                "p_lower": float(p["lower"]),
                "p_upper": float(p["upper"]),
                "stepm": ", ".join(superior),
            }
        )
    return rows


def _stepm(
    benchmark: np.ndarray,
    models: pd.DataFrame,
    alpha: float,
    block: int,
    reps: int,
    bootstrap: Literal["stationary", "mbb"],
    seed: int,
) -> list[str]:
    """Romano-Wolf stepdown: the models better than the benchmark at family-wise error
    ``alpha``. Each step runs SPA on the models not yet found and moves those above its
    critical value to the superior set, until a step finds none. (arch 8.0's ``StepM``
    does the same but fails when the last models left are all superior: its loop checks
    the step's count against the total instead of what is left.)"""
    superior: list[str] = []
    remaining = list(models.columns)
    while remaining:
        spa = SPA(
            benchmark,
            models[remaining].to_numpy(),
            block_size=block,
            reps=reps,
            bootstrap=bootstrap,
            seed=seed,
        )
        spa.compute()
        found = [remaining[i] for i in spa.better_models(alpha)]
        if not found:
            break
        superior += found
        remaining = [m for m in remaining if m not in found]
    return [str(m) for m in models.columns if m in superior]


def multiple_comparisons(
    predictions: pd.DataFrame,
    config: BacktestConfig,
    reference: str = "cnn",
    seed: int = 0,
) -> pd.DataFrame:
    """The SPA / StepM table (one row per loss family and null; see the module
    docstring): empty without the reference or without a baseline."""
    groups = {str(m): labelled(rows) for m, rows in predictions.groupby("model", sort=False)}
    if reference not in groups or len(groups) < 2:
        return pd.DataFrame()
    have = {m: available_losses(rows) for m, rows in groups.items()}
    families: list[tuple[str, list[str]]] = []
    kinds: tuple[str, ...] = (config.loss, "zero_one")
    for kind in kinds:
        members = [m for m in groups if m != reference and kind in have[m]]
        covered = {b for _, bs in families for b in bs}
        if kind in have[reference] and members and not set(members) <= covered:
            families.append((kind, members))
    horizon = max(round(float(np.median(labelled(predictions)["horizon"]))), 1)
    out = []
    for kind, members in families:
        losses = loss_table({m: groups[m] for m in (reference, *members)}, kind)
        for row in spa_tests(
            losses,
            reference,
            block=int(config.block or horizon),
            reps=config.bootstrap,
            alpha=config.alpha,
            method=config.bootstrap_method,
            seed=seed,
        ):
            out.append({"model": reference, "loss": kind, **row})
    return pd.DataFrame(out)


def accuracy_table(
    predictions: pd.DataFrame, config: BacktestConfig, reference: str = "cnn", seed: int = 0
) -> pd.DataFrame:
    """The reference model's accuracy with its interval, against the majority class and
    against chance 1/K (see the module docstring); empty without classes."""
    groups: Mapping[str, pd.DataFrame] = {
        str(m): rows for m, rows in predictions.groupby("model", sort=False)
    }
    if reference not in groups or "zero_one" not in available_losses(labelled(groups[reference])):
        return pd.DataFrame()
    k = n_classes_of(predictions)
    use_majority = "majority" in groups and "zero_one" in available_losses(
        labelled(groups["majority"])
    )
    models = {
        reference: groups[reference],
        **({"majority": groups["majority"]} if use_majority else {}),
    }
    losses = loss_table(models, "zero_one")
    miss = losses[reference].to_numpy()
    if use_majority:
        benchmark, base = "majority baseline", losses["majority"].to_numpy()
    else:
        lab = labelled(groups[reference])
        mode = int(np.bincount(lab["y_true"].to_numpy(np.int64), minlength=k).argmax())
        hit = lab["y_true"].eq(mode).groupby(level=0).mean().reindex(losses.index)
        benchmark, base = "most common class (in hindsight)", 1.0 - hit.to_numpy(float)
    horizon = max(round(float(np.median(labelled(predictions)["horizon"]))), 1)

    def interval(x: np.ndarray, offset: int) -> Interval:
        return bootstrap_ci(
            "mean",
            x,
            block_len=float(config.block or horizon),
            n_boot=config.bootstrap,
            alpha=config.alpha,
            method=config.bootstrap_method,
            rng=np.random.default_rng(seed + offset),
        )

    acc, diff = interval(1.0 - miss, 0), interval(base - miss, 1)
    chance = 1.0 / k
    return pd.DataFrame(
        [
            {
                "model": reference,
                "n": len(miss),
                "accuracy": acc.estimate,
                "accuracy_low": acc.low,
                "accuracy_high": acc.high,
                "benchmark": benchmark,
                "majority_accuracy": float(1.0 - base.mean()),
                "diff_low": diff.low,
                "diff_high": diff.high,
                "p_vs_majority": diebold_mariano(miss, base, horizon).p_less,
                "chance": chance,
                "p_vs_chance": diebold_mariano(
                    miss, np.full(len(miss), 1.0 - chance), horizon
                ).p_less,
            }
        ]
    )
