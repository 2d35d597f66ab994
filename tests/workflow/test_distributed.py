"""A sweep on a local Ray instance (2 CPUs, shared by the module's tests): the same
``sweep.csv`` and returns as the in-process sweep, a point whose worker dies mid-run is
retried and finishes, a point that keeps dying is reported while the finished points
are kept, and resuming runs only the unfinished point."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest

from niftycnn.cli import main
from niftycnn.workflow.engine import FAULT_ENV
from tests.workflow.corpus import tiny

pytestmark = pytest.mark.slow
import ray  # noqa: E402  (niftycnn[dev] installs the ray extra)

SWEEP = {"filters": [2, 4], "kernel": [2, 3], "depth": [1], "dropout": [0.0]}
KILLED = "f4_k2_d1_p0"


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text(tiny(sweep=SWEEP))
    return path


def _sweep(*args: str) -> tuple[int, Path | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["sweep", *args])
    lines = [x for x in out.getvalue().splitlines() if x.startswith("sweep directory: ")]
    root = Path(lines[0].removeprefix("sweep directory: ")) if lines else None
    return status, root, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def in_process(experiment: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    status, root, _, err = _sweep(str(experiment), "--out", str(tmp_path_factory.mktemp("a")))
    assert status == 0, err
    assert root is not None
    return root


def _returns(root: Path) -> pd.DataFrame:
    return pd.DataFrame(
        {p.name: pd.read_parquet(p / "returns.parquet")["cnn"] for p in (root / "points").iterdir()}
    )


def test_a_ray_sweep_retries_a_killed_point_and_matches_the_in_process_sweep(
    local_ray, experiment: Path, in_process: Path, tmp_path: Path, monkeypatch
) -> None:
    marker = tmp_path / "killed"
    monkeypatch.setenv(FAULT_ENV, f"{KILLED}:{marker}")
    status, root, out, err = _sweep(str(experiment), "--out", str(tmp_path), "--engine", "ray")
    assert status == 0, err
    assert root is not None
    assert marker.read_text().startswith(f"{KILLED} killed after fold")  # it did die once
    assert (root / "sweep.csv").read_bytes() == (in_process / "sweep.csv").read_bytes()
    pd.testing.assert_frame_equal(_returns(root), _returns(in_process), check_exact=True)
    assert "(4/4)" in out


def test_a_point_that_keeps_failing_is_reported_and_resume_runs_only_it(
    local_ray, experiment: Path, in_process: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv(FAULT_ENV, KILLED)  # no marker: its worker dies on every attempt
    status, root, _, err = _sweep(str(experiment), "--out", str(tmp_path), "--engine", "ray")
    assert status == 2
    assert root is not None
    assert f"1 of 4 points failed after 1 retry ({KILLED}:" in err
    assert f"niftycnn sweep --resume {root} --engine ray" in err
    done = sorted(p.parent.name for p in root.glob("points/*/result.json"))
    assert done == sorted({"f2_k2_d1_p0", "f2_k3_d1_p0", "f4_k3_d1_p0"})
    kept = {p: p.stat().st_mtime_ns for p in root.glob("points/*/folds/*/predictions.parquet")}
    monkeypatch.delenv(FAULT_ENV)
    status, again, out, err = _sweep("--resume", str(root), "--engine", "ray")
    assert status == 0, err
    assert again == root
    assert f"points: {KILLED} done (1/1)" in out  # the finished points were not sent again
    assert all(p.stat().st_mtime_ns == t for p, t in kept.items())
    assert (root / "sweep.csv").read_bytes() == (in_process / "sweep.csv").read_bytes()


def test_a_search_on_ray_asks_and_scores_the_same_trials_as_in_process(
    local_ray, tmp_path: Path
) -> None:
    # dropout > 0: the batched engine's dropout masks are seeded, not the process's RNG
    body = tiny(search={"trials": 3, "parallel": 2, "filters": [2, 4], "kernel": [2, 3]})
    experiment = tmp_path / "search.toml"
    experiment.write_text(body)
    roots = []
    for engine in ("local", "ray"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            args = [str(experiment), "--out", str(tmp_path / engine), "--engine", engine]
            assert main(["search", *args, "--quiet"]) == 0
        roots.append(Path(out.getvalue().splitlines()[0].split(": ", 1)[1]))
    local, on_ray = roots
    assert pd.read_csv(local / "search.csv").dropout.gt(0).any()
    for name in ("search.csv", "metrics/overfitting.csv", "metrics/summary.csv"):
        assert (on_ray / name).read_bytes() == (local / name).read_bytes(), name
