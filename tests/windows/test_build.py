"""build_dataset: hand-checked labels, real-data class shares, leakage properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from niftycnn.config import LabelsConfig, WindowsConfig
from niftycnn.data.calendar import calendar_bounds
from niftycnn.errors import LabelError
from niftycnn.schema import UNLABELLED, LabelVocabulary
from niftycnn.windows import build_dataset, expiry_dates
from niftycnn.windows.labels import trailing_volatility

TS = pd.Timestamp
W, L = WindowsConfig, LabelsConfig


def test_fixed_horizon_labels_run_h_sessions_ahead(make_frame):
    """``[labels] target = "horizon"``, ``horizon = h``: the label is the return over the
    next h rows; the last h windows are unlabelled but keep their calendar label end (NSE
    sessions beyond)."""
    frame = make_frame(60, start="2024-07-01", seed=5)
    ds = build_dataset(frame, W(length=5), L(vol_window=5, target="horizon", horizon=2))
    close, dates = frame["close"].to_numpy(), frame.index
    pos = dates.get_indexer(ds.end_dates)
    inside = pos + 2 < len(dates)
    assert (ds.horizon[inside] == 2).all()
    assert ds.label_end[inside].equals(dates[pos[inside] + 2])
    np.testing.assert_allclose(
        ds.y_return[inside], np.log(close[pos[inside] + 2] / close[pos[inside]]), rtol=1e-12
    )
    assert (ds.y_class[~inside] == UNLABELLED).all() and (~inside).sum() == 2
    # the last window's label end: the 2nd NSE session after the data (2024-09-20, Fri)
    assert dates[-1] == TS("2024-09-20")
    assert ds.label_end[-1] == TS("2024-09-24") and ds.label_end[-2] == TS("2024-09-23")


def test_labels_match_a_hand_computation(make_frame):
    frame = make_frame(60, start="2024-07-01", seed=5)
    labels = L(vol_window=5, mode="fixed", small=0.01, large=0.02)
    ds = build_dataset(frame, W(length=5), labels)
    close, dates = frame["close"], frame.index
    # 2024-08-20 (Tue): next weekly expiry is Thu 2024-08-22, 2 rows ahead.
    t, e = TS("2024-08-20"), TS("2024-08-22")
    i = ds.end_dates.get_loc(t)
    assert ds.label_end[i] == e and ds.horizon[i] == 2
    r = np.log(close[e] / close[t])
    assert ds.y_return[i] == pytest.approx(r, rel=1e-12)
    assert ds.y_class[i] == int(np.searchsorted([-0.02, -0.01, 0.01, 0.02], r, side="left"))
    assert ds.sigma[i] == trailing_volatility(close.to_numpy(), 5)[dates.get_loc(t)]
    # 2024-08-15 is in this business-day frame but is an NSE holiday: no expiry there.
    j = ds.end_dates.get_loc(TS("2024-08-13"))
    assert ds.label_end[j] == TS("2024-08-14") and ds.horizon[j] == 1
    # First sample: first row with a full window and a full volatility estimate.
    assert ds.end_dates[0] == dates[5]


def test_fields_follow_the_contract(make_frame):
    ds = build_dataset(make_frame(80, start="2024-10-01"))
    n = len(ds)
    assert ds.X.shape == (n, 5, 20) and ds.X.dtype == np.float32
    assert ds.horizon.dtype == np.int64 and ds.y_class.dtype == np.int64
    assert len(ds.end_dates) == len(ds.label_end) == len(ds.y_return) == len(ds.sigma) == n
    assert ds.features == ("open", "high", "low", "close", "volume")
    assert (ds.label_end > ds.end_dates).all()
    assert np.isfinite(ds.sigma).all()
    assert len(ds.subset(ds.labelled)) == ds.labelled.sum()


def test_windows_past_the_data_keep_their_calendar_expiry_but_no_label(real_frame):
    ds = build_dataset(real_frame)
    tail = ds.end_dates >= TS("2024-12-26")  # an expiry day: its next is in 2025
    assert (ds.label_end[tail] == TS("2025-01-02")).all()
    assert (ds.y_class[tail] == UNLABELLED).all() and np.isnan(ds.y_return[tail]).all()
    assert (ds.horizon[tail] == 0).all()
    assert ds.labelled[~tail].all()


def test_expiry_beyond_the_exchange_calendar_is_nat(make_frame):
    # the first Monday a week past the installed calendar: data days decide
    start = calendar_bounds()[1] + pd.Timedelta(days=7)
    start += pd.Timedelta(days=(7 - start.day_of_week) % 7)
    frame = make_frame(60, start=str(start.date()))
    ds = build_dataset(frame, W(features=("returns",)))
    assert ds.features == ("returns",) and ds.X.shape[1] == 1
    assert pd.isna(ds.label_end[-1]) and ds.y_class[-1] == UNLABELLED
    assert ds.labelled[:5].all()


def test_real_history_default_labels_fill_every_class(real_frame):
    ds = build_dataset(real_frame)
    y = ds.y_class[ds.labelled]
    shares = np.bincount(y, minlength=5) / y.size
    print(
        {name: round(float(s), 3) for name, s in zip(LabelVocabulary(5).names, shares, strict=True)}
    )
    assert ((shares >= 0.10) & (shares <= 0.35)).all(), shares


def test_expiry_sampling_ends_each_window_on_an_expiry_day(real_frame):
    ds = build_dataset(real_frame, W(sampling="expiry"), L(expiry="monthly"))
    expected = expiry_dates("monthly", real_frame.index[0], real_frame.index[-1], real_frame.index)
    assert ds.end_dates.isin(expected).all()
    # Each label runs exactly to the next sample's end: one whole, non-overlapping cycle.
    assert (ds.label_end[:-1] == ds.end_dates[1:]).all()
    assert 15 <= np.median(ds.horizon[ds.labelled]) <= 25


def test_quantile_labels_fill_every_class_in_sample(make_frame):
    ds = build_dataset(make_frame(80, start="2024-01-01"), labels=L(mode="quantile"))
    y = ds.y_class[ds.labelled]
    assert set(np.unique(y)) == {0, 1, 2, 3, 4}


@pytest.mark.parametrize("classes", [2, 3, 4, 7])
def test_every_class_count_labels_in_return_order(make_frame, classes):
    labels = L(mode="quantile", classes=classes)
    ds = build_dataset(make_frame(120, start="2024-01-01"), labels=labels)
    y, r = ds.y_class[ds.labelled], ds.y_return[ds.labelled]
    assert ds.n_classes == classes and set(np.unique(y)) == set(range(classes))
    # classes are return-ordered: every return of class c is at most every one of c + 1
    top = [r[y == c].max() for c in range(classes - 1)]
    bottom = [r[y == c].min() for c in range(1, classes)]
    assert all(a <= b for a, b in zip(top, bottom, strict=True))


def test_too_little_data_is_a_label_error(make_frame):
    with pytest.raises(LabelError, match="no sample fits"):
        build_dataset(make_frame(60).iloc[:20])


def _same_past(a, b, d: pd.Timestamp) -> None:
    """Windows ending on or before d, and labels whose expiry is on or before d, agree."""
    k = int((a.end_dates <= d).sum())  # those samples come first, in both datasets
    assert a.end_dates[:k].equals(b.end_dates[:k])
    np.testing.assert_array_equal(a.X[:k], b.X[:k])
    np.testing.assert_array_equal(a.sigma[:k], b.sigma[:k])
    lab = np.asarray(a.label_end[:k] <= d)  # expiry > end, so no later sample qualifies
    assert lab.sum() == int((a.label_end <= d).sum())
    for field in ("horizon", "y_return", "y_class"):
        np.testing.assert_array_equal(getattr(a, field)[:k][lab], getattr(b, field)[:k][lab])
    assert a.label_end[:k][lab].equals(b.label_end[:k][lab])
    assert not np.isnan(a.y_return[:k][lab]).any()


@settings(max_examples=15, deadline=None)
@given(
    cut=st.integers(25, 99),
    seed=st.integers(0, 2**16),
    sampling=st.sampled_from(["daily", "expiry"]),
    expiry=st.sampled_from(["weekly", "monthly"]),
)
def test_changing_data_after_d_leaves_past_windows_and_labels_unchanged(
    make_frame, cut, seed, sampling, expiry
):
    frame = make_frame(100, start="2018-10-01", seed=1)
    d = frame.index[cut]
    rng = np.random.default_rng(seed)
    changed = frame.copy()
    after = changed.index > d
    changed.loc[after, ["open", "high", "low", "close"]] *= np.exp(
        rng.normal(0, 0.05, (after.sum(), 1))
    )
    changed.loc[after, "volume"] = rng.integers(0, 1e6, after.sum()).astype(float)
    a = build_dataset(frame, W(sampling=sampling), L(expiry=expiry))
    b = build_dataset(changed, W(sampling=sampling), L(expiry=expiry))
    _same_past(a, b, d)


@settings(max_examples=10, deadline=None)
@given(cut=st.integers(45, 99), sampling=st.sampled_from(["daily", "expiry"]))
def test_truncating_data_after_d_leaves_past_windows_and_labels_unchanged(
    make_frame, cut, sampling
):
    frame = make_frame(100, start="2018-10-01", seed=2)
    d = frame.index[cut]
    a = build_dataset(frame, W(sampling=sampling))
    b = build_dataset(frame.loc[:d], W(sampling=sampling))
    _same_past(a, b, d)
