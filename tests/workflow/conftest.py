"""Shared runs for the workflow's integrity tests, finished once and copied by each test
before it breaks them: the tiny experiment (4 folds, one seed, one epoch) with its
filter analysis and progress output, and a quicker variant whose 2-tap first layer skips
the filter analysis (for tests that resume many times)."""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from niftycnn.cli import main
from tests.workflow.corpus import tiny


@dataclass(frozen=True)
class FinishedRun:
    root: Path
    experiment: Path
    out: str  # what the run printed
    err: str

    def copy(self, tmp_path: Path) -> Path:
        """A private copy of the run directory (same name: reports/<name>/<stamp>)."""
        target = tmp_path / "reports" / self.root.parent.name / self.root.name
        shutil.copytree(self.root, target)
        return target

    @property
    def predictions(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / "predictions.parquet")


def run_dir_from(out: str) -> Path:
    """The directory a run printed first (``run directory: ...``)."""
    first = out.splitlines()[0]
    assert first.startswith("run directory: "), out
    return Path(first.removeprefix("run directory: "))


# padding 0, not "valid": walkforward/batched.py (rewritten elsewhere) reads "valid" as a number
QUICK_LAYERS = [{"type": "conv", "filters": 4, "kernel": 2, "padding": 0}, {"type": "gap"}]


def _finish(folder: Path, body: str, *flags: str) -> FinishedRun:
    experiment = folder / "tiny.toml"
    experiment.write_text(body)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["run", str(experiment), "--out", str(folder / "reports"), *flags]) == 0
    return FinishedRun(run_dir_from(out.getvalue()), experiment, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    """The tiny experiment, run to the end with progress output on (not ``--quiet``)."""
    return _finish(tmp_path_factory.mktemp("integrity"), tiny())


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> FinishedRun:
    """The tiny experiment with a 2-tap first layer (no filter analysis), quietly."""
    body = tiny(model={"layers": QUICK_LAYERS})
    return _finish(tmp_path_factory.mktemp("quick"), body, "--quiet")
