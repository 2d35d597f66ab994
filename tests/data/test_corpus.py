"""Every malformed data file of the corpus is one error line at ``niftycnn data import``,
and the cache it would have replaced stays byte-identical."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from niftycnn.data import clean_ohlcv, write_cache
from tests.cli_helpers import assert_one_error, cli, tree_digest
from tests.data._helpers import flat_rows
from tests.data.corpus import CASES
from tests.data.test_csv_io import BAD_INPUTS


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    """A cache holding 50 sessions of ^NSEI from 2023-01-02."""
    rows = flat_rows(50, "2023-01-02")
    frame = rows.set_index(pd.DatetimeIndex(rows["date"], name="date")).drop(columns="date")
    write_cache(clean_ohlcv(frame), "^NSEI", source="test", cache_dir=tmp_path / "cache")
    return tmp_path / "cache"


@pytest.mark.parametrize(("name", "content", "args", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_a_malformed_file_is_one_error_line_and_leaves_the_cache_unchanged(
    tmp_path, cache, capsys, name, content, args, fragment
):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = tree_digest(cache)
    result = cli(["data", "import", path, "--symbol", "^NSEI", "--cache-dir", cache, *args], capsys)
    assert_one_error(result, fragment)
    assert tree_digest(cache) == before


def test_the_corpus_holds_30_new_files_each_with_its_own_message():
    fragments = [c[3] for c in CASES]
    assert len(CASES) >= 30 and len(set(fragments)) == len(fragments)
    assert not {c[1] for c in CASES} & {b[1] for b in BAD_INPUTS}
