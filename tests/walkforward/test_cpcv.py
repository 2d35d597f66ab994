"""Combinatorial purged CV: split and path counts by hand, every sample once per path,
purge and embargo exactly as stated (a hypothesis property), scikit-learn use."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from niftycnn.config import WalkForwardConfig
from niftycnn.errors import SplitError
from niftycnn.walkforward.cpcv import CombinatorialPurgedSplit
from tests.walkforward.market import TARGETS, dataset, market


def _split_of_path(sp: CombinatorialPurgedSplit) -> np.ndarray:
    """(paths, N): the split whose predictions path p takes for group g."""
    table = sp.path_table()
    out = np.full((sp.n_paths, sp.n_groups), -1)
    for s, g in zip(*np.nonzero(table >= 0), strict=True):
        out[table[s, g], g] = s
    return out


def test_six_groups_two_tested_make_15_splits_and_5_paths():
    sp = CombinatorialPurgedSplit(6, 2)
    assert sp.get_n_splits() == 15 and sp.n_paths == 5  # C(6, 2); 2/6 x 15
    assert sp.test_groups()[:3] == [(0, 1), (0, 2), (0, 3)] and sp.test_groups()[-1] == (4, 5)
    paths = _split_of_path(sp)
    # path 0: group 0 and 1 from split 0 = {0, 1}, group 2 from split 1 = {0, 2}, ...
    assert paths[0].tolist() == [0, 0, 1, 2, 3, 4]
    # path 4: the last split testing each group: {0,5}, {1,5}, {2,5}, {3,5}, {4,5}, {4,5}
    assert paths[4].tolist() == [4, 8, 11, 13, 14, 14]
    # each group is tested in C(5, 1) = 5 splits, one per path
    assert (np.sort(sp.path_table(), axis=0)[-5:] == np.arange(5)[:, None]).all()


@pytest.mark.parametrize(("n", "k", "splits", "paths"), [(5, 1, 5, 1), (10, 3, 120, 36)])
def test_other_counts(n, k, splits, paths):
    sp = CombinatorialPurgedSplit(n, k)
    assert (sp.get_n_splits(), sp.n_paths) == (splits, paths)


@pytest.fixture(scope="module")
def frame():
    return market(420, seed=1)


@pytest.mark.parametrize("target", TARGETS)
def test_every_sample_appears_once_per_path(frame, target):
    ds = dataset(frame, target)
    sp = CombinatorialPurgedSplit(6, 2, embargo=3, validation=0.2)
    folds = sp.folds(ds)
    assert len(folds) == 15
    rows = np.concatenate([f.test_idx for f in folds])
    paths = np.concatenate([f.paths for f in folds])
    for p in range(5):
        np.testing.assert_array_equal(np.sort(rows[paths == p]), np.arange(len(ds)))
    bounds = sp.group_bounds(len(ds))
    for f, tested in zip(folds, sp.test_groups(), strict=True):
        fit = np.concatenate([f.train_idx, f.val_idx])
        assert not np.isin(fit, f.test_idx).any() and (ds.y_class[fit] >= 0).all()
        for g in tested:  # on dates: no fit label interval meets [group start, its last label end]
            a, b = bounds[g], bounds[g + 1]
            span_end = max(ds.end_dates[b - 1], ds.label_end[a:b].max())
            starts, ends = ds.end_dates[fit], ds.label_end[fit]
            assert not ((starts <= span_end) & (ends >= ds.end_dates[a])).any()
        # the training labels never reach the validation tail's first date
        assert (ds.label_end[f.train_idx] < ds.end_dates[f.val_idx[0]]).all()


def _expected_fit_side(
    n: int, label_end: np.ndarray, bounds: np.ndarray, tested: tuple[int, ...], embargo: int
) -> set[int]:
    """Brute force, sample by sample: not tested, no label overlap, not embargoed."""
    keep = set()
    for i in range(n):
        ok = True
        for g in tested:
            a, b = bounds[g], bounds[g + 1]
            span_end = max(b - 1, label_end[a:b].max())
            overlaps = i <= span_end and label_end[i] >= a  # [i, e_i] meets [a, span_end]
            embargoed = a - embargo <= i < a or b <= i < b + embargo
            if a <= i < b or overlaps or embargoed:
                ok = False
        if ok:
            keep.add(i)
    return keep


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(30, 160),
    n_groups=st.integers(3, 8),
    data=st.data(),
    embargo=st.integers(0, 4),
)
def test_no_training_label_interval_overlaps_a_test_group(n, n_groups, data, embargo):
    k = data.draw(st.integers(1, n_groups - 1))
    horizon = np.array(data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)))
    label_end = np.arange(n) + horizon  # sample i's label covers positions i .. i + h_i
    sp = CombinatorialPurgedSplit(n_groups, k, embargo=embargo, validation=0.0)
    bounds = sp.group_bounds(n)
    try:
        splits = list(sp.split(np.zeros(n), groups=label_end))
    except SplitError as exc:
        assert "no training sample" in str(exc)
        return
    assert len(splits) == sp.get_n_splits()
    for tested, (train, test) in zip(sp.test_groups(), splits, strict=True):
        in_test = np.concatenate([np.arange(bounds[g], bounds[g + 1]) for g in tested])
        np.testing.assert_array_equal(test, np.sort(in_test))
        assert set(train.tolist()) == _expected_fit_side(n, label_end, bounds, tested, embargo)
        for g in tested:
            a, b = bounds[g], bounds[g + 1]
            span_end = max(b - 1, label_end[a:b].max())
            assert not ((train <= span_end) & (label_end[train] >= a)).any()
            assert not (
                ((train >= a - embargo) & (train < a)) | ((train >= b) & (train < b + embargo))
            ).any()


def test_embargo_drops_sessions_on_both_sides_of_each_test_group():
    # 60 samples, 6 groups of 10, labels end where they start (no purge needed)
    sp = CombinatorialPurgedSplit(6, 1, embargo=2, validation=0.0)
    train, test = list(sp.split(np.zeros(60), groups=np.arange(60)))[2]  # tests group 2
    np.testing.assert_array_equal(test, np.arange(20, 30))
    np.testing.assert_array_equal(train, np.r_[0:18, 32:60])


def test_usable_as_a_scikit_learn_cv_splitter():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.1, 120)
    scores = cross_val_score(Ridge(), X, y, cv=CombinatorialPurgedSplit(6, 2, validation=0.0))
    assert len(scores) == 15 and (scores > 0.9).all()


def test_from_config_and_bad_parameters():
    sp = CombinatorialPurgedSplit.from_config(
        WalkForwardConfig(scheme="cpcv", groups=8, test_groups=3, embargo=4, validation=0.1)
    )
    assert (sp.n_groups, sp.n_test_groups, sp.embargo, sp.validation) == (8, 3, 4, 0.1)
    assert sp.n_paths == 21  # C(7, 2)
    with pytest.raises(SplitError, match="test_groups < groups"):
        CombinatorialPurgedSplit(4, 4).get_n_splits()
    with pytest.raises(SplitError, match="cannot make 6 groups"):
        list(CombinatorialPurgedSplit(6, 2).split(np.zeros(4)))
