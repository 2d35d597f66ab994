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
from niftycnn.models.build import LastStep1d, ResidualBlock
from niftycnn.models.formulas import (
    conv2d_output_shape,
    conv2d_params,
    conv_output_length,
    conv_params,
    dense_params,
    pool2d_output_shape,
    receptive_field_step,
)
from niftycnn.models.presets import PRESETS, preset
from niftycnn.models.spec import (
    Architecture,
    Conv,
    Dense,
    Flatten,
    GlobalAvgPool,
    GramConv,
    LastStep,
    Pool,
    Residual,
    layer_type,
)
from niftycnn.models.validate import Shape, Step, validate_architecture

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

    ``receptive_field`` is the number of input steps one output position sees; None once
    the length axis is gone (every feature then sees the whole window).
    """

    index: int
    type: str
    detail: str
    output_shape: Shape
    params: int
    trainable: int
    receptive_field: int | None


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


def _conv_detail(spec: Conv) -> str:
    parts = [f"{spec.filters} @ k{spec.kernel}"]
    if spec.stride != 1:
        parts.append(f"s{spec.stride}")
    if spec.dilation != 1:
        parts.append(f"d{spec.dilation}")
    parts.append(f"pad {spec.padding}")
    if spec.groups != 1:
        parts.append(f"groups {spec.groups}")
    if spec.batch_norm:
        parts.append("bn")
    parts.append(spec.activation)
    return ", ".join(parts)


def _row(step: Step, rf: int | None, jump: int) -> tuple[SummaryRow, int | None, int]:
    """The summary row of one validated step, and the receptive field / jump after it."""
    spec, c_in = step.spec, step.in_shape[0]
    kind, detail, params, trainable = layer_type(spec), "", 0, None
    if isinstance(spec, Conv):
        detail = _conv_detail(spec)
        params = conv_params(c_in, spec.filters, spec.kernel, spec.bias, spec.groups)
        params += 2 * spec.filters if spec.batch_norm else 0
        assert rf is not None
        rf, jump = receptive_field_step(rf, jump, spec.kernel, spec.stride, spec.dilation)
    elif isinstance(spec, GramConv):
        out = step.out_shape[0]
        detail = f"{out // c_in} per channel @ k{spec.kernel}, pad {spec.padding}, frozen"
        params, trainable = conv_params(c_in, out, spec.kernel, False, c_in), 0
        assert rf is not None
        rf, jump = receptive_field_step(rf, jump, spec.kernel)
    elif isinstance(spec, Residual):
        detail = f"{spec.n_convs} x ({spec.filters} @ k{spec.kernel}), {spec.activation}"
        channels = c_in
        for _ in range(spec.n_convs):
            params += conv_params(channels, spec.filters, spec.kernel)
            params += 2 * spec.filters if spec.batch_norm else 0
            channels = spec.filters
            assert rf is not None
            rf, jump = receptive_field_step(rf, jump, spec.kernel)
        if c_in != spec.filters:
            detail += ", 1x1 projection skip"
            params += conv_params(c_in, spec.filters, 1)
    elif isinstance(spec, Pool):
        stride = spec.stride or spec.size
        detail = f"{spec.kind} {spec.size}" + (f", s{stride}" if stride != spec.size else "")
        assert rf is not None
        rf, jump = receptive_field_step(rf, jump, spec.size, stride)
    elif isinstance(spec, Dense):
        params = dense_params(c_in, spec.units)
        detail = f"{c_in} -> {spec.units}" + ("" if step.role == "head" else f", {spec.activation}")
    elif kind == "dropout":
        detail = f"rate {spec.rate:g}"  # type: ignore[union-attr]
    elif isinstance(spec, LastStep):
        detail = "the last position (the most recent day)"
    if isinstance(spec, GlobalAvgPool | Flatten):
        rf = None  # every feature now sees the whole window
    if step.role != "body":
        kind = {"auto": "gap (auto)", "head": "head"}[step.role]
    row = SummaryRow(
        step.index,
        kind,
        detail,
        step.out_shape,
        params,
        params if trainable is None else trainable,
        rf,
    )
    return row, rf, jump


def summarize(arch: Architecture, in_channels: int = 5, length: int = 20) -> Summary:
    """The summary table of ``arch`` on inputs (in_channels, length), from the spec alone."""
    steps = validate_architecture(arch, in_channels, length)
    rows: list[SummaryRow] = []
    rf: int | None = 1
    jump = 1
    for step in steps:
        row, rf, jump = _row(step, rf, jump)
        rows.append(row)
    label = f"{arch.name} ({arch.head}, {arch.n_outputs} output{'s' * (arch.n_outputs > 1)})"
    return Summary(label, (in_channels, length), tuple(rows))


# --------------------------------------------------------------------------------------
# From a torch module


def _units(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules a summary row stands for: leaves, with residual blocks kept whole."""
    units: list[tuple[str, nn.Module]] = []
    for name, sub in module.named_modules():
        if isinstance(sub, ResidualBlock) or not list(sub.children()):
            if not any(name.startswith(u + ".") for u, _ in units if u):
                units.append((name, sub))
    return units


