"""Baselines scored on the very same folds as the CNN: one registry, estimators with
``fit`` / ``predict``.

Each estimator sees one fold's training side (training + validation tail: baselines need
no early stopping) and predicts its test block: ``predict(X)`` returns ``proba`` (n, K)
or None, and ``r_pred`` (n,) (NaN where the fold derives it from the probabilities).

- ``majority`` (classification): the training class frequencies as probabilities
  (``DummyClassifier(strategy="prior")``).
- ``mean`` (regression): the training mean return (``DummyRegressor``).
- ``logistic``: multinomial logistic regression on the flattened window (C*L inputs),
  standardised with a scaler fitted on the training side.
- ``ridge``: ridge regression of the return on the same inputs (a regression model: its
  class is the class of its predicted return under the fold's thresholds).
- ``momentum``: the sign of the window's L-day return. Windows are normalised as
  100 log(price / close_t), so ``-X[:, close, 0] = 100 log(close_t / close_{t-L+1})``. It predicts
  a return, the sign times the mean absolute training return, and is scored like the
  regression baselines: a rule has no probabilities (one-hot ones would give an
  infinite log loss on every miss).
- ``rocket`` (classification) / ``rocket_ridge`` (both heads): random convolutional
  kernels (ROCKET's PPV and max features) with logistic / ridge regression on top
  (:mod:`niftycnn.walkforward.rocket`): the learned filters' control.
- ``fixed_kernels``: a network (the preset of that name: frozen level / momentum /
  curvature kernels, then q10's trainable rest) trained by the CNN engine.

Rule baselines for universes (ranked across the symbols like every model; the default
baselines of a universe only), scored like ``momentum``:

- ``xs_momentum``: cross-sectional momentum, the window's L-day return
  log(close_t / close_{t-L+1}) (Jegadeesh & Titman 1993, on the window's horizon);
- ``xs_reversal``: short-term reversal, minus the last week's return
  -log(close_t / close_{t-5}) (Jegadeesh 1990; Lehmann 1990).

Both predict that score times a scale fitted on the training side (the ratio of the
mean absolute label return to the mean absolute score), so their returns have the
label's size; the scale is positive, so it changes no ranking.

- ``oracle`` (synthetic markets with a planted pattern): the planted rule itself, applied
  to what the models see. It computes the planted kernel (``pattern_kernel``, from the
  experiment's ``[data.synthetic]`` table) on the planted channel's last ``lookback``
  days of each window, exactly the days the next day's drift depends on (a zero-sum
  kernel ignores the window's last-close shift; on z-scored volume its sign is exact),
  and fits a multinomial logistic regression of the class on that output (as is, and
  through tanh at two scales) on the training side. It is the attainable edge: how much
  of it each model captures is what the verdict's ``oracle`` entry reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np

from niftycnn.config import SyntheticConfig
from niftycnn.data.synthetic import pattern_kernel
from niftycnn.errors import ConfigError
from niftycnn.models import Architecture, preset
from niftycnn.walkforward.linear import (
    Solution,
    class_probabilities,
    fit_logistic,
    rowwise,
    solution_of,
)
from niftycnn.walkforward.rocket import Rocket, RocketRidge

BOTH_HEADS: tuple[str, ...] = ("classification", "regression")


class Baseline(Protocol):
    """A baseline fitted on one fold's training side."""

    task: str  # what its predictions are scored as: "classification" or "regression"

    def fit(
        self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int
    ) -> Baseline: ...

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]: ...


def _flat(X: np.ndarray) -> np.ndarray:
    return X.reshape(len(X), -1).astype(np.float64)


class Majority:
    task = "classification"

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        from sklearn.dummy import DummyClassifier

        dummy = DummyClassifier(strategy="prior").fit(_flat(X), y_class)
        self.proba_ = np.zeros(n_classes)
        self.proba_[dummy.classes_] = dummy.class_prior_
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        return np.tile(self.proba_, (len(X), 1)), np.full(len(X), np.nan)


class Mean:
    task = "regression"

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        from sklearn.dummy import DummyRegressor

        self.model_ = DummyRegressor(strategy="mean").fit(_flat(X), y_return)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        return None, self.model_.predict(_flat(X)).astype(np.float64)


class Momentum:
    task = "regression"

    def __init__(self, close_channel: int) -> None:
        self.close_channel = close_channel

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        self.size_ = float(np.mean(np.abs(y_return)))
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        up = -X[:, self.close_channel, 0] > 0
        return None, np.where(up, 1.0, -1.0) * self.size_


