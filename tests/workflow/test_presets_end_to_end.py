"""Each of the chapter's presets runs the offline default experiment end to end (reduced:
fewer days, epochs and seeds), with the rocket baseline on the same folds."""

from __future__ import annotations

import numpy as np
import pytest

import niftycnn


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet1d", "inception1d", "unet1d"])
def test_new_preset_runs_the_offline_default_end_to_end(name, tmp_path):
    experiment = niftycnn.load_experiment("experiments/synthetic_momentum.toml")
    quick = experiment.with_overrides(
        model={"preset": name},
        data={"synthetic": {"n_days": 900}},
        train={"epochs": 2, "seeds": 1},
        walkforward={"min_train": 500, "refit": "every", "refit_every": 150},
        baselines={"models": ["majority", "rocket"]},
        backtest={"bootstrap": 100, "permutations": 100},
        filters={  # the analysis runs, on small nulls: the sequential nets pay for each
            "null_draws": 100,
            "untrained_networks": 8,
            "null_shuffles": 2,
            "null_folds": 1,
            "kernel_resamples": 1000,
        },
    )
    run = niftycnn.run(quick, out=tmp_path)
    cnn = run.predictions[run.predictions["model"] == "cnn"]
    rocket = run.predictions[run.predictions["model"] == "rocket"]
    probs = cnn[[c for c in cnn.columns if c.startswith("proba_")]].to_numpy()
    assert len(cnn) == len(rocket) > 0
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert set(run.comparison["baseline"]) >= {"majority", "rocket"}
    assert (run.root / "report.html").exists() and (run.root / "architecture.csv").exists()
