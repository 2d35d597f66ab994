"""Combinatorial purged cross-validation (López de Prado, AFML ch. 12), usable wherever a
scikit-learn CV splitter is.

The samples (in time order) are cut into N contiguous groups of near-equal size. Every
choice of k test groups is one split: C(N, k) splits. A group is tested in C(N-1, k-1)
of them, so the test predictions assemble into phi = k / N x C(N, k) = C(N-1, k-1)
*backtest paths*: path p takes, for each group g, the predictions of the p-th split (in
split order) that tests g. Every sample appears exactly once per path; each path is a
full out-of-sample history (N = 6, k = 2: 15 splits, 5 paths).

Per split, the training side is every other labelled sample, minus:

1. **purge**: a sample whose label interval [t_i, label_end_i] overlaps a test group's
   interval [first test date, last test label end] (so before a test group: its label
   reaches the group; after one: it starts before the group's labels have ended);
2. **embargo** (``embargo`` sessions, on both sides of every test group): the samples
   right before the group's first sample and right after its last one, whose features
   overlap the test period's;
3. the **validation tail**: the last ``validation`` share of what remains, for early
   stopping; training samples whose label reaches its first date are purged too.

CPCV trains on data *after* the test block: a split's model has seen the future of
most of its test samples' paths. It is a model-selection tool (how stable is a
configuration's out-of-sample performance across paths), not a deployable backtest;
the walk-forward is that.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations
from math import comb
from typing import Any

import numpy as np
import pandas as pd

from niftycnn.config import WalkForwardConfig
from niftycnn.errors import SplitError
from niftycnn.walkforward.splits import NEVER, Fold, Splitter, WalkForwardSplit, sample_keys
from niftycnn.windows import WindowDataset

_DEFAULTS = WalkForwardConfig()


class CombinatorialPurgedSplit:
    """C(N, k) purged, embargoed splits and their k / N x C(N, k) backtest paths.

    Parameters are stored as given and validated when splitting (scikit-learn style).

    Args:
        n_groups: N, contiguous groups of samples.
        n_test_groups: k, groups tested per split (1 <= k < N).
        embargo: sessions dropped on both sides of every test group.
        validation: float in [0, 1), the early-stopping share of each training side.
        purge: drop training samples whose label interval overlaps a test group's.
    """

    def __init__(
        self,
        n_groups: int = _DEFAULTS.groups,
        n_test_groups: int = _DEFAULTS.test_groups,
        embargo: int = _DEFAULTS.embargo,
        validation: float = _DEFAULTS.validation,
        purge: bool = True,
    ) -> None:
        self.n_groups = n_groups
        self.n_test_groups = n_test_groups
        self.embargo = embargo
        self.validation = validation
        self.purge = purge

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"CombinatorialPurgedSplit({params})"

    @classmethod
    def from_config(cls, cfg: WalkForwardConfig) -> CombinatorialPurgedSplit:
        """The splitter of a ``[walkforward]`` table with ``scheme = "cpcv"``."""
        return cls(cfg.groups, cfg.test_groups, cfg.embargo, cfg.validation)

    def _validate(self, n: int | None = None) -> None:
        big_n, k = int(self.n_groups), int(self.n_test_groups)
        if big_n < 2 or not 1 <= k < big_n:
            raise SplitError(
                f"CPCV needs groups >= 2 and 1 <= test_groups < groups, got groups = "
                f"{self.n_groups}, test_groups = {self.n_test_groups}"
            )
        if not 0.0 <= float(self.validation) < 1.0:
            raise SplitError(f"validation share must be in [0, 1), got {self.validation}")
        if int(self.embargo) < 0:
            raise SplitError(f"embargo must be >= 0 sessions, got {self.embargo}")
        if n is not None and n < big_n:
            raise SplitError(f"{n} samples cannot make {big_n} groups; use fewer groups")

    @property
    def n_paths(self) -> int:
        """phi = k / N x C(N, k) = C(N - 1, k - 1)."""
        return comb(int(self.n_groups) - 1, int(self.n_test_groups) - 1)

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """C(N, k), whatever the data."""
        self._validate()
        return comb(int(self.n_groups), int(self.n_test_groups))

    def test_groups(self) -> list[tuple[int, ...]]:
        """The test groups of each split, in split order (lexicographic)."""
        self._validate()
        return list(combinations(range(int(self.n_groups)), int(self.n_test_groups)))

    def path_table(self) -> np.ndarray:
        """(splits, N) int array: the path each (split, tested group) belongs to, -1
        where the split does not test the group. Path p of group g is the p-th split
        (in split order) that tests g."""
        tested = np.zeros((self.get_n_splits(), int(self.n_groups)), dtype=bool)
        for s, groups in enumerate(self.test_groups()):
            tested[s, list(groups)] = True
        return np.where(tested, np.cumsum(tested, axis=0) - 1, -1)

    def group_bounds(self, n: int) -> np.ndarray:
        """(N + 1,) start positions of the contiguous groups of ``n`` samples."""
        self._validate(n)
        sizes = np.full(int(self.n_groups), n // int(self.n_groups))
        sizes[: n % int(self.n_groups)] += 1
        return np.concatenate([[0], np.cumsum(sizes)])

    def _positions(
        self, end: np.ndarray, exp: np.ndarray, label_end: np.ndarray
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(split, train, val, test, path of each test row) for every split."""
        n = len(end)
        bounds = self.group_bounds(n)
        paths = self.path_table()
        group = np.repeat(np.arange(int(self.n_groups)), np.diff(bounds))
        emb = int(self.embargo)
        pos = np.arange(n)
        for s, tested in enumerate(self.test_groups()):
            in_test = np.isin(group, tested)
            drop = in_test | (exp == NEVER)
            for g in tested:
                a, b = int(bounds[g]), int(bounds[g + 1])
                if self.purge:
                    span_end = max(end[b - 1], int(label_end[a:b].max()))
                    drop |= (end <= span_end) & (exp >= end[a])
                drop |= ((pos >= a - emb) & (pos < a)) | ((pos >= b) & (pos < b + emb))
            cand = pos[~drop]
            n_val = int(np.floor(float(self.validation) * len(cand)))
            train, val = cand[: len(cand) - n_val], cand[len(cand) - n_val :]
            if n_val and self.purge:
                train = train[exp[train] < end[val[0]]]
            if len(train) == 0:
                raise SplitError(
                    f"CPCV split {s} (test groups {list(tested)}) has no training sample after "
                    "purge and embargo; use fewer test groups, more groups or a shorter embargo"
                )
            test = pos[in_test]
            yield s, train, val, test, paths[s, group[test]]

    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train_idx, test_idx) per split; the validation tail is not in train_idx.
        ``groups`` (plain arrays): each sample's label end position, as for
        :class:`~niftycnn.walkforward.splits.WalkForwardSplit`."""
        end, exp, _ = sample_keys(X, groups)
        for _, train, _val, test, _paths in self._positions(end, exp, _label_end(X, end, exp)):
            yield train, test

    def folds(self, dataset: WindowDataset) -> list[Fold]:
        """One fold per split, with its validation tail and each test row's path."""
        end, exp, _ = sample_keys(dataset, None)
        out = []
        for s, train, val, test, path in self._positions(end, exp, _label_end(dataset, end, exp)):
            fit_side = np.concatenate([train, val])
            out.append(
                Fold(
                    index=s,
                    train_idx=train,
                    val_idx=val,
                    test_idx=test,
                    train_start=dataset.end_dates[fit_side.min()],
                    train_end=dataset.end_dates[fit_side.max()],
                    test_start=dataset.end_dates[test[0]],
                    test_end=dataset.end_dates[test[-1]],
                    test_path=path,
                )
            )
        return out


def _label_end(X: Any, end: np.ndarray, exp: np.ndarray) -> np.ndarray:
    """Each sample's label end key for a test group's span: the label end where known
    (labelled or not), else the sample's own end date."""
    if isinstance(X, WindowDataset):
        known = ~X.label_end.isna()
        keys = np.asarray(X.label_end.as_unit("ns").asi8, dtype=np.int64)
        return np.where(np.asarray(known), keys, end)
    return np.where(exp == NEVER, end, exp)


def splitter_for(cfg: WalkForwardConfig, sessions: pd.DatetimeIndex) -> Splitter:
    """The splitter of a ``[walkforward]`` table: CPCV for ``scheme = "cpcv"``, else the
    walk-forward (refits on the expiry calendar of the data's ``sessions``)."""
    if cfg.scheme == "cpcv":
        return CombinatorialPurgedSplit.from_config(cfg)
    return WalkForwardSplit.from_config(cfg, sessions)
