"""The architecture grid of a ``[sweep]`` table: one layer list per grid point."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product
from typing import Any

from niftycnn.config import SweepConfig


@dataclass(frozen=True)
class GridPoint:
    """One point of the sweep (or trial of a search): its name, its knobs, its
    ``[model] layers`` tables and the ``[train]`` keys it changes (a search's)."""

    name: str
    knobs: dict[str, Any]
    layers: tuple[dict[str, Any], ...]
    train: dict[str, Any] = field(default_factory=dict)


def grid_layers(filters: int, kernel: int, depth: int, dropout: float, length: int) -> list[dict]:
    """The layers of one grid point (see :func:`sweep_grid`)."""
    layers: list[dict[str, Any]] = []
    for block in range(depth):
        layers.append({"type": "conv", "filters": filters, "kernel": kernel, "padding": "same"})
        if block < depth - 1 and length >= 4:
            layers.append({"type": "pool", "kind": "max", "size": 2})
            length //= 2
    if dropout > 0:
        layers.append({"type": "dropout", "rate": dropout})
    layers.append({"type": "gap"})
    return layers


def sweep_grid(sweep: SweepConfig, length: int) -> list[GridPoint]:
    """``depth`` conv blocks of ``filters`` filters of size ``kernel`` (same padding, ReLU;
    max-pool 2 between blocks while the window length allows), dropout, global average
    pooling, for every combination of the table's values (windows of ``length`` days)."""
    points = []
    for filters, kernel, depth, dropout in product(
        sweep.filters, sweep.kernel, sweep.depth, sweep.dropout
    ):
        knobs = {"filters": filters, "kernel": kernel, "depth": depth, "dropout": dropout}
        name = f"f{filters}_k{kernel}_d{depth}_p{dropout:g}"
        points.append(
            GridPoint(name, knobs, tuple(grid_layers(filters, kernel, depth, dropout, length)))
        )
    return points
