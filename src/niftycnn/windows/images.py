"""OHLC chart images (Jiang, Kelly & Xiu 2023, "(Re-)Imag(in)ing Price Trends").

An image of L days is black (0) with white (1) bars, 3 columns per day (width 3L):
the open tick on day i's left column (3i), the high-low bar on its centre column
(3i + 1), the close tick on its right column (3i + 2). Rows run top (row 0, the image's
highest price) to bottom. Each image is scaled to its own range:

- price row of p: r(p) = round((p - lo) / (hi - lo) * (P - 1)) counted up from the
  bottom price row, lo / hi the lowest low / highest high of the image's L days (and of
  its moving average, when drawn); P price rows; a flat image (hi == lo) sits on row
  (P - 1) / 2. ``round`` is half-up (floor(x + 0.5)). Multiplying every price by a
  constant leaves r unchanged (up to float rounding on exact .5 ties);
- moving average (``ma``): the mean close of the L days ending on each day (a window as
  long as the image, so an image needs 2L - 1 days of history, all on or before its last
  day), one pixel on each centre column, joined by linear interpolation on the two
  columns between neighbouring centres;
- volume (``volume``): the bottom fifth, V = H // 5 rows below a one-row gap (so
  P = H - V - 1), a bar of round(v / v_max * V) pixels up from the bottom on the centre
  column, v_max the image's largest volume (no bars when it is 0: Yahoo's index volume
  before 2013).

Heights (:data:`IMAGE_HEIGHTS`): the paper's 32, 64, 96 rows for 5, 20, 60 days
(images 32 x 15, 64 x 60, 96 x 180); other lengths take the height of the next paper
length up (<= 5 days: 32; 6-20: 64; longer: 96), or an explicit ``height``.

Rendering is vectorised over images (comparisons against a row grid, no per-image
loop) and returns bit-packed rows (``np.packbits`` along the width: 8 pixels a byte,
64 x 60 in 512 bytes), so a universe of images fits in memory; :func:`unpack_images`
gives the network's input (N, 1, H, W): a dataset holds it as uint8 0 / 1 (3,840
bytes per 20-day image), which the trainers cast to float32 a batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.errors import LabelError

# Image heights of the paper (Jiang, Kelly & Xiu 2023, section II.A): days -> rows.
IMAGE_HEIGHTS: dict[int, int] = {5: 32, 20: 64, 60: 96}


def image_height(days: int) -> int:
    """Rows of an image of ``days`` days: the paper's height for 5 / 20 / 60 days, else
    the height of the next paper length up (96 beyond 60 days)."""
    for paper_days, rows in sorted(IMAGE_HEIGHTS.items()):
        if days <= paper_days:
            return rows
    return IMAGE_HEIGHTS[max(IMAGE_HEIGHTS)]


@dataclass(frozen=True)
class ImageStyle:
    """How an image is drawn: its days, rows, and the optional MA line and volume bars."""

    days: int
    height: int
    ma: bool = True
    volume: bool = True

    @property
    def width(self) -> int:
        return 3 * self.days

    @property
    def volume_rows(self) -> int:
        return self.height // 5 if self.volume else 0

    @property
    def price_rows(self) -> int:
        return self.height - self.volume_rows - 1 if self.volume else self.height

    @property
    def history(self) -> int:
        """Days of data an image needs, its own days included (the MA's window)."""
        return 2 * self.days - 1 if self.ma else self.days

    def check(self) -> None:
        if self.days < 1:
            raise LabelError(f"image days must be >= 1, got {self.days}")
        if self.price_rows < 2:
            raise LabelError(
                f"image height {self.height} leaves {self.price_rows} price rows; use a "
                "height of at least 8 (or the default for the length)"
            )


def style_for(
    days: int, ma: bool = True, volume: bool = True, height: int | None = None
) -> ImageStyle:
    """The style of ``days``-day images (height from :func:`image_height` unless given)."""
    style = ImageStyle(days, height or image_height(days), ma, volume)
    style.check()
    return style


def _round(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5).astype(np.int64)


def draw_bars(
    o: np.ndarray,
    h: np.ndarray,
    low: np.ndarray,
    c: np.ndarray,
    style: ImageStyle,
    ma: np.ndarray | None = None,
    v: np.ndarray | None = None,
) -> np.ndarray:
    """Images (N, H, 3L) bool from per-image bars, each (N, L): open, high, low, close,
    and the moving average (drawn when given) and volume (bars when given; the style
    must reserve the bottom fifth)."""
    n, days = o.shape
    P, H, W = style.price_rows, style.height, style.width
    parts = [h, low] if ma is None else [h, low, ma]
    hi = np.max([p.max(axis=1) for p in parts], axis=0)[:, None]
    lo = np.min([p.min(axis=1) for p in parts], axis=0)[:, None]
    span = hi - lo
    flat = span <= 0
    scale = np.where(flat, 0.0, (P - 1) / np.where(flat, 1.0, span))

    def frac(p: np.ndarray) -> np.ndarray:  # position above the bottom price row, float
        return np.where(flat, (P - 1) / 2, (p - lo) * scale)

    def row(p: np.ndarray) -> np.ndarray:  # image row, 0 at the top
        return (P - 1) - np.clip(_round(frac(p)), 0, P - 1)

    img = np.zeros((n, H, W), dtype=bool)
    grid = np.arange(H)[None, None, :]  # (1, 1, H)
    ni = np.arange(n)[:, None]
    day = np.arange(days)[None, :]
    img[ni, row(o), 3 * day] = True
    img[ni, row(c), 3 * day + 2] = True
    bar = (grid >= row(h)[..., None]) & (grid <= row(low)[..., None])  # (N, L, H)
    img[:, :, 1::3] |= bar.transpose(0, 2, 1)
    if ma is not None:
        f = frac(ma)
        img[ni, (P - 1) - np.clip(_round(f), 0, P - 1), 3 * day + 1] = True
        for step in (1, 2):  # the two columns between neighbouring centres
            between = f[:, :-1] + (f[:, 1:] - f[:, :-1]) * step / 3
            rows = (P - 1) - np.clip(_round(between), 0, P - 1)
            img[ni, rows, 3 * day[:, :-1] + 1 + step] = True
    if v is not None:
        V = style.volume_rows
        vmax = v.max(axis=1, keepdims=True)
        tall = np.where(vmax > 0, _round(v / np.where(vmax > 0, vmax, 1.0) * V), 0)
        vol = grid >= (H - tall)[..., None]  # (N, L, H)
        img[:, :, 1::3] |= vol.transpose(0, 2, 1)
    return img


def moving_average(close: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of ``window`` closes ending on each day (NaN for the first
    window - 1 days): day t reads days t - window + 1 .. t only."""
    out = np.full(close.shape, np.nan)
    if len(close) >= window:
        out[window - 1 :] = sliding_window_view(close, window).mean(axis=1)
    return out


def render_images(
    frame: pd.DataFrame, style: ImageStyle, end_pos: np.ndarray | None = None
) -> np.ndarray:
    """Bit-packed images (N, H, ceil(W / 8)) uint8 ending at rows ``end_pos`` of
    ``frame`` (default: every row with ``style.history`` days up to it). The image ending
    at row t reads rows t - history + 1 .. t only."""
    need = style.history
    if len(frame) < need:
        raise LabelError(
            f"frame has {len(frame)} rows; a {style.days}-day image needs {need} "
            f"({'with' if style.ma else 'without'} its moving average); use more data"
        )
    ends = np.arange(need - 1, len(frame)) if end_pos is None else np.asarray(end_pos)
    if ends.size and ends.min() < need - 1:
        raise LabelError(f"image end row {int(ends.min())} has fewer than {need} rows of history")
    cols = {k: frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close")}
    take = ends[:, None] + np.arange(-style.days + 1, 1)[None, :]  # (N, L) row positions
    ma = moving_average(cols["close"], style.days)[take] if style.ma else None
    vol = frame["volume"].to_numpy(np.float64)[take] if style.volume else None
    o, h, low, c = (cols[k][take] for k in ("open", "high", "low", "close"))
    img = draw_bars(o, h, low, c, style, ma=ma, v=vol)
    return np.packbits(img, axis=-1)


def unpack_images(packed: np.ndarray, width: int, dtype: type = np.float32) -> np.ndarray:
    """The network's input from packed images: (N, 1, H, width) of 0 / 1, float32 by
    default (uint8: what a dataset stores, cast to float a batch at a time)."""
    bits = np.unpackbits(packed, axis=-1, count=width)
    return bits[:, None].astype(dtype)
