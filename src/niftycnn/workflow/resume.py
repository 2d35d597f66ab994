"""What a resumed run is held to: the config and the data it started with.

A run directory's ``run.json`` records the command, the complete resolved config and the
data fingerprint when the run starts. Resuming (or re-analysing) reads ``config.toml``
and compares every key with that record, and the freshly loaded data's fingerprint with
the recorded one; anything that differs is refused, naming the keys, before anything in
the directory is touched. Finished folds were computed with the recorded config, so
mixing in another one would give one predictions table with two labellings.
"""

from __future__ import annotations

import tomllib
import warnings
from typing import Any

from niftycnn.config import Experiment, parse_experiment
from niftycnn.data import Provenance
from niftycnn.errors import RunDirError
from niftycnn.files import stale_temp_files
from niftycnn.rundir import RunLayout, read_json
from niftycnn.windows.windows import LOG_PERCENT

_SHOW = 6


def stored_experiment(layout: RunLayout) -> Experiment:
    """The resolved experiment a run directory holds."""
    try:
        raw = tomllib.loads(layout.config.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{layout.config} is not valid TOML ({exc}); restore it") from None
    return parse_experiment(raw, origin=str(layout.config))


def started_with(layout: RunLayout) -> dict[str, Any] | None:
    """The run's ``run.json`` record (None for a run made before runs kept one)."""
    return read_json(layout.run_record) if layout.run_record.is_file() else None


def check_config(layout: RunLayout, experiment: Experiment) -> None:
    """Refuse a ``config.toml`` that differs from the config the run started with."""
    record = started_with(layout)
    if record is None:
        warnings.warn(
            f"{layout.root} has no run.json (an older run): its config.toml cannot be "
            "checked against the config its folds were trained with",
            stacklevel=2,
        )
        return
    # through the tables again, so a key a later version added compares at its default
    recorded = parse_experiment(record["config"], origin=str(layout.run_record))
    diff = config_diff(recorded.resolved_dict(), experiment.resolved_dict())
    if diff:
        shown = "; ".join(diff[:_SHOW]) + (
            f"; +{len(diff) - _SHOW} more" if len(diff) > _SHOW else ""
        )
        raise RunDirError(
            f"{layout.config} differs from the config this run started with ({shown}); "
            f"its folds were trained with the recorded one: restore it, or start a new run "
            f"with the edited file (`niftycnn run {layout.config}`)"
        )


def check_data(layout: RunLayout, provenance: Provenance) -> None:
    """Refuse data whose fingerprint differs from the one the run started with."""
    record = started_with(layout)
    if record is not None:
        recorded = record["data"]
    elif layout.data.is_file():
        recorded = read_json(layout.data)["provenance"]
    else:
        return
    if recorded["sha256"] != provenance.sha256:
        raise RunDirError(
            f"the data changed since {layout.root} started (sha256 {recorded['sha256'][:12]}, "
            f"{recorded['rows']:,} rows to {recorded['last_date']}; now "
            f"{provenance.sha256[:12]}, {provenance.rows:,} rows to {provenance.last_date}); "
            "start a new run"
        )


def check_windows(layout: RunLayout) -> None:
    """Refuse a run whose windows were built in another unit of log changes: a run
    started before windows moved to percent (its ``run.json`` has no ``log_unit``) has
    folds trained on natural-log windows, which no new fold may join."""
    record = started_with(layout)
    if record is None:
        return
    unit = record.get("log_unit", 1.0)
    if unit != LOG_PERCENT:
        raise RunDirError(
            f"{layout.root} was started with windows of log changes x {unit:g}; niftycnn "
            f"now builds them x {LOG_PERCENT:g} (percent), so its finished folds cannot be "
            f"mixed with new ones: start a new run (`niftycnn run {layout.config}`)"
        )


def remove_stale_temps(layout: RunLayout) -> None:
    """Delete the temporary files an interrupted write left in the run (with a warning)."""
    stale = stale_temp_files(layout.root)
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        names = ", ".join(str(p.relative_to(layout.root)) for p in stale[:_SHOW])
        warnings.warn(
            f"removed {len(stale)} temporary file(s) an interrupted write left: {names}",
            stacklevel=2,
        )


def config_diff(before: dict[str, Any], after: dict[str, Any], table: str = "") -> list[str]:
    """``[table] key: old -> new`` for every key whose value differs (nested tables
    walked key by key; a key only one side has counts as differing)."""
    out = []
    for key in sorted(set(before) | set(after), key=lambda k: (isinstance(before.get(k), dict), k)):
        old, new = before.get(key, "(unset)"), after.get(key, "(unset)")
        if isinstance(old, dict) and isinstance(new, dict):
            out += config_diff(old, new, f"{table}.{key}" if table else key)
        elif old != new:
            where = f"[{table}] {key}" if table else key
            out.append(f"{where}: {_show(old)} -> {_show(new)}")
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
