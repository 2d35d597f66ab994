from __future__ import annotations

import re

from niftycnn.report.build import comparison_sentences, render_report
from tests.report.conftest import EVIL


def test_report_has_every_section_and_escapes_user_strings(fake_run):
    html_path = render_report(fake_run)
    page = html_path.read_text()
    for anchor in ("verdict", "data", "labels", "scheme", "metrics", "filters"):
        assert f'id="{anchor}"' in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert 'src="data:image/png;base64,' in page  # self-contained: figures inline
    assert "http://" not in page and "https://" not in page
    markdown = (fake_run / "report.md").read_text()
    assert "![Equity and drawdown](figures/equity.png)" in markdown
    assert (fake_run / "figures" / "equity.png").stat().st_size > 1000


def test_rerendering_a_report_from_files_is_byte_identical(fake_run):
    first = render_report(fake_run).read_bytes()
    first_md = (fake_run / "report.md").read_bytes()
    assert render_report(fake_run).read_bytes() == first
    assert (fake_run / "report.md").read_bytes() == first_md


def test_verdict_sentence_says_beats_only_when_ci_and_p_agree():
    import pandas as pd

    rows = pd.DataFrame(
        {
            "baseline": ["a", "b"],
            "metric": ["accuracy"] * 2,
            "cnn": [0.4, 0.4],
            "baseline_value": [0.3, 0.39],
            "difference": [0.1, 0.01],
            "ci_low": [0.05, -0.02],
            "ci_high": [0.15, 0.04],
            "p_value": [0.001, 0.4],
            "test": ["DM", "DM"],
        }
    )
    first, second = comparison_sentences(rows)
    assert first.startswith("CNN beats a on accuracy")
    assert "95% CI" in first and "interval covers 0" not in first
    assert second.startswith("CNN does not beat b")
    # p below alpha with an interval that covers 0: not counted, and the sentence says why
    split = rows.assign(p_value=[0.001, 0.041])
    assert comparison_sentences(split)[1].endswith(
        "p = 0.041, DM; p below 0.05 but the interval covers 0)."
    ), comparison_sentences(split)[1]
    # the run's own alpha decides (as in verdict.json), and the interval's level follows it
    strict = comparison_sentences(rows.assign(p_value=[0.02, 0.4]), alpha=0.01)[0]
    assert strict.startswith("CNN does not beat a") and "99% CI" in strict
    assert EVIL  # imported for the fixture module


HOSTILE = (
    '<script>alert("x")</script> <img src=x onerror=alert(1)> '
    "[click](javascript:alert(1)) ![pixel](http://tracker.example/p.png) `code` *bold* | cell"
)


def test_markdown_report_escapes_user_strings_too(fake_run, capsys):
    from niftycnn.cli import main
    from niftycnn.config import parse_experiment, to_toml

    config = parse_experiment({"name": "fake", "description": "- " + HOSTILE}).resolved_dict()
    (fake_run / "config.toml").write_text(to_toml(config))
    assert main(["report", str(fake_run)]) == 0
    markdown = (fake_run / "report.md").read_text()
    assert "<script" not in markdown and "<img" not in markdown
    # no unescaped link, image, code or emphasis markup survives from user text
    for markup in (r"(?<!\\)\]\(javascript:", r"(?<!\\)\]\(http://tracker", r"(?<!\\)`code"):
        assert not re.search(markup, markdown), markup
    description = markdown.split("## Experiment\n\n", 1)[1].split("\n\n", 1)[0]
    assert description == (
        '\\- &lt;script&gt;alert("x")&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; '
        "\\[click\\](javascript:alert(1)) !\\[pixel\\](http://tracker.example/p.png) "
        "\\`code\\` \\*bold\\* \\| cell"
    )
    assert "![Equity and drawdown](figures/equity.png)" in markdown  # our own markup stays
