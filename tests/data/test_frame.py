"""The content fingerprint recorded by every run."""

from __future__ import annotations

import hashlib

import numpy as np

from niftycnn.data import frame_sha256


def test_sha256_matches_its_documented_byte_layout(small_frame):
    expected = hashlib.sha256(b"niftycnn-ohlcv-v1\n")
    expected.update(b"open,high,low,close,volume\n")
    expected.update(small_frame.index.asi8.astype("<i8").tobytes())
    expected.update(np.ascontiguousarray(small_frame.to_numpy(), dtype="<f8").tobytes())
    assert frame_sha256(small_frame) == expected.hexdigest()


def test_sha256_changes_with_one_value_and_ignores_column_order(small_frame):
    shuffled = small_frame[["close", "volume", "open", "low", "high"]]
    assert frame_sha256(shuffled) == frame_sha256(small_frame)
    changed = small_frame.copy()
    changed.iloc[10, 3] = np.nextafter(changed.iloc[10, 3], np.inf)
    assert frame_sha256(changed) != frame_sha256(small_frame)
