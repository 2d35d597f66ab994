"""Label targets against hand-computed cases: horizon end dates across NSE holidays and
at the end of the data, triple-barrier first touches (up, down, vertical, on a barrier),
and the classes of each target for 2, 3 and 5 classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from niftycnn.config import LabelsConfig, WindowsConfig
from niftycnn.data.calendar import nse_sessions
from niftycnn.schema import UNLABELLED
from niftycnn.windows import build_dataset, labeler_for
from niftycnn.windows.targets import horizon_outcomes, triple_barrier_outcomes

TS = pd.Timestamp
# NSE sessions around Holi (Mon 2024-03-25) and Good Friday (2024-03-29):
# Wed 20, Thu 21, Fri 22, Tue 26, Wed 27, Thu 28, Mon Apr 1, Tue 2, ...
MARCH = nse_sessions("2024-03-18", "2024-04-05")


def _frame(dates: pd.DatetimeIndex, close: np.ndarray) -> pd.DataFrame:
    close = np.asarray(close, dtype=float)
    return pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0},
        index=pd.DatetimeIndex(dates, name="date"),
    )


def test_horizon_end_dates_skip_holidays_and_run_on_the_calendar_after_the_data():
    close = np.linspace(100, 112, len(MARCH))
    t = MARCH.get_loc(TS("2024-03-21"))
    out = horizon_outcomes(MARCH, close, np.array([t, t + 1, t + 2]), 2)
    # Thu 21 + 2 sessions = Tue 26 (Sat, Sun, Holi skipped); Fri 22 -> Wed 27; Tue 26 -> Thu 28
    assert list(out.label_end) == [TS("2024-03-26"), TS("2024-03-27"), TS("2024-03-28")]
    assert out.horizon.tolist() == [2, 2, 2]
    np.testing.assert_allclose(out.y_return[0], np.log(close[t + 2] / close[t]), rtol=1e-15)

    # data ending on Thu 2024-03-28: the label ends beyond it, so it is unlabelled, but its
    # end date is the calendar's (Good Friday skipped), exact for purging
    data = MARCH[MARCH <= TS("2024-03-28")]
    end = np.arange(len(data) - 3, len(data))  # Tue 26, Wed 27, Thu 28
    out = horizon_outcomes(data, close[: len(data)], end, 2)
    assert list(out.label_end) == [TS("2024-03-28"), TS("2024-04-01"), TS("2024-04-02")]
    assert out.horizon.tolist() == [2, 0, 0]
    assert np.isfinite(out.y_return[0]) and np.isnan(out.y_return[1:]).all()
    assert out.scale_days.tolist() == [2, 2, 2]


def test_horizon_counts_the_datas_own_sessions_so_a_missing_day_is_a_holiday():
    gappy = MARCH.delete(MARCH.get_loc(TS("2024-03-27")))  # a Yahoo gap on Wed 27
    out = horizon_outcomes(
        gappy, np.ones(len(gappy)), np.array([gappy.get_loc(TS("2024-03-26"))]), 1
    )
    assert out.label_end[0] == TS("2024-03-28") and out.horizon[0] == 1


def _barrier(moves: list[float], *, h: int = 4, sigma: float = 0.01, n_extra: int = 0):
    """One window at row 0 whose later log closes are ``moves`` (relative to row 0)."""
    log_close = np.concatenate([[0.0], moves, np.zeros(n_extra)])
    close = np.exp(log_close)
    dates = MARCH[: len(close)]
    out = triple_barrier_outcomes(dates, close, np.array([0]), np.array([sigma]), h, 1.0, 1.0)
    return out, dates, np.log(close) - np.log(close[0])


@pytest.mark.parametrize(
    ("moves", "day", "side"),
    [
        ([0.01, 0.025, -0.03, 0.0], 2, "up"),  # +2.5 % beyond the +2 % barrier on day 2
        ([-0.005, 0.019, -0.021, 0.03], 3, "down"),  # day 2 stays inside; day 3 crosses -2 %
        ([0.01, -0.01, 0.015, 0.005], 4, "vertical"),  # never beyond +-2 %: day H = 4
    ],
)
def test_triple_barrier_ends_at_the_first_touch(moves, day, side):
    # sigma 0.01, H = 4: barriers at +-1 x 0.01 x sqrt(4) = +-0.02 in log return
    out, dates, rel = _barrier(moves)
    assert out.label_end[0] == dates[day] and out.horizon[0] == day
    assert out.y_return[0] == rel[day]
    assert out.scale_days[0] == 4
    assert {"up": rel[day] > 0.02, "down": rel[day] < -0.02, "vertical": True}[side]


def test_a_close_on_a_barrier_does_not_touch_it():
    moves = [0.02, 0.01, 0.0, 0.0]
    log_close = np.concatenate([[0.0], moves])
    rel = np.log(np.exp(log_close)) - np.log(np.exp(log_close[0]))
    sigma = rel[1] / 2.0  # the barrier is exactly the day-1 move: sigma sqrt(4) = rel[1]
    dates = MARCH[:5]
    close = np.exp(log_close)
    out = triple_barrier_outcomes(dates, close, np.array([0]), np.array([sigma]), 4, 1.0, 1.0)
    assert out.horizon[0] == 4 and out.y_return[0] == 0.0  # vertical, at a zero return


def test_triple_barrier_at_the_end_of_the_data():
    # touched on day 1 although the vertical barrier is beyond the data: labelled
    out, dates, _ = _barrier([0.03])
    assert out.horizon[0] == 1 and out.label_end[0] == dates[1]
    # not touched in the 2 days the data has: unlabelled, ends at the calendar's day 4
    out, dates, _ = _barrier([0.01, -0.01])
    assert out.horizon[0] == 0 and np.isnan(out.y_return[0])
    assert out.label_end[0] == MARCH[4]  # Tue 2024-03-22 + 4 sessions beyond the data


# Next-day log returns of the hand-made series below, and their classes with fixed cuts
# small = 0.01, large = 0.03 (a zero return is Down with 2 classes, Flat with 3 and 5;
# values on a cut are tested in test_labels, exactly).
RETURNS = np.array([-0.05, -0.02, -0.005, 0.0, 0.005, 0.008, 0.02, 0.04])
EXPECTED = {
    2: [0, 0, 0, 0, 1, 1, 1, 1],
    3: [0, 0, 1, 1, 1, 1, 2, 2],
    5: [0, 1, 2, 2, 2, 2, 3, 4],
}


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_next_day_classes_by_hand(classes):
    warm = 5  # rows before the first sample: window length 3, volatility window 5
    log_close = np.concatenate([np.zeros(warm), np.cumsum(np.r_[0.0, RETURNS])])
    dates = nse_sessions("2024-01-01", "2024-03-01")[: len(log_close)]
    labels = LabelsConfig(
        target="horizon",
        horizon=1,
        mode="fixed",
        small=0.01,
        large=0.03,
        classes=classes,
        vol_window=5,
    )
    ds = build_dataset(_frame(dates, np.exp(log_close)), WindowsConfig(length=3), labels)
    assert len(ds) == len(RETURNS) + 1
    # cumsum then diff of exp/log: exact only to rounding, and no return sits on a cut
    np.testing.assert_allclose(ds.y_return[:-1], RETURNS, atol=1e-12)
    assert ds.y_class[:-1].tolist() == EXPECTED[classes]
    assert ds.y_class[-1] == UNLABELLED and ds.label_end[-1] > dates[-1]


@pytest.mark.parametrize(
    ("classes", "expected"),
    [
        (2, [1, 0, 1, 0]),  # cut 0: a zero return at the vertical barrier is Down
        (3, [2, 0, 1, 1]),  # default cuts (-stop_loss, profit_take): the barrier touched
        (5, [4, 0, 3, 2]),  # cuts (-1, -0.3, 0.3, 1) on z = r / (sigma sqrt(H))
    ],
)
def test_triple_barrier_classes_by_hand(classes, expected):
    # sigma 0.01, H = 4, width 0.02. Paths: up touch on day 1 (z = 1.5), down touch
    # (z = -1.5), vertical at +0.8 % (z = 0.4), vertical at 0 (z = 0).
    paths = [[0.03, 0, 0, 0], [-0.03, 0, 0, 0], [0, 0, 0, 0.008], [0, 0, 0, 0]]
    log_close = np.concatenate([np.r_[0.0, p] for p in paths])
    dates = nse_sessions("2023-01-02", "2023-03-31")[: len(log_close)]
    end = np.arange(0, len(log_close), 5)
    sigma = np.full(len(end), 0.01)
    out = triple_barrier_outcomes(dates, np.exp(log_close), end, sigma, 4, 1.0, 1.0)
    assert out.horizon.tolist() == [1, 1, 4, 4]
    labels = LabelsConfig(target="triple_barrier", horizon=4, mode="volatility", classes=classes)
    y = labeler_for(labels).transform(out.y_return, sigma, out.scale_days)
    assert y.tolist() == expected


def test_three_class_triple_barrier_is_the_barrier_touched_first(make_frame):
    frame = make_frame(400, start="2019-03-01", seed=3)
    labels = LabelsConfig(
        target="triple_barrier", horizon=10, classes=3, profit_take=1.5, stop_loss=0.8
    )
    ds = build_dataset(frame, WindowsConfig(), labels)
    lab = ds.labelled
    width = ds.sigma[lab] * np.sqrt(10)
    up, down = ds.y_return[lab] > 1.5 * width, ds.y_return[lab] < -0.8 * width
    y = ds.y_class[lab]
    np.testing.assert_array_equal(y == 2, up)
    np.testing.assert_array_equal(y == 0, down)
    assert (y[ds.horizon[lab] < 10] != 1).all()  # ended before H: a barrier was touched
    assert min((y == c).sum() for c in range(3)) > 20  # every class occurs
    # the label ends at the touch: the label end is the horizon-th data day after t
    pos = frame.index.get_indexer(ds.end_dates[lab]) + ds.horizon[lab]
    assert (frame.index[pos] == ds.label_end[lab]).all()
