"""Chart images: exact pixels on a hand-drawn 3-day example, scale invariance, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.errors import LabelError
from niftycnn.windows.images import (
    ImageStyle,
    image_height,
    render_images,
    style_for,
    unpack_images,
)
from tests.windows.conftest import synthetic_frame

# Three days on a 7-row price scale: lo = 10, hi = 16, so price p sits (p - 10) rows up.
# The two days before them only feed the 3-day moving average (closes 9, 12).
HISTORY = {"open": [9.0, 12.0], "high": [9.5, 12.5], "low": [8.5, 11.5], "close": [9.0, 12.0]}
DAYS = {
    "open": [11.0, 12.0, 14.0],
    "high": [13.0, 16.0, 15.0],
    "low": [10.0, 12.0, 11.0],
    "close": [12.0, 15.0, 11.0],
}
VOLUME = [7.0, 7.0, 100.0, 50.0, 0.0]

# Columns 0-2 day 0 (open, high-low, close), 3-5 day 1, 6-8 day 2; row 0 is the top.
BARS = """
....#....
....##.#.
....#.##.
.#..#..#.
.####..#.
##.....##
.#.......
"""
# The MA (11, 13, 12.67 -> rows 5, 3, 3) adds its joins between days 1 and 2 on row 3
# (its other pixels fall on bars and ticks already drawn).
WITH_MA = """
....#....
....##.#.
....#.##.
.#..####.
.####..#.
##.....##
.#.......
"""
# Volume 100, 50, 0 in the bottom fifth of 10 rows (2 rows under a gap row): 2, 1, 0 px.
VOLUME_ROWS = """
.........
.#.......
.#..#....
"""


def _pixels(art: str) -> np.ndarray:
    return np.array([[ch == "#" for ch in line] for line in art.strip().splitlines()])


def _frame(with_history: bool) -> pd.DataFrame:
    cols = {k: (HISTORY[k] if with_history else []) + DAYS[k] for k in DAYS}
    cols["volume"] = VOLUME if with_history else VOLUME[2:]
    idx = pd.bdate_range("2024-01-01", periods=len(cols["close"]), name="date")
    return pd.DataFrame(cols, index=idx)


def _one(frame: pd.DataFrame, style: ImageStyle) -> np.ndarray:
    images = unpack_images(render_images(frame, style), style.width)
    return images[-1, 0].astype(bool)


def test_three_day_bars_are_drawn_pixel_for_pixel():
    image = _one(_frame(False), ImageStyle(3, height=7, ma=False, volume=False))
    np.testing.assert_array_equal(image, _pixels(BARS))


def test_moving_average_is_drawn_through_the_centre_columns():
    image = _one(_frame(True), ImageStyle(3, height=7, ma=True, volume=False))
    np.testing.assert_array_equal(image, _pixels(WITH_MA))


def test_volume_bars_fill_the_bottom_fifth_under_a_gap_row():
    image = _one(_frame(False), ImageStyle(3, height=10, ma=False, volume=True))
    np.testing.assert_array_equal(image, np.vstack([_pixels(BARS), _pixels(VOLUME_ROWS)]))
    both = _one(_frame(True), ImageStyle(3, height=10, ma=True, volume=True))
    np.testing.assert_array_equal(both, np.vstack([_pixels(WITH_MA), _pixels(VOLUME_ROWS)]))


def test_paper_sizes_and_the_rule_for_other_lengths():
    sizes = {d: (style_for(d).height, style_for(d).width) for d in (5, 20, 60)}
    assert sizes == {5: (32, 15), 20: (64, 60), 60: (96, 180)}
    assert [image_height(d) for d in (3, 10, 40, 120)] == [32, 64, 96, 96]
    packed = render_images(synthetic_frame(80), style_for(20))
    assert packed.shape == (80 - 39 + 1, 64, 8) and packed.dtype == np.uint8


def test_multiplying_prices_and_volume_by_constants_leaves_images_unchanged():
    frame = synthetic_frame(150, seed=3)
    style = style_for(20)
    base = render_images(frame, style)
    prices = ["open", "high", "low", "close"]
    for c in (4.0, 0.125, 3.7, 1234.5):
        scaled = frame.assign(**{p: frame[p] * c for p in prices}, volume=frame["volume"] * 7.3)
        np.testing.assert_array_equal(render_images(scaled, style), base)


def test_image_ending_at_t_ignores_every_bar_after_t():
    frame = synthetic_frame(120, seed=5)
    style = style_for(20)
    t = 80
    changed = frame.copy()
    changed.iloc[t + 1 :] = changed.iloc[t + 1 :] * 1.5  # a jump right after t
    changed.iloc[t + 1 :, changed.columns.get_loc("volume")] = 1e9
    ends = np.arange(style.history - 1, t + 1)
    np.testing.assert_array_equal(
        render_images(frame, style, ends), render_images(changed, style, ends)
    )
    np.testing.assert_array_equal(
        render_images(frame.iloc[: t + 1], style), render_images(frame, style, ends)
    )


def test_too_little_history_is_refused_with_the_rows_needed():
    with pytest.raises(LabelError, match="needs 39"):
        render_images(synthetic_frame(30), style_for(20))
