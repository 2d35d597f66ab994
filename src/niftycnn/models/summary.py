"""The architecture summary: per layer, output shape, parameter count and receptive field.

``summarize`` computes the table from the spec alone, with the formulas of
``niftycnn.models.formulas`` (re-exported here), so a reader can check every number by
hand; the tests check that it agrees with torch's own shapes and parameter counts.
``summarize_module`` builds the same kind of table by running any torch module once with
forward hooks. ``describe`` is what ``niftycnn describe <preset | experiment.toml>`` prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
import torch
from torch import nn

from niftycnn.errors import SpecError
from niftycnn.models.build import Branches, CausalConv1d, LastStep1d, ResidualBlock, SkipBlock
from niftycnn.models.checks import Shape, Size, input_shape
from niftycnn.models.formulas import (
    conv2d_output_shape,
    conv2d_params,
    conv_output_length,
    conv_params,
    dense_params,
    pool2d_output_shape,
    receptive_field_step,
)
from niftycnn.models.presets import IMAGE_INPUTS, PRESETS, preset
from niftycnn.models.rules import Span2d, detail, step_params, step_span, step_span2d
from niftycnn.models.span import Span, union
from niftycnn.models.spec import (
    Architecture,
    LastStep,
    layer_type,
)
from niftycnn.models.validate import Step, validate_architecture

__all__ = [
    "Summary",
    "SummaryRow",
    "conv2d_output_shape",
    "conv2d_params",
    "conv_output_length",
    "conv_params",
    "dense_params",
    "describe",
    "format_summary",
    "pool2d_output_shape",
    "receptive_field_step",
    "summarize",
    "summarize_module",
    "summary_table",
]


@dataclass(frozen=True)
class SummaryRow:
    """One layer: output shape per sample ((C, L), or (N,) once flat), parameters, RF.

    ``receptive_field`` is the number of input steps one output position sees, (rows,
    columns) on an image; None once the length axis is gone (every feature then sees the
    whole window).
    """

    index: int
    type: str
    detail: str
    output_shape: Shape
    params: int
    trainable: int
    receptive_field: int | tuple[int, int] | None


@dataclass(frozen=True)
class Summary:
    """A whole network: its rows, input and output shapes, and parameter totals."""

    name: str
    input_shape: Shape
    rows: tuple[SummaryRow, ...]

    @property
    def output_shape(self) -> Shape:
        return self.rows[-1].output_shape if self.rows else self.input_shape

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable for r in self.rows)


# --------------------------------------------------------------------------------------
# From the spec


def _row(step: Step, span: Span | Span2d | None) -> tuple[SummaryRow, Span | Span2d | None]:
    """The summary row of one validated step, and the receptive span after it (one per
    axis on images)."""
    if isinstance(span, tuple):
        span = step_span2d(step, span)
    elif span is not None:
        span = step_span(step, span)
    if len(step.out_shape) == 1 and not isinstance(step.spec, LastStep):
        span = None  # every feature now sees the whole window (a last step: still its span)
    params, trainable = step_params(step)
    kind = layer_type(step.spec)
    if step.role != "body":
        kind = {"auto": "gap (auto)", "head": "head"}[step.role]
    rf = _rf(span)
    return SummaryRow(step.index, kind, detail(step), step.out_shape, params, trainable, rf), span


def _rf(span: Span | Span2d | None) -> int | tuple[int, int] | None:
    if isinstance(span, tuple):
        return span[0].size, span[1].size
    return None if span is None else span.size


def summarize(arch: Architecture, in_channels: int = 5, length: Size = 20) -> Summary:
    """The summary table of ``arch`` on inputs (in_channels, length), or images
    (in_channels, height, width) for ``length`` = (height, width), from the spec alone."""
    steps = validate_architecture(arch, in_channels, length)
    rows: list[SummaryRow] = []
    start = input_shape(in_channels, length)
    span: Span | Span2d | None = (Span(), Span()) if len(start) == 3 else Span()
    for step in steps:
        row, span = _row(step, span)
        rows.append(row)
    label = f"{arch.name} ({arch.head}, {arch.n_outputs} output{'s' * (arch.n_outputs > 1)})"
    return Summary(label, start, tuple(rows))


# --------------------------------------------------------------------------------------
# From a torch module


_WHOLE = (ResidualBlock, SkipBlock, Branches)  # traced as one row each


def _units(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules a summary row stands for: leaves, with residual blocks, skip blocks and
    parallel branches kept whole."""
    units: list[tuple[str, nn.Module]] = []
    for name, sub in module.named_modules():
        if isinstance(sub, _WHOLE) or not list(sub.children()):
            if not any(name.startswith(u + ".") for u, _ in units if u):
                units.append((name, sub))
    return units


