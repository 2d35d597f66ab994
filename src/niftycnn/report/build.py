"""Render ``report.html`` and ``report.md`` from a run directory's files alone.

Nothing here trains or evaluates: the report reads the tables a run wrote (see
:class:`niftycnn.rundir.RunLayout` for the layout), so ``niftycnn report RUN_DIR``
re-renders the same report byte for byte, and a missing optional artefact only drops its
section.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from niftycnn.backtest.evaluate import comparison_outcome
from niftycnn.report import figures as fig
from niftycnn.report import universe, validation
from niftycnn.report.document import (
    Bullets,
    Figure,
    Paragraph,
    Preformatted,
    Section,
    Table,
    figures,
    render_html,
    render_markdown,
)
from niftycnn.report.segmentation import segmentation_section, segmentation_sentences
from niftycnn.rundir import (
    FILTER_FIGURES,
    RunLayout,
    read_json,
    read_npy,
    require_run_dir,
    write_bytes,
    write_text,
)
from niftycnn.schema import LabelVocabulary

ALPHA = 0.05


def _config(run: RunLayout) -> dict:
    """The run's resolved ``config.toml``."""
    return tomllib.loads(run.config.read_text(encoding="utf-8"))


def _csv(path: Path, **kwargs: object) -> pd.DataFrame | None:
    return pd.read_csv(path, **kwargs) if path.is_file() else None


