"""Networks the batched engine cannot stack (batch norm) train with the sequential engine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import niftycnn.walkforward.run as run_mod
from niftycnn.config import TrainConfig
from niftycnn.models import Architecture, BatchNorm, Conv, Dropout, GlobalAvgPool, preset
from niftycnn.walkforward.batched import train_batched
from niftycnn.walkforward.run import run_walkforward
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.walkforward.train import (
    FoldTask,
    predict_members,
    sequential_reason,
    train_sequential,
)
from niftycnn.windows import QuantileThresholds
from tests.walkforward.market import dataset, market

BN = Architecture((Conv(8, 3, batch_norm=True), BatchNorm("relu"), GlobalAvgPool()), name="bn")


@pytest.mark.parametrize(
    ("arch", "stackable"),
    [
        (preset("q10"), True),
        (preset("unet1d"), True),
        (preset("alexnet1d"), True),
        (preset("inception1d"), False),
        (BN, False),
    ],
)
def test_only_batch_norm_networks_need_the_sequential_engine(arch, stackable):
    reason = sequential_reason(arch, 5, 20)
    assert (reason is None) == stackable
    if not stackable:
        assert "batch norm" in reason


@pytest.mark.parametrize("name", ["unet1d", "alexnet1d"])
def test_blocks_and_upsampling_train_in_the_batched_engine_as_in_the_sequential(name):
    """Skip blocks, transposed upsampling and dropout go through the generic stacked
    path (VmapNet); the members' results are the sequential engine's."""
    ds = dataset(market(420, seed=4))
    folds = WalkForwardSplit(min_train_size=300, refit=60, validation=0.2).folds(ds)
    tr = folds[0].train_idx
    labeler = QuantileThresholds().fit(ds.y_return[tr], ds.sigma[tr], ds.horizon[tr])
    target = np.maximum(labeler.transform(ds.y_return, ds.sigma, ds.horizon), 0)
    tasks = [FoldTask(f.index, f.train_idx, f.val_idx, target) for f in folds[:2]]
    arch = preset(name)
    X = torch.as_tensor(ds.X)
    cfg = TrainConfig(epochs=2, seeds=1, patience=2, batch_size=64)
    if name == "alexnet1d":  # dropout masks differ between engines: compare without it
        arch = Architecture(tuple(s for s in arch.layers if not isinstance(s, Dropout)))
    seq, bat = train_sequential(arch, X, tasks, cfg, 0), train_batched(arch, X, tasks, cfg, 0)
    test = X[torch.as_tensor(folds[0].test_idx)]
    for a, b in zip(seq, bat, strict=True):
        assert [m.epochs_run for m in a.members] == [m.epochs_run for m in b.members]
        pa = predict_members(arch, test, [m.state for m in a.members])
        pb = predict_members(arch, test, [m.state for m in b.members])
        assert np.abs(pa - pb).max() < 1e-4  # float rounding only


def test_a_batch_norm_network_asked_for_batched_trains_sequentially_with_the_same_result(
    monkeypatch,
):
    ds = dataset(market(480, seed=2))
    splitter = WalkForwardSplit(min_train_size=300, refit=90, validation=0.2)

    def run(engine: str):
        cfg = TrainConfig(epochs=2, seeds=1, patience=2, engine=engine)  # type: ignore[arg-type]
        return run_walkforward(
            ds, BN, splitter, cfg, labeler=QuantileThresholds(), baselines=(), progress=False
        )

    sequential = run("sequential")

    def refuse(*args, **kwargs):
        raise AssertionError("the batched engine was handed a batch-norm network")

    monkeypatch.setattr(run_mod, "train_batched", refuse)
    batched = run("batched")
    columns = [c for c in sequential.columns if c.startswith("proba_")]
    assert (sequential["model"] == "cnn").sum() > 0
    np.testing.assert_array_equal(batched[columns].to_numpy(), sequential[columns].to_numpy())


def test_the_plan_says_which_network_trains_sequentially():
    from niftycnn.workflow.plan import load_experiment, plan_run

    experiment = load_experiment("experiments/synthetic_momentum.toml").with_overrides(
        model={"preset": "inception1d"}, data={"synthetic": {"n_days": 900}}
    )
    with pytest.warns(UserWarning, match=r"\[model\] inception1d trains with the sequential"):
        plan_run(experiment)
