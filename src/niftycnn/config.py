"""Experiment files: one TOML file describes a whole run, validated on load.

Every table and key is declared here with its type, range and default. An unknown key, a
wrong type or an out-of-range value is a :class:`ConfigError` that names the file, the
key and what is allowed, e.g.::

    experiments/x.toml: [train] epochs = -3: must be > 0

The validated config is frozen; ``resolved_dict`` gives the full config with defaults
filled in, which the run directory stores so a run can be repeated exactly.
"""

from __future__ import annotations

import tomllib
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from niftycnn.errors import ConfigError

FEATURES = ("open", "high", "low", "close", "volume", "returns", "range")
BASELINES = ("majority", "mean", "logistic", "ridge", "momentum", "fixed_kernels")


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _check_date(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date") from exc
    return value


class SyntheticConfig(_Table):
    """The offline synthetic market (see ``niftycnn.data.synthetic_ohlcv``)."""

    n_days: int = Field(3000, ge=200, le=20000)
    start: str = "2010-01-01"
    pattern: Literal["none", "momentum", "curvature"] = "momentum"
    strength: float = Field(0.5, ge=0.0, le=5.0)
    lookback: int = Field(5, ge=2, le=60)
    zero_volume_until: str | None = None

    _dates = field_validator("start", "zero_volume_until")(_check_date)


class DataConfig(_Table):
    source: Literal["yahoo", "csv", "synthetic", "cache"] = "synthetic"
    symbol: str = Field("^NSEI", min_length=1)
    path: str | None = None
    start: str | None = None
    end: str | None = None
    cache_dir: str = "data/cache"
    synthetic: SyntheticConfig = SyntheticConfig()

    _dates = field_validator("start", "end")(_check_date)

    @model_validator(mode="after")
    def _csv_needs_path(self) -> DataConfig:
        if self.source == "csv" and not self.path:
            raise ValueError("source = 'csv' needs path = 'file.csv'")
        if self.start and self.end and self.start >= self.end:
            raise ValueError(f"start {self.start} must be before end {self.end}")
        return self


class WindowsConfig(_Table):
    length: int = Field(20, ge=3, le=250)
    features: tuple[Literal[FEATURES], ...] = ("open", "high", "low", "close", "volume")  # type: ignore[valid-type]
    sampling: Literal["daily", "expiry"] = "daily"

    @field_validator("features", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("features")
    @classmethod
    def _non_empty_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one feature")
        if len(set(value)) != len(value):
            raise ValueError(f"features repeat: {list(value)}")
        return value


class LabelsConfig(_Table):
    expiry: Literal["weekly", "monthly"] = "weekly"
    mode: Literal["fixed", "volatility", "quantile"] = "volatility"
    small: float = Field(0.3, gt=0.0)
    large: float = Field(1.0, gt=0.0)
    quantiles: tuple[float, float, float, float] = (0.2, 0.4, 0.6, 0.8)
    vol_window: int = Field(20, ge=5, le=250)

    @field_validator("quantiles", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _ordered(self) -> LabelsConfig:
        if self.small >= self.large:
            raise ValueError(f"small ({self.small}) must be below large ({self.large})")
        q = self.quantiles
        if not (all(0.0 < x < 1.0 for x in q) and all(a < b for a, b in pairwise(q))):
            raise ValueError(f"quantiles must increase strictly inside (0, 1), got {list(q)}")
        return self


class ModelConfig(_Table):
    """Either a preset name or an explicit layer list (see ``niftycnn.models``)."""

    preset: str | None = "q10"
    layers: tuple[dict[str, Any], ...] | None = None
    head: Literal["classification", "regression"] = "classification"
    n_classes: int = Field(5, ge=2, le=20)

    @field_validator("layers", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("layers") is not None:
            if raw.get("preset") is not None:
                raise ValueError("give either preset or layers, not both")
            raw = {**raw, "preset": None}
        return raw


class TrainConfig(_Table):
    epochs: int = Field(30, gt=0, le=1000)
    batch_size: int = Field(128, gt=0, le=65536)
    lr: float = Field(1e-3, gt=0.0, le=1.0)
    weight_decay: float = Field(1e-2, ge=0.0, le=1.0)
    patience: int = Field(5, ge=1, le=1000)
    class_weights: Literal["none", "balanced"] = "none"
    seeds: int = Field(5, gt=0, le=100)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    engine: Literal["batched", "sequential"] = "batched"


class WalkForwardConfig(_Table):
    scheme: Literal["expanding", "rolling"] = "expanding"
    train_size: int = Field(1000, gt=0, description="rolling window length, in samples")
    min_train: int = Field(500, gt=0)
    first_test: str | None = None
    refit: Literal["every", "weekly", "monthly"] = "monthly"
    refit_every: int = Field(21, gt=0)
    embargo: int = Field(0, ge=0)
    validation: float = Field(0.15, ge=0.0, lt=1.0)

    _dates = field_validator("first_test")(_check_date)


class BaselinesConfig(_Table):
    """Baselines trained on the very same folds; by default every one that fits the head."""

    models: tuple[Literal[BASELINES], ...] | None = None  # type: ignore[valid-type]

    @field_validator("models", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


class BacktestConfig(_Table):
    signal: Literal["expected_return", "prob_diff", "class"] = "expected_return"
    sizing: Literal["sign", "scaled"] = "sign"
    scale: float = Field(0.02, gt=0.0, description="return giving a full position if scaled")
    band: float = Field(0.0, ge=0.0)
    long_short: bool = True
    holding: Literal["daily", "expiry"] = "expiry"
    cost_bps: float = Field(5.0, ge=0.0, le=1000.0)
    slippage_bps: float = Field(2.0, ge=0.0, le=1000.0)
    bootstrap: int = Field(1000, ge=0, le=100000)
    permutations: int = Field(1000, ge=0, le=100000)
    block: int = Field(0, ge=0, description="bootstrap block length; 0 = label horizon")


class FiltersConfig(_Table):
    null_draws: int = Field(1000, ge=100, le=100000)
    channel: Literal[FEATURES] = "close"  # type: ignore[valid-type]


class SweepConfig(_Table):
    """A grid over architecture knobs; each point is a full walk-forward run."""

    filters: tuple[int, ...] = (16,)
    kernel: tuple[int, ...] = (3,)
    depth: tuple[int, ...] = (2,)
    dropout: tuple[float, ...] = (0.0,)

    @field_validator("filters", "kernel", "depth", "dropout", mode="before")
    @classmethod
    def _list_to_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("filters", "kernel", "depth")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or min(value) <= 0:
            raise ValueError(f"needs one or more positive integers, got {list(value)}")
        return value

    @field_validator("dropout")
    @classmethod
    def _rates(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or not all(0.0 <= r < 1.0 for r in value):
            raise ValueError(f"needs rates in [0, 1), got {list(value)}")
        return value

    @property
    def size(self) -> int:
        return len(self.filters) * len(self.kernel) * len(self.depth) * len(self.dropout)


class Experiment(_Table):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=80)
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**31)
    data: DataConfig = DataConfig()
    windows: WindowsConfig = WindowsConfig()
    labels: LabelsConfig = LabelsConfig()
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    walkforward: WalkForwardConfig = WalkForwardConfig()
    baselines: BaselinesConfig = BaselinesConfig()
    backtest: BacktestConfig = BacktestConfig()
    filters: FiltersConfig = FiltersConfig()
    sweep: SweepConfig | None = None

    @model_validator(mode="after")
    def _baselines_fit_the_head(self) -> Experiment:
        wrong = {"classification": {"mean"}, "regression": {"majority", "logistic"}}
        bad = sorted(wrong[self.model.head] & set(self.baselines.models or ()))
        if bad:
            other = "classification" if self.model.head == "regression" else "regression"
            raise ValueError(
                f"[baselines] models {bad} only apply to {other} heads; "
                f"use {'mean' if self.model.head == 'regression' else 'majority'} for "
                f"a {self.model.head} head"
            )
        return self

    @property
    def baseline_models(self) -> tuple[str, ...]:
        """The baselines to run: as configured, or every one that fits the head."""
        if self.baselines.models is not None:
            return tuple(self.baselines.models)
        skip = {"classification": "mean", "regression": ("majority", "logistic")}
        return tuple(b for b in BASELINES if b not in skip[self.model.head])

    def architecture(self) -> Any:
        """The network this experiment trains (a ``niftycnn.models.Architecture``)."""
        from niftycnn.models import architecture_from_dict

        table = {k: v for k, v in self.model.model_dump().items() if v is not None}
        if "layers" in table:
            table["layers"] = list(table["layers"])
        return architecture_from_dict(table)

    def resolved_dict(self) -> dict[str, Any]:
        """The full config, defaults filled in, as TOML-friendly plain data."""
        return _drop_none(self.model_dump(mode="json"))

    def with_overrides(self, **tables: dict[str, Any]) -> Experiment:
        """A copy with some keys replaced, e.g. ``with_overrides(data={"source": "csv"})``;
        validated like a file."""
        merged = self.resolved_dict()
        for table, values in tables.items():
            merged[table] = {**merged.get(table, {}), **values}
        return parse_experiment(merged, origin="overrides")


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts, for an unknown-key message."""
    model: type[BaseModel] = Experiment
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        candidates = getattr(annotation, "__args__", (annotation,))
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def _describe_error(error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not isinstance(p, int))
    table = ".".join(str(p) for p in loc[:-1])
    key = str(loc[-1]) if loc else "(top level)"
    where = f"[{table}] {key}" if table else key
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc))
        return f"unknown key {where}; allowed keys here: {allowed}"
    if error["type"] == "missing":
        return f"missing required key {where}"
    message = error["msg"].removeprefix("Value error, ")
    if isinstance(error.get("input"), dict):  # a whole-table check, e.g. start < end
        return f"[{'.'.join(str(p) for p in loc)}]: {message}" if loc else message
    return f"{where} = {error.get('input')!r}: {message}"


def parse_experiment(raw: dict[str, Any], origin: str = "<dict>") -> Experiment:
    """Validate plain data (a parsed TOML file) into a frozen :class:`Experiment`."""
    try:
        experiment = Experiment.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise ConfigError(f"{origin}: {_describe_error(first)}{more}") from None
    _check_architecture(experiment, origin)
    return experiment


def _check_architecture(experiment: Experiment, origin: str) -> None:
    """Reject a network that cannot run on this experiment's windows, before any work."""
    from niftycnn.errors import SpecError
    from niftycnn.models import validate_architecture

    try:
        arch = experiment.architecture()
        validate_architecture(arch, len(experiment.windows.features), experiment.windows.length)
    except SpecError as exc:
        message = str(exc)
        where = "" if message.startswith("[model]") else "[model] "
        raise ConfigError(f"{origin}: {where}{message}") from None


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment TOML file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"experiment file {path} not found; see experiments/ for examples")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax") from None
    raw.setdefault("name", path.stem)
    return parse_experiment(raw, origin=str(path))


def to_toml(data: dict[str, Any]) -> str:
    """Write plain config data as TOML (scalars, lists, nested tables, inline dicts)."""
    lines: list[str] = []
    _emit_table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _emit_table(data: dict[str, Any], prefix: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if prefix:
        lines.append(f"\n[{'.'.join(prefix)}]")
    lines.extend(f"{k} = {_toml_value(v)}" for k, v in scalars.items())
    for key, table in tables.items():
        _emit_table(table, [*prefix, key], lines)