def _fmt_p(p: float) -> str:
    """``p = 0.042`` / ``p < 0.001`` / ``p n/a``."""
    return "p n/a" if pd.isna(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


VERBS = {"beats": "beats", "worse": "is worse than", "ties": "does not beat"}


def comparison_sentences(comparison: pd.DataFrame, alpha: float = ALPHA) -> list[str]:
    """One sentence per (baseline, metric): does the CNN beat it, with CI and p-value, by
    :func:`~niftycnn.backtest.evaluate.comparison_outcome` at the run's ``[backtest]
    alpha`` (the rule ``verdict.json`` uses); a p-value below alpha whose interval still
    covers 0 says so."""
    sentences = []
    level = f"{1 - alpha:.0%}"
    for row in comparison.itertuples():
        outcome = comparison_outcome(row.ci_low, row.ci_high, row.p_value, alpha)
        split = outcome == "ties" and row.p_value < alpha
        note = f"; p below {alpha:g} but the interval covers 0" if split else ""
        sentences.append(
            f"CNN {VERBS[outcome]} {row.baseline} on {row.metric}: {row.cnn:.4g} vs "
            f"{row.baseline_value:.4g} (difference {level} CI [{row.ci_low:.3g}, "
            f"{row.ci_high:.3g}], {_fmt_p(row.p_value)}, {row.test}{note})."
        )
    return sentences


def _kernel_sentence(entry: dict) -> str:
    """One effective-kernel verdict (``verdict.json``) as a sentence."""
    k = entry.get("effective_kernel") or {}
    if k.get("p") is None:
        return f"{entry['channel']}: no effective kernel."
    view = " (price path: open/high/low/close summed)" if k.get("view") == "price" else ""
    named = (
        f"{'+' if k['sign'] > 0 else '-'}{k['pattern']} over the last {k['span']} days"
        if k["pattern"] != "neither"
        else f"neither (closest: {k['best_reference']} over {k['span']} days)"
    )
    return (
        f"{entry['channel']}{view}: {named}, mean cosine {k['cosine']:+.3f}, "
        f"{_fmt_p(k['p'])} (Holm-adjusted, against the {k['null']} null)."
    )


def _truth_sentences(verdict: dict) -> list[str]:
    """The planted pattern, the oracle and the market's stylised facts."""
    out = []
    oracle = verdict.get("oracle")
    if oracle and oracle.get("log_loss") is not None:
        shares = ", ".join(
            f"{m} {v:.0%}" for m, v in (oracle.get("captured") or {}).items() if v is not None
        )
        out.append(
            f"Planted: {oracle['pattern']} over the last {oracle['lookback']} days of "
            f"{oracle['channel']}, worth an oracle Sharpe of {oracle['oracle_sharpe']:.2f} "
            f"(before costs). The oracle (the planted rule on the same folds) has log loss "
            f"{oracle['log_loss']:.4f} vs {oracle['majority_log_loss']:.4f} for the majority "
            f"class; share of that edge captured: {shares or 'n/a'}."
        )
    market = verdict.get("market")
    if market:
        out.append(
            f"Market: annualised volatility {market['annual_volatility']:.1%}, drift "
            f"{market['annual_drift']:+.1%} a year, excess kurtosis "
            f"{market['excess_kurtosis']:.1f}, |r| autocorrelation at lags 1-20 "
            f"{market['abs_return_autocorr_min']:.2f} to "
            f"{market['abs_return_autocorr_mean']:.2f} (min, mean), calendar years "
            f"{market['worst_year']:+.0%} to {market['best_year']:+.0%}, maximum drawdown "
            f"{market['max_drawdown']:.0%}."
        )
    return out


def _verdict(run: RunLayout) -> Section:
    section = Section("Verdict", anchor="verdict")
    per_day = segmentation_sentences(run)
    if per_day:
        section.add(Paragraph("Per day, on the test windows:", True))
        section.add(Bullets(tuple(per_day)))
    across = universe.universe_sentences(run)
    if across:
        section.add(Paragraph("Across the universe's symbols, out of sample:", True))
        section.add(Bullets(tuple(across)))
    comparison = _csv(run.metric("comparison"))
    if comparison is not None and len(comparison):
        comparison = comparison[comparison["baseline"] != "oracle"]
        section.add(Paragraph("Out of sample, against each baseline on the same folds:", True))
        alpha = _config(run).get("backtest", {}).get("alpha", ALPHA)
        section.add(Bullets(tuple(comparison_sentences(comparison, alpha))))
    more = validation.verdict_sentences(run)
    if more:
        section.add(Paragraph("Against all baselines at once, by accuracy, and overfitting:", True))
        section.add(Bullets(tuple(more)))
    summary_path = run.filter_verdict
    if summary_path.is_file():
        section.add(Paragraph(read_json(summary_path)["verdict"], emphasis=True))
    verdict = read_json(run.verdict) if run.verdict.is_file() else {}
    kernels = [_kernel_sentence(e) for e in verdict.get("filters", []) if "effective_kernel" in e]
    if kernels:
        section.add(Paragraph("Whole-network effective kernels (raw series):", True))
        section.add(Bullets(tuple(kernels)))
    truth = _truth_sentences(verdict)
    if truth:
        section.add(Bullets(tuple(truth)))
    if not section.blocks:
        section.add(Paragraph("The run has no evaluation yet (interrupted?); resume it."))
    return section


def _data(run: RunLayout) -> Section:
    data = read_json(run.data)
    prov = data["provenance"]
    section = Section("Data provenance and checks", anchor="data")
    section.add(
        Bullets(
            tuple(
                f"{key}: {prov[key]}"
                for key in ("source", "symbol", "rows", "first_date", "last_date", "sha256")
                if key in prov
            )
        )
    )
    if data.get("notes"):
        section.add(Bullets(tuple(f"note: {note}" for note in data["notes"])))
    if data.get("check"):
        section.add(Preformatted(data["check"]))
    return section


def _labels(run: RunLayout) -> Section | None:
    labels = _csv(run.labels)
    if labels is None:
        return None
    section = Section("Labels", anchor="labels")
    section.add(Table(labels, "Labelled windows per class", index=False))
    section.add(Figure("labels", fig.label_distribution(labels), "Label distribution"))
    return section


def _architecture(run: RunLayout) -> Section | None:
    arch = _csv(run.architecture)
    if arch is None:
        return None
    section = Section("Architecture", anchor="architecture")
    section.add(Table(arch, "Per layer: output shape, parameters, receptive field", index=False))
    return section


def _scheme(run: RunLayout) -> Section | None:
    splits = _csv(run.splits)
    if splits is None or not len(splits):
        return None
    section = Section("Walk-forward scheme", anchor="scheme")
    n_test = int(splits["n_test"].sum())
    n_paths = splits["path"].nunique() if "path" in splits else 1
    if n_paths > 1:
        n_splits = splits["fold"].nunique()
        section.add(
            Paragraph(
                f"Combinatorial purged cross-validation: {n_splits} splits, {n_paths} backtest "
                f"paths, {n_test // n_paths} out-of-sample predictions per model and path, "
                f"from {splits['test_start'].min()} to {splits['test_end'].max()}. Training "
                "samples whose label interval overlaps a test group are purged. "
                + validation.CPCV_CAVEAT
            )
        )
        section.add(Figure("walkforward", fig.cpcv_scheme(splits), "Splits and paths"))
        return section
    section.add(
        Paragraph(
            f"{len(splits)} folds; {n_test} out-of-sample predictions per model, from "
            f"{splits['test_start'].iloc[0]} to {splits['test_end'].iloc[-1]}. Training "
            "samples whose label horizon reaches the test block are purged."
        )
    )
    section.add(Figure("walkforward", fig.walkforward_scheme(splits), "Folds over time"))
    return section


def _metrics(run: RunLayout) -> Section | None:
    summary = _csv(run.metric("summary"), index_col=0)
    if summary is None:
        return None
    section = Section("Metrics: CNN vs baselines", anchor="metrics")
    paths = validation.n_paths(run)
    mean = f"; the mean over the {paths} CPCV paths" if paths > 1 else ""
    section.add(Table(summary.T, f"Out-of-sample metrics (columns: models{mean})"))
    significance = _csv(run.metric("significance"))
    if significance is not None:
        section.add(Table(significance, "Significance", index=False))
    per_year = _csv(run.metric("per_year"))
    if per_year is not None:
        section.add(Table(per_year, "Net return per year", index=False))
    equity = _csv(run.metric("equity"), index_col=0, parse_dates=True)
    if equity is not None and not universe.is_universe(run):  # its section has the curves
        section.add(Figure("equity", fig.equity_and_drawdown(equity), "Equity and drawdown"))
    confusion = _csv(run.metric("confusion"), index_col=0)
    if confusion is not None:
        section.add(Figure("confusion", fig.confusion_matrix(confusion), "Confusion matrix"))
    return section


def _filters(run: RunLayout) -> Section | None:
    if not run.filters_dir.is_dir():
        return None
    section = Section("Learned first-layer filters", anchor="filters")
    channels = _csv(run.filter_channels)
    if channels is not None:
        section.add(Table(channels, "Per channel, against the null of untrained filters", False))
    kernels = _csv(run.kernel_summary)
    if kernels is not None:
        columns = ["channel", "reference", "span", "mean_learned", "mean_shuffled",
                   "mean_untrained", "p", "p_adjusted"]  # fmt: skip
        tested = kernels.dropna(subset=["p"])  # an all-zero channel (no volume) has no p
        best = tested.loc[tested.groupby("channel")["p"].idxmin(), columns]
        section.add(Table(best.round(4), "Effective kernels: best reference per view", False))
    for name in sorted(FILTER_FIGURES):
        png = run.filter_figure(name)
        if png.is_file():
            section.add(Figure(f"filters_{name}", png.read_bytes(), name.replace("_", " ")))
    return section


def _images(run: RunLayout) -> Section | None:
    """[compare]: the image CNN against the 1D CNN and the baselines, sample images."""
    multiple = _csv(run.metric("image_multiple"))
    if multiple is None:
        return None
    section = Section("Chart images vs 1D windows", anchor="images")
    section.add(
        Paragraph(
            "The image CNN (model cnn_image: OHLC bar images of the same days) was trained "
            "on the same folds, labels and seeds as the 1D CNN (model cnn)."
        )
    )
    dm = _csv(run.metric("diebold_mariano"))
    if dm is not None:
        pair = dm[dm["baseline"] == "cnn_image"]
        if len(pair):
            section.add(Table(pair, "1D CNN (cnn) against the image CNN: Diebold-Mariano", False))
    section.add(Table(multiple, "The image CNN against every other model (SPA, StepM)", False))
    if run.chart_samples.is_file():
        images, classes = read_npy(run.chart_samples), read_npy(run.chart_classes)
        cam = read_npy(run.gradcam) if run.gradcam.is_file() else None
        k = int(_config(run)["labels"]["classes"])
        names = list(LabelVocabulary(k).names)
        caption = "Test images of the last fold per class" + (
            ", with Grad-CAM of its first image CNN (true class)" if cam is not None else ""
        )
        section.add(Figure("chart_images", fig.chart_images(images, classes, names, cam), caption))
    return section


def _sweep(run: RunLayout) -> Section | None:
    sweep = _csv(run.sweep)
    if sweep is None:
        return None
    section = Section("Bias-variance sweep", anchor="sweep")
    section.add(Table(sweep, "Training vs test error per grid point", index=False))
    section.add(Figure("sweep", fig.sweep_errors(sweep), "Training vs test loss"))
    return section


def _footer(run: RunLayout) -> str:
    env = read_json(run.environment)
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    timings = run.timings
    took = ""
    if timings.is_file():
        took = f" Wall time: {sum(json.loads(timings.read_text()).values()):.0f} s."
    return (
        f"Reproduce: seed {env['seed']}, device {env['device']}, git {env['git_commit']}, "
        f"python {env['python']}; {packages}. Config: config.toml in {run.root.name}.{took}"
    )


def build_sections(run_dir: str | Path | RunLayout) -> tuple[str, list[Section], str]:
    """Title, sections and footer of the report for a run directory."""
    run = require_run_dir(run_dir)
    config = _config(run)
    title = f"niftycnn report: {config['name']}"
    intro = Section("Experiment", anchor="experiment")
    intro.add(Paragraph(config.get("description") or "(no description)"))
    parts = [
        _verdict(run),
        intro,
        _data(run),
        _labels(run),
        _architecture(run),
        _scheme(run),
        segmentation_section(run),
        universe.universe_section(run),
        validation.paths_section(run),
        _metrics(run),
        validation.tables_section(run),
        _filters(run),
        _images(run),
        _sweep(run),
    ]
    return title, [p for p in parts if p is not None], _footer(run)


def render_report(run_dir: str | Path | RunLayout) -> Path:
    """Write report.html, report.md and figures/*.png into the run directory."""
    run = require_run_dir(run_dir)
    title, sections, footer = build_sections(run)
    for figure in figures(sections):
        write_bytes(run.figure(figure.name), figure.png)
    write_text(run.report_md, render_markdown(title, sections, run.figures_dir.name, footer))
    write_text(run.report_html, render_html(title, sections, footer))
    return run.report_html
