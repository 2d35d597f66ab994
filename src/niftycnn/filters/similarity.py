"""Weight similarity of first-layer filters with the reference kernels.

For a filter ``w`` of shape (C, k) and one of its channels ``w_c`` (k taps):

- ``cosine`` = <w_c, r> / |w_c| for every unit reference r (signed: +momentum is
  "rising", -momentum is anti-momentum);
- ``shape_cosine`` = cosine of the *level-removed* taps with r, i.e.
  <w_c, r> / |w_c - <w_c, l> l| for the zero-sum references (momentum, curvature,
  first difference; NaN for level). Why: windows are normalised per window
  (log(price / last close)), which subtracts a per-window constant from every tap. A
  filter's level component responds to that offset (it reads "how far is this stretch
  from the last close", itself a long-horizon return), while its zero-sum component is
  invariant to it and is the only part that sees the local *shape* of the path. The
  question "momentum [-1, 0, 1] or curvature [1, -2, 1]?" is a question about that part.
  For k = 3 the zero-sum part is 2-D and ``shape_cosine`` with momentum is |cos| of its
  angle in the (momentum, curvature) plane.
- ``energy_share`` = |P w_c|^2 / |w_c|^2, P the projection on the span of the degree 0-2
  Gram polynomials. For k <= 3 that span is all of R^k and the share is trivially 1; it
  is only informative for k >= 4 (base k = 3 conclusions on the cosines).

Views. Besides the raw input channels, a *group* view sums the taps of collinear
channels: the price channels (open/high/low/close) of a daily window move almost
together, so the network's response to a common move of the price path is the sum of
its taps over them, while how the taps are split among the four channels is weakly
identified (any redistribution with the same sum gives nearly the same output; the
differences act on intraday ranges, a different feature). The ``price`` view is
therefore where momentum in the close path shows up reliably; single-channel close
cosines are reported too but are noisy for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from niftycnn.errors import FilterAnalysisError
from niftycnn.kernels import gram_basis, reference_matrix

PRICE_CHANNELS: tuple[str, ...] = ("open", "high", "low", "close")
DEFAULT_GROUPS: Mapping[str, tuple[str, ...]] = {"price": PRICE_CHANNELS}
_EPS = 1e-12


@dataclass(frozen=True)
class Views:
    """How filter channels map to analysed views: raw channels, then channel groups."""

    names: tuple[str, ...]
    members: tuple[tuple[int, ...], ...]  # channel indices summed into each view

    @property
    def matrix(self) -> np.ndarray:
        """(V, C) 0/1 matrix: view v = sum of the channels it holds."""
        n_channels = 1 + max(i for m in self.members for i in m)
        mat = np.zeros((len(self.names), n_channels))
        for v, members in enumerate(self.members):
            mat[v, list(members)] = 1.0
        return mat


def make_views(
    channel_names: Sequence[str], groups: Mapping[str, Sequence[str]] | None = None
) -> Views:
    """Raw channels plus every group whose channels are all present (``DEFAULT_GROUPS``).

    A group naming a channel that is absent is skipped when it is a default group and
    an error when the caller asked for it explicitly.
    """
    names = tuple(channel_names)
    if len(set(names)) != len(names):
        raise FilterAnalysisError(f"channel names must be unique, got {names}")
    explicit = groups is not None
    groups = DEFAULT_GROUPS if groups is None else groups
    view_names = list(names)
    members: list[tuple[int, ...]] = [(i,) for i in range(len(names))]
    for group, chans in groups.items():
        missing = [c for c in chans if c not in names]
        if missing:
            if explicit:
                raise FilterAnalysisError(
                    f"group {group!r} names channels {missing} not in {names}; "
                    "pass groups made of the input channel names"
                )
            continue
        if group in names:
            raise FilterAnalysisError(
                f"group name {group!r} clashes with a channel name; rename it"
            )
        view_names.append(group)
        members.append(tuple(names.index(c) for c in chans))
    return Views(tuple(view_names), tuple(members))


def view_taps(weights: np.ndarray, views: Views) -> np.ndarray:
    """(..., C, k) filters -> (..., V, k) taps per view (group views sum their channels)."""
    return np.einsum("vc,...ck->...vk", views.matrix[:, : weights.shape[-2]], weights)


def weight_similarity(taps: np.ndarray) -> dict[str, np.ndarray]:
    """Cosines, shape cosines and energy share of (..., k) taps with every reference.

    Returns arrays ``cosine`` and ``shape_cosine`` of shape (..., R) in
    ``reference_matrix(k)`` order, and ``energy_share`` of shape (...). All-zero taps give
    NaN. Vectorised over every leading axis (models, filters, views) at once.
    """
    k = taps.shape[-1]
    names, refs = reference_matrix(k)
    norm = np.linalg.norm(taps, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = taps / np.where(norm > _EPS, norm, np.nan)[..., None]
        cosine = np.einsum("...k,rk->...r", unit, refs)
        level = cosine[..., names.index("level")]
        residual = np.sqrt(np.clip(1.0 - level**2, 0.0, None))
        shape = cosine / np.where(residual > 1e-9, residual, np.nan)[..., None]
    shape[..., names.index("level")] = np.nan
    basis = gram_basis(k)
    energy = np.sum(np.einsum("...k,dk->...d", unit, basis) ** 2, axis=-1)
    return {"cosine": cosine, "shape_cosine": shape, "energy_share": energy}


def best_reference(cosine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the reference with the largest |cosine| and that cosine's sign (+1/-1)."""
    filled = np.nan_to_num(np.abs(cosine), nan=-1.0)
    idx = np.argmax(filled, axis=-1)
    sign = np.sign(np.take_along_axis(cosine, idx[..., None], axis=-1)[..., 0])
    return idx, sign
