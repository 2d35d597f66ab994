"""Validation: harmless problems fixed with a warning, report contents and formatting."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from niftycnn.data import clean_ohlcv, format_report, synthetic_ohlcv, validate


def test_unsorted_and_identical_duplicates_are_fixed_with_warnings(small_frame):
    messy = pd.concat([small_frame.iloc[::-1], small_frame.iloc[[3, 4]]])
    with pytest.warns(UserWarning) as record:
        clean = clean_ohlcv(messy)
    pd.testing.assert_frame_equal(clean, small_frame)
    messages = " ".join(str(w.message) for w in record)
    assert "sorted" in messages and "dropped 2 identical duplicate" in messages


def test_float32_rounding_of_bars_is_tolerated(small_frame):
    frame = small_frame.copy()
    frame["high"] = frame[["open", "close"]].max(axis=1) * (1 - 5e-8)
    clean_ohlcv(frame)


def test_report_lists_missing_and_extra_sessions_and_zero_volume(small_frame):
    frame = small_frame.drop(index=small_frame.index[[10, 11]]).copy()
    frame.loc[pd.Timestamp("2024-01-07")] = frame.iloc[0]  # a Sunday
    frame = frame.sort_index()
    frame.loc[:"2024-01-31", "volume"] = 0.0
    report = validate(frame)
    assert report.missing_sessions == tuple(small_frame.index[[10, 11]])
    assert report.extra_dates == (pd.Timestamp("2024-01-07"),)
    assert report.zero_volume_share[2024] == pytest.approx((frame.index <= "2024-01-31").mean())
    text = format_report(report)
    assert "missing sessions (vs NSE calendar): 2" in text
    assert str(small_frame.index[10].date()) in text and "2024-01-07" in text
    assert text == str(report)


def test_raw_frame_with_text_values_is_a_validation_error(small_frame):
    from niftycnn.errors import DataValidationError

    raw = small_frame.astype(object)
    raw.iloc[2, 0] = "n/a"
    with pytest.raises(DataValidationError, match="not numbers/dates"):
        clean_ohlcv(raw)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_dups=st.integers(0, 5))
def test_cleaning_any_shuffle_with_identical_duplicates_restores_the_frame(seed, n_dups):
    frame = synthetic_ohlcv(40, seed=3, start="2024-01-01")
    rng = np.random.default_rng(seed)
    messy = frame.iloc[np.concatenate([rng.permutation(40), rng.integers(0, 40, n_dups)])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.testing.assert_frame_equal(clean_ohlcv(messy), frame)
