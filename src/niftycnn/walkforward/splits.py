"""Purged, embargoed walk-forward splits (usable wherever a scikit-learn CV splitter is).

Semantics, in the order a fold is built. Samples are sorted by end date; every count
below is in *sessions*, the distinct end dates of the samples. A single series has one
sample per session; a panel (a universe, ``niftycnn.windows.build_panel``) has one per
symbol trading that day, so a test block holds every symbol's samples dated in it and
purge and embargo work on dates across the panel:

1. **Test blocks.** The first block starts at session ``min_train_size`` or at the
   first session on/after ``first_test_date``. A new block (a *refit*) starts
   every ``refit`` sessions (int), on each distinct expiry date of the dataset
   (``"expiry"``: a block is then the windows that share one label end date, i.e. the
   sessions [e_{j-1}, e_j): a window ending on an expiry day labels to the next one), or
   on each date of an explicit sequence (e.g. the monthly expiry calendar). A block runs
   until the next refit; the blocks are contiguous, disjoint and cover every sample from
   the first test sample to the end.
   Boundaries are anchored at the *start* of the data, so cutting the data after date d
   changes no fold whose test block starts before d (except that the last block is cut).
2. **Candidates.** Samples before the test block (``expanding``), or only those of the
   last ``max_train_size`` sessions (``rolling``); unlabelled samples (no expiry / class -1)
   never train.
3. **Purge.** A candidate whose label end date (expiry) is on or after the test block's
   first date is dropped: its label overlaps the test period.
4. **Embargo** (López de Prado, AFML ch. 7). In k-fold CV training data can lie *after*
   the test set, and samples right after it are embargoed because their features
   overlap the test labels' period. In a walk-forward the current test block is always
   last, so that embargo is vacuous for it; what remains is the same rule applied to the
   earlier test blocks that the training side now contains: ``embargo=n`` drops the
   first n sessions after the end of every earlier test block (so the model of fold j
   is trained on what fold j-1 would have been allowed to train on, plus blocks).
   ``gap=n`` (scikit-learn's ``TimeSeriesSplit(gap=)``) drops the last n sessions
   before the test block; with purge on it is rarely needed.
5. **Validation tail.** The candidates of the last ``validation`` sessions (a fraction
   of the candidates' sessions, or a count) are held out for early stopping. They are
   purged like training (their expiry is before the test start), and training samples
   whose expiry is on or after the first validation date are purged too.

Each fold's labeler (quantile thresholds) and scaler are fitted on its training side
only (see :mod:`niftycnn.walkforward.run`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from niftycnn.config import WalkForwardConfig
from niftycnn.errors import SplitError
from niftycnn.windows import WindowDataset, expiry_dates

_DEFAULTS = WalkForwardConfig()  # the splitter's defaults are the [walkforward] table's

NEVER = np.iinfo(np.int64).max  # label end key of an unlabelled sample: never trains


@dataclass(frozen=True)
class Fold:
    """One fold (a walk-forward refit or a CPCV split): positions into the dataset, the
    dates they span and, for CPCV, the backtest path of each test row (``test_path``;
    None: one path, path 0)."""

    index: int
    train_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    train_start: pd.Timestamp | None
    train_end: pd.Timestamp | None
    test_start: pd.Timestamp | None
    test_end: pd.Timestamp | None
    test_path: np.ndarray | None = None

    @property
    def paths(self) -> np.ndarray:
        """The backtest path of each test row (all 0 for a walk-forward fold)."""
        if self.test_path is None:
            return np.zeros(len(self.test_idx), dtype=np.int64)
        return np.asarray(self.test_path, dtype=np.int64)


class Splitter(Protocol):
    """What the walk-forward runner needs of a splitter: its folds over a dataset
    (:class:`WalkForwardSplit`, :class:`~niftycnn.walkforward.cpcv.CombinatorialPurgedSplit`)."""

    def folds(self, dataset: WindowDataset) -> list[Fold]: ...


def sample_keys(X: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex | None]:
    """Ordinal keys (end date, label end date; ``NEVER`` for a sample that has no label,
    so it never trains) for a dataset or a plain array."""
    if isinstance(X, WindowDataset):
        end = np.asarray(X.end_dates.as_unit("ns").asi8, dtype=np.int64)
        exp = np.asarray(X.label_end.as_unit("ns").asi8, dtype=np.int64).copy()
        unlabelled = X.label_end.isna() | ~X.labelled | np.isnan(X.y_return)
        exp[np.asarray(unlabelled)] = NEVER
        return end, exp, X.end_dates
    n = len(X)
    end = np.arange(n, dtype=np.int64)
    # Plain arrays: positions are sessions; ``groups`` may give each label's end position.
    exp = end.copy() if groups is None else np.asarray(groups, dtype=np.int64).copy()
    if exp.shape != (n,):
        raise SplitError(f"groups must give one label end position per sample, got {exp.shape}")
    return end, exp, None


def session_index(end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each sample's session (its position among the distinct end dates) and the first
    sample of every session, with ``len(end)`` appended: samples must be sorted by end
    date, so session d's samples are ``first_of[d]:first_of[d + 1]``. For a single series
    (one sample per session) both are ``arange``."""
    days, day = np.unique(end, return_inverse=True)
    if len(end) and np.any(np.diff(end) < 0):
        raise SplitError("samples must be sorted by end date (a panel: by date, then symbol)")
    first_of = np.searchsorted(end, days, side="left")
    return day.astype(np.int64), np.append(first_of, len(end)).astype(np.int64)


