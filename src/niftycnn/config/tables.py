"""The stage configs: one frozen pydantic table per ``[table]`` of an experiment file
(the ``[data]`` tables are in ``niftycnn.config.data``).

These classes *are* the configs the stages take (``train_batched(..., cfg: TrainConfig)``,
``evaluate(..., config: BacktestConfig)``): there is no second copy with other defaults.
Each field carries its type, range and default; a table from a file is validated
strictly (``"20"`` is not an integer) and unknown keys are errors.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, model_validator

from niftycnn.config.base import Array, Date, Table

# Input channel names (``niftycnn.windows.FEATURES`` holds their transforms).
# "market": the log close of ``[data] market`` (an index, or the universe's equal-weight
# index), normalised by its value on the window's last day.
Feature = Literal["open", "high", "low", "close", "volume", "returns", "range", "market"]
FEATURES: tuple[str, ...] = get_args(Feature)


class WindowsConfig(Table):
    """The network's inputs: ``length``-day windows of ``features`` (``inputs =
    "windows"``, channels x length), or chart images of ``length`` days (``inputs =
    "image"``: OHLC bars, the moving average with ``image_ma``, volume bars with
    ``image_volume``, ``image_height`` rows (default: the paper's for the length);
    ``niftycnn.windows.images``)."""

    length: int = Field(20, ge=3, le=250)
    features: Annotated[tuple[Feature, ...], Array] = ("open", "high", "low", "close", "volume")
    sampling: Literal["daily", "expiry"] = "daily"
    inputs: Literal["windows", "image"] = "windows"
    image_ma: bool = True
    image_volume: bool = True
    image_height: int | None = Field(None, ge=8, le=512)

    @property
    def channels(self) -> tuple[str, ...]:
        """The names of the network's input channels: the features, or one "image"."""
        return ("image",) if self.inputs == "image" else self.features

    @model_validator(mode="after")
    def _non_empty_unique(self) -> WindowsConfig:
        if not self.features:
            raise ValueError("features needs at least one feature")
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features repeat: {list(self.features)}")
        return self


def symmetric_cuts(n_classes: int, small: float, large: float) -> tuple[float, ...]:
    """Cut points on the (scaled) return for 2-5 classes from ``small`` and ``large``:
    2 classes (0), 3 (-small, small), 4 (-large, 0, large), 5 (-large, -small, small,
    large). More classes need explicit ``cuts``."""
    return {
        2: (0.0,),
        3: (-small, small),
        4: (-large, 0.0, large),
        5: (-large, -small, small, large),
    }[n_classes]


class LabelsConfig(Table):
    """The label of a window: a log return r from the window's end t to a label end date,
    in ``classes`` return-ordered classes (``niftycnn.schema.LabelVocabulary``).

    ``target``: where the label ends (``niftycnn.windows.targets``):

    - ``expiry``: the next options expiry after t (``expiry`` weekly or monthly);
    - ``horizon``: ``horizon`` trading days after t (``horizon = 1``: next-day direction);
    - ``triple_barrier``: the first close beyond t's close by more than ``profit_take``
      (up) or ``stop_loss`` (down) times sigma_t sqrt(``horizon``), else ``horizon``
      trading days after t (the vertical barrier); the label ends at that first touch.

    ``mode``: cut points on the return itself (``fixed``), on the return in units of the
    expected move sigma_t sqrt(h) (``volatility``; h the trading days to the label end, or
    the vertical barrier for triple barrier, so the cuts are in the barriers' units), or
    at quantiles of each fold's training returns (``quantile``). Fixed and volatility cuts
    come from ``small`` / ``large`` for 2-5 classes (see :func:`symmetric_cuts`; for a
    3-class triple barrier in volatility units they default to (-stop_loss, profit_take),
    so the class is the barrier touched first) or from explicit ``cuts``; quantiles
    default to even shares (1/K, 2/K, ...).
    """

    target: Literal["expiry", "horizon", "triple_barrier"] = "expiry"
    expiry: Literal["weekly", "monthly"] = "weekly"
    mode: Literal["fixed", "volatility", "quantile"] = "volatility"
    classes: int = Field(5, ge=2, le=20)
    small: float = Field(0.3, gt=0.0)
    large: float = Field(1.0, gt=0.0)
    cuts: Annotated[tuple[float, ...] | None, Array] = None
    quantiles: Annotated[tuple[float, ...] | None, Array] = None
    vol_window: int = Field(20, ge=5, le=250)
    horizon: int = Field(5, ge=1, le=250, description="trading days; vertical barrier")
    profit_take: float = Field(1.0, gt=0.0, le=20.0, description="x sigma_t sqrt(horizon)")
    stop_loss: float = Field(1.0, gt=0.0, le=20.0, description="x sigma_t sqrt(horizon)")

    @model_validator(mode="after")
    def _consistent(self) -> LabelsConfig:
        k = self.classes
        if self.small >= self.large:
            raise ValueError(f"small ({self.small}) must be below large ({self.large})")
        for key in ("cuts", "quantiles"):
            values = getattr(self, key)
            if values is None:
                continue
            if len(values) != k - 1 or not all(a < b for a, b in pairwise(values)):
                raise ValueError(
                    f"{key} needs {k - 1} strictly increasing values for classes = {k} "
                    f"(one per boundary between classes), got {list(values)}"
                )
        if self.quantiles is not None and not all(0.0 < q < 1.0 for q in self.quantiles):
            raise ValueError(f"quantiles must lie inside (0, 1), got {list(self.quantiles)}")
        if self.mode != "quantile" and self.cuts is None and k > 5:
            raise ValueError(
                f"classes = {k} with mode = '{self.mode}' needs cuts = [{k - 1} increasing "
                "values] (small/large define 2 to 5 classes)"
            )
        return self

    @property
    def cut_points(self) -> tuple[float, ...]:
        """Cut points of the fixed / volatility modes."""
        if self.cuts:
            return self.cuts
        barrier = self.target == "triple_barrier" and self.mode == "volatility"
        if barrier and self.classes == 3:
            return (-self.stop_loss, self.profit_take)
        return symmetric_cuts(self.classes, self.small, self.large)

    @property
    def quantile_points(self) -> tuple[float, ...]:
        """Quantiles of the quantile mode (even shares unless given)."""
        return self.quantiles or tuple(j / self.classes for j in range(1, self.classes))


class ModelConfig(Table):
    """Either a preset name or an explicit layer list (see ``niftycnn.models``).
    ``n_classes`` defaults to ``[labels] classes`` and must equal it when given."""

    preset: str | None = "q10"
    layers: Annotated[tuple[dict[str, Any], ...] | None, Array] = None
    head: Literal["classification", "regression", "segmentation"] = "classification"
    n_classes: int | None = Field(None, ge=2, le=20)

    @model_validator(mode="before")
    @classmethod
    def _one_of(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("layers") is not None:
            if raw.get("preset") is not None:
                raise ValueError("give either preset or layers, not both")
            raw = {**raw, "preset": None}
        return raw


class CompareConfig(ModelConfig):
    """A chart-image CNN trained beside the ``[model]`` network on the same days, folds,
    labels and training recipe (``niftycnn.workflow.compare``): its images are
    ``[windows] length`` days (the ``image_*`` keys of ``[windows]`` draw them), its
    network a preset (default ``jkx20_small``) or layers. Its predictions join the run's
    as model ``cnn_image``: the 1D CNN is tested against it (Diebold-Mariano) and it is
    tested against every baseline (SPA)."""

    preset: str | None = "jkx20_small"


class TrainConfig(Table):
    """How every member network is trained (``niftycnn.walkforward.train`` has the
    recipe). ``chunk_folds``: the batched engine trains this many folds (x seeds members)
    as one stack; unset picks about 100 members per chunk."""

    epochs: int = Field(30, gt=0, le=1000)
    batch_size: int = Field(128, gt=0, le=65536)
    lr: float = Field(1e-3, gt=0.0, le=1.0)
    weight_decay: float = Field(1e-2, ge=0.0, le=1.0)
    patience: int = Field(5, ge=1, le=1000)
    min_delta: float = Field(0.0, ge=0.0)
    class_weights: Literal["none", "balanced"] = "none"
    seeds: int = Field(5, gt=0, le=100)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    engine: Literal["batched", "sequential"] = "batched"
    chunk_folds: int | None = Field(None, ge=1)


class WalkForwardConfig(Table):
    """How the samples are split into training and test sets
    (``niftycnn.walkforward.splits`` and ``niftycnn.walkforward.cpcv``).

    ``scheme``: ``expanding`` or ``rolling`` walk-forward refits (``min_train``,
    ``first_test``, ``refit``, ``refit_every``, ``train_size``), or ``cpcv``:
    combinatorial purged cross-validation over ``groups`` contiguous groups with
    ``test_groups`` of them tested per split (C(groups, test_groups) splits and
    test_groups / groups * C(groups, test_groups) backtest paths). ``embargo``: sessions
    dropped after every earlier test block (walk-forward) or on both sides of every test
    group (CPCV). ``validation``: the early-stopping share of the training side.
    """

    scheme: Literal["expanding", "rolling", "cpcv"] = "expanding"
    train_size: int = Field(1000, gt=0, description="rolling window length, in sessions")
    min_train: int = Field(500, gt=0)
    first_test: Date = None
    refit: Literal["every", "weekly", "monthly"] = "monthly"
    refit_every: int = Field(21, gt=0)
    embargo: int = Field(0, ge=0)
    validation: float = Field(0.15, ge=0.0, lt=1.0)
    groups: int = Field(6, ge=2, le=30)
    test_groups: int = Field(2, ge=1, le=29)

    @model_validator(mode="after")
    def _test_groups_fit(self) -> WalkForwardConfig:
        if self.test_groups >= self.groups:
            raise ValueError(
                f"test_groups ({self.test_groups}) must be below groups ({self.groups}): "
                "every split needs groups to train on"
            )
        return self


class BaselinesConfig(Table):
    """Baselines trained on the very same folds; by default every one that fits the head
    and the features (``niftycnn.walkforward.baselines.BASELINES``)."""

    models: Annotated[tuple[str, ...] | None, Array] = None


class BacktestConfig(Table):
    """How predictions become trades, what trading costs, and the resampling behind the
    intervals and p-values (``niftycnn.backtest``).

    ``holding``: ``daily`` re-decides the position every close; ``label_end`` holds each
    trade to its label's end date (the expiry, the horizon, the first barrier touch);
    ``expiry`` is the older name of ``label_end``, still accepted.

    A universe is also evaluated across its symbols (``niftycnn.backtest.cross_section``):
    every ``rebalance`` sessions (0: the median label horizon) the symbols are ranked by
    ``signal`` and sorted into ``quantiles`` portfolios, weighted equally or by inverse
    trailing volatility (``weighting``); the long-short portfolio is long the top one and
    short the bottom one, paying ``cost_bps + slippage_bps`` on each side's turnover."""

    signal: Literal["expected_return", "prob_diff", "class"] = "expected_return"
    sizing: Literal["sign", "scaled"] = "sign"
    scale: float = Field(0.02, gt=0.0, description="return giving a full position if scaled")
    band: float = Field(0.0, ge=0.0)
    long_short: bool = True
    holding: Literal["daily", "label_end", "expiry"] = "label_end"
    cost_bps: float = Field(5.0, ge=0.0, le=1000.0)
    slippage_bps: float = Field(2.0, ge=0.0, le=1000.0)
    periods_per_year: int = Field(252, gt=0)
    quantiles: int = Field(10, ge=2, le=100, description="cross-sectional portfolios")
    weighting: Literal["equal", "volatility"] = "equal"
    rebalance: int = Field(0, ge=0, description="sessions between rebalances; 0 = horizon")
    risk_free: float = Field(0.0, ge=-1.0, le=1.0, description="annual rate")
    bootstrap: int = Field(1000, ge=1, le=100000)
    permutations: int = Field(1000, ge=1, le=100000)
    block: float = Field(0.0, ge=0.0, description="bootstrap block length; 0 = label horizon")
    bootstrap_method: Literal["stationary", "moving"] = "stationary"
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    loss: Literal["log_loss", "zero_one"] = "log_loss"

    @property
    def cost_rate(self) -> float:
        """Cost per unit turnover as a fraction: (cost_bps + slippage_bps) / 1e4."""
        return (self.cost_bps + self.slippage_bps) / 1e4


def _positive_ints(value: tuple[int, ...]) -> tuple[int, ...]:
    if not value or min(value) <= 0:
        raise ValueError(f"needs one or more positive integers, got {list(value)}")
    return value


def _rates(value: tuple[float, ...]) -> tuple[float, ...]:
    if not value or not all(0.0 <= r < 1.0 for r in value):
        raise ValueError(f"needs rates in [0, 1), got {list(value)}")
    return value


PositiveInts = Annotated[tuple[int, ...], Array, AfterValidator(_positive_ints)]


class FiltersConfig(Table):
    """The filter analysis (``niftycnn.filters``): first-layer filters against untrained
    ones (``null_draws``), and whole-network effective kernels against Gram references
    over the whole window and over ``spans`` days ending at its last day, with two nulls:
    ``untrained_networks`` initialisations and ``null_shuffles`` independent draws of the
    network trained on shuffled labels (one network per draw on each of ``null_folds``
    folds spread over the walk-forward; 0 draws: no trained null; eight folds, not four:
    an early fold's shuffled-label networks scatter several times as widely as a late
    fold's, and with four one noisy fold decided: a planted 20-day momentum read p = 0.82,
    with eight p = 0.0009; README "Power and size"). ``alpha``: the level
    at which a verdict names a pattern. ``kernel_min_effect``: the effective-kernel
    verdict also needs the kernel to resemble the pattern it names (its mean cosine with
    the reference, beyond the null's, at least this in size): the test says the kernel's
    response exceeds what training alone gives, not which pattern it is."""

    null_draws: int = Field(1000, ge=100, le=100000)
    channel: Feature = "close"
    spans: PositiveInts = (3, 5)
    untrained_networks: int = Field(200, ge=0, le=10000)
    null_shuffles: int = Field(10, ge=0, le=200)
    null_folds: int = Field(8, ge=1, le=1000)
    kernel_resamples: int = Field(20000, ge=100, le=1000000)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    kernel_min_effect: float = Field(0.3, ge=0.0, le=1.0)


class SegmentationConfig(Table):
    """A label for every day of a window (``[model] head = "segmentation"``, e.g. the
    ``unet1d`` preset; ``niftycnn.segmentation``). ``task``:

    - ``planted_shapes`` (synthetic): ``windows`` generated windows of a fat-tailed random
      walk (daily vol ``vol``), a shape of ``widths`` days planted at a random position in
      each with probability ``p_shape``, ``strength`` times the walk's typical move over
      its days; the day classes say which days are the shape's. ``[data]`` is not read.
    - ``trend_regimes``: the ``[data]`` series' daily windows of ``[windows] length``
      closes, each day labelled down / flat / up by trend scanning inside its window
      (segments of ``spans`` days, |t| below ``threshold``: flat).

    Inputs: two channels per window, the log close against the window's last one and
    the daily log return, over the window's own return std (``[windows] features`` are not
    read). The last ``test`` share of the windows is tested, after a gap of L - 1 windows
    when the windows overlap (real data); the network trains on the rest with ``[train]``'s
    recipe and ``[walkforward] validation`` as its early-stopping tail; the per-day
    logistic baseline on the same windows. ``shown``: windows in the report's figure."""

    task: Literal["planted_shapes", "trend_regimes"] = "planted_shapes"
    windows: int = Field(6000, ge=20, le=1_000_000)
    strength: float = Field(2.5, gt=0.0, le=100.0)
    widths: Annotated[tuple[int, int], Array] = (5, 8)
    p_shape: float = Field(0.8, ge=0.0, le=1.0)
    vol: float = Field(0.01, gt=0.0, le=1.0)
    spans: Annotated[tuple[int, int], Array] = (5, 10)
    threshold: float = Field(2.0, gt=0.0)
    test: float = Field(1 / 3, gt=0.0, lt=1.0)
    shown: int = Field(4, ge=1, le=20)

    @property
    def n_classes(self) -> int:
        return 2 if self.task == "planted_shapes" else 3


class SweepConfig(Table):
    """A grid over architecture knobs; each point is a full walk-forward run."""

    filters: PositiveInts = (16,)
    kernel: PositiveInts = (3,)
    depth: PositiveInts = (2,)
    dropout: Annotated[tuple[float, ...], Array, AfterValidator(_rates)] = (0.0,)

    @property
    def size(self) -> int:
        return len(self.filters) * len(self.kernel) * len(self.depth) * len(self.dropout)


def _range(value: tuple[float, ...]) -> tuple[float, ...]:
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"needs [low, high] with low <= high, got {list(value)}")
    return value


IntRange = Annotated[tuple[int, ...], Array, AfterValidator(_positive_ints), AfterValidator(_range)]
FloatRange = Annotated[tuple[float, ...], Array, AfterValidator(_range)]


class SearchConfig(Table):
    """An Optuna search (TPE, seeded by the experiment's seed) over architecture and
    training knobs: ``trials`` trials, each a walk-forward of the sweep's network family
    (``depth`` blocks of ``filters`` filters of size ``kernel``, ``dropout``) trained
    with ``lr`` and ``weight_decay``, each knob drawn from its [low, high] range
    (filters, lr and weight_decay on a log scale; low = high fixes it). Every trial sees
    only the windows whose labels end before the held-out final period (from
    ``holdout_start``, else the last ``holdout`` share of the sessions), and is scored
    by its out-of-sample loss there; the best trial is then refitted walking forward
    through the held-out period, whose deflated Sharpe counts every trial.
    ``parallel``: trials asked of the sampler at once (run side by side on Ray)."""

    trials: int = Field(20, ge=2, le=10000)
    holdout_start: Date = None
    holdout: float = Field(0.2, gt=0.0, lt=1.0)
    filters: IntRange = (8, 32)
    kernel: IntRange = (3, 5)
    depth: IntRange = (1, 2)
    dropout: FloatRange = (0.0, 0.3)
    lr: FloatRange = (3e-4, 3e-3)
    weight_decay: FloatRange = (1e-3, 1e-1)
    parallel: int = Field(2, ge=1, le=1000)

    @model_validator(mode="after")
    def _scales(self) -> SearchConfig:
        if not (0.0 <= self.dropout[0] and self.dropout[1] < 1.0):
            raise ValueError(f"dropout needs rates in [0, 1), got {list(self.dropout)}")
        for key in ("lr", "weight_decay"):
            low, high = getattr(self, key)
            if low <= 0.0 or high > 1.0:
                raise ValueError(f"{key} is searched on a log scale: needs 0 < low <= high <= 1")
        return self
