"""The ``rocket`` baselines: random convolutional kernels, PPV and max features, a linear
model on top (ROCKET: Dempster, Petitjean & Webb 2020; biases as in MiniRocket:
Dempster, Schmidt & Webb 2021). The control the CNN's own question needs: does a network
that *learns* its filters beat the same read-out over random ones?

Kernels are drawn once from a seed (the same bank in every fold), ``n_kernels`` of them:

- length from {7, 9, 11} (at most the window length), weights from
  :func:`niftycnn.kernels.random_kernel_weights` (N(0, 1), mean-centred per channel) on a
  random subset of 2^U(0, log2(C + 1)) channels (sktime's multivariate ROCKET), zero on
  the others;
- dilation floor(2^U(0, log2((L - 1) / (length - 1)))), so the dilated kernel fits;
- padding (length - 1) * dilation / 2 on each side with probability 1/2, else none.

Biases are fitted on each fold's training side: kernel k's bias is the q_k-quantile of
its outputs over up to 512 training windows, q_k ~ U(0.1, 0.9) drawn with the kernels
(MiniRocket's rule; ROCKET's U(-1, 1) suits z-normalised series, which our windows are
not). Features per kernel: PPV, the share of positions where the output exceeds the bias,
and the output's maximum (ROCKET's two), 2 x ``n_kernels`` in all.

- ``rocket`` (classification): multinomial logistic regression on the standardised
  features, giving probabilities. Its penalty (C = 1e-4, scikit-learn's inverse
  strength on the summed loss) was chosen on the synthetic momentum market among
  3e-5 ... 3e-3 (out-of-sample log loss 1.372 at 1e-4, 1.384 at 3e-4, 1.451 at 1e-3),
  never on real data; 400 features on a few thousand windows overfit quickly.
- ``rocket_ridge`` (both heads): ridge regression of the label return on the
  standardised features, scored like ``ridge``; alpha from ``ALPHAS`` by blocked
  cross-validation on the training side (:func:`blocked_splits`: ``CV_BLOCKS`` contiguous
  blocks, each scored by a fit on the rest less ``2 L`` windows either side of it).
  Not by leave-one-out (sktime's and ``RidgeCV``'s default): a window's neighbours have
  nearly the same features and share most of its label's return (an expiry label
  overlaps the next days'), so leaving one window out leaves its twins in, the
  held-out error rewards fitting noise, and LOO chose alpha 31.6 on every real NIFTY
  weekly fold (out-of-sample R^2 -0.96 on every 15th fold, vs +0.008 with blocked
  folds, which chose 1e5 to 1e7: near the training mean, as a series without
  predictable returns should give).

Windows are transformed in fixed blocks of 64 (the last one zero-padded), so a window's
features do not depend on how many windows are transformed with it: BLAS rounding
depends on the matrix shape, and a test block cut by truncated data must give the same
bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Self

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from niftycnn.kernels import random_kernel_weights
from niftycnn.walkforward.linear import (
    Solution,
    class_probabilities,
    fit_logistic,
    rowwise,
    solution_of,
)

KERNEL_LENGTHS = (7, 9, 11)  # ROCKET's kernel lengths
N_KERNELS = 200
BLOCK = 64  # windows per transform block (fixed matrix shapes)
BIAS_WINDOWS = 512  # training windows the bias quantiles are taken over
ALPHAS = np.logspace(0, 7, 15)  # rocket_ridge's grid: up to "predict the training mean"
CV_BLOCKS = 5


@dataclass(frozen=True)
class KernelGroup:
    """Kernels that share a length, dilation and padding: one matrix product."""

    index: np.ndarray  # (G,) positions of these kernels in the bank
    weights: np.ndarray  # (G, C, length)
    length: int
    dilation: int
    padding: int

    def convolve(self, X: np.ndarray) -> np.ndarray:
        """Outputs (n, G, T) of the group's kernels on windows X (n, C, L), n a multiple
        of BLOCK: one matrix product per block of BLOCK windows, whatever n is."""
        Xp = np.pad(X, ((0, 0), (0, 0), (self.padding, self.padding)))
        span = (self.length - 1) * self.dilation + 1
        taps = sliding_window_view(Xp, span, axis=2)[..., :: self.dilation]  # (n, C, T, m)
        n, c, t, m = taps.shape
        cols = np.array(taps.transpose(0, 2, 1, 3)).reshape(n // BLOCK, BLOCK * t, c * m)
        w = torch.as_tensor(self.weights.reshape(len(self.index), c * m).T)
        out = torch.matmul(torch.from_numpy(cols), w).numpy()  # one product per block
        return out.reshape(n, t, -1).transpose(0, 2, 1)


@dataclass(frozen=True)
class KernelBank:
    """A bank of random kernels (see the module docstring) and each one's bias quantile."""

    groups: tuple[KernelGroup, ...]
    quantiles: np.ndarray  # (K,)

    @property
    def n_kernels(self) -> int:
        return len(self.quantiles)