class WalkForwardSplit:
    """Expanding or rolling walk-forward splits with purge, embargo and a validation tail.

    Parameters are stored as given and validated when splitting (scikit-learn style).

    Args:
        mode: "expanding" (train on everything before the test block) or "rolling".
        min_train_size: sessions before the first test block (ignored if
            ``first_test_date`` is given).
        first_test_date: the first test block starts at the first sample on/after it.
        refit: int (every n sessions), "expiry" (on each distinct
            expiry date of the dataset), or a sequence of dates (on each of them).
        max_train_size: rolling window length in sessions (required for "rolling").
        validation: float in [0, 1) (fraction of the candidates' sessions) or int (count).
        purge: drop training/validation samples whose expiry reaches the test block.
        embargo: sessions dropped after every earlier test block (see module doc).
        gap: sessions dropped right before the test block.
        max_folds: keep only the first n folds (None: all).
    """

    def __init__(
        self,
        mode: Literal["expanding", "rolling"] = "expanding",
        min_train_size: int | None = _DEFAULTS.min_train,
        first_test_date: str | pd.Timestamp | None = None,
        refit: int | str | Sequence[Any] = _DEFAULTS.refit_every,
        max_train_size: int | None = None,
        validation: float | int = _DEFAULTS.validation,
        purge: bool = True,
        embargo: int = _DEFAULTS.embargo,
        gap: int = 0,
        max_folds: int | None = None,
    ) -> None:
        self.mode = mode
        self.min_train_size = min_train_size
        self.first_test_date = first_test_date
        self.refit = refit
        self.max_train_size = max_train_size
        self.validation = validation
        self.purge = purge
        self.embargo = embargo
        self.gap = gap
        self.max_folds = max_folds

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"WalkForwardSplit({params})"

    @classmethod
    def from_config(cls, cfg: WalkForwardConfig, sessions: pd.DatetimeIndex) -> WalkForwardSplit:
        """The splitter of a ``[walkforward]`` table; weekly or monthly refits fall on the
        expiry calendar of the data's ``sessions``. ``scheme = "cpcv"`` is not a
        walk-forward: ``niftycnn.walkforward.splitter_for`` picks the splitter."""
        if cfg.scheme == "cpcv":
            raise SplitError("scheme = 'cpcv' is not a walk-forward; use splitter_for(cfg)")
        refit: int | list[pd.Timestamp] = cfg.refit_every
        if cfg.refit != "every":
            refit = list(expiry_dates(cfg.refit, sessions[0], sessions[-1], trading_days=sessions))
        return cls(
            mode=cfg.scheme,
            min_train_size=cfg.min_train,
            first_test_date=cfg.first_test,
            refit=refit,
            max_train_size=cfg.train_size if cfg.scheme == "rolling" else None,
            validation=cfg.validation,
            embargo=cfg.embargo,
        )

    # -- validation -------------------------------------------------------------------
    def _validate(self) -> None:
        if self.mode not in ("expanding", "rolling"):
            raise SplitError(f"mode must be 'expanding' or 'rolling', got {self.mode!r}")
        if self.mode == "rolling" and (self.max_train_size is None or self.max_train_size < 1):
            raise SplitError("rolling mode needs max_train_size >= 1 (sessions in the window)")
        if self.first_test_date is None and (
            self.min_train_size is None or self.min_train_size < 1
        ):
            raise SplitError(f"min_train_size must be >= 1, got {self.min_train_size!r}")
        if isinstance(self.refit, int | np.integer) and not isinstance(self.refit, bool):
            if self.refit < 1:
                raise SplitError(f"refit every n samples needs n >= 1, got {self.refit}")
        elif isinstance(self.refit, str):
            if self.refit != "expiry":
                raise SplitError(
                    f"refit must be an int, 'expiry' or a list of dates, got {self.refit!r}"
                )
        v = self.validation
        if isinstance(v, float) and not 0.0 <= v < 1.0:
            raise SplitError(f"validation fraction must be in [0, 1), got {v}")
        if isinstance(v, int) and v < 0:
            raise SplitError(f"validation count must be >= 0, got {v}")
        for name in ("embargo", "gap"):
            if int(getattr(self, name)) < 0:
                raise SplitError(f"{name} must be >= 0 sessions, got {getattr(self, name)}")

    # -- block boundaries -------------------------------------------------------------
    def _block_starts(
        self, end: np.ndarray, exp: np.ndarray, dates: pd.DatetimeIndex | None
    ) -> np.ndarray:
        """The first session (a position in ``np.unique(end)``) of every test block."""
        days = np.unique(end)
        n = len(days)
        if self.first_test_date is not None:
            if dates is None:
                raise SplitError(
                    "first_test_date needs a WindowDataset (dates); use min_train_size"
                )
            first = int(np.searchsorted(days, pd.Timestamp(self.first_test_date).value, "left"))
        else:
            first = int(self.min_train_size)  # type: ignore[arg-type]
        if first >= n:
            raise SplitError(
                f"the first test block starts at session {first} but the samples span "
                f"only {n} sessions"
            )
        if first < 1:
            raise SplitError("the first test block starts at the first sample: nothing to train on")
        if isinstance(self.refit, int | np.integer) and not isinstance(self.refit, bool):
            starts = np.arange(first, n, int(self.refit))
        else:
            if isinstance(self.refit, str):  # "expiry": the distinct label end dates
                bounds = np.unique(exp[exp != NEVER])
            else:
                if dates is None:
                    raise SplitError("a list of refit dates needs a WindowDataset (dates)")
                bounds = np.unique(pd.DatetimeIndex(list(self.refit)).as_unit("ns").asi8)  # type: ignore[arg-type]
            # a block starts on the session of each bound: with expiries, the windows of
            # one block [e_{j-1}, e_j) all share the label end date e_j
            after = np.searchsorted(days, bounds, side="left")
            starts = np.unique(np.concatenate([[first], after[(after > first) & (after < n)]]))
        return starts

    def _fold_positions(
        self, end: np.ndarray, exp: np.ndarray, dates: pd.DatetimeIndex | None
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """(fold, train, validation, test) sample positions. Everything is counted in
        sessions (distinct end dates; one sample each for a single series), so a panel's
        test block holds every symbol's samples dated in it."""
        self._validate()
        day, first_of = session_index(end)
        n_days = len(first_of) - 1
        starts = self._block_starts(end, exp, dates)
        stops = np.append(starts[1:], n_days)
        if self.max_folds is not None:
            starts, stops = starts[: int(self.max_folds)], stops[: int(self.max_folds)]
        embargoed = np.zeros(n_days, dtype=bool)
        emb = int(self.embargo)
        for j, (s, e) in enumerate(zip(starts, stops, strict=True)):
            s, e = int(s), int(e)
            lo = 0 if self.mode == "expanding" else max(0, s - int(self.max_train_size))  # type: ignore[arg-type]
            hi = max(lo, s - int(self.gap))
            cand = np.arange(first_of[lo], first_of[hi])
            cand = cand[~embargoed[day[cand]]]
            labelled = exp[cand] != NEVER
            if self.purge:
                cand = cand[labelled & (exp[cand] < end[first_of[s]])]
            else:
                cand = cand[labelled]
            train, val = self._validation_tail(cand, day, end, exp)
            if len(train) == 0:
                raise SplitError(
                    f"fold {j} (test from session {s}) has no training sample after "
                    "purge/embargo; start the first test block later (min_train_size / "
                    "first_test_date)"
                )
            yield j, train, val, np.arange(first_of[s], first_of[e])
            if emb:
                embargoed[e : e + emb] = True  # sessions right after this test block

    def _validation_tail(
        self, cand: np.ndarray, day: np.ndarray, end: np.ndarray, exp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(train, validation): the validation tail is the candidates of the last
        ``validation`` sessions among theirs (a share, or a count)."""
        cand_days = np.unique(day[cand])
        v = self.validation
        n_val = (
            int(np.floor(v * len(cand_days)))
            if isinstance(v, float)
            else min(int(v), len(cand_days))
        )
        if n_val <= 0:
            return cand, cand[:0]
        in_val = day[cand] >= cand_days[len(cand_days) - n_val]
        val, train = cand[in_val], cand[~in_val]
        if self.purge:
            train = train[exp[train] < end[val[0]]]
        return train, val

    # -- public API -------------------------------------------------------------------
    def split(
        self, X: Any, y: Any = None, groups: Any = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train_idx, test_idx); the validation tail is not part of train_idx."""
        end, exp, dates = sample_keys(X, groups)
        for _, train, _val, test in self._fold_positions(end, exp, dates):
            yield train, test

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        if X is None:
            raise SplitError("get_n_splits needs X: the number of folds depends on the data")
        end, exp, dates = sample_keys(X, groups)
        self._validate()
        k = len(self._block_starts(end, exp, dates))
        return k if self.max_folds is None else min(k, int(self.max_folds))

    def folds(self, dataset: WindowDataset) -> list[Fold]:
        """The folds with their validation tails and dates."""
        end, exp, dates = sample_keys(dataset, None)
        out = []
        for j, train, val, test in self._fold_positions(end, exp, dates):
            fit_side = np.concatenate([train, val])
            out.append(
                Fold(
                    index=j,
                    train_idx=train,
                    val_idx=val,
                    test_idx=test,
                    train_start=dataset.end_dates[fit_side.min()],
                    train_end=dataset.end_dates[fit_side.max()],
                    test_start=dataset.end_dates[test[0]],
                    test_end=dataset.end_dates[test[-1]],
                )
            )
        return out


def splits_table(folds: list[Fold], dataset: WindowDataset) -> pd.DataFrame:
    """Fold boundaries (dates and sizes): the run directory's ``splits.csv``. One row per
    contiguous test block of one path: a walk-forward fold is one row; a CPCV split has
    a row per run of adjacent test groups on the same path. ``train_label_end`` /
    ``val_label_end``: the latest date any training / validation label reaches (what
    purging bounds, and what a held-out period must lie after)."""

    def span(idx: np.ndarray) -> tuple[Any, Any]:
        return (dataset.end_dates[idx[0]], dataset.end_dates[idx[-1]]) if len(idx) else (None, None)

    def reach(idx: np.ndarray) -> Any:
        return dataset.label_end[idx].max() if len(idx) else None

    rows = []
    for fold in folds:
        (tr0, tr1), (va0, va1) = span(fold.train_idx), span(fold.val_idx)
        test, paths = fold.test_idx, fold.paths
        breaks = np.flatnonzero((np.diff(test) != 1) | (np.diff(paths) != 0)) + 1
        for block in np.split(np.arange(len(test)), breaks):
            te0, te1 = span(test[block])
            rows.append(
                {
                    "fold": fold.index,
                    "path": int(paths[block[0]]),
                    "train_start": tr0,
                    "train_end": tr1,
                    "val_start": va0,
                    "val_end": va1,
                    "train_label_end": reach(fold.train_idx),
                    "val_label_end": reach(fold.val_idx),
                    "test_start": te0,
                    "test_end": te1,
                    "n_train": len(fold.train_idx),
                    "n_val": len(fold.val_idx),
                    "n_test": len(block),
                }
            )
    return pd.DataFrame(rows)
