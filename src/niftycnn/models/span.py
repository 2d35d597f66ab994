"""Receptive fields, exactly: which input days each output position depends on.

For convs and pools alone the textbook recursion rf += (k - 1) * dilation * jump,
jump *= stride (``niftycnn.models.formulas.receptive_field_step``) is exact. Upsampling
breaks it: after a 2x upsampling two neighbouring positions read the same input step,
so how many days a later conv sees depends on where it sits (a k = 2 conv sees one step
or two). :class:`Span` tracks that exactly, on an unbounded input (padding never clips
it, as in the textbook's theoretical receptive field):

    position o depends on input days lo(o) .. hi(o), with
    lo(o) = lo[o mod P] + (o div P) * advance (hi alike),

a pattern with period P that moves ``advance`` days per period (advance / P is the
classic jump). The receptive field is the largest hi(o) - lo(o) + 1 over positions.
Without upsampling P stays 1 and the numbers are the textbook recursion's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Span:
    """The input days every output position depends on (module docstring)."""

    lo: tuple[int, ...] = (0,)
    hi: tuple[int, ...] = (0,)
    advance: int = 1

    @property
    def period(self) -> int:
        return len(self.lo)

    @property
    def size(self) -> int:
        """The receptive field: the most input days one position depends on."""
        return max(h - low + 1 for low, h in zip(self.lo, self.hi, strict=True))

    @property
    def jump(self) -> Fraction:
        return Fraction(self.advance, self.period)

    def at(self, q: int) -> tuple[int, int]:
        """(first, last) input day of position q (any integer: padding is unbounded)."""
        turns, r = divmod(q, self.period)
        return self.lo[r] + turns * self.advance, self.hi[r] + turns * self.advance

    def window(self, k: int, stride: int = 1, dilation: int = 1, left: int = 0) -> Span:
        """After a conv or pool: output o reads positions o * stride - left + j * dilation."""
        period = self.period // math.gcd(self.period, stride)
        lo = tuple(self.at(r * stride - left)[0] for r in range(period))
        hi = tuple(self.at(r * stride - left + (k - 1) * dilation)[1] for r in range(period))
        return Span(lo, hi, self.advance * period * stride // self.period)

    def upsampled(self, factor: int, mode: str, k: int | None = None, left: int = 0) -> Span:
        """After upsampling by ``factor``: ``nearest``; ``transposed`` (kernel k, default
        ``factor``; ``left`` its padding), output o = i * factor + j - left reads inputs
        i; ``linear`` (align_corners=False) reads the two inputs around
        (o + 1/2) / factor - 1/2 (one where that is a whole step)."""
        lo, hi = [], []
        for o in range(self.period * factor):
            if mode == "linear":
                src = Fraction(2 * o + 1 - factor, 2 * factor)
                first = math.floor(src)
                last = first + (src != first)
            elif mode == "transposed":
                taps = factor if k is None else k
                first = -((-(o + left - taps + 1)) // factor)
                last = (o + left) // factor
            else:
                first = last = o // factor
            lo.append(self.at(first)[0])
            hi.append(self.at(last)[1])
        return Span(tuple(lo), tuple(hi), self.advance)


def union(spans: list[Span]) -> Span:
    """Outputs merged position by position (a skip connection, parallel branches): each
    depends on the union of what the branches depend on. Branches that move at different
    speeds have no common pattern; the largest one stands for them."""
    if len({s.jump for s in spans}) > 1:
        return max(spans, key=lambda s: s.size)
    period = math.lcm(*(s.period for s in spans))
    ats = [[s.at(r) for r in range(period)] for s in spans]
    lo = tuple(min(a[r][0] for a in ats) for r in range(period))
    hi = tuple(max(a[r][1] for a in ats) for r in range(period))
    return Span(lo, hi, spans[0].advance * period // spans[0].period)
