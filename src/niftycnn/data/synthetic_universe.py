"""A synthetic universe: correlated stocks on NSE sessions, with an optional planted
cross-sectional pattern of known strength (``[data.synthetic] n_symbols``).

Each stock i's daily log return on day t is

    r_it = drift + beta_i m_t + s_{g(i), t} + e_it + mu_it

with m_t the market factor (GARCH(1, 1), Student-t, ``[data.synthetic]`` daily_vol /
garch / tail_df: the single-series market), s_gt the factor of sector g (Gaussian,
``sector_vol``), e_it idiosyncratic GARCH(1, 1) Student-t noise (``idio_vol``) and mu_it
the planted drift: the pattern kernel (:func:`niftycnn.data.synthetic.pattern_kernel`)
applied to the stock's last ``lookback`` log closes, standardised across the stocks
trading that day (mean 0, sd 1, clipped to +-3), times the stock's idiosyncratic
volatility sigma_it and a scale k, less its mean over those stocks. The drift is known
before day t and averages zero across the stocks trading, so it is a purely
cross-sectional edge: no market timing earns it.

The scale k is solved so that the oracle (long the top decile of mu, short the bottom
decile, equal weights, rebalanced daily, before costs) earns an annualised Sharpe of
``oracle_sharpe`` on the simulated path (a few rescaled re-simulations with the same
random numbers; the realised value is returned). Stocks list late (IPOs), stop early
(delistings), pause (one suspension of 5-60 sessions) and miss single sessions; their
prices keep moving while they do not trade, so the first bar after a gap jumps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from niftycnn.config import SyntheticConfig, SyntheticUniverseConfig
from niftycnn.data.frame import canonical_frame
from niftycnn.data.synthetic import pattern_kernel, synthetic_sessions

ORACLE_QUANTILE = 0.1  # the oracle trades the top and bottom deciles
_SCALE_STEPS = 4


@dataclass(frozen=True)
class SyntheticUniverse:
    """The stocks' frames (``S000`` ...), the planted drift (date x symbol, NaN where a
    stock does not trade), each stock's sector, the drift scale k and the realised oracle
    Sharpe (0 when nothing is planted)."""

    frames: dict[str, pd.DataFrame]
    drift: pd.DataFrame
    sectors: dict[str, int]
    scale: float
    oracle_sharpe: float


def synthetic_universe(cfg: SyntheticConfig, seed: int = 0) -> SyntheticUniverse:
    """The universe of ``cfg`` (``n_symbols`` stocks), deterministic per seed."""
    n, u = int(cfg.n_symbols or 2), cfg.universe
    dates = synthetic_sessions(cfg.start, cfg.n_days)
    rng = np.random.default_rng([seed, 17])
    t_len = len(dates)
    noise = _Noise(
        market=_student(rng, cfg.tail_df, (t_len,)),
        sector=rng.standard_normal((t_len, u.sectors)),
        idio=_student(rng, cfg.tail_df, (t_len, n)),
    )
    sector = rng.integers(0, u.sectors, n)
    beta = rng.uniform(u.beta[0], u.beta[1], n)
    trading = _trading_mask(rng, t_len, n, u)
    kernel = pattern_kernel(cfg.pattern, cfg.lookback)
    planted = cfg.pattern != "none" and u.oracle_sharpe > 0
    scale, realised = 0.0, 0.0
    path = _simulate(cfg, noise, sector, beta, trading, kernel, 0.0)
    if planted:
        scale = 0.1
        for _ in range(_SCALE_STEPS):  # the Sharpe is nearly linear in the scale
            path = _simulate(cfg, noise, sector, beta, trading, kernel, scale)
            realised = _oracle_sharpe(path.drift, path.returns, trading)
            if realised <= 0:
                break
            scale *= u.oracle_sharpe / realised
        path = _simulate(cfg, noise, sector, beta, trading, kernel, scale)
        realised = _oracle_sharpe(path.drift, path.returns, trading)
    names = [f"S{i:03d}" for i in range(n)]
    frames = {
        name: _frame(path.log_close[:, i], path.sigma[:, i], trading[:, i], dates, rng)
        for i, name in enumerate(names)
    }
    drift = pd.DataFrame(np.where(trading, path.drift, np.nan), index=dates, columns=names)
    return SyntheticUniverse(
        frames=frames,
        drift=drift,
        sectors=dict(zip(names, sector.tolist(), strict=True)),
        scale=float(scale),
        oracle_sharpe=float(realised),
    )


@dataclass(frozen=True)
class _Noise:
    market: np.ndarray  # (T,) unit-variance innovations
    sector: np.ndarray  # (T, G)
    idio: np.ndarray  # (T, N)


@dataclass(frozen=True)
class _Path:
    log_close: np.ndarray  # (T, N)
    sigma: np.ndarray  # (T, N) idiosyncratic volatility known before the day
    drift: np.ndarray  # (T, N) planted drift mu
    returns: np.ndarray  # (T, N) daily log returns


def _student(rng: np.random.Generator, df: float, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_t(df, size=shape) * np.sqrt((df - 2) / df)


def _trading_mask(
    rng: np.random.Generator, t_len: int, n: int, cfg: SyntheticUniverseConfig
) -> np.ndarray:
    """(T, N) True where a stock has a bar: after its listing, before its delisting,
    outside its suspension, and not a randomly missing session."""
    late = rng.random(n) < cfg.late_listings
    first = np.where(late, rng.integers(1, max(2, int(0.6 * t_len)), n), 0)
    gone = rng.random(n) < cfg.delistings
    last = np.where(gone, rng.integers(int(0.7 * t_len), t_len, n), t_len)
    day = np.arange(t_len)[:, None]
    mask = (day >= first) & (day < last)
    paused = rng.random(n) < cfg.suspensions
    p_start = rng.integers(0, t_len, n)
    p_len = rng.integers(5, 61, n)
    mask &= ~(paused & (day >= p_start) & (day < p_start + p_len))
    mask &= rng.random((t_len, n)) >= cfg.missing
    return mask


def _simulate(
    cfg: SyntheticConfig,
    noise: _Noise,
    sector: np.ndarray,
    beta: np.ndarray,
    trading: np.ndarray,
    kernel: np.ndarray,
    scale: float,
) -> _Path:
    """The universe's log closes for drift scale ``scale``; a loop over days (each
    drift reads the closes so far), vectorised over the stocks."""
    u = cfg.universe
    t_len, n = noise.idio.shape
    alpha, b = cfg.garch
    m_omega = cfg.daily_vol**2 * (1 - alpha - b)
    i_omega = u.idio_vol**2 * (1 - alpha - b)
    m_var, i_var = cfg.daily_vol**2, np.full(n, u.idio_vol**2)
    m_prev, e_prev = 0.0, np.zeros(n)
    log_close = np.zeros((t_len, n))
    sigma, drift, returns = np.empty((t_len, n)), np.zeros((t_len, n)), np.zeros((t_len, n))
    k = len(kernel)
    for t in range(1, t_len):
        m_var = m_omega + alpha * m_prev**2 + b * m_var
        i_var = i_omega + alpha * e_prev**2 + b * i_var
        sigma[t] = np.sqrt(i_var)
        if scale and t > k:
            mu = scale * sigma[t] * _standardised(kernel @ log_close[t - k : t], trading[t])
            live = trading[t]
            drift[t] = np.where(live, mu - (mu[live].mean() if live.any() else 0.0), 0.0)
        m_prev = float(np.sqrt(m_var) * noise.market[t])
        e_prev = sigma[t] * noise.idio[t]
        sec = u.sector_vol * noise.sector[t, sector]
        returns[t] = cfg.drift + beta * m_prev + sec + e_prev + drift[t]
        log_close[t] = log_close[t - 1] + returns[t]
    sigma[0] = u.idio_vol
    return _Path(log_close, sigma, drift, returns)


def _standardised(signal: np.ndarray, trading: np.ndarray) -> np.ndarray:
    """The signal z-scored across the stocks trading today, clipped to +-3; 0 elsewhere."""
    live = signal[trading]
    if live.size < 2 or not live.std() > 0:
        return np.zeros_like(signal)
    z = np.clip((signal - live.mean()) / live.std(), -3.0, 3.0)
    return np.where(trading, z, 0.0)


def _oracle_sharpe(drift: np.ndarray, returns: np.ndarray, trading: np.ndarray) -> float:
    """Annualised Sharpe of the daily top-minus-bottom decile portfolio sorted on the
    planted drift (equal weights, before costs), over the days with >= 2 stocks per side."""
    mu = np.where(trading, drift, np.nan)
    ranks = pd.DataFrame(mu).rank(axis=1, pct=True).to_numpy()
    live = trading.sum(axis=1)
    top, bottom = ranks > 1 - ORACLE_QUANTILE, ranks <= ORACLE_QUANTILE
    ok = (top.sum(1) >= 1) & (bottom.sum(1) >= 1) & (live >= 10) & (np.abs(drift).sum(1) > 0)
    simple = np.expm1(returns)
    with np.errstate(invalid="ignore", divide="ignore"):
        long = (simple * top).sum(1) / top.sum(1)
        short = (simple * bottom).sum(1) / bottom.sum(1)
    ls = (long - short)[ok]
    if len(ls) < 20 or not ls.std() > 0:
        return 0.0
    return float(ls.mean() / ls.std(ddof=1) * np.sqrt(252))


def _frame(
    log_close: np.ndarray,
    sigma: np.ndarray,
    trading: np.ndarray,
    dates: pd.DatetimeIndex,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One stock's canonical frame on its trading days: open near the previous bar's
    close, high / low beyond both, log-normal volume rising with the size of the move."""
    lc = log_close[trading]
    sg = sigma[trading] * 1.3  # the day's whole volatility, roughly
    prev = np.concatenate([[lc[0]], lc[:-1]]) if len(lc) else lc
    log_open = prev + rng.normal(0.0, 0.25, len(lc)) * sg
    up = np.abs(rng.normal(0.0, 0.5, len(lc))) * sg
    down = np.abs(rng.normal(0.0, 0.5, len(lc))) * sg
    base = np.log(rng.uniform(50, 2000))
    move = np.abs(lc - prev)
    volume = np.round(np.exp(14.0 + 20.0 * move + rng.normal(0, 0.3, len(lc))))
    frame = pd.DataFrame(
        {
            "open": np.exp(base + log_open),
            "high": np.exp(base + np.maximum(log_open, lc) + up),
            "low": np.exp(base + np.minimum(log_open, lc) - down),
            "close": np.exp(base + lc),
            "volume": volume,
        },
        index=dates[trading],
    )
    return canonical_frame(frame)