class ScoreRule:
    """A rule whose score is one lagged return of the window's close channel (the
    windows hold 100 log(close / close_t), so the return from lag j to t, in percent, is
    -X[:, c, j]; ``fit`` rescales it to the training returns)."""

    task = "regression"

    def __init__(self, close_channel: int, lag: int | None, sign: float) -> None:
        self.close_channel, self.lag, self.sign = close_channel, lag, sign

    def score(self, X: np.ndarray) -> np.ndarray:
        length = X.shape[-1]
        lag = 0 if self.lag is None else max(length - 1 - self.lag, 0)
        return self.sign * -X[:, self.close_channel, lag].astype(np.float64)

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        size = float(np.mean(np.abs(self.score(X))))
        self.scale_ = float(np.mean(np.abs(y_return))) / size if size > 0 else 1.0
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        return None, self.scale_ * self.score(X)


REVERSAL_DAYS = 5  # a week of sessions


class Ridge:
    task = "regression"

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        from sklearn.linear_model import Ridge as SkRidge
        from sklearn.preprocessing import StandardScaler

        self.scaler_ = StandardScaler().fit(_flat(X))
        self.model_ = SkRidge(alpha=1.0).fit(self.scaler_.transform(_flat(X)), y_return)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        b = self.scaler_.transform(_flat(X))
        return None, rowwise(b, self.model_.coef_[None, :], self.model_.intercept_)[:, 0]


class Logistic:
    task = "classification"
    C = 0.1
    tol = 1e-4  # scikit-learn's default lbfgs tolerance

    def __init__(self) -> None:
        self.warm_: Solution | None = None

    def warm_start(self, solution: Solution) -> None:
        """Start the next ``fit`` from an earlier fold's solution."""
        self.warm_ = solution

    def solution(self) -> Solution:
        return solution_of(self.model_)

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        return _flat(X)

    def fit(self, X: np.ndarray, y_class: np.ndarray, y_return: np.ndarray, n_classes: int) -> Self:
        from sklearn.preprocessing import StandardScaler

        self.n_classes = n_classes
        inputs = self._inputs(X)
        self.scaler_ = StandardScaler().fit(inputs)
        self.model_ = fit_logistic(
            self.scaler_.transform(inputs), y_class, self.C, self.tol, self.warm_
        )
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        logits = rowwise(
            self.scaler_.transform(self._inputs(X)), self.model_.coef_, self.model_.intercept_
        )
        proba = class_probabilities(logits, self.model_.classes_, self.n_classes)
        return proba, np.full(len(X), np.nan)


class Oracle(Logistic):
    """The planted rule on the model's own inputs (see the module docstring)."""

    C = 1.0

    def __init__(self, channel: int, kernel: np.ndarray) -> None:
        super().__init__()
        self.channel, self.kernel = channel, np.asarray(kernel, dtype=np.float64)
        self.rms_: float | None = None

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        k = len(self.kernel)
        recent = X[:, self.channel, -k:].astype(np.float64)
        out = (recent * self.kernel).sum(1)  # row-wise: no shape-dependent BLAS
        if self.rms_ is None:  # fitting: the training side's scale of the output
            self.rms_ = float(np.sqrt(np.mean(out**2))) or 1.0
        z = out / self.rms_
        return np.stack([z, np.tanh(z), np.tanh(2.0 * z)], axis=1)


@dataclass(frozen=True)
class BaselineInfo:
    """One row of the registry: what a baseline is, which heads it serves, what it reads.

    ``make(features)`` builds an estimator; ``preset`` (networks) is trained by the CNN
    engine instead, with the experiment's head. ``universe``: a cross-sectional rule,
    a default baseline of universes only (it can still be asked for on one series).
    ``make_planted(features, synthetic)`` builds an estimator that needs the synthetic
    market's planted pattern (the oracle).
    """

    name: str
    heads: tuple[str, ...]
    needs: tuple[str, ...] = ()
    make: Callable[[Sequence[str]], Baseline] | None = None
    preset: str | None = None
    universe: bool = False
    make_planted: Callable[[Sequence[str], SyntheticConfig], Baseline] | None = None
    images: bool = True  # fits chart images (N, 1, H, W): False for 1D kernels and networks


IMAGE_CHANNEL = "image"  # the one channel of chart images (``WindowsConfig.channels``)

