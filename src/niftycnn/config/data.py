"""The ``[data]`` tables: the source (one series or a universe), the synthetic market
and universe, and the data checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from niftycnn.config.base import Array, Date, Table, _check_date


class SyntheticUniverseConfig(Table):
    """The stocks of a synthetic universe (``[data.synthetic] n_symbols``; see
    ``niftycnn.data.synthetic_universe``). The market factor is the single-series market
    of ``[data.synthetic]`` (its ``daily_vol``, ``garch``, ``tail_df``, ``drift``).

    Each stock's daily log return is beta x market + a sector factor + idiosyncratic
    GARCH(1, 1) Student-t noise + the planted cross-sectional drift. The planted drift is
    ``[data.synthetic] pattern`` (momentum / curvature over ``lookback`` days of the
    stock's own log close), standardised across the stocks listed that day, times the
    stock's idiosyncratic volatility and a scale solved so that an oracle (long the top
    decile of the planted drift, short the bottom decile, equal weights, rebalanced every
    day, before costs) earns an annualised Sharpe of ``oracle_sharpe``; the realised value
    is recorded. ``oracle_sharpe = 0`` (or pattern "none") plants nothing.
    """

    oracle_sharpe: float = Field(2.0, ge=0.0, le=20.0)
    sectors: int = Field(5, ge=1, le=100)
    idio_vol: float = Field(0.015, gt=0.0, le=0.2, description="daily idiosyncratic volatility")
    sector_vol: float = Field(0.006, ge=0.0, le=0.2, description="daily sector-factor volatility")
    beta: Annotated[tuple[float, float], Array] = (0.7, 1.3)
    late_listings: float = Field(0.3, ge=0.0, le=1.0, description="share listed after day 1")
    delistings: float = Field(0.1, ge=0.0, le=1.0, description="share that stop trading early")
    suspensions: float = Field(0.2, ge=0.0, le=1.0, description="share with one suspension")
    missing: float = Field(0.002, ge=0.0, le=0.2, description="chance a session is missing")

    @model_validator(mode="after")
    def _beta_range(self) -> SyntheticUniverseConfig:
        if not 0.0 <= self.beta[0] <= self.beta[1] <= 5.0:
            raise ValueError(f"beta {list(self.beta)} needs 0 <= low <= high <= 5")
        return self


class SyntheticConfig(Table):
    """The synthetic market (see ``niftycnn.data.synthetic_ohlcv``): GARCH(1, 1) returns
    with Student-t innovations, calibrated to an index's stylised facts, and an optional
    planted drift pattern. With ``n_symbols`` it is the market factor of a universe of
    that many stocks (``[data.synthetic.universe]``).

    ``oracle_sharpe`` states the pattern's strength as what it is worth: the annualised
    Sharpe ratio, before costs, of trading the sign of the planted drift with perfect
    knowledge of it. The generator solves for the drift's scale that gives this value on
    the simulated path and records the realised one. ``pattern = "none"`` plants nothing
    (``oracle_sharpe`` is then ignored). ``lookback``: the pattern's taps, ending at the
    day before the drift; ``channel``: the series the kernel reads (log close, log volume
    or the log high/low range).
    """

    n_days: int = Field(3000, ge=30, le=20000)
    start: Annotated[str, AfterValidator(_check_date)] = "2010-01-01"
    pattern: Literal["none", "momentum", "curvature"] = "momentum"
    oracle_sharpe: float = Field(2.0, ge=0.0, le=10.0)
    lookback: int = Field(5, ge=2, le=60)
    channel: Literal["close", "volume", "range"] = "close"
    daily_vol: float = Field(0.009, gt=0.0, le=0.2)
    garch: Annotated[tuple[float, float], Array] = (0.06, 0.91)
    tail_df: float = Field(5.0, gt=4.0, le=1000.0)
    drift: float = Field(0.00025, ge=-0.01, le=0.01)
    start_price: float = Field(5000.0, gt=0.0)
    zero_volume_until: Date = None
    n_symbols: int | None = Field(None, ge=2, le=5000)
    universe: SyntheticUniverseConfig = SyntheticUniverseConfig()

    @model_validator(mode="after")
    def _stationary(self) -> SyntheticConfig:
        alpha, beta = self.garch
        if not (alpha >= 0 and beta >= 0 and alpha + beta < 1):
            raise ValueError(
                f"garch {list(self.garch)} is not stationary; need a, b >= 0, a + b < 1"
            )
        return self

    @property
    def planted(self) -> bool:
        """Whether the (single-series) market carries a pattern."""
        return self.pattern != "none" and self.oracle_sharpe > 0


class DataChecksConfig(Table):
    """What the data check does beyond the fatal errors (``niftycnn.data.plausibility``).

    Implausible bars: a close-to-close move beyond ``max_move``; a bar more than
    ``max_spike`` away from both neighbours that reverts the next day; a flat bar
    (open = high = low = close) with zero volume on an exchange session; a last bar
    captured before the session closed. Unset thresholds suit the asset: an index
    (a symbol starting with ``^``, or the synthetic market) 0.25 / 0.10, a stock
    0.50 / 0.20. They are warnings unless ``strict``. ``drop_missing`` drops rows with
    missing prices (listed in a warning) instead of refusing the file; ``drop_stale``
    drops the flat zero-volume bars on sessions (filled bars, not trades: a stock's
    history before it listed is often filled so), with a warning counting them.
    """

    max_move: float | None = Field(None, gt=0.0)
    max_spike: float | None = Field(None, gt=0.0)
    strict: bool = False
    drop_missing: bool = False
    drop_stale: bool = False


Universe = Literal["nifty50"]


class DataConfig(Table):
    """Where the bars come from: one series (``symbol``, or ``path`` a CSV file), or a
    universe of many (``niftycnn.data.load_universe``): ``symbols`` (Yahoo or the cache),
    ``universe`` (a shipped, dated constituent list: ``niftycnn.data.universes``),
    ``path`` a folder of one CSV per symbol (the file's stem is the symbol; ``symbols``,
    if given, picks files), or ``[data.synthetic] n_symbols``.

    ``market``: the series of the ``market`` window feature: ``"equal_weight"`` (the
    universe's own equal-weight index: each day the mean log return of the symbols
    trading that day and the day before), a CSV file, or a symbol read like ``symbol``.
    """

    source: Literal["yahoo", "csv", "synthetic", "cache"] = "synthetic"
    symbol: str = Field("^NSEI", min_length=1)
    symbols: Annotated[tuple[str, ...] | None, Array] = None
    universe: Universe | None = None
    path: str | None = None
    market: str | None = Field(None, min_length=1)
    start: Date = None
    end: Date = None
    cache_dir: str = "data/cache"
    synthetic: SyntheticConfig = SyntheticConfig()
    checks: DataChecksConfig = DataChecksConfig()

    @model_validator(mode="after")
    def _csv_needs_path(self) -> DataConfig:
        if self.source == "csv" and not self.path:
            raise ValueError("source = 'csv' needs path = 'file.csv' (or a folder of CSVs)")
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        if self.symbols is not None:
            if not self.symbols or len(set(self.symbols)) != len(self.symbols):
                raise ValueError(f"symbols needs distinct names, got {list(self.symbols)}")
            if self.universe is not None:
                raise ValueError("give either symbols or universe, not both")
        if (self.symbols or self.universe) and self.source == "synthetic":
            raise ValueError(
                "symbols / universe name real stocks; use source = 'yahoo', 'cache' or "
                "'csv' (a folder), or [data.synthetic] n_symbols for a synthetic universe"
            )
        if self.market == "equal_weight" and not self.is_universe:
            raise ValueError(
                "market = 'equal_weight' is the universe's own index; it needs "
                "a universe (symbols, universe, a folder or n_symbols)"
            )
        return self

    @property
    def is_universe(self) -> bool:
        """Many symbols in one study (see the class docstring)."""
        if self.source == "synthetic":
            return self.synthetic.n_symbols is not None
        if self.symbols or self.universe:
            return True
        return self.source == "csv" and self.path is not None and Path(self.path).is_dir()
