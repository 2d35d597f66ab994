"""Experiment files: every shipped file loads; bad files fail with a message naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from niftycnn.config import load_experiment, parse_experiment, to_toml
from niftycnn.errors import ConfigError

EXPERIMENTS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.toml"))


def test_the_four_required_experiments_ship():
    names = {p.stem for p in EXPERIMENTS}
    assert {
        "nifty_weekly_classification",
        "nifty_monthly_regression",
        "synthetic_momentum",
        "bias_variance_sweep",
    } <= names


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_loads_and_round_trips_through_resolved_toml(path):
    experiment = load_experiment(path)
    assert experiment.name == path.stem
    again = parse_experiment(tomllib.loads(to_toml(experiment.resolved_dict())))
    assert again == experiment


def test_sweep_size_is_the_grid_size():
    sweep = load_experiment(Path("experiments/bias_variance_sweep.toml")).sweep
    assert sweep is not None and sweep.size == 16


BAD_FILES = [
    ("[train]\nepochs = -3\n", "[train] epochs = -3: Input should be greater than 0"),
    ("[train]\nepoch = 3\n", "unknown key [train] epoch; allowed keys here: epochs, batch_size"),
    ("[trian]\nepochs = 3\n", "unknown key trian; allowed keys here: name, description, seed"),
    ('[train]\nepochs = "20"\n', "[train] epochs = '20': Input should be a valid integer"),
    ('[labels]\nmode = "median"\n', "'fixed', 'volatility' or 'quantile'"),
    ('[data]\nsource = "csv"\n', "[data]: source = 'csv' needs path"),
    ('[data]\nstart = "2020-01-01"\nend = "2019-01-01"\n', "start 2020-01-01 must be before end"),
    ('[walkforward]\nfirst_test = "2020-13-01"\n', "'2020-13-01' is not a YYYY-MM-DD date"),
    ("[labels]\nsmall = 1.5\nlarge = 1.0\n", "small (1.5) must be below large (1.0)"),
    ("[labels]\nquantiles = [0.5, 0.4, 0.6, 0.8]\n", "quantiles must be 4 strictly increasing"),
    ('[windows]\nfeatures = ["close", "vol"]\n', "Input should be 'open', 'high'"),
    ('[windows]\nfeatures = ["close", "close"]\n', "features repeat"),
    ("[windows]\nlength = 2\n", "[windows] length = 2: Input should be greater than or equal to 3"),
    ("[sweep]\nkernel = []\n", "[sweep] kernel = []: needs one or more positive integers"),
    ("[sweep]\ndropout = [1.0]\n", "needs rates in [0, 1)"),
    ('[model]\npreset = "q10"\nlayers = [{type = "gap"}]\n', "give either preset or layers"),
    ('[train]\ndevice = "tpu"\n', "Input should be 'auto', 'cpu' or 'cuda'"),
    ('[baselines]\nmodels = ["majority", "xgboost"]\n', "unknown baseline(s) ['xgboost']; allowed"),
    ("[backtest]\ncost_bps = -1\n", "[backtest] cost_bps = -1"),
    ("[train\nepochs = 3\n", "not valid TOML"),
    ('[model]\npreset = "q11"\n', "q11"),
    (
        '[model]\nlayers = [{type = "conv", filters = 8, kernel = 30, padding = "valid"}]\n',
        "[model] layer 0 (conv)",
    ),
    ('[model]\nlayers = [{type = "lstm"}]\n', "lstm"),
    (
        '[model]\nhead = "regression"\n[baselines]\nmodels = ["majority"]\n',
        "models ['majority'] only apply to classification heads",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILES, ids=[m[:30] for _, m in BAD_FILES])
def test_bad_experiment_file_names_the_key_and_the_allowed_values(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    text = str(info.value)
    assert message in text
    assert str(path) in text and "\n" not in text


def test_missing_experiment_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "nope.toml")


def test_a_multi_line_description_round_trips_through_the_resolved_toml():
    text = 'Line one, with "quotes" and a \\ backslash.\nLine two: <b>bold</b>?\n'
    experiment = parse_experiment({"name": "multi", "description": text})
    again = parse_experiment(tomllib.loads(to_toml(experiment.resolved_dict())))
    assert again.description == text and again == experiment


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[labels]\nclasses = 3\n[model]\nn_classes = 5\n",
            "[model] n_classes = 5 but [labels] classes = 3",
        ),
        ("[labels]\nclasses = 7\n", "classes = 7 with mode = 'volatility' needs cuts"),
        ("[labels]\nclasses = 3\ncuts = [0.0]\n", "cuts must be 2 strictly increasing values"),
        (
            '[windows]\nfeatures = ["volume", "range"]\n[baselines]\nmodels = ["momentum"]\n',
            "[baselines] momentum reads the 'close' feature",
        ),
    ],
)
def test_classes_and_baselines_must_fit_the_labels_and_features(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert message in str(info.value), str(info.value)


def test_the_class_count_and_baselines_follow_the_labels_and_features(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[labels]\nclasses = 3\n[windows]\nfeatures = ["volume", "range"]\n')
    experiment = load_experiment(path)
    assert experiment.n_classes == 3 and experiment.architecture().n_outputs == 3
    # momentum reads the close channel, which these windows lack: not a default baseline
    assert "momentum" not in experiment.baseline_models
    assert "fixed_kernels" in experiment.baseline_models
