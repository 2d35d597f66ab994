"""Helpers for tests that drive the command line: run ``main`` in-process, check the
one-line error contract, and fingerprint folders (sha256 of every file) so a test can
say a failing command left the cache and any run directory byte-identical."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from niftycnn.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """``niftycnn ARGV`` in-process: exit status, stdout, stderr."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def tree_digest(*folders: Path) -> dict[str, str]:
    """sha256 of every file under ``folders`` (keyed by path); absent folders are empty."""
    out = {}
    for folder in folders:
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def assert_one_error(result: Result, fragment: str, after_warnings: bool = False) -> None:
    """Exit status 2, stderr one line ``error: ...`` holding ``fragment``, no traceback
    (``after_warnings``: that line may follow one-line ``warning: ...`` lines)."""
    assert result.code == 2, (result.code, result.err)
    lines = result.err.splitlines()
    if after_warnings:
        assert all(line.startswith("warning: ") for line in lines[:-1]), result.err
        lines = lines[-1:]
    assert len(lines) == 1 and result.err.endswith("\n"), result.err
    assert lines[0].startswith("error: "), result.err
    assert "Traceback" not in result.err
    assert fragment in lines[0], f"{fragment!r} not in {result.err!r}"


def warning_lines(err: str) -> list[str]:
    """The ``warning: ...`` lines of stderr."""
    return [line for line in err.splitlines() if line.startswith("warning: ")]
