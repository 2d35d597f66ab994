"""Experiment files: every shipped file loads; bad files fail with a message naming the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from niftycnn.config import parse_experiment, read_experiment, to_toml
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
    experiment = read_experiment(path)
    assert experiment.name == path.stem
    again = parse_experiment(tomllib.loads(to_toml(experiment.resolved_dict())))
    assert again == experiment


def test_sweep_size_is_the_grid_size():
    sweep = read_experiment(Path("experiments/bias_variance_sweep.toml")).sweep
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
    ("[labels]\nquantiles = [0.5, 0.4, 0.6, 0.8]\n", "quantiles needs 4 strictly increasing"),
    ('[windows]\nfeatures = ["close", "vol"]\n', "Input should be 'open', 'high'"),
    ('[windows]\nfeatures = ["close", "close"]\n', "features repeat"),
    ("[windows]\nlength = 2\n", "[windows] length = 2: Input should be greater than or equal to 3"),
    ("[sweep]\nkernel = []\n", "[sweep] kernel = []: needs one or more positive integers"),
    ("[sweep]\ndropout = [1.0]\n", "needs rates in [0, 1)"),
    ('[model]\npreset = "q10"\nlayers = [{type = "gap"}]\n', "give either preset or layers"),
    ('[train]\ndevice = "tpu"\n', "Input should be 'auto', 'cpu' or 'cuda'"),
    ("[backtest]\ncost_bps = -1\n", "[backtest] cost_bps = -1"),
    ("[train\nepochs = 3\n", "not valid TOML"),
    ('[labels]\ntarget = "week"\n', "'expiry', 'horizon' or 'triple_barrier'"),
    ("[labels]\nhorizon = 0\n", "[labels] horizon = 0: Input should be greater than or equal to 1"),
    ("[labels]\nprofit_take = 0\n", "[labels] profit_take = 0: Input should be greater than 0"),
    (
        '[walkforward]\nscheme = "cpcv"\ngroups = 4\ntest_groups = 4\n',
        "test_groups (4) must be below",
    ),
    ('[backtest]\nholding = "weekly"\n', "'daily', 'label_end' or 'expiry'"),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILES, ids=[m[:30] for _, m in BAD_FILES])
def test_bad_experiment_file_names_the_key_and_the_allowed_values(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        read_experiment(path)
    text = str(info.value)
    assert message in text
    assert str(path) in text and "\n" not in text


def test_missing_experiment_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_experiment(tmp_path / "nope.toml")


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
        ("[labels]\nclasses = 3\ncuts = [0.0]\n", "cuts needs 2 strictly increasing values"),
    ],
)
def test_class_counts_must_agree_and_fit_the_thresholds(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        read_experiment(path)
    assert message in str(info.value), str(info.value)


def test_overrides_merge_nested_tables_key_by_key():
    experiment = read_experiment(Path("experiments/synthetic_momentum.toml"))
    quick = experiment.with_overrides(data={"synthetic": {"n_days": 700}}, train={"epochs": 2})
    assert quick.data.synthetic.n_days == 700 and quick.train.epochs == 2
    # the rest of [data.synthetic] and [train] is the file's, not the defaults
    assert quick.data.synthetic.lookback == experiment.data.synthetic.lookback == 5
    assert quick.train.lr == experiment.train.lr


def test_triple_barrier_three_classes_default_to_the_barriers_as_cuts():
    labels = parse_experiment(
        {
            "name": "tb",
            "labels": {
                "target": "triple_barrier",
                "classes": 3,
                "profit_take": 2.0,
                "stop_loss": 0.5,
            },
        }
    ).labels
    assert labels.cut_points == (-0.5, 2.0)  # Down = stop-loss, Flat = vertical, Up = profit
    five = labels.model_copy(update={"classes": 5})
    assert five.cut_points == (-1.0, -0.3, 0.3, 1.0)  # small / large as for any target
