"""Trainers: reproducibility, batched == sequential, early stopping, seeds."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest
import torch

from niftycnn.config import TrainConfig
from niftycnn.models import (
    PRESETS,
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Pool,
    build_model,
    preset,
    validate_architecture,
)
from niftycnn.models.presets import IMAGE_INPUTS
from niftycnn.walkforward.batched import StackedNet, VmapNet, train_batched
from niftycnn.walkforward.batched import net as stacked_net
from niftycnn.walkforward.splits import WalkForwardSplit
from niftycnn.walkforward.train import (
    BatchStream,
    FoldTask,
    balanced_weights,
    init_member,
    predict_members,
    train_sequential,
)
from niftycnn.windows import QuantileThresholds
from tests.walkforward.market import dataset, market


@pytest.fixture(scope="module")
def small():
    ds = dataset(market(540, seed=3))
    folds = WalkForwardSplit(min_train_size=300, refit=80, validation=0.25).folds(ds)
    tasks, tasks_r = [], []
    for f in folds:
        tr = f.train_idx
        q = QuantileThresholds().fit(ds.y_return[tr], ds.sigma[tr], ds.horizon[tr])
        y = q.transform(ds.y_return, ds.sigma, ds.horizon)
        tasks.append(
            FoldTask(
                f.index,
                f.train_idx,
                f.val_idx,
                np.maximum(y, 0),
                balanced_weights(y[f.train_idx], 5),
            )
        )
        r = np.nan_to_num(ds.y_return) / np.nanstd(ds.y_return[f.train_idx])
        tasks_r.append(FoldTask(f.index, f.train_idx, f.val_idx, r.astype(np.float32)))
    return ds, torch.as_tensor(ds.X), tasks, tasks_r, folds


def _probs(arch, X, results, test_sets):
    return [
        predict_members(arch, X[torch.as_tensor(t)], [m.state for m in r.members])
        for r, t in zip(results, test_sets, strict=True)
    ]


@pytest.mark.parametrize("head", ["classification", "regression"])
def test_batched_engine_matches_sequential_engine(small, head):
    _ds, X, tasks, tasks_r, folds = small
    tasks = tasks if head == "classification" else tasks_r
    arch = preset("q10", head=head)
    cfg = TrainConfig(epochs=4, seeds=2, patience=2, batch_size=64)
    seq = train_sequential(arch, X, tasks, cfg, 0)
    bat = train_batched(arch, X, tasks, cfg, 0)
    tests = [f.test_idx for f in folds]
    for a, b in zip(_probs(arch, X, seq, tests), _probs(arch, X, bat, tests), strict=True):
        assert np.abs(a - b).max() < 1e-5
    for fa, fb in zip(seq, bat, strict=True):
        for ma, mb in zip(fa.members, fb.members, strict=True):
            assert ma.epochs_run == mb.epochs_run and ma.best_epoch == mb.best_epoch
            np.testing.assert_allclose(ma.curve.train_loss, mb.curve.train_loss, rtol=1e-4)


def test_frozen_kernels_stay_fixed_in_both_engines(small):
    """fixed_kernels: the gram first layer is frozen; AdamW (and its weight decay) must
    not touch it in either engine, and the engines agree on everything else."""
    _ds, X, tasks, _, folds = small
    arch = preset("fixed_kernels")
    cfg = TrainConfig(epochs=3, seeds=2, patience=3, batch_size=64)
    seq = train_sequential(arch, X, tasks[:2], cfg, 0)
    bat = train_batched(arch, X, tasks[:2], cfg, 0)
    init = init_member(arch, 5, 20, 0, tasks[0].fold, 0)
    assert len(StackedNet(validate_architecture(arch, 5, 20)).frozen) == 2  # gram + pool, once
    gram, names = init.state_dict()["0.weight"], [n for n, _ in init.named_parameters()]
    for result in (*seq, *bat):
        for member in result.members:
            assert torch.equal(member.state["0.weight"], gram)
            assert list(member.state) == names
    tests = [f.test_idx for f in folds[:2]]
    for a, b in zip(_probs(arch, X, seq, tests), _probs(arch, X, bat, tests), strict=True):
        assert np.abs(a - b).max() < 1e-5


def test_generic_vmap_path_matches_fast_path(small):
    _ds, X, tasks, _, _folds = small
    arch = preset("q10")
    cfg = TrainConfig(epochs=2, seeds=1, patience=2)
    a = train_batched(arch, X, tasks[:2], cfg, 0, fast=True)
    b = train_batched(arch, X, tasks[:2], cfg, 0, fast=False)
    for fa, fb in zip(a, b, strict=True):
        for k, v in fa.members[0].state.items():
            torch.testing.assert_close(v, fb.members[0].state[k], atol=1e-5, rtol=1e-4)


def _stacked(nets: list[torch.nn.Module]) -> dict[str, torch.Tensor]:
    """The members' parameters stacked on a leading axis, as the batched engine holds them."""
    per = [dict(m.named_parameters()) for m in nets]
    return {n: torch.stack([p[n] for p in per]) for n in per[0]}