def draw_kernels(n_kernels: int, channels: int, length: int, seed: int = 0) -> KernelBank:
    """``n_kernels`` random kernels for windows of ``channels`` x ``length``."""
    rng = np.random.default_rng(seed)
    lengths = [m for m in KERNEL_LENGTHS if m <= length] or [length]
    m = rng.choice(lengths, n_kernels)
    dilation = np.floor(2 ** rng.uniform(0, np.log2(max(length - 1, 1) / np.maximum(m - 1, 1))))
    dilation = np.maximum(dilation, 1).astype(np.int64)
    padded = rng.random(n_kernels) < 0.5
    n_channels = np.minimum(
        np.floor(2 ** rng.uniform(0, np.log2(channels + 1), n_kernels)), channels
    )
    quantiles = rng.uniform(0.1, 0.9, n_kernels)
    weights = np.zeros((n_kernels, channels, int(m.max())))
    for k in range(n_kernels):
        chosen = rng.choice(channels, int(n_channels[k]), replace=False)
        w = random_kernel_weights(1, len(chosen), int(m[k]), int(rng.integers(2**31)))[0]
        weights[k, chosen, : m[k]] = w
    padding = np.where(padded, (m - 1) * dilation // 2, 0)
    keys = sorted(set(zip(m.tolist(), dilation.tolist(), padding.tolist(), strict=True)))
    groups = []
    for mk, dk, pk in keys:
        index = np.flatnonzero((m == mk) & (dilation == dk) & (padding == pk))
        groups.append(KernelGroup(index, weights[index, :, :mk], mk, dk, pk))
    return KernelBank(tuple(groups), quantiles)


def _padded(X: np.ndarray) -> np.ndarray:
    """X as float64, zero-padded to a multiple of BLOCK windows."""
    X = np.asarray(X, dtype=np.float64)
    pad = (-len(X)) % BLOCK
    return np.concatenate([X, np.zeros((pad, *X.shape[1:]))]) if pad else X


def fit_biases(bank: KernelBank, X: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each kernel's bias: its quantile (``bank.quantiles``) of its outputs over up to
    ``BIAS_WINDOWS`` of the windows X (a seeded choice)."""
    rng = np.random.default_rng(seed)
    if len(X) > BIAS_WINDOWS:
        X = X[np.sort(rng.choice(len(X), BIAS_WINDOWS, replace=False))]
    n, Xp = len(X), _padded(X)
    biases = np.empty(bank.n_kernels)
    for group in bank.groups:
        out = group.convolve(Xp)[:n].transpose(1, 0, 2).reshape(len(group.index), -1)
        values = np.sort(out, axis=1)
        pos = np.round(bank.quantiles[group.index] * (values.shape[1] - 1)).astype(np.int64)
        biases[group.index] = np.take_along_axis(values, pos[:, None], axis=1)[:, 0]
    return biases


def transform(bank: KernelBank, biases: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Features (n, 2K): PPV of every kernel, then its maximum."""
    n, k = len(X), bank.n_kernels
    features = np.empty((n, 2 * k))
    if n == 0:
        return features
    Xp = _padded(X)
    for group in bank.groups:
        out = group.convolve(Xp)[:n]  # (n, G, T)
        features[:, group.index] = (out > biases[group.index][None, :, None]).mean(-1)
        features[:, k + group.index] = out.max(-1)
    return features


def blocked_splits(n: int, blocks: int, gap: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held-out) positions of ``blocks`` contiguous blocks of ``range(n)`` (rows in
    time order), each held out in turn, training on the rest less ``gap`` rows either side
    of it (windows that share days or label days with the block). Fewer blocks (two at
    least) and a narrower gap when ``n`` is small, so every split keeps rows to fit on."""
    blocks = max(2, min(blocks, n // max(4 * gap, 1)))
    gap = min(gap, n // (2 * blocks))
    edges = np.linspace(0, n, blocks + 1).astype(np.int64)
    out = []
    for a, b in pairwise(edges):
        train = np.concatenate([np.arange(0, max(a - gap, 0)), np.arange(min(b + gap, n), n)])
        out.append((train, np.arange(a, b)))
    return out


def ridge_alpha(
    F: np.ndarray,
    y: np.ndarray,
    splits: list[tuple[np.ndarray, np.ndarray]],
    alphas: np.ndarray,
) -> float:
    """The alpha of ``alphas`` with the least held-out squared error summed over
    ``splits``, ridge with an intercept fitted on each split's training rows. One
    eigendecomposition of the centred Gram matrix per split serves every alpha (what
    scikit-learn's ``RidgeCV(cv=...)`` does with one fit per alpha and split, ~5x slower
    here)."""
    errors = np.zeros(len(alphas))
    for train, held in splits:
        mean, y_mean = F[train].mean(0), y[train].mean()
        Xc = F[train] - mean
        s, V = np.linalg.eigh(Xc.T @ Xc)
        proj = V.T @ (Xc.T @ (y[train] - y_mean))  # (p,)
        H = (F[held] - mean) @ V  # (h, p)
        coefs = proj[:, None] / (np.maximum(s, 0.0)[:, None] + alphas[None, :])  # (p, A)
        errors += (((y[held] - y_mean)[:, None] - H @ coefs) ** 2).sum(0)
    return float(alphas[int(np.argmin(errors))])


class _RocketFeatures:
    """The shared part: the kernel bank, biases fitted per fold, scaled features."""

    def __init__(self, n_kernels: int = N_KERNELS, seed: int = 0) -> None:
        self.n_kernels = n_kernels
        self.seed = seed

    def _fit_features(self, X: np.ndarray) -> np.ndarray:
        from sklearn.preprocessing import StandardScaler

        self.bank_ = draw_kernels(self.n_kernels, X.shape[1], X.shape[2], self.seed)
        self.biases_ = fit_biases(self.bank_, X, self.seed)
        features = transform(self.bank_, self.biases_, X)
        self.scaler_ = StandardScaler().fit(features)
        return np.asarray(self.scaler_.transform(features))

    def _features(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.scaler_.transform(transform(self.bank_, self.biases_, X)))


class Rocket(_RocketFeatures):
    """Random-kernel features, multinomial logistic regression on top."""

    task = "classification"

    def __init__(self, n_kernels: int = N_KERNELS, C: float = 1e-4, seed: int = 0) -> None:
        super().__init__(n_kernels, seed)
        self.C = C
        self.tol = 1e-4  # scikit-learn's default lbfgs tolerance
        self.warm_: Solution | None = None

    def warm_start(self, solution: Solution) -> None:
        """Start the next ``fit`` from an earlier fold's solution."""
        self.warm_ = solution

    def solution(self) -> Solution:
        return solution_of(self.model_)

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        self.n_classes = n_classes
        features = self._fit_features(X)
        with threadpool_limits(1):  # small problem: 1 thread
            self.model_ = fit_logistic(features, y_class, self.C, self.tol, self.warm_)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        logits = rowwise(self._features(X), self.model_.coef_, self.model_.intercept_)
        proba = class_probabilities(logits, self.model_.classes_, self.n_classes)
        return proba, np.full(len(X), np.nan)


class RocketRidge(_RocketFeatures):
    """Random-kernel features, ridge regression of the label return on top."""

    task = "regression"

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        from sklearn.linear_model import Ridge

        features = self._fit_features(X)
        folds = blocked_splits(len(X), CV_BLOCKS, gap=2 * X.shape[2])
        with threadpool_limits(1):  # small problems: one thread (and the same bits)
            self.alpha_ = ridge_alpha(features, y_return, folds, ALPHAS)
            self.model_ = Ridge(alpha=self.alpha_).fit(features, y_return)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        coef = np.asarray(self.model_.coef_)[None, :]
        return None, rowwise(self._features(X), coef, self.model_.intercept_)[:, 0]
