"""The run directory: the contract between computing a run and reporting on it.

``reports/<experiment>/<timestamp>/`` holds everything a report needs, as plain files
(TOML, JSON, CSV, Parquet, NumPy); a report is rendered from these files alone. Every
file is written atomically (temp file + ``os.replace``) so an interrupted run never
leaves a half-written artefact, and ``--resume`` can trust whatever is there.

Layout::

    config.toml         resolved experiment (defaults filled in)
    data.json           data fingerprint (source, symbol, sha256, date range) + check
    environment.json    package versions, git commit, python, device, seed, command
    architecture.json   per-layer summary of the network
    labels.csv          label distribution of the labelled windows
    splits.csv          walk-forward folds (train / validation / test date ranges)
    folds/              per-fold artefacts written by the walk-forward (resume)
    predictions.parquet out-of-sample predictions, every model
    metrics/            summary, per-fold, per-year, significance, equity curves
    filters/            filter analysis tables
    weights/            final first-layer and full weights (no pickled objects)
    timings.json        wall time per stage
    report.html, report.md, figures/
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from niftycnn.errors import RunDirError

PACKAGES = ("niftycnn", "numpy", "pandas", "torch", "scikit-learn", "scipy", "yfinance")


def new_run_dir(root: str | Path, experiment: str, now: datetime | None = None) -> Path:
    """Create ``root/experiment/<UTC timestamp>/`` (suffixing -2, -3 ... on a clash)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    base = Path(root) / experiment
    base.mkdir(parents=True, exist_ok=True)
    path, n = base / stamp, 1
    while True:
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1
            path = base / f"{stamp}-{n}"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temp file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; run files are for sharing
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_csv(path: Path, frame: pd.DataFrame, index: bool = True) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=index))


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_parquet(tmp))


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirError(
            f"{path} is missing; is {path.parent} a finished niftycnn run directory?"
        ) from None
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path} is not valid JSON ({exc}); re-run the experiment") from None


def require_run_dir(path: str | Path) -> Path:
    """Check that ``path`` looks like a run directory (has its resolved config)."""
    path = Path(path)
    if not path.is_dir():
        raise RunDirError(f"run directory {path} not found; pass reports/<experiment>/<time>/")
    if not (path / "config.toml").is_file():
        raise RunDirError(
            f"{path} has no config.toml, so it is not a niftycnn run directory; "
            "pass reports/<experiment>/<time>/"
        )
    return path


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parent,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def environment(seed: int, device: str, command: list[str] | None = None) -> dict[str, Any]:
    """What is needed to reproduce a run: versions, commit, platform, seed, device."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "packages": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
        "seed": seed,
        "device": device,
        "command": command or [],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
