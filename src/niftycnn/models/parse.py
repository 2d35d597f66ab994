"""Layer specs from an experiment file's ``layers = [{type = "conv", ...}, ...]`` tables.

Each table is validated into its spec class (``niftycnn.models.spec``) by a pydantic
``TypeAdapter``: known fields, values of the right type, strictly (``true`` is not an
integer); a problem is one ``SpecError`` line naming the layer, the field and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from functools import cache
from typing import Any

import pydantic
from pydantic import TypeAdapter

from niftycnn.errors import SpecError
from niftycnn.models.spec import LAYER_TYPES, LayerSpec

_TYPE_ALIASES = {
    "global_avg_pool": "gap",
    "globalavgpool": "gap",
    "linear": "dense",
    "batchnorm": "batch_norm",
    "bn": "batch_norm",
    "last_step": "last",
}
_NESTED = {"block": "layers", "parallel": "branches"}  # fields that hold layer tables


@cache
def _adapter(cls: type) -> TypeAdapter[Any]:
    return TypeAdapter(cls)


def _field_problem(where: str, name: str, errors: list[Any], table: Mapping[str, Any]) -> str:
    """One line for the pydantic errors of one field (a union gives one error per arm)."""
    kind = errors[0]["type"]
    if kind == "unexpected_keyword_argument":
        return f"{where}: unknown field {name!r}; valid fields: {', '.join(_field_names(where))}"
    if kind == "missing":
        return f"{where}: missing required field {name!r}"
    expected = " or ".join(dict.fromkeys(e["msg"].removeprefix("Input should be ") for e in errors))
    return f"{where}: {name} {table[name]!r} is not valid; expected {expected}"


def _field_names(where: str) -> list[str]:
    kind = where.rsplit("(", 1)[1].rstrip(")")
    return [f.name for f in fields(LAYER_TYPES[kind])]


def _nested(where: str, kind: str, value: Any) -> tuple[Any, ...]:
    """The parsed layers of a block (``layers``) or the branches of a parallel layer."""
    field_name = _NESTED[kind]
    lists = value if kind == "parallel" else [value]
    if isinstance(lists, (str, bytes, Mapping)) or not isinstance(lists, Sequence):
        raise SpecError(f"{where}: {field_name} must be a list of lists of layer tables")
    parsed = []
    for b, tables in enumerate(lists):
        inner = f"{where} > branch {b}" if kind == "parallel" else where
        if isinstance(tables, (str, bytes, Mapping)) or not isinstance(tables, Sequence):
            raise SpecError(f"{inner}: expected a list of layer tables, got {tables!r}")
        parsed.append(tuple(parse_layer(i, t, f"{inner} > ") for i, t in enumerate(tables)))
    return tuple(parsed) if kind == "parallel" else parsed[0]


def parse_layer(index: int, table: Mapping[str, Any], within: str = "") -> LayerSpec:
    """One layer spec from one ``{type = "conv", filters = 16, ...}`` table (``within``:
    the enclosing block's location, for messages about nested layers)."""
    here = f"{within}layer {index}"
    if not isinstance(table, Mapping):
        raise SpecError(f"{here}: expected a table like {{type = 'conv', ...}}, got {table!r}")
    if "type" not in table:
        raise SpecError(f"{here}: missing 'type'; valid types: {', '.join(LAYER_TYPES)}")
    raw_type = str(table["type"]).lower()
    kind = _TYPE_ALIASES.get(raw_type, raw_type)
    if kind not in LAYER_TYPES:
        raise SpecError(
            f"{here}: unknown layer type {table['type']!r}; valid types: {', '.join(LAYER_TYPES)}"
        )
    values = {k: v for k, v in table.items() if k != "type"}
    where = f"{here} ({kind})"
    if kind in _NESTED and _NESTED[kind] in values:
        values[_NESTED[kind]] = _nested(where, kind, values[_NESTED[kind]])
    try:
        spec: LayerSpec = _adapter(LAYER_TYPES[kind]).validate_python(values)
    except pydantic.ValidationError as exc:
        # an unknown field first: a typo ("kernal") explains the missing field that follows
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "unexpected_keyword_argument")
        name = errors[0]["loc"][0]
        same = [e for e in errors if e["loc"][0] == name]
        raise SpecError(_field_problem(where, str(name), same, values)) from None
    return spec


def parse_layers(tables: Sequence[Mapping[str, Any]]) -> tuple[LayerSpec, ...]:
    """Layer specs from an experiment file's ``layers = [{type = ...}, ...]`` list."""
    if isinstance(tables, (str, bytes, Mapping)) or not isinstance(tables, Sequence):
        raise SpecError(f"layers must be a list of tables, got {type(tables).__name__}")
    return tuple(parse_layer(i, t) for i, t in enumerate(tables))
