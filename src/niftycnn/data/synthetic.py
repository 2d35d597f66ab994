"""A synthetic daily market on NSE sessions, with an optional planted pattern of known strength.

It is the offline default source and the ground truth for filter-recovery tests: with
``pattern="momentum"`` the next day's drift follows the slope of the last ``lookback`` log
closes, with ``pattern="curvature"`` their curvature (the degree-1 and degree-2 Gram
polynomial kernels a CNN's first layer could learn). Returns are Student-t innovations
scaled by a GARCH(1,1) volatility, so the series has fat tails and volatility clustering.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic

from niftycnn.config import SyntheticConfig
from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.data.frame import canonical_frame
from niftycnn.errors import CalendarError, DataValidationError

Pattern = Literal["none", "momentum", "curvature"]
PATTERNS: tuple[str, ...] = ("none", "momentum", "curvature")


def pattern_kernel(pattern: Pattern, lookback: int) -> np.ndarray:
    """Weights w such that ``w @ log_closes[-lookback:]`` is the least-squares slope
    (``momentum``) or the quadratic coefficient (``curvature``) of a polynomial fit."""
    if pattern == "none":
        return np.zeros(lookback)
    degree = 1 if pattern == "momentum" else 2
    if lookback < degree + 2:
        raise DataValidationError(
            f"lookback={lookback} is too short for pattern={pattern!r}; use at least {degree + 2}"
        )
    x = np.arange(lookback, dtype=float) - (lookback - 1) / 2
    vander = np.vander(x, degree + 1, increasing=True)
    return np.linalg.pinv(vander)[degree]


def synthetic_config(n_days: int | None = None, **params: Any) -> SyntheticConfig:
    """The validated ``[data.synthetic]`` table for these keyword arguments (its defaults
    for the rest); a bad value is a :class:`DataValidationError` naming it."""
    if n_days is not None:
        params["n_days"] = n_days
    try:
        return SyntheticConfig.model_validate(params)
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "synthetic"
        message = error["msg"].removeprefix("Value error, ")
        raise DataValidationError(
            f"synthetic market: {key} = {error.get('input')!r}: {message}"
        ) from None


def synthetic_ohlcv(n_days: int | None = None, seed: int = 0, **params: Any) -> pd.DataFrame:
    """Canonical OHLCV frame of ``n_days`` NSE sessions, deterministic per seed.

    Keyword arguments and their defaults are the keys of ``[data.synthetic]``
    (:class:`niftycnn.config.SyntheticConfig`). ``strength`` scales the planted drift:
    ``mu_t = drift + strength * sigma_t * tanh(signal_t / sigma_t)`` with ``signal_t`` the
    pattern kernel applied to the last ``lookback`` log closes (known before day t).
    ``garch`` is (alpha, beta) with the unconditional daily volatility ``daily_vol``.
    Volume is 0 on sessions up to and including ``zero_volume_until`` (mimicking Yahoo's
    index volume before 2013).
    """
    return simulate(synthetic_config(n_days, **params), seed)


def simulate(cfg: SyntheticConfig, seed: int = 0) -> pd.DataFrame:
    """The synthetic market of a validated ``[data.synthetic]`` table."""
    dates = _sessions(cfg.start, cfg.n_days)
    rng = np.random.default_rng(seed)
    df = cfg.tail_df
    z = rng.standard_t(df, size=cfg.n_days) * np.sqrt((df - 2) / df)
    log_close, sigma = _simulate_log_closes(
        z,
        pattern_kernel(cfg.pattern, cfg.lookback),
        cfg.strength,
        cfg.daily_vol,
        cfg.garch,
        cfg.drift,
    )
    log_close += np.log(cfg.start_price)
    frame = _ohlc_from_closes(log_close, sigma, rng)
    frame["volume"] = _volume(sigma, log_close, rng, dates, cfg.zero_volume_until)
    frame.index = dates
    return canonical_frame(frame)


def _sessions(start: str, n_days: int) -> pd.DatetimeIndex:
    _, last = calendar_bounds()
    sessions = nse_sessions(start, last)
    if len(sessions) < n_days:
        raise CalendarError(
            f"only {len(sessions)} NSE sessions are known from {start} to {last.date()}, "
            f"fewer than n_days={n_days}; choose an earlier start or fewer days"
        )
    return sessions[:n_days]


def _simulate_log_closes(
    z: np.ndarray,
    kernel: np.ndarray,
    strength: float,
    daily_vol: float,
    garch: tuple[float, float],
    drift: float,
) -> tuple[np.ndarray, np.ndarray]:
    """GARCH(1,1) with a pattern-dependent drift; a loop over days because each drift
    depends on the closes simulated so far."""
    alpha, beta = garch
    omega = daily_vol**2 * (1 - alpha - beta)
    n, k = len(z), len(kernel)
    log_close, sigma, ret = np.zeros(n), np.empty(n), np.zeros(n)
    var, planted = daily_vol**2, strength != 0 and bool(np.any(kernel))
    for t in range(n):
        if t > 0:
            var = omega + alpha * ret[t - 1] ** 2 + beta * var
        sigma[t] = np.sqrt(var)
        mu = drift
        if planted and t >= k:
            signal = float(kernel @ log_close[t - k : t])
            mu += strength * sigma[t] * np.tanh(signal / sigma[t])
        ret[t] = mu + sigma[t] * z[t] if t > 0 else 0.0
        log_close[t] = (log_close[t - 1] if t > 0 else 0.0) + ret[t]
    return log_close, sigma


def _ohlc_from_closes(
    log_close: np.ndarray, sigma: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """Open near the previous close, high/low beyond both: low <= open, close <= high."""
    prev = np.concatenate([[log_close[0]], log_close[:-1]])
    gap = rng.normal(0.0, 0.25, size=len(sigma)) * sigma
    log_open = prev + gap
    up = np.abs(rng.normal(0.0, 0.5, size=len(sigma))) * sigma
    down = np.abs(rng.normal(0.0, 0.5, size=len(sigma))) * sigma
    high = np.exp(np.maximum(log_open, log_close) + up)
    low = np.exp(np.minimum(log_open, log_close) - down)
    return pd.DataFrame(
        {"open": np.exp(log_open), "high": high, "low": low, "close": np.exp(log_close)}
    )


def _volume(
    sigma: np.ndarray,
    log_close: np.ndarray,
    rng: np.random.Generator,
    dates: pd.DatetimeIndex,
    zero_volume_until: str | None,
) -> np.ndarray:
    """Log-normal volume that rises with volatility and the size of the day's move."""
    move = np.abs(np.diff(log_close, prepend=log_close[0]))
    log_vol = 19.0 + 20.0 * (sigma - sigma.mean()) + 15.0 * move + rng.normal(0, 0.25, len(sigma))
    volume = np.round(np.exp(log_vol))
    if zero_volume_until is not None:
        volume[dates <= pd.Timestamp(zero_volume_until)] = 0.0
    return volume.astype("float64")
