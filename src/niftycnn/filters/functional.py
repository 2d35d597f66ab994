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


def _standardise(a: np.ndarray) -> np.ndarray:
    """Centre and unit-normalise the last axis (so a dot product is a correlation)."""
    a = a - a.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(a, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return a / np.where(norm > _EPS, norm, np.nan)


def _residualise(a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residual of standardised rows ``a`` (..., P) on one standardised series z (P,)."""
    return a - np.einsum("...p,p->...", a, z)[..., None] * z


def functional_similarity(
    filters: np.ndarray,
    windows: np.ndarray,
    views: Views,
    anchors: tuple[int, ...],
    chunk: int = 256,
) -> dict[str, np.ndarray]:
    """Functional correlations of (M, C, k) filters with every reference, per view.

    ``windows`` is (N, C, L); ``anchors[v]`` is the channel a view's reference acts on.
    Returns ``functional_corr`` and ``functional_shape_corr`` of shape (M, V, R).
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
    n_views, n_refs = len(views.names), len(names)
    corr = np.full((n_filters, n_views, n_refs), np.nan)
    shape = np.full_like(corr, np.nan)
    for v, members in enumerate(views.members):
        ref_out = np.einsum("npk,rk->rnp", patches[:, anchors[v]], refs).reshape(n_refs, -1)
        ref_std = _standardise(ref_out)
        z = ref_std[level]
        ref_res = _standardise(_residualise(ref_std, z))
        sub = patches[:, list(members)]
        for start in range(0, n_filters, chunk):
            w = filters[start : start + chunk, list(members)]
            out = np.einsum("ncpk,mck->mnp", sub, w).reshape(len(w), -1)
            out_std = _standardise(out)
            corr[start : start + chunk, v] = out_std @ ref_std.T
            out_res = _standardise(_residualise(out_std, z))
            shape[start : start + chunk, v] = out_res @ ref_res.T
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
