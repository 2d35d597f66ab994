"""A self-contained planted-momentum market, windows and a short q10 training loop.

Test helper only. Why not ``niftycnn.data.synthetic_ohlcv`` + ``build_dataset``: measured
with them (4,800 sessions, the most the NSE calendar allows; GARCH off, Gaussian shocks,
strength 1.0-1.5, lookback 3; 4 models), the price view was found at p = 0.001-0.002 but
the close channel alone was not (p = 0.31-0.89), with five input channels or with close
only; the expiry labels there run 1-23 days (monthly expiries before 2019). This market
is cleaner (7,000 days, a fixed 5-day label), which is what a recovery test needs.

The planted market: log close is a random walk whose next-day drift follows the slope
of the last ``k`` log closes,
``drift_{t+1} = strength * sigma * tanh(slope_t / sigma)``, slope_t the least-squares
slope of ``c_{t-k+1..t}`` (per day). ``strength = 0`` plants nothing (a pure random walk
with the same OHLCV construction).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.kernels import gram_basis
from niftycnn.models import build_model, first_conv, preset

CHANNELS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


def planted_series(
    n_days: int,
    strength: float,
    seed: int,
    sigma: float = 0.01,
    k: int = 3,
) -> pd.DataFrame:
    """OHLCV frame whose drift depends on the recent close slope (see module doc)."""
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(n_days)
    # least-squares slope per day over k points = <c, momentum basis> / ||taps||
    taps = np.arange(k) - (k - 1) / 2.0
    slope_kernel = taps / np.sum(taps**2)
    close = np.zeros(n_days)
    for t in range(1, n_days):
        drift = 0.0
        if t >= k:
            slope = float(slope_kernel @ close[t - k : t])
            drift = strength * sigma * np.tanh(slope / sigma)
        close[t] = close[t - 1] + drift + sigma * eps[t]
    prev = np.concatenate([[0.0], close[:-1]])
    open_ = prev + 0.2 * sigma * rng.standard_normal(n_days)
    high = np.maximum(open_, close) + 0.5 * sigma * np.abs(rng.standard_normal(n_days))
    low = np.minimum(open_, close) - 0.5 * sigma * np.abs(rng.standard_normal(n_days))
    volume = np.exp(12.0 + 0.3 * rng.standard_normal(n_days))
    frame = pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close},
        index=pd.bdate_range("2010-01-01", periods=n_days, name="date"),
    )
    frame = np.exp(frame + np.log(10_000.0))
    frame["volume"] = volume
    return frame


def make_windows(
    frame: pd.DataFrame, length: int = 20, horizon: int = 5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows X (N, 5, length) float32, labels (sign of next-horizon return) and end index.

    Prices are log(price / last close of the window); volume is a within-window z-score.
    """
    logp = np.log(frame[["open", "high", "low", "close"]].to_numpy())  # (T, 4)
    vol = np.log(frame["volume"].to_numpy())
    win_p = sliding_window_view(logp, length, axis=0)  # (N, 4, L)
    win_v = sliding_window_view(vol, length)  # (N, L)
    last_close = win_p[:, 3, -1]
    prices = win_p - last_close[:, None, None]
    vz = (win_v - win_v.mean(1, keepdims=True)) / (win_v.std(1, keepdims=True) + 1e-12)
    X = np.concatenate([prices, vz[:, None, :]], axis=1).astype(np.float32)
    end = np.arange(length - 1, len(frame))
    close = logp[:, 3]
    future = np.full(len(end), np.nan)
    ok = end + horizon < len(frame)
    future[ok] = close[end[ok] + horizon] - close[end[ok]]
    X, end, future = X[ok], end[ok], future[ok]
    y = (future > 0).astype(np.int64)
    return X, y, end


def train_first_layers(
    X: np.ndarray,
    y: np.ndarray,
    seeds: tuple[int, ...],
    max_epochs: int = 15,
    lr: float = 1e-2,
    patience: int = 3,
    val_frac: float = 0.2,
) -> np.ndarray:
    """Train one q10 per seed; return the first-layer weights (S, F, C, k).

    Adam on cross-entropy, minibatches of 128, early stopping on the last ``val_frac``
    of the (time-ordered) training windows: the weights of the best validation epoch are
    kept, as the walk-forward engine does. Early stopping matters for the null arm: with
    nothing to learn, training stops early instead of fitting noise into the filters.
    """
    n_val = int(len(X) * val_frac)
    Xtr, ytr = torch.from_numpy(X[:-n_val]), torch.from_numpy(y[:-n_val])
    Xva, yva = torch.from_numpy(X[-n_val:]), torch.from_numpy(y[-n_val:])
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = build_model(preset("q10", n_classes=2), in_channels=X.shape[1], length=X.shape[2])
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(seed)
        best_loss, best_w, stale = np.inf, first_conv(model).weight.detach().clone(), 0
        for _ in range(max_epochs):
            model.train()
            perm = torch.randperm(len(Xtr), generator=gen)
            for start in range(0, len(Xtr), 128):
                idx = perm[start : start + 128]
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                val = torch.nn.functional.cross_entropy(model(Xva), yva).item()
            if val < best_loss - 1e-4:
                best_loss, best_w, stale = val, first_conv(model).weight.detach().clone(), 0
            else:
                stale += 1
                if stale >= patience:
                    break
        out.append(best_w.numpy())
    return np.stack(out)


__all__ = ["CHANNELS", "gram_basis", "make_windows", "planted_series", "train_first_layers"]
