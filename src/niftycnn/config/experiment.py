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

import re
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any

import pydantic
import tomli_w
from pydantic import AfterValidator, BaseModel, Field, model_validator

from niftycnn.config.base import Table
from niftycnn.config.data import DataConfig
from niftycnn.config.tables import (
    BacktestConfig,
    BaselinesConfig,
    CompareConfig,
    FiltersConfig,
    LabelsConfig,
    ModelConfig,
    SearchConfig,
    SegmentationConfig,
    SweepConfig,
    TrainConfig,
    WalkForwardConfig,
    WindowsConfig,
)
from niftycnn.errors import ConfigError


def _check_name(name: str) -> str:
    """The name is the run's folder under the output root: one plain path component."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}", name):
        raise ValueError(
            "the name is the run's folder: use 1-80 letters, digits, '_', '-' or '.', "
            "not starting with a dot (so not '.' or '..')"
        )
    return name


class Experiment(Table):
    name: Annotated[str, AfterValidator(_check_name)]
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
    search: SearchConfig | None = None
    compare: CompareConfig | None = None
    segmentation: SegmentationConfig | None = None

    @model_validator(mode="after")
    def _segmentation(self) -> Experiment:
        """A per-day head takes its task from ``[segmentation]`` (defaults if absent); the
        table means nothing to another head."""
        per_day = self.model.head == "segmentation"
        if self.segmentation is not None and not per_day:
            raise ValueError(
                f"[segmentation] is the task of a per-day head, but [model] head = "
                f"'{self.model.head}'; set head = 'segmentation' or drop [segmentation]"
            )
        if not per_day:
            return self
        if self.segmentation is None:
            object.__setattr__(self, "segmentation", SegmentationConfig())
        assert self.segmentation is not None
        n, k = self.model.n_classes, self.segmentation.n_classes
        if n is not None and n != k:
            raise ValueError(
                f"[model] n_classes = {n} but [segmentation] task = "
                f"'{self.segmentation.task}' has {k} day classes; drop n_classes or set it to {k}"
            )
        given_tables = (("sweep", self.sweep), ("search", self.search), ("compare", self.compare))
        for table, given in (*given_tables, ("baselines", self.baselines.models)):
            if given is not None:
                raise ValueError(
                    f"[{table}] does not apply to a per-day (segmentation) head: its baseline "
                    f"is the per-day logistic regression; drop [{table}]"
                )
        if self.data.is_universe:
            raise ValueError("a per-day (segmentation) head reads one series; drop the universe")
        return self

    @model_validator(mode="after")
    def _classes_agree(self) -> Experiment:
        n, k = self.model.n_classes, self.labels.classes
        if self.model.head != "segmentation" and n is not None and n != k:
            raise ValueError(
                f"[model] n_classes = {n} but [labels] classes = {k}; the network predicts "
                "the label's classes: set one of them (or both) to the same count"
            )
        return self

    @model_validator(mode="after")
    def _universe_labels(self) -> Experiment:
        """A universe's labels default to a fixed horizon: stocks' options do not expire
        with the index's, so an index expiry is no natural horizon for them. Only a
        ``target`` the file leaves unset changes (it stays unset, so the same file run
        on one series gets the expiry again)."""
        if self.data.is_universe and "target" not in self.labels.model_fields_set:
            labels = self.labels.model_copy(update={"target": "horizon"})
            object.__setattr__(labels, "__pydantic_fields_set__", self.labels.model_fields_set)
            object.__setattr__(self, "labels", labels)
        return self

    @property
    def n_classes(self) -> int:
        """The label's class count, which is also the classification head's width (a
        per-day head: its task's day classes)."""
        if self.segmentation is not None:
            return self.segmentation.n_classes
        return self.labels.classes

    def resolved_dict(self) -> dict[str, Any]:
        """The full config, defaults filled in, as TOML-friendly plain data."""
        return _drop_none(self.model_dump(mode="json"))

    def with_overrides(self, **tables: dict[str, Any]) -> Experiment:
        """A copy with some keys replaced, e.g. ``with_overrides(data={"source": "csv"})``;
        validated like a file. The keys the experiment set are kept, the others take
        their defaults for the new values (a folder of CSVs gets a universe's labels)."""
        given = _drop_none(self.model_dump(mode="json", exclude_unset=True))
        return parse_experiment(_merge(given, tables), origin="overrides")


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


def _field_at(loc: tuple[Any, ...]) -> Any:
    """The pydantic field at ``loc`` (a path of table and key names), or None."""
    model: type[BaseModel] = Experiment
    field = None
    for i, part in enumerate(loc):
        field = model.model_fields.get(str(part))
        if field is None or i == len(loc) - 1:
            break
        annotation = getattr(field, "annotation", None)
        candidates = getattr(annotation, "__args__", (annotation,))
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return field


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` accepts, for an unknown-key message."""
    if len(loc) == 1:
        return list(Experiment.model_fields)
    field = _field_at(loc[:-1])
    annotation = getattr(field, "annotation", None)
    candidates = getattr(annotation, "__args__", (annotation,))
    nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
    return list(nested[0].model_fields) if nested else []


def _fixed_length(loc: tuple[Any, ...]) -> int | None:
    """How many values the array at ``loc`` holds when its type fixes that (``garch``)."""
    field = _field_at(loc)
    annotation = getattr(field, "annotation", None)
    for candidate in getattr(annotation, "__args__", ()) if annotation else ():
        args = typing.get_args(candidate) if typing.get_origin(candidate) is tuple else ()
        if args and Ellipsis not in args:
            return len(args)
    args = typing.get_args(annotation) if typing.get_origin(annotation) is tuple else ()
    return len(args) if args and Ellipsis not in args else None


def _shown(value: Any) -> str:
    """A value as the message shows it: arrays as TOML arrays (``[0.1]``), not tuples."""
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return repr(value)


# Pydantic's words for types, in TOML's: a sequence is an array, a model is a table.
_TYPE_WORDS = (
    (re.compile(r"a valid (tuple|list|set)"), "an array"),
    (re.compile(r"a valid dictionary or instance of \w+"), "a table"),
    (re.compile(r"a valid dictionary"), "a table"),
    (re.compile(r"Tuple should"), "The array should"),
    (re.compile(r"a valid boolean"), "true or false"),
)


def _describe_error(error: Any) -> str:
    full = tuple(error["loc"])
    loc = tuple(p for p in full if not isinstance(p, int))
    table = ".".join(str(p) for p in loc[:-1])
    key = str(loc[-1]) if loc else "(top level)"
    where = f"[{table}] {key}" if table else key
    if full and isinstance(full[-1], int) and loc and error["type"] != "missing":
        where += f"[{full[-1]}]"  # one element of an array: features[1]
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(loc))
        return f"unknown key {where}; allowed keys here: {allowed}"
    if error["type"] in ("missing", "too_long", "too_short") and isinstance(
        error.get("input"), tuple | list
    ):
        n = _fixed_length(loc)
        need = f"an array of {n} values" if n else "another number of values"
        return f"{where} = {_shown(error['input'])}: needs {need}, got {len(error['input'])}"
    if error["type"] == "missing":
        return f"missing required key {where}"
    message = error["msg"].removeprefix("Value error, ")
    for pattern, words in _TYPE_WORDS:
        message = pattern.sub(words, message)
    if isinstance(error.get("input"), dict) and error["type"] != "model_type":
        return f"[{'.'.join(str(p) for p in loc)}]: {message}" if loc else message
    return f"{where} = {_shown(error.get('input'))}: {message}"


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
    if not raw:
        raise ConfigError(
            f"{path} has no keys, so it would run every default; give at least [data] "
            "source (see experiments/ for examples)"
        )
    raw.setdefault("name", path.stem)
    return parse_experiment(raw, origin=str(path))


def to_toml(data: dict[str, Any]) -> str:
    """Plain config data (``Experiment.resolved_dict()``) as TOML."""
    return tomli_w.dumps(data)
