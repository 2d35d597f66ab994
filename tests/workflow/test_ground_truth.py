"""Ground truth: on realistic synthetic markets (oracle Sharpe <= 3), the effective-kernel
verdict names what was planted (pattern and channel, p < 0.01) and nothing when nothing
was planted (p > 0.05), over three market seeds per case. The default run holds the
offline default's own case (5-day momentum on the close) and the no-pattern null; the rest
of the grid (a window-long lookback, the volume channel, curvature) is marked ``research``
and runs with ``pytest -m research`` (about 100 s on 2 cores).

Each case runs the pipeline's own stages (walk-forward with the offline default's network,
labels and recipe; the filter stage with its label-shuffled null; ``verdict.json``) on
the offline default's market size, 2,500 sessions, with fewer refits (every 189 sessions
from 750 training windows: ten) and two network seeds, and the trained null's ten
shuffled-label draws on four of those folds: about 12 s a run on 2 cores. On
1,500 sessions even the oracle did not beat the majority class at oracle Sharpe 2-3.
``bench/power.py --cells truth --days 2500 --refit 189`` runs the same cases.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from niftycnn.rundir import RunLayout
from niftycnn.workflow import stages
from niftycnn.workflow.plan import check_experiment, load_experiment, plan_run
from niftycnn.workflow.verdict import verdict_stage

EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "synthetic_momentum.toml"
SEEDS = (1, 2, 3)
RESEARCH = pytest.mark.research  # the rest of the grid: `pytest -m research`, bench/power.py
CASES = [  # pattern, lookback, channel, oracle Sharpe
    ("momentum", 5, "close", 3.0),
    pytest.param("momentum", 20, "close", 3.0, marks=RESEARCH),
    pytest.param(
        *("curvature", 5, "close", 3.0),
        marks=[
            RESEARCH,
            pytest.mark.xfail(
                strict=True,
                reason=(
                    "measured: q10 does not learn a 5-day curvature at oracle Sharpe 3 "
                    "(bench/power.py --cells truth: named in 0 of 3 runs; no head of "
                    "bench/heads.py recovers it)"
                ),
            ),
        ],
    ),
    pytest.param(
        *("curvature", 20, "close", 3.0),
        marks=[
            RESEARCH,
            pytest.mark.xfail(
                strict=True,
                reason=(
                    "measured: a window-long curvature is read as momentum (bench/power.py --cells "
                    "curvature20: 'momentum price 20' and 'momentum price 5', the CNN captures "
                    "9-17 % of the oracle's gain)"
                ),
            ),
        ],
    ),
    pytest.param("momentum", 5, "volume", 3.0, marks=RESEARCH),
    ("none", 5, "close", 0.0),
]


def small_run_verdict(pattern: str, lookback: int, channel: str, sharpe: float, seed: int) -> dict:
    """verdict.json of a small run of the offline default (module docstring)."""
    experiment = check_experiment(
        load_experiment(EXPERIMENT).with_overrides(
            seed=seed,  # type: ignore[arg-type]
            data={
                "synthetic": {
                    "n_days": 2500,
                    "pattern": pattern,
                    "lookback": lookback,
                    "channel": channel,
                    "oracle_sharpe": sharpe,
                }
            },
            train={"seeds": 2},
            walkforward={"min_train": 750, "refit": "every", "refit_every": 189},
            baselines={"models": ["majority"]},
            filters={"null_draws": 100, "untrained_networks": 64},
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        layout = RunLayout(Path(tmp))
        plan = plan_run(experiment)
        stages.data_stage(layout, plan)
        stages.walkforward_stage(layout, plan, progress=False)
        stages.filters_stage(layout, plan)
        return verdict_stage(layout, experiment)


@pytest.mark.slow
@pytest.mark.parametrize(("pattern", "lookback", "channel", "sharpe"), CASES)
def test_effective_kernel_names_what_was_planted(pattern, lookback, channel, sharpe):
    for seed in SEEDS:
        verdict = small_run_verdict(pattern, lookback, channel, sharpe, seed)
        if pattern == "none":
            best = verdict["effective_kernel"]
            assert best["pattern"] == "neither" and best["p"] > 0.05, (seed, best)
            continue
        entry = next(e for e in verdict["filters"] if e["channel"] == channel)
        found = entry["effective_kernel"]
        assert found["pattern"] == pattern and found["p"] < 0.01, (seed, found)
        assert found["sign"] == 1  # the drift follows the pattern: a positive response
