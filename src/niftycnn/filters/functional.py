"""Functional similarity: compare what a filter *computes* on real windows.

Weight cosines treat every tap direction alike, but the inputs do not: on price windows
normalised by the last close, the variance of a k-tap patch is concentrated on its level
(a long-horizon return) and the price channels are nearly collinear. So here each
filter is compared with a reference by their outputs on the same test windows.

For a view v (a channel, or a group of channels with an *anchor* channel) and a
reference r, over every window n and valid position t (no padding, so no edge effects):

- ``functional_corr`` = Pearson corr_{n,t}( sum_{c in v} (w_c * x_c)[n, t], (r * x_a)[n, t] ),
  with ``*`` torch's cross-correlation and a = the channel itself or the group's anchor
  (``close`` for the ``price`` group);
- ``functional_shape_corr`` = the same correlation after regressing both outputs on the
  level reference's output (r_0 * x_a): the partial correlation given the level, the
  functional counterpart of the weight ``shape_cosine``; NaN for the level reference.

Both are invariant to rescaling the filter or the input, which is the point.

Caveat, measured: the init null is *not* a calibrated null for these statistics. Training
moves filters along the high-variance directions of the inputs even when there is nothing
to learn, and a data-metric statistic weighs exactly those directions: on a market with
nothing planted, the price-view functional shape correlation with momentum had p < 0.05
on 3 of 10 seeds. Use the functional numbers to describe what a filter computes; base
the momentum/curvature verdict on the weight shape cosines (the default statistic).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from niftycnn.errors import FilterAnalysisError
from niftycnn.filters.similarity import Views
from niftycnn.kernels import reference_matrix

_EPS = 1e-20


def _correlations(a: np.ndarray, b: np.ndarray, scatter: np.ndarray) -> np.ndarray:
    """Pearson correlations (M, R) of the outputs u . a_m and u . b_r over the patches u,
    from the patches' scatter matrix (sum of centred outer products): a linear map's
    output has variance a' S a, so no output is ever materialised. NaN where an output is
    constant (a zero filter, or a reference that vanishes on these patches)."""
    cross = a @ scatter @ b.T
    sd_a = np.sqrt(np.clip(np.einsum("mi,ij,mj->m", a, scatter, a), 0.0, None))
    sd_b = np.sqrt(np.clip(np.einsum("ri,ij,rj->r", b, scatter, b), 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cross / np.outer(_positive(sd_a), _positive(sd_b))


def _positive(sd: np.ndarray) -> np.ndarray:
    """A standard deviation with the vanishing ones as NaN (their correlations are NaN)."""
    return np.where(sd > _EPS, sd, np.nan)


def _partial(corr: np.ndarray, z_a: np.ndarray, z_b: np.ndarray) -> np.ndarray:
    """Partial correlations given a third output z: (r_ab - r_az r_bz) / sqrt((1 - r_az^2)
    (1 - r_bz^2)), i.e. the correlation of the two outputs' residuals on z."""
    res_a = np.sqrt(np.clip(1.0 - z_a**2, 0.0, None))
    res_b = np.sqrt(np.clip(1.0 - z_b**2, 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (corr - np.outer(z_a, z_b)) / np.outer(_positive(res_a), _positive(res_b))


def functional_similarity(
    filters: np.ndarray,
    windows: np.ndarray,
    views: Views,
    anchors: tuple[int, ...],
) -> dict[str, np.ndarray]:
    """Functional correlations of (M, C, k) filters with every reference, per view.

    ``windows`` is (N, C, L); ``anchors[v]`` is the channel a view's reference acts on.
    Returns ``functional_corr`` and ``functional_shape_corr`` of shape (M, V, R).

    Every output here is linear in the (C * k) patch at a position, so every correlation
    is a quadratic form in the patches' (C k x C k) scatter matrix: the cost is linear in
    the number of filters and independent of the number of windows once that matrix is
    formed (the same numbers as correlating the materialised outputs, up to rounding).
    """
    n_filters, n_channels, k = filters.shape
    if windows.ndim != 3 or windows.shape[1] != n_channels:
        raise FilterAnalysisError(
            f"windows must be (N, C={n_channels}, L), got {windows.shape}; pass the fold's "
            "test windows in the filters' channel order"
        )
    if windows.shape[2] < k + 1:
        raise FilterAnalysisError(f"windows of length {windows.shape[2]} are too short for k={k}")
    names, refs = reference_matrix(k)
    level = names.index("level")
    patches = sliding_window_view(windows.astype(np.float64), k, axis=-1)  # (N, C, P, k)
    flat = patches.transpose(0, 2, 1, 3).reshape(-1, n_channels * k)  # (N P, C k)
    centred = flat - flat.mean(axis=0)
    scatter = centred.T @ centred
    n_views, n_refs = len(views.names), len(names)
    corr = np.full((n_filters, n_views, n_refs), np.nan)
    shape = np.full_like(corr, np.nan)
    for v, members in enumerate(views.members):
        mask = np.zeros((n_channels, 1))
        mask[list(members)] = 1.0
        a = (filters * mask).reshape(n_filters, -1)  # the view's channels only
        on_anchor = np.zeros((n_refs, n_channels, k))
        on_anchor[:, anchors[v]] = refs  # each reference on the view's anchor channel
        b = on_anchor.reshape(n_refs, -1)
        corr[:, v] = _correlations(a, b, scatter)
        ref_corr = _correlations(b, b, scatter)
        shape[:, v] = _partial(corr[:, v], corr[:, v, level], ref_corr[:, level])
    shape[..., level] = np.nan
    return {"functional_corr": corr, "functional_shape_corr": shape}


def view_anchors(
    views: Views, channel_names: tuple[str, ...], anchor: str = "close"
) -> tuple[int, ...]:
    """Anchor channel per view: the channel itself, or ``anchor`` for group views."""
    out = []
    for members in views.members:
        if len(members) == 1:
            out.append(members[0])
        elif anchor in channel_names and channel_names.index(anchor) in members:
            out.append(channel_names.index(anchor))
        else:
            out.append(members[-1])
    return tuple(out)