def _first(value: int | tuple[int, ...]) -> int:
    return value if isinstance(value, int) else int(value[0])


def _left(mod: nn.Conv1d) -> int:
    """Left padding of a conv module: torch's "same" puts the smaller half on the left."""
    k, d = mod.kernel_size[0], mod.dilation[0]
    if isinstance(mod, CausalConv1d):
        return d * (k - 1)
    if isinstance(mod.padding, str):
        return d * (k - 1) // 2 if mod.padding == "same" else 0
    return int(mod.padding[0])


def _module_span(sub: nn.Module, span: Span) -> Span:
    """The span after a torch module, by the rules of ``niftycnn.models.rules.step_span``."""
    if isinstance(sub, nn.Conv1d):
        return span.window(sub.kernel_size[0], sub.stride[0], sub.dilation[0], _left(sub))
    if isinstance(sub, (nn.MaxPool1d, nn.AvgPool1d)):
        k, s, p = _first(sub.kernel_size), _first(sub.stride), _first(sub.padding)
        return span.window(k, s, _first(getattr(sub, "dilation", 1)), p)
    if isinstance(sub, nn.ConvTranspose1d):
        k, s, p = sub.kernel_size[0], sub.stride[0], int(sub.padding[0])
        return span.upsampled(s, "transposed", k, p)
    if isinstance(sub, nn.Upsample):
        return span.upsampled(int(sub.scale_factor), str(sub.mode))  # type: ignore[arg-type]
    if isinstance(sub, SkipBlock):
        body = _chain_span(sub.body, span)
        return body if sub.merge == "none" else union([span, body])
    if isinstance(sub, Branches):
        return union([_chain_span(branch, span) for branch in sub.branches])
    if isinstance(sub, ResidualBlock):
        return union([span, _chain_span(sub.convs, span)])
    if isinstance(sub, nn.Sequential):
        return _chain_span(sub, span)
    return span


def _module_span2d(sub: nn.Module, spans: Span2d) -> Span2d:
    """The rows and columns after a torch module on images (2D convs and pools)."""
    if isinstance(sub, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):

        def two(v: object) -> tuple[int, int]:
            return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))  # type: ignore[index]

        k, s = two(sub.kernel_size), two(sub.stride)
        d = two(getattr(sub, "dilation", 1))
        if isinstance(sub.padding, str):
            left = (
                (d[0] * (k[0] - 1) // 2, d[1] * (k[1] - 1) // 2)
                if sub.padding == "same"
                else (0, 0)
            )
        else:
            left = two(sub.padding)
        return tuple(  # type: ignore[return-value]
            span.window(k[a], s[a], d[a], left[a]) for a, span in enumerate(spans)
        )
    return spans


def _chain_span(chain: nn.Module, span: Span) -> Span:
    for child in chain.children():
        span = _module_span(child, span)
    return span


def summarize_module(module: nn.Module, input_shape: Sequence[int], name: str = "") -> Summary:
    """Trace ``module`` on one zero batch of per-sample shape ``input_shape`` (C, L).

    Each leaf module (residual, skip and parallel blocks kept whole) that runs becomes a
    row, in execution order, with the shape it returned and its own parameters. Runs in
    eval mode without gradients and restores the module's training flag.
    """
    units = _units(module)
    seen: list[tuple[str, nn.Module, Shape]] = []
    hooks = [
        sub.register_forward_hook(
            lambda m, _inp, out, n=n: seen.append((n, m, tuple(out.shape[1:])))
        )
        for n, sub in units
    ]
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros(2, *input_shape))
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()
    image = len(input_shape) == 3
    rows, last_step = [], False
    span: Span = Span()
    spans: Span2d = (Span(), Span())
    for i, (n, sub, shape) in enumerate(seen):
        params = sum(p.numel() for p in sub.parameters())
        trainable = sum(p.numel() for p in sub.parameters() if p.requires_grad)
        row_rf: int | tuple[int, int] | None
        if image:
            spans = _module_span2d(sub, spans)
            row_rf = (spans[0].size, spans[1].size) if len(shape) == 3 else None
        else:
            span = _module_span(sub, span)
            last_step = last_step or isinstance(sub, LastStep1d)  # flat, but still its span
            row_rf = span.size if len(shape) == 2 or last_step else None
        rows.append(SummaryRow(i, type(sub).__name__, n, shape, params, trainable, row_rf))
    return Summary(name or type(module).__name__, tuple(input_shape), tuple(rows))