def _module_rf(sub: nn.Module, rf: int, jump: int) -> tuple[int, int]:
    if isinstance(sub, nn.Conv1d):
        return receptive_field_step(rf, jump, sub.kernel_size[0], sub.stride[0], sub.dilation[0])
    if isinstance(sub, (nn.MaxPool1d, nn.AvgPool1d)):
        k = sub.kernel_size if isinstance(sub.kernel_size, int) else sub.kernel_size[0]
        s = sub.stride if isinstance(sub.stride, int) else sub.stride[0]
        d = getattr(sub, "dilation", 1)
        return receptive_field_step(rf, jump, k, s, d if isinstance(d, int) else d[0])
    if isinstance(sub, ResidualBlock):
        for conv in sub.convs:
            if isinstance(conv, nn.Conv1d):
                rf, jump = _module_rf(conv, rf, jump)
    return rf, jump


def summarize_module(module: nn.Module, input_shape: Sequence[int], name: str = "") -> Summary:
    """Trace ``module`` on one zero batch of per-sample shape ``input_shape`` (C, L).

    Each leaf module (residual blocks kept whole) that runs becomes a row, in execution
    order, with the shape it returned and its own parameters. Runs in eval mode without
    gradients and restores the module's training flag.
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
    rows, rf, jump, last_step = [], 1, 1, False
    for i, (n, sub, shape) in enumerate(seen):
        rf, jump = _module_rf(sub, rf, jump)
        params = sum(p.numel() for p in sub.parameters())
        trainable = sum(p.numel() for p in sub.parameters() if p.requires_grad)
        last_step = last_step or isinstance(sub, LastStep1d)  # flat, but still rf days
        row_rf = rf if len(shape) == 2 or last_step else None
        rows.append(SummaryRow(i, type(sub).__name__, n, shape, params, trainable, row_rf))
    return Summary(name or type(module).__name__, tuple(input_shape), tuple(rows))


# --------------------------------------------------------------------------------------
# Printing


def _shape_text(shape: Shape) -> str:
    return " x ".join(str(n) for n in shape)


def format_summary(summary: Summary, style: Literal["text", "markdown"] = "text") -> str:
    """The summary as an aligned text table (default) or a Markdown table."""
    header = ("#", "layer", "detail", "output (C x L)", "params", "receptive field")
    body = [
        (
            str(r.index),
            r.type,
            r.detail,
            _shape_text(r.output_shape),
            f"{r.params:,}",
            "all" if r.receptive_field is None else str(r.receptive_field),
        )
        for r in summary.rows
    ]
    title = f"{summary.name}: input {_shape_text(summary.input_shape)} (channels x length)"
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
    in_channels: int = 5,
    length: int = 20,
    style: Literal["text", "markdown"] = "text",
) -> str:
    """The summary table of a preset name or an architecture (an experiment's network:
    ``describe(architecture_for(experiment.model, k), len(features), length)``).

    Unknown preset names raise a ``SpecError`` that lists the valid ones.
    """
    if isinstance(target, str):
        if target not in PRESETS:
            raise SpecError(
                f"unknown preset {target!r}; valid presets: {', '.join(PRESETS)} "
                "(or give the path of an experiment .toml file)"
            )
        target = preset(target)
    return format_summary(summarize(target, in_channels, length), style)


def summary_table(arch: Architecture, in_channels: int, length: int) -> pd.DataFrame:
    """The per-layer summary as a table (the run directory's ``architecture.csv``)."""
    summary = summarize(arch, in_channels, length)
    rows = [
        {
            "layer": row.index,
            "type": row.type,
            "detail": row.detail,
            "output": _shape_text(row.output_shape),
            "params": row.params,
            "receptive_field": "all" if row.receptive_field is None else row.receptive_field,
        }
        for row in summary.rows
    ]
    total = {"layer": "", "type": "total", "detail": "", "output": "", "receptive_field": ""}
    return pd.DataFrame([*rows, {**total, "params": summary.total_params}])
