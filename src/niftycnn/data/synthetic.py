"""A synthetic daily market on NSE sessions, calibrated to an index, with an optional
planted pattern whose strength is stated as what it is worth to an oracle.

Returns are Student-t innovations scaled by a GARCH(1,1) volatility sigma_t, plus a small
constant drift: fat tails, volatility clustering, a few percent a year. The defaults of
:class:`niftycnn.config.SyntheticConfig` (daily volatility 0.9 %, GARCH (0.06, 0.91),
t with 5 degrees of freedom, drift 0.025 % a day) were chosen on 40 pattern-free markets
of 2,500 sessions: annualised volatility 13-19 %, median excess kurtosis ~6,
|r| autocorrelated at every lag 1-20; 30 of the 40 sit inside every range of
``niftycnn.data.stats.STYLISED_RANGES`` (5 have an excess kurtosis outside 3-15, 5 a
calendar year beyond +60 %: a high-volatility year, as NIFTY's 2009).

The planted pattern: the day-t drift follows the kernel output ``o_t = w . x[t-k .. t-1]``
of one channel ``x`` (log close, log volume or log high/low range) over the ``lookback``
= k days before t, with ``w = pattern_kernel(pattern, k)`` (the least-squares slope or
curvature of the k values)::

    mu_t = drift + scale * sigma_t * tanh(o_t / rms_t)

``rms_t`` is the exponentially weighted RMS of ``o`` over the days before t (half-life
63 sessions), so the drift has the same shape on any channel and in any volatility
regime. ``scale`` is solved (Brent, on the simulated path itself, with the same random
draws) so that the *oracle* — long when the planted drift is positive, short when it is
negative, with perfect knowledge of it — earns the annualised Sharpe ``oracle_sharpe``
before costs; :class:`SyntheticMarket` records the scale and the realised value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pydantic
from scipy.optimize import brentq

from niftycnn.config import SyntheticConfig
from niftycnn.data.calendar import calendar_bounds, nse_sessions
from niftycnn.data.frame import canonical_frame
from niftycnn.errors import CalendarError, DataValidationError

Pattern = Literal["none", "momentum", "curvature"]
PATTERNS: tuple[str, ...] = ("none", "momentum", "curvature")
PERIODS_PER_YEAR = 252
RMS_HALFLIFE = 63  # sessions: the planted signal's normalisation adapts over a quarter
WARMUP = 20  # sessions after the first full lookback before the pattern is planted
_VOLUME_LEVEL = 19.0  # log volume around which synthetic volume moves (~1.8e8 shares)


def pattern_kernel(pattern: Pattern, lookback: int) -> np.ndarray:
    """Weights w such that ``w @ series[-lookback:]`` is the least-squares slope
    (``momentum``) or the quadratic coefficient (``curvature``) of a polynomial fit; the
    last weight multiplies the most recent day (``niftycnn.kernels``' convention)."""
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


@dataclass(frozen=True)
class SyntheticMarket:
    """A simulated market and its ground truth.

    Attributes:
        frame: the canonical OHLCV frame.
        config: the ``[data.synthetic]`` table it was simulated from.
        seed: the random seed.
        scale: the planted drift's amplitude, in units of sigma_t (0 without a pattern).
        oracle_sharpe: the realised annualised Sharpe of trading the planted drift's sign.
        planted_drift: (n_days,) the planted part of each day's drift (0 where none).
    """

    frame: pd.DataFrame
    config: SyntheticConfig
    seed: int
    scale: float
    oracle_sharpe: float
    planted_drift: np.ndarray

    def ground_truth(self) -> dict[str, Any]:
        """What a run directory records about the planted pattern (``data.json``)."""
        cfg = self.config
        return {
            "pattern": cfg.pattern if cfg.planted else "none",
            "channel": cfg.channel,
            "lookback": cfg.lookback,
            "kernel": [round(float(v), 8) for v in pattern_kernel(cfg.pattern, cfg.lookback)],
            "oracle_sharpe_target": cfg.oracle_sharpe if cfg.planted else 0.0,
            "oracle_sharpe": round(self.oracle_sharpe, 4),
            "scale": round(self.scale, 6),
            "seed": self.seed,
        }


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
    (:class:`niftycnn.config.SyntheticConfig`); see the module docstring for the model.
    Volume is 0 on sessions up to and including ``zero_volume_until`` (mimicking Yahoo's
    index volume before 2013).
    """
    return simulate_market(synthetic_config(n_days, **params), seed).frame


def simulate(cfg: SyntheticConfig, seed: int = 0) -> pd.DataFrame:
    """The synthetic market of a validated ``[data.synthetic]`` table (its frame)."""
    return simulate_market(cfg, seed).frame


def simulate_market(cfg: SyntheticConfig, seed: int = 0) -> SyntheticMarket:
    """Simulate the market of ``cfg`` and solve the planted scale (module docstring)."""
    dates = synthetic_sessions(cfg.start, cfg.n_days)
    draws = _Draws.sample(cfg, seed)
    kernel = pattern_kernel(cfg.pattern, cfg.lookback)
    scale, sharpe = 0.0, 0.0
    if cfg.planted and cfg.n_days > cfg.lookback + WARMUP + 2:
        scale = _solve_scale(cfg, draws, kernel)
    path = _simulate_path(cfg, draws, kernel, scale)
    if scale > 0:
        sharpe = _oracle_sharpe(path)
    frame = _frame(cfg, path, draws, dates)
    return SyntheticMarket(frame, cfg, seed, scale, sharpe, path.planted)


def synthetic_sessions(start: str, n_days: int) -> pd.DatetimeIndex:
    """The first ``n_days`` NSE sessions from ``start`` (a synthetic market's dates)."""
    _, last = calendar_bounds()
    sessions = nse_sessions(start, last)
    if len(sessions) < n_days:
        raise CalendarError(
            f"only {len(sessions)} NSE sessions are known from {start} to {last.date()}, "
            f"fewer than n_days={n_days}; choose an earlier start or fewer days"
        )
    return sessions[:n_days]


@dataclass(frozen=True)
class _Draws:
    """Every random number of one market, drawn once (so the scale solve reuses them)."""

    z: np.ndarray  # unit-variance Student-t return innovations
    gap: np.ndarray  # open vs previous close, in sigma units
    up: np.ndarray  # high above max(open, close), in sigma units
    down: np.ndarray  # low below min(open, close), in sigma units
    volume: np.ndarray  # log-volume noise

    @classmethod
    def sample(cls, cfg: SyntheticConfig, seed: int) -> _Draws:
        rng = np.random.default_rng(seed)
        n, df = cfg.n_days, cfg.tail_df
        z = rng.standard_t(df, size=n) * np.sqrt((df - 2) / df)
        gap = rng.normal(0.0, 0.25, size=n)
        up = np.abs(rng.normal(0.0, 0.5, size=n))
        down = np.abs(rng.normal(0.0, 0.5, size=n))
        return cls(z, gap, up, down, rng.normal(0.0, 0.25, size=n))


@dataclass(frozen=True)
class _Path:
    log_close: np.ndarray  # from 0
    sigma: np.ndarray
    ret: np.ndarray
    planted: np.ndarray  # the planted part of each day's drift


def _simulate_path(cfg: SyntheticConfig, draws: _Draws, kernel: np.ndarray, scale: float) -> _Path:
    """GARCH(1,1) with a pattern-dependent drift: a loop over days, in plain floats,
    because each drift depends on the channel's values simulated so far."""
    alpha, beta = cfg.garch
    vol2 = cfg.daily_vol**2
    omega = vol2 * (1 - alpha - beta)
    n, k = cfg.n_days, len(kernel)
    w = [float(v) for v in kernel]
    z, gap, up, down, vnoise = (
        a.tolist() for a in (draws.z, draws.gap, draws.up, draws.down, draws.volume)
    )
    decay = 0.5 ** (1.0 / RMS_HALFLIFE)
    planting = scale > 0 and any(w)
    channel = cfg.channel
    x = [0.0] * n  # the channel's series (log close, log volume or log range)
    log_close, sigma, ret, planted = [0.0] * n, [0.0] * n, [0.0] * n, [0.0] * n
    var, ms, weight, prev_ret = vol2, 0.0, 0.0, 0.0
    for t in range(n):
        if t > 0:
            var = omega + alpha * prev_ret * prev_ret + beta * var
        s = math.sqrt(var)
        sigma[t] = s
        d = 0.0
        if planting and t >= k:
            o = sum(wj * xj for wj, xj in zip(w, x[t - k : t], strict=True))
            if t >= k + WARMUP and ms > 0:
                d = scale * s * math.tanh(o / math.sqrt(ms / weight))
            ms, weight = decay * ms + o * o, decay * weight + 1.0
        r = cfg.drift + d + s * z[t] if t > 0 else 0.0
        planted[t], ret[t], prev_ret = d, r, r
        log_close[t] = (log_close[t - 1] if t > 0 else 0.0) + r
        if channel == "close":
            x[t] = log_close[t]
        elif channel == "range":
            x[t] = abs(gap[t] * s - r) + (up[t] + down[t]) * s
        else:
            x[t] = _log_volume(s, r, vnoise[t], cfg.daily_vol)
    return _Path(*(np.asarray(a) for a in (log_close, sigma, ret, planted)))


def _log_volume(sigma: float, ret: float, noise: float, daily_vol: float) -> float:
    """Log volume rises with volatility and with the size of the day's move."""
    return _VOLUME_LEVEL + 20.0 * (sigma - daily_vol) + 15.0 * abs(ret) + noise


def _oracle_sharpe(path: _Path) -> float:
    """Annualised Sharpe of sign(planted drift) x return over the planted days."""
    live = path.planted != 0
    if live.sum() < 2:
        return 0.0
    pnl = np.sign(path.planted[live]) * path.ret[live]
    sd = pnl.std(ddof=1)
    return float(pnl.mean() / sd * math.sqrt(PERIODS_PER_YEAR)) if sd > 0 else 0.0


def _solve_scale(cfg: SyntheticConfig, draws: _Draws, kernel: np.ndarray) -> float:
    """The scale whose path gives the oracle the target Sharpe (Brent on the same draws)."""

    def gap(scale: float) -> float:
        return _oracle_sharpe(_simulate_path(cfg, draws, kernel, scale)) - cfg.oracle_sharpe

    hi = 0.1
    while gap(hi) < 0:
        hi *= 2
        if hi > 8:
            raise DataValidationError(
                f"synthetic market: oracle_sharpe = {cfg.oracle_sharpe} is not reachable on "
                f"this path (n_days = {cfg.n_days}); lower it or simulate more days"
            )
    return float(brentq(gap, 0.0, hi, xtol=1e-5))


def _frame(
    cfg: SyntheticConfig, path: _Path, draws: _Draws, dates: pd.DatetimeIndex
) -> pd.DataFrame:
    """OHLCV from the path: open near the previous close, high/low beyond both."""
    lc, s = path.log_close + np.log(cfg.start_price), path.sigma
    prev = np.concatenate([[lc[0]], lc[:-1]])
    log_open = prev + draws.gap * s
    high = np.exp(np.maximum(log_open, lc) + draws.up * s)
    low = np.exp(np.minimum(log_open, lc) - draws.down * s)
    log_vol = _VOLUME_LEVEL + 20.0 * (s - cfg.daily_vol) + 15.0 * np.abs(path.ret) + draws.volume
    volume = np.round(np.exp(log_vol))
    if cfg.zero_volume_until is not None:
        volume[dates <= pd.Timestamp(cfg.zero_volume_until)] = 0.0
    frame = pd.DataFrame(
        {
            "open": np.exp(log_open),
            "high": high,
            "low": low,
            "close": np.exp(lc),
            "volume": volume.astype("float64"),
        },
        index=dates,
    )
    return canonical_frame(frame)
