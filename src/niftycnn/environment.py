"""What a run records to be reproduced (``environment.json``): package versions, the git
commit, platform, seed, device and command line."""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("niftycnn", "numpy", "pandas", "torch", "scikit-learn", "scipy", "yfinance")


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