def _rows(x: torch.Tensor, members: int) -> torch.Tensor:
    """Prepared rows (N, ...) split into one batch per member, (M, N / M, ...)."""
    return x.view(members, x.shape[0] // members, *x.shape[1:])


def test_stacked_nets_equal_the_module_for_spec_layers():
    arch = Architecture(
        layers=(
            Conv(6, 4, padding="same", dilation=2),
            Pool("avg", 3, 2),
            Conv(8, 3, stride=2, padding=1, activation="gelu"),
            Flatten(),
            Dense(7, activation="tanh"),
        ),
        name="mix",
    )
    models = [init_member(arch, 5, 20, 0, 0, s) for s in range(3)]
    net = StackedNet(validate_architecture(arch, 5, 20))
    params = _stacked(models)
    x = torch.randn(3 * 11, 5, 20)
    want = torch.stack([m(x.view(3, 11, 5, 20)[i]) for i, m in enumerate(models)])
    torch.testing.assert_close(net(params, _rows(net.prepare(x), 3)), want, atol=1e-5, rtol=1e-5)
    vm = VmapNet(models[0])
    torch.testing.assert_close(vm(params, _rows(vm.prepare(x), 3)), want, atol=1e-5, rtol=1e-5)
    # the fused custom passes (ReLU -> max pool of 2 and of 3, ReLU -> GAP, same conv)
    # agree with autograd through the modules, values and gradients
    pool3 = Architecture(
        layers=(Conv(6, 3, padding=0), Pool("max", 3), Conv(4, 3), GlobalAvgPool())
    )
    for arch in (preset("q10"), pool3, preset("lenet1d"), preset("fixed_kernels")):
        nets = [init_member(arch, 5, 20, 0, 0, s) for s in range(3)]
        pq = {n: v.detach().requires_grad_(True) for n, v in _stacked(nets).items()}
        fq = StackedNet(validate_architecture(arch, 5, 20))
        got = fq(pq, _rows(fq.prepare(x), 3))
        want = torch.stack([m(x.view(3, 11, 5, 20)[i]) for i, m in enumerate(nets)])
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
        got.square().sum().backward()
        want.square().sum().backward()
        for n, v in pq.items():
            if v.grad is None:  # a frozen layer computed once in prepare (fixed_kernels)
                assert n in fq.parameter_names and not nets[0].get_parameter(n).requires_grad
                continue
            ref = torch.stack([dict(m.named_parameters())[n].grad for m in nets])
            torch.testing.assert_close(v.grad, ref, atol=1e-5, rtol=1e-4)
    unsupported = (Conv(4, 3, batch_norm=True), Conv(10, 3, groups=5), Conv(4, 3, bias=False))
    for layer in (*unsupported, Dropout(0.1)):
        assert not StackedNet.supports(validate_architecture(Architecture((layer,)), 5, 20))
    assert not StackedNet.supports(validate_architecture(preset("resnet1d"), 5, 20))


@pytest.mark.parametrize("pool_size", [2, 3])
def test_stacked_net_runs_forward_and_backward_on_the_meta_device(pool_size):
    """Every tensor the fast path creates follows its input's device: on ``meta`` (no
    data, no CPU fallback) a stray CPU allocation is an error."""
    arch = Architecture(  # q10-like; valid padding makes 18 steps, so max pool 3 fuses too
        layers=(Conv(16, 3, padding="valid"), Pool("max", pool_size), Conv(32, 3), GlobalAvgPool())
    )
    net = StackedNet(validate_architecture(arch, 5, 20))
    assert stacked_net._ReluMaxPool(pool_size) in net.ops  # the fused pass, both branches
    meta = torch.device("meta")
    params = {
        n: torch.empty(4, *v.shape, device=meta, requires_grad=True)
        for n, v in build_model(arch, 5, 20).named_parameters()
    }
    xp = net.prepare(torch.empty(4 * 8, 5, 20, device=meta))
    out = net(params, _rows(xp, 4))
    assert out.device == meta and out.shape == (4, 8, 5)
    out.square().sum().backward()
    for n, v in params.items():
        assert v.grad is not None and v.grad.device == meta and v.grad.shape == v.shape, n


def test_stacked_net_reads_build_model_state_dict_keys_for_every_fast_preset():
    fast = set()
    for name in (n for n in PRESETS if n not in IMAGE_INPUTS):  # series presets
        for head in ("classification", "regression"):
            steps = validate_architecture(preset(name, head=head), 5, 20)
            if StackedNet.supports(steps):
                fast.add(name)
                keys = tuple(build_model(preset(name, head=head), 5, 20).state_dict())
                assert StackedNet(steps).parameter_names == keys, name
    assert fast == {"q10", "q10_flat", "lenet1d", "fcn1d", "fixed_kernels"}


def test_vmap_net_switches_dropout_off_for_evaluation():
    arch = Architecture((Conv(4, 3), Dropout(0.5), GlobalAvgPool()))
    models = [init_member(arch, 5, 20, 0, 0, s) for s in range(2)]
    net, params, x = VmapNet(models[0]), _stacked(models), torch.randn(2, 7, 5, 20)
    with torch.no_grad():
        net.eval()
        want = torch.stack([m.eval()(x[i]) for i, m in enumerate(models)])
        torch.testing.assert_close(net(params, x), want)
        net.train()
        assert not torch.allclose(net(params, x), want)  # masks drawn again


def test_same_seed_gives_identical_weights_and_other_seeds_differ(small):
    _ds, X, tasks, _, _ = small
    arch = preset("q10")
    cfg = TrainConfig(epochs=2, seeds=2, patience=5)
    a = train_sequential(arch, X, tasks[:1], cfg, 0)[0].members
    b = train_sequential(arch, X, tasks[:1], cfg, 0)[0].members
    for ma, mb in zip(a, b, strict=True):
        for k in ma.state:
            assert torch.equal(ma.state[k], mb.state[k])
    assert not torch.equal(a[0].state["0.0.weight"], a[1].state["0.0.weight"])


def test_batch_stream_epochs_cover_every_training_sample_once_or_more():
    idx = np.arange(100, 170)
    s = BatchStream(idx, 32, seed=0, fold=0, seed_index=0)
    e = s.epoch()
    assert e.shape == (3, 32) and set(e.ravel()) == set(idx)
    s2 = BatchStream(idx, 32, seed=0, fold=0, seed_index=0)
    np.testing.assert_array_equal(s2.take(4)[:3], e)  # take() continues across epochs


def test_early_stopping_restores_best_epoch(small):
    _ds, X, tasks, _, _ = small
    cfg = TrainConfig(epochs=12, seeds=1, patience=2, lr=3e-2)
    res = train_batched(preset("q10"), X, tasks[:1], cfg, 0)[0].members[0]
    curve = res.curve
    assert res.best_epoch == int(curve.val_loss.idxmin())
    assert len(curve) == 12 or len(curve) - 1 - res.best_epoch == 2


def test_config_is_validated():
    with pytest.raises(pydantic.ValidationError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(pydantic.ValidationError, match="engine"):
        TrainConfig(engine="magic")  # type: ignore[arg-type]
