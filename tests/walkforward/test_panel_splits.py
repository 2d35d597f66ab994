"""Walk-forward and CPCV splits of a panel: blocks, purge and embargo by date across the
symbols."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.walkforward.cpcv import CombinatorialPurgedSplit
from niftycnn.walkforward.splits import WalkForwardSplit
from tests.walkforward.market import panel, universe_frames


@pytest.fixture(scope="module")
def ds():
    return panel(universe_frames(8, 420, seed=3))


@pytest.mark.parametrize("mode", ["expanding", "rolling"])
def test_a_test_block_holds_every_symbols_samples_dated_in_it(ds, mode):
    sp = WalkForwardSplit(
        mode=mode, min_train_size=120, refit=40, max_train_size=150, validation=0.2, embargo=3
    )
    folds = sp.folds(ds)
    days = np.unique(ds.end_dates)
    assert len(folds) == len(range(120, len(days), 40))
    covered = np.concatenate([f.test_idx for f in folds])
    assert np.array_equal(covered, np.arange(np.searchsorted(ds.end_dates, days[120]), len(ds)))
    for f in folds:
        block = np.unique(ds.end_dates[f.test_idx])
        in_block = np.flatnonzero(np.isin(ds.end_dates, block))
        assert np.array_equal(f.test_idx, in_block)  # all symbols of those dates, no other
        assert len(block) == min(40, len(days) - np.searchsorted(days, block[0]))
        fit = np.concatenate([f.train_idx, f.val_idx])
        # purge across the panel: no training label (of any symbol) reaches the block
        assert (ds.label_end[fit] < block[0]).all()
        # the validation tail is whole sessions, after every training session
        if len(f.val_idx):
            assert ds.end_dates[f.train_idx].max() < ds.end_dates[f.val_idx].min()
            first_val = ds.end_dates[f.val_idx].min()
            on_day = np.flatnonzero(ds.end_dates == first_val)
            out = on_day[~np.isin(on_day, f.val_idx)]
            # a sample of that session is left out only when it cannot train at all
            assert ((ds.label_end[out] >= block[0]) | ~ds.labelled[out]).all()
        if mode == "rolling":
            assert len(np.unique(ds.end_dates[fit])) <= 150


def test_embargo_drops_sessions_after_every_earlier_test_block_for_all_symbols(ds):
    folds = WalkForwardSplit(min_train_size=120, refit=40, validation=0.0, embargo=4).folds(ds)
    days = ds.end_dates.unique()
    for j, f in enumerate(folds):
        trained = set(ds.end_dates[f.train_idx])
        for earlier in folds[:j]:
            stop = np.searchsorted(days, ds.end_dates[earlier.test_idx].max()) + 1
            embargoed = days[stop : stop + 4]
            assert len(embargoed) == 4 and not trained & set(embargoed)


def test_cpcv_groups_are_whole_sessions_of_the_panel(ds):
    sp = CombinatorialPurgedSplit(n_groups=5, n_test_groups=2, embargo=3, validation=0.1)
    folds = sp.folds(ds)
    assert len(folds) == 10
    for f in folds:
        dates = np.unique(ds.end_dates[f.test_idx])
        assert np.array_equal(f.test_idx, np.flatnonzero(np.isin(ds.end_dates, dates)))
        fit = np.concatenate([f.train_idx, f.val_idx])
        assert not set(ds.end_dates[fit]) & set(dates)
    # every sample is on every path once
    for path in range(sp.n_paths):
        rows = np.concatenate([f.test_idx[f.paths == path] for f in folds])
        assert np.array_equal(np.sort(rows), np.arange(len(ds)))
