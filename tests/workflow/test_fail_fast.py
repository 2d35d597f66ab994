"""Fail fast, write nothing: every invalid experiment of the corpus is one line at the
command line, in the plan, before any training; the run directory is created only after
the plan passes, and always inside the output root (issue cases 6, 7 and 8)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from niftycnn.errors import RunDirError
from niftycnn.rundir import new_run_dir
from tests.cli_helpers import assert_one_error, cli, tree_digest
from tests.test_config import BAD_FILES
from tests.workflow.corpus import CONFIG_CASES, PLAN_CASES, tiny
from tests.workflow.test_plan import BAD_FILES as PLAN_BAD_FILES

CORPUS = CONFIG_CASES + PLAN_CASES


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """An output root that already holds an earlier run (which must stay as it is)."""
    earlier = tmp_path / "reports" / "earlier" / "20240101T000000Z"
    earlier.mkdir(parents=True)
    (earlier / "config.toml").write_text('name = "earlier"\n')
    return tmp_path / "reports"


@pytest.mark.parametrize(("name", "body", "fragment"), CORPUS, ids=[c[0] for c in CORPUS])
def test_an_invalid_experiment_is_one_error_line_and_writes_nothing(
    tmp_path, reports, capsys, name, body, fragment
):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    before = tree_digest(reports)
    result = cli(["run", path, "--out", reports, "--quiet"], capsys)
    assert_one_error(result, fragment)
    assert str(path) in result.err
    assert tree_digest(reports) == before
    assert sorted(p.name for p in reports.iterdir()) == ["earlier"]


def test_the_corpus_holds_40_new_files_each_with_its_own_message():
    fragments = [c[2] for c in CORPUS]
    assert len(CORPUS) >= 40 and len(set(fragments)) == len(fragments)
    earlier = {body for body, _ in BAD_FILES} | {body for body, _ in PLAN_BAD_FILES}
    assert not earlier & {c[1] for c in CORPUS}


# The configs of issue case 6, which validated but failed only after the walk-forward.
LATE = {
    "kernel 25 on 20-day windows": (
        tiny(model={"layers": [{"type": "conv", "filters": 4, "kernel": 25, "padding": "same"}]}),
        "[model] layer 0 (conv): kernel 25 (span 25) is longer than its 20-day input",
    ),
    "windows of length 3": (tiny(windows={"length": 3}), "[windows] length"),
    "first_test after the data": (
        tiny(walkforward={"first_test": "2030-01-01"}),
        "[walkforward] first_test = '2030-01-01' is after the data's last window (620 windows "
        "end from 2019-04-02 to 2021-10-06)",
    ),
    "class counts differ": (
        tiny(labels={"classes": 3}, model={"n_classes": 5}),
        "[model] n_classes = 5 but [labels] classes = 3",
    ),
    "CNN baseline does not fit": (
        tiny(
            windows={"length": 3},
            model={"layers": [{"type": "conv", "filters": 4, "kernel": 2, "padding": 0}]},
            baselines={"models": ["fixed_kernels"]},
        ),
        "[baselines] fixed_kernels: layer 2 (conv)",
    ),
}


@pytest.mark.parametrize("case", LATE, ids=list(LATE))
def test_configs_that_failed_after_the_walk_forward_fail_in_seconds(
    tmp_path, reports, capsys, case
):
    body, fragment = LATE[case]
    path = tmp_path / "late.toml"
    path.write_text(body)
    before = tree_digest(reports)
    start = time.perf_counter()
    result = cli(["run", path, "--out", reports], capsys)
    took = time.perf_counter() - start
    assert_one_error(result, fragment)
    assert took < 5.0, f"{case}: {took:.1f} s"
    assert tree_digest(reports) == before


def test_a_run_directory_must_resolve_inside_the_output_root(tmp_path):
    root = tmp_path / "reports"
    with pytest.raises(RunDirError, match="outside the output root"):
        new_run_dir(root, "..")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root.mkdir(exist_ok=True)
    (root / "linked").symlink_to(elsewhere)
    with pytest.raises(RunDirError, match="outside the output root"):
        new_run_dir(root, "linked")
    assert not any(elsewhere.iterdir())
    assert new_run_dir(root, "plain").root.parent == root / "plain"