BASELINES: dict[str, BaselineInfo] = {
    b.name: b
    for b in (
        BaselineInfo("majority", ("classification",), make=lambda f: Majority()),
        BaselineInfo("mean", ("regression",), make=lambda f: Mean()),
        BaselineInfo("logistic", ("classification",), make=lambda f: Logistic()),
        BaselineInfo("ridge", BOTH_HEADS, make=lambda f: Ridge()),
        BaselineInfo(
            "momentum",
            BOTH_HEADS,
            needs=("close",),
            make=lambda f: Momentum(list(f).index("close")),
        ),
        BaselineInfo("rocket", ("classification",), make=lambda f: Rocket(), images=False),
        BaselineInfo("rocket_ridge", BOTH_HEADS, make=lambda f: RocketRidge(), images=False),
        BaselineInfo("fixed_kernels", BOTH_HEADS, preset="fixed_kernels", images=False),
        BaselineInfo(
            "xs_momentum",
            BOTH_HEADS,
            needs=("close",),
            make=lambda f: ScoreRule(list(f).index("close"), None, 1.0),
            universe=True,
        ),
        BaselineInfo(
            "xs_reversal",
            BOTH_HEADS,
            needs=("close",),
            make=lambda f: ScoreRule(list(f).index("close"), REVERSAL_DAYS, -1.0),
            universe=True,
        ),
        BaselineInfo(
            "oracle",
            ("classification",),
            make_planted=lambda f, s: Oracle(
                list(f).index(s.channel), pattern_kernel(s.pattern, s.lookback)
            ),
            images=False,
        ),
    )
}


def check_oracle(synthetic: SyntheticConfig | None, features: Sequence[str], length: int) -> None:
    """Raise :class:`ConfigError` when the oracle cannot see the planted pattern."""
    if synthetic is None or not synthetic.planted:
        raise ConfigError(
            "[baselines] oracle needs a synthetic market with a planted pattern "
            "([data] source = 'synthetic', [data.synthetic] pattern != 'none'); drop oracle"
        )
    if synthetic.channel not in features:
        raise ConfigError(
            f"[baselines] oracle reads the planted channel {synthetic.channel!r}, which "
            f"[windows] features {list(features)} lacks; add it"
        )
    if synthetic.lookback > length:
        raise ConfigError(
            f"[data.synthetic] lookback = {synthetic.lookback} exceeds [windows] length = "
            f"{length}: no model (and no oracle) can see the planted pattern; lengthen the window"
        )


def check_baselines(names: Sequence[str], head: str, features: Sequence[str]) -> None:
    """Raise :class:`ConfigError` for a baseline that is unknown, serves another head or
    needs a feature the windows do not have."""
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ConfigError(
            f"[baselines] models: unknown baseline(s) {unknown}; allowed: {', '.join(BASELINES)}"
        )
    wrong = sorted(n for n in names if head not in BASELINES[n].heads)
    if wrong:
        other = next(h for h in BOTH_HEADS if h != head)
        fits = ", ".join(n for n, b in BASELINES.items() if head in b.heads)
        raise ConfigError(
            f"[baselines] models {wrong} only apply to {other} heads; for a {head} head "
            f"use some of: {fits}"
        )
    if IMAGE_CHANNEL in features:
        series_only = [n for n in names if not BASELINES[n].images]
        if series_only:
            raise ConfigError(
                f"[baselines] {series_only[0]} reads 1D windows, not chart images "
                f"([windows] inputs = 'image'); drop it or use inputs = 'windows'"
            )
    for name in names:
        missing = [c for c in BASELINES[name].needs if c not in features]
        if missing:
            raise ConfigError(
                f"[baselines] {name} reads the {missing[0]!r} feature, which [windows] "
                f"features {list(features)} lacks; add it or drop {name}"
            )


def default_baselines(
    head: str, features: Sequence[str], universe: bool = False
) -> tuple[str, ...]:
    """Every baseline that serves ``head`` and finds the features it reads (the
    cross-sectional rules only for a ``universe``; the oracle, which needs a planted
    market, is added by ``niftycnn.workflow.plan`` where one is)."""
    return tuple(
        n
        for n, b in BASELINES.items()
        if head in b.heads
        and all(c in features for c in b.needs)
        and (universe or not b.universe)
        and b.make_planted is None
        and (b.images or IMAGE_CHANNEL not in features)
    )


def cnn_baselines(
    names: Sequence[str], head: str, n_classes: int
) -> list[tuple[str, Architecture]]:
    """(name, architecture) of the network baselines among ``names``."""
    return [
        (n, preset(preset_name, head=head, n_classes=n_classes))
        for n in names
        if (preset_name := BASELINES[n].preset) is not None
    ]


def estimators(
    names: Sequence[str], features: Sequence[str], synthetic: SyntheticConfig | None = None
) -> list[tuple[str, Baseline]]:
    """(name, unfitted estimator) of the non-network baselines among ``names``;
    ``synthetic``: the planted market's table, for the baselines that need it."""
    out = []
    for n in names:
        info = BASELINES[n]
        if info.make is not None:
            out.append((n, info.make(features)))
        elif info.make_planted is not None:
            if synthetic is None:
                raise ConfigError(f"[baselines] {n} needs the synthetic market's table")
            out.append((n, info.make_planted(features, synthetic)))
    return out