# --------------------------------------------------------------------------------------
# Printing


def _shape_text(shape: Shape) -> str:
    return " x ".join(str(n) for n in shape)


def _rf_text(rf: int | tuple[int, int] | None) -> str:
    if rf is None:
        return "all"
    return f"{rf[0]} x {rf[1]}" if isinstance(rf, tuple) else str(rf)


def format_summary(summary: Summary, style: Literal["text", "markdown"] = "text") -> str:
    """The summary as an aligned text table (default) or a Markdown table."""
    image = len(summary.input_shape) == 3
    axes = "C x H x W" if image else "C x L"
    header = ("#", "layer", "detail", f"output ({axes})", "params", "receptive field")
    body = [
        (
            str(r.index),
            r.type,
            r.detail,
            _shape_text(r.output_shape),
            f"{r.params:,}",
            _rf_text(r.receptive_field),
        )
        for r in summary.rows
    ]
    where = "channels x height x width" if image else "channels x length"
    title = f"{summary.name}: input {_shape_text(summary.input_shape)} ({where})"
    total = f"total parameters: {summary.total_params:,} (trainable {summary.trainable_params:,})"
    if style == "markdown":
        lines = [f"**{title}**", "", "| " + " | ".join(header) + " |"]
        lines.append(
            "| " + " | ".join("---:" if i in (0, 4, 5) else "---" for i in range(6)) + " |"
        )
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join([*lines, "", total]) + "\n"
    if style != "text":
        raise ValueError(f"style must be 'text' or 'markdown', got {style!r}")
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(6)]
    right = {0, 4, 5}

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule, *map(line, body), rule, total]) + "\n"


def describe(
    target: str | Architecture,
    in_channels: int | None = None,
    length: Size | None = None,
    style: Literal["text", "markdown"] = "text",
) -> str:
    """The summary table of a preset name or an architecture (an experiment's network:
    ``describe(architecture_for(experiment.model, k), len(features), length)``).

    Inputs default to 5 channels x 20 days, or an image preset's own image
    (``IMAGE_INPUTS``: 1 x 64 x 60 for ``jkx20``). Unknown preset names raise a
    ``SpecError`` that lists the valid ones.
    """
    default_channels = 5
    default_size_: Size = 20
    if isinstance(target, str):
        if target not in PRESETS:
            raise SpecError(
                f"unknown preset {target!r}; valid presets: {', '.join(PRESETS)} "
                "(or give the path of an experiment .toml file)"
            )
        default_channels, default_size_ = IMAGE_INPUTS.get(target, (5, 20))
        n_classes = 2 if target in IMAGE_INPUTS else 5  # the paper's up / down
        target = preset(target, n_classes=n_classes)
    channels = default_channels if in_channels is None else in_channels
    size = default_size_ if length is None else length
    return format_summary(summarize(target, channels, size), style)


def summary_table(arch: Architecture, in_channels: int, length: Size) -> pd.DataFrame:
    """The per-layer summary as a table (the run directory's ``architecture.csv``)."""
    summary = summarize(arch, in_channels, length)
    rows = [
        {
            "layer": row.index,
            "type": row.type,
            "detail": row.detail,
            "output": _shape_text(row.output_shape),
            "params": row.params,
            "receptive_field": (
                row.receptive_field
                if isinstance(row.receptive_field, int)
                else _rf_text(row.receptive_field)
            ),
        }
        for row in summary.rows
    ]
    total = {"layer": "", "type": "total", "detail": "", "output": "", "receptive_field": ""}
    return pd.DataFrame([*rows, {**total, "params": summary.total_params}])
