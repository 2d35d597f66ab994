"""[compare]: the image CNN beside the 1D CNN on the same folds, from the real experiment
file (a tiny synthetic smoke run); the plan's refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from niftycnn.errors import ConfigError
from niftycnn.workflow.plan import load_experiment, plan_run
from niftycnn.workflow.run import run_experiment

EXPERIMENT = Path(__file__).parents[2] / "experiments" / "nifty_images_vs_1d.toml"
SMALL = {
    "data": {"source": "synthetic", "synthetic": {"n_days": 420, "start": "2015-01-01"}},
    "train": {"epochs": 1, "seeds": 1},
    "walkforward": {"min_train": 250, "refit_every": 80},
    "baselines": {"models": ["majority", "momentum"]},
    "backtest": {"bootstrap": 50, "permutations": 50},
    "filters": {"null_draws": 100, "null_shuffles": 0, "untrained_networks": 0},
}


@pytest.mark.slow
def test_experiment_file_trains_both_models_on_the_same_folds(tmp_path):
    experiment = load_experiment(EXPERIMENT).with_overrides(**SMALL)
    layout = run_experiment(experiment, tmp_path, progress=False)
    predictions = pd.read_parquet(layout.predictions)
    cnn = predictions[predictions["model"] == "cnn"]
    image = predictions[predictions["model"] == "cnn_image"]
    assert len(image) == len(cnn) > 0
    np.testing.assert_array_equal(image.index, cnn.index)  # the same test days
    np.testing.assert_array_equal(image["fold"], cnn["fold"])
    np.testing.assert_array_equal(image["y_true"], cnn["y_true"])  # the same labels
    dm = pd.read_csv(layout.metric("diebold_mariano"))
    assert "cnn_image" in set(dm["baseline"])
    spa = pd.read_csv(layout.metric("image_multiple"))
    assert set(spa["model"]) == {"cnn_image"}
    assert np.load(layout.gradcam).shape == np.load(layout.chart_samples).shape
    assert "Chart images vs 1D windows" in layout.report_md.read_text()


def test_compare_refuses_image_windows_and_a_1d_image_network():
    experiment = load_experiment(EXPERIMENT).with_overrides(
        windows={"inputs": "image"}, baselines={"models": ["majority"]}
    )
    with pytest.raises(ConfigError, match="set \\[windows\\] inputs = 'windows'"):
        plan_run(experiment.with_overrides(data={"source": "synthetic"}))
    one_d = load_experiment(EXPERIMENT).with_overrides(compare={"preset": "q10"})
    with pytest.raises(ConfigError, match=r"\[compare\] layer 0 \(conv\): a 1D layer on an image"):
        plan_run(one_d)
