"""Benchmark: windows + labels for the real NIFTY history (synthetic fallback).

Run: PYTHONPATH=src python bench/windows.py [--repeats 20]
Prints the median wall time of ``build_dataset`` with default settings (weekly expiry,
volatility thresholds), after one warm-up call that loads the exchange calendar.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from niftycnn.windows import build_dataset

_CSV = Path("data") / "nifty50_yahoo_daily.csv"
_ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = (_ROOT.parent / "shared" / _CSV, _ROOT.parents[1] / "shared" / _CSV)


def load_frame() -> tuple[pd.DataFrame, str]:
    """The real history if present, else a synthetic frame of the same length."""
    for path in CANDIDATES:
        if path.exists():
            frame = pd.read_csv(path, index_col="date", parse_dates=True)
            frame = frame[["open", "high", "low", "close", "volume"]].astype(float)
            frame.index.name = "date"
            return frame, f"real NIFTY history ({path})"
    print(f"real data not found at {CANDIDATES[0]}; using a synthetic 4,238-day frame")
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2007-09-17", periods=4238, name="date")
    close = 4500 * np.exp(np.cumsum(rng.normal(0, 0.012, len(idx))))
    frame = pd.DataFrame(
        {
            "open": close,
            "high": close * 1.005,
            "low": close * 0.995,
            "close": close,
            "volume": rng.integers(0, 1e6, len(idx)).astype(float),
        },
        index=idx,
    )
    return frame, "synthetic frame"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    frame, what = load_frame()
    ds = build_dataset(frame)  # warm-up: loads the exchange calendar once
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        build_dataset(frame)
        times.append(time.perf_counter() - t0)
    y = ds.y_class[ds.labelled]
    names = ds.vocabulary.names
    shares = np.bincount(y, minlength=len(names)) / max(y.size, 1)
    print(f"{what}: {len(frame)} days -> {len(ds)} windows {ds.X.shape}, {y.size} labelled")
    print("class shares: " + ", ".join(f"{n} {s:.1%}" for n, s in zip(names, shares, strict=True)))
    print(
        f"build_dataset median of {args.repeats}: {statistics.median(times) * 1e3:.1f} ms "
        f"(min {min(times) * 1e3:.1f} ms)"
    )


if __name__ == "__main__":
    main()
