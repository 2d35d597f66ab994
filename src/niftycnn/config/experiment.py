"""An experiment: the stage tables of one TOML file, validated together on load.

A problem is a :class:`ConfigError` that names the file, the key and what is allowed::

    experiments/x.toml: [train] epochs = -3: Input should be greater than 0

This module knows the tables only; the checks that need the stages (does the network fit
the windows, does each baseline fit the head and the features) are in
``niftycnn.workflow.plan``. The validated experiment is frozen; ``resolved_dict`` is the
full config with defaults filled in, which the run directory stores (as TOML, written by
tomli-w) so a run can be repeated exactly.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pydantic
import tomli_w
from pydantic import BaseModel, Field, model_validator

from niftycnn.config.tables import (
    BacktestConfig,
    BaselinesConfig,
    DataConfig,
    FiltersConfig,
    LabelsConfig,
    ModelConfig,
    SweepConfig,
    Table,
    TrainConfig,
    WalkForwardConfig,
    WindowsConfig,
)
from niftycnn.errors import ConfigError


class Experiment(Table):
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
    def _classes_agree(self) -> Experiment:
        n, k = self.model.n_classes, self.labels.classes
        if n is not None and n != k:
            raise ValueError(
                f"[model] n_classes = {n} but [labels] classes = {k}; the network predicts "
                "the label's classes: set one of them (or both) to the same count"
            )
        return self

    @property
    def n_classes(self) -> int:
        """The label's class count, which is also the classification head's width."""
        return self.labels.classes

    def resolved_dict(self) -> dict[str, Any]:
        """The full config, defaults filled in, as TOML-friendly plain data."""
        return _drop_none(self.model_dump(mode="json"))

    def with_overrides(self, **tables: dict[str, Any]) -> Experiment:
        """A copy with some keys replaced, e.g. ``with_overrides(data={"source": "csv"})``;
        validated like a file."""
        return parse_experiment(_merge(self.resolved_dict(), tables), origin="overrides")


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied key by key, nested tables merged, not replaced."""
    out = dict(base)
    for key, value in changes.items():
        nested = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if nested else value
    return out


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
    return experiment


def read_experiment(path: str | Path) -> Experiment:
    """Read an experiment TOML file and validate its tables (each key, and the keys of
    different tables against each other). Whether its networks fit its windows and its
    baselines its features needs the stages: ``niftycnn.workflow.plan.load_experiment``
    checks that too."""
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
    """Plain config data (``Experiment.resolved_dict()``) as TOML."""
    return tomli_w.dumps(data)
