"""Ground truth: on realistic synthetic markets (oracle Sharpe <= 3), the effective-kernel
verdict names what was planted (pattern and channel, p < 0.01) and nothing when nothing
was planted (p > 0.05), over three market seeds per case. The default run holds the
offline default's own case (5-day momentum on the close) and the no-pattern null; the rest
of the grid (a window-long lookback, curvature at 5 and 20 days, the volume channel) is
marked ``research`` and runs with ``pytest -m research`` (about 11 minutes on 2 cores).

Each case runs the pipeline's own stages (walk-forward with the offline default's network,
labels and recipe; the filter stage with its label-shuffled null: ten draws on eight
folds; ``verdict.json``) with two network seeds and refits every 189 or 315 sessions from
750 training windows, on one of two market sizes: ``SMALL``, 2,500 sessions (nine refits,
about 28 s a run on 2 cores), for the two cases CI runs; ``FULL``, the offline default's
4,500 sessions (twelve refits, about 45 s), for the research grid. On 2,500 sessions a
window-long momentum was named at p = 0.017 (seed 1) and a 5-day volume momentum as a
volume level (seed 2); on 1,500 even the oracle did not beat the majority class at oracle
Sharpe 2-3. ``bench/power.py --cells local window --days 4500 --refit 315 --first-seed 1
--seeds 3`` runs the research cases on the same seeds (all twelve named, p < 0.01).
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
SMALL, FULL = (2500, 189), (4500, 315)  # (sessions, refit every): module docstring
CASES = [  # pattern, lookback, channel, oracle Sharpe, market size
    ("momentum", 5, "close", 3.0, SMALL),
    pytest.param("momentum", 20, "close", 3.0, FULL, marks=RESEARCH),
    pytest.param("curvature", 5, "close", 3.0, FULL, marks=RESEARCH),
    pytest.param("curvature", 20, "close", 3.0, FULL, marks=RESEARCH),
    pytest.param("momentum", 5, "volume", 3.0, FULL, marks=RESEARCH),
    ("none", 5, "close", 0.0, SMALL),
]


def small_run_verdict(
    pattern: str,
    lookback: int,
    channel: str,
    sharpe: float,
    seed: int,
    size: tuple[int, int] = SMALL,
) -> dict:
    """verdict.json of a small run of the offline default (module docstring): ``size``
    (sessions, refit every)."""
    experiment = check_experiment(
        load_experiment(EXPERIMENT).with_overrides(
            seed=seed,  # type: ignore[arg-type]
            data={
                "synthetic": {
                    "n_days": size[0],
                    "pattern": pattern,
                    "lookback": lookback,
                    "channel": channel,
                    "oracle_sharpe": sharpe,
                }
            },
            train={"seeds": 2},
            walkforward={"min_train": 750, "refit": "every", "refit_every": size[1]},
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
@pytest.mark.parametrize(
    ("pattern", "lookback", "channel", "sharpe", "size"),
    CASES,
    ids=lambda v: f"{v[0]}days" if isinstance(v, tuple) else None,
)
def test_effective_kernel_names_what_was_planted(pattern, lookback, channel, sharpe, size):
    for seed in SEEDS:
        verdict = small_run_verdict(pattern, lookback, channel, sharpe, seed, size)
        if pattern == "none":
            best = verdict["effective_kernel"]
            assert best["pattern"] == "neither" and best["p"] > 0.05, (seed, best)
            continue
        entry = next(e for e in verdict["filters"] if e["channel"] == channel)
        found = entry["effective_kernel"]
        assert found["pattern"] == pattern and found["p"] < 0.01, (seed, found)
        assert found["sign"] == 1  # the drift follows the pattern: a positive response
