"""The base of every config table: frozen, strict, no unknown keys; TOML arrays and dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict


class Table(BaseModel):
    """Base of every table: frozen, strict, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _check_date(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    try:
        date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a YYYY-MM-DD date") from exc
    return value


# A TOML array read into a tuple (the tables are frozen, so their sequences are too).
Array = BeforeValidator(_as_tuple)
Date = Annotated[str | None, AfterValidator(_check_date)]
