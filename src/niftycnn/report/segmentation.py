"""The report of a per-day (segmentation) run, from its files alone: ``verdict.json``'s
``segmentation`` entry, ``metrics/segmentation.csv`` and ``segmentation/masks.png``."""

from __future__ import annotations

import pandas as pd

from niftycnn.report.document import Figure, Paragraph, Section, Table
from niftycnn.rundir import RunLayout, read_json


def _entry(run: RunLayout) -> dict | None:
    if not run.verdict.is_file():
        return None
    entry = read_json(run.verdict).get("segmentation")
    return entry if isinstance(entry, dict) else None


def segmentation_sentences(run: RunLayout) -> list[str]:
    """One sentence per model: its IoU (the headline) and per-day accuracy on the test
    windows; then whether the network beats the per-day logistic baseline."""
    entry = _entry(run)
    if entry is None:
        return []
    out = [
        f"{model}: IoU ({entry['iou_of']}) {m['iou']:.3f}, per-day accuracy "
        f"{m['accuracy']:.3f} on {entry['test_windows']:,} test windows."
        for model, m in entry["models"].items()
    ]
    verb = "beats" if entry["cnn_beats_baseline"] else "does not beat"
    out.append(f"The network {verb} the per-day logistic baseline on IoU ({entry['task']}).")
    return out


def segmentation_section(run: RunLayout) -> Section | None:
    """Per-class days, IoU and F1 of every model, and a few windows' masks."""
    entry = _entry(run)
    if entry is None:
        return None
    section = Section("Per-day segmentation", anchor="segmentation")
    section.add(
        Paragraph(
            f"Task {entry['task']}: day classes {' / '.join(entry['classes'])}; "
            f"{entry['train_windows']:,} training windows, {entry['test_windows']:,} test "
            "windows after them (one chronological split)."
        )
    )
    path = run.metric("segmentation")
    if path.is_file():
        table = pd.read_csv(path)
        section.add(Table(table.round(4), "Test days per class: IoU and F1", index=False))
    if run.segment_masks.is_file():
        caption = "Test windows (the level channel) with their true and predicted day classes"
        section.add(Figure("segmentation_masks", run.segment_masks.read_bytes(), caption))
    return section
