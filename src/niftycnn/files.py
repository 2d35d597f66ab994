"""Writing files so that a crash never leaves half of one: the one atomic writer.

``atomic_write(path, write)`` calls ``write(tmp)`` on a temporary file beside ``path``,
flushes it to disk (fsync), gives it the permissions a plain ``open`` would (the umask's),
and moves it into place with ``os.replace``: a reader sees the old file or the new one,
never a mix. Run directories and the data cache both write through it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` atomically through ``write(tmp)`` (see the module docstring)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def stale_temp_files(folder: Path) -> list[Path]:
    """Temporary files an interrupted ``atomic_write`` left in ``folder`` (and below)."""
    return sorted(folder.rglob(f".*{TEMP_SUFFIX}")) if folder.is_dir() else []
