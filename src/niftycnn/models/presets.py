"""Named architectures, each a plain spec."""

from __future__ import annotations

from niftycnn.models.spec import Architecture, Conv, Dense, GlobalAvgPool, Pool

# q10: two conv blocks, pooling, GAP, dense head; sized for 20-day x 5-feature windows.
Q10 = (Conv(16, 3), Pool("max", 2), Conv(32, 3), GlobalAvgPool())


def preset(name: str, head: str = "classification", n_classes: int = 5) -> Architecture:
    layers = {"q10": Q10}[name]
    return Architecture(layers=layers, head=head, n_classes=n_classes, name=name)  # type: ignore[arg-type]


__all__ = ["Q10", "Dense", "preset"]
