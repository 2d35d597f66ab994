from __future__ import annotations

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
    assert second.startswith("CNN does not beat b")
    assert EVIL  # imported for the fixture module
