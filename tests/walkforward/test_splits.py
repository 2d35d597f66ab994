"""Walk-forward splitter: purge, embargo, validation tail, coverage, sklearn equivalence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import TimeSeriesSplit

from niftycnn.errors import SplitError
from niftycnn.walkforward.splits import WalkForwardSplit
from tests.walkforward.market import TARGETS, dataset, market, truncated


@pytest.fixture(scope="module")
def frame():
    return market(420, seed=1)


@pytest.fixture(scope="module")
def ds(frame):
    return dataset(frame)


# refit = "expiry" starts a block on each distinct label end date: expiry labels only
TARGET_REFITS = [
    (t, r) for t in TARGETS for r in (7, 21, "expiry") if t == "expiry" or r != "expiry"
]


@pytest.mark.parametrize(("target", "refit"), TARGET_REFITS)
@pytest.mark.parametrize("mode", ["expanding", "rolling"])
def test_no_training_or_validation_label_reaches_the_test_block(frame, target, refit, mode):
    ds = dataset(frame, target)
    sp = WalkForwardSplit(
        mode=mode, min_train_size=120, refit=refit, max_train_size=150, validation=0.2, embargo=3
    )
    folds = sp.folds(ds)
    assert len(folds) > 5
    for f in folds:
        test_start = ds.end_dates[f.test_idx[0]]
        for idx in (f.train_idx, f.val_idx):
            assert (ds.label_end[idx] < test_start).all()
            assert (ds.y_class[idx] >= 0).all()
        assert len(f.val_idx) > 0
        # training labels never reach into the validation tail
        assert (ds.label_end[f.train_idx] < ds.end_dates[f.val_idx[0]]).all()
        assert f.train_idx.max() < f.val_idx.min()


def test_test_blocks_are_contiguous_disjoint_and_cover_the_out_of_sample_period(ds):
    sp = WalkForwardSplit(min_train_size=100, refit="expiry")
    tests = [t for _, t in sp.split(ds)]
    allt = np.concatenate(tests)
    np.testing.assert_array_equal(allt, np.arange(100, len(ds)))
    for t in tests:
        np.testing.assert_array_equal(t, np.arange(t[0], t[-1] + 1))
    assert sp.get_n_splits(ds) == len(tests)


def test_expiry_schedule_blocks_share_one_expiry(ds):
    sp = WalkForwardSplit(min_train_size=100, refit="expiry")
    for f in sp.folds(ds)[1:-1]:
        assert ds.label_end[f.test_idx].nunique() == 1


@pytest.mark.parametrize("max_train_size", [None, 50])
def test_equals_sklearn_timeseriessplit_without_purge_embargo(max_train_size):
    n, k, size = 230, 6, 25
    X = np.zeros((n, 3))
    mode = "expanding" if max_train_size is None else "rolling"
    ours = WalkForwardSplit(
        mode=mode,
        min_train_size=n - k * size,
        refit=size,
        validation=0,
        purge=False,
        max_train_size=max_train_size,
    )
    ref = TimeSeriesSplit(n_splits=k, test_size=size, max_train_size=max_train_size)
    got, want = list(ours.split(X)), list(ref.split(X))
    assert len(got) == len(want) == k
    for (a, b), (c, d) in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_gap_matches_sklearn_gap():
    n, k, size, gap = 200, 4, 30, 5
    X = np.zeros(n)
    ours = WalkForwardSplit(
        min_train_size=n - k * size, refit=size, validation=0, purge=False, gap=gap
    )
    for (a, b), (c, d) in zip(
        ours.split(X), TimeSeriesSplit(k, test_size=size, gap=gap).split(X), strict=True
    ):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_purge_drops_exactly_the_overlapping_labels():
    # label of sample i ends at position i + 3: the last 3 before each test block are purged
    X = np.zeros(60)
    sp = WalkForwardSplit(min_train_size=30, refit=10, validation=0)
    train, test = next(sp.split(X, groups=np.arange(60) + 3))
    np.testing.assert_array_equal(train, np.arange(27))
    np.testing.assert_array_equal(test, np.arange(30, 40))


def test_embargo_drops_sessions_after_earlier_test_blocks():
    X = np.zeros(60)
    sp = WalkForwardSplit(min_train_size=20, refit=10, validation=0, purge=False, embargo=2)
    trains = [tr for tr, _ in sp.split(X)]
    np.testing.assert_array_equal(trains[0], np.arange(20))
    np.testing.assert_array_equal(trains[1], np.arange(30))  # nothing after block 0 yet
    np.testing.assert_array_equal(trains[2], np.r_[0:30, 32:40])  # 30, 31 follow block 0


def test_validation_count_and_first_test_date(ds):
    d = ds.end_dates[150]
    sp = WalkForwardSplit(first_test_date=d, refit=20, validation=30)
    f = sp.folds(ds)[0]
    assert f.test_idx[0] == 150 and len(f.val_idx) == 30
    assert f.test_start == d and f.train_end < d


def test_truncating_data_keeps_earlier_folds(frame, ds):
    cut = ds.end_dates[300]
    small = truncated(frame, cut)
    for refit in (13, "expiry"):
        sp = WalkForwardSplit(min_train_size=120, refit=refit, validation=0.1, embargo=2)
        full, part = sp.folds(ds), sp.folds(small)
        for a, b in zip(full, part, strict=False):
            if a.test_start >= cut:
                break
            np.testing.assert_array_equal(a.train_idx, b.train_idx)
            np.testing.assert_array_equal(a.val_idx, b.val_idx)
            n = min(len(a.test_idx), len(b.test_idx))
            np.testing.assert_array_equal(a.test_idx[:n], b.test_idx[:n])


def test_bad_parameters_are_reported_at_split_time(ds):
    with pytest.raises(SplitError, match="mode"):
        list(WalkForwardSplit(mode="sideways").split(ds))
    with pytest.raises(SplitError, match="max_train_size"):
        list(WalkForwardSplit(mode="rolling").split(ds))
    with pytest.raises(SplitError, match="only"):
        list(WalkForwardSplit(min_train_size=10_000).split(ds))
    with pytest.raises(SplitError, match="refit"):
        list(WalkForwardSplit(refit="monthly").split(ds))
    with pytest.raises(SplitError, match="no training sample"):
        list(WalkForwardSplit(min_train_size=1, refit=5).split(ds))
    assert isinstance(pd.Timestamp(ds.end_dates[0]), pd.Timestamp)
