"""The plan: every check that can fail, made before any training and before anything is
written.

``load_experiment(path)`` reads the file (``niftycnn.config.read_experiment``: every key,
every table, the tables against each other) and checks what only the stages know: the
network and every network baseline fit the windows (channels and length), and every
baseline serves the head and finds the features it reads.

:func:`plan_run` then does what a run would do up to its first fold, in seconds: it loads
the data, builds the windows, labels and walk-forward folds, and checks each later stage's
preconditions (every conv kernel fits its input, the first layer holds the filters the
filter analysis reads and the windows are long enough for it, the class counts agree, the
device exists, each sweep point fits). A problem is one line naming the file and the key
(a :class:`~niftycnn.errors.ConfigError`, or the data stage's own error class).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from niftycnn.config import Experiment, SyntheticConfig, read_experiment
from niftycnn.data import Provenance, Universe
from niftycnn.errors import ConfigError, LabelError, NiftyCNNError, SpecError, SplitError
from niftycnn.models import (
    Architecture,
    Conv,
    GramConv,
    Residual,
    architecture_for,
    grid_layers,
    sweep_grid,
    validate_architecture,
)
from niftycnn.models.checks import Size
from niftycnn.models.spec import Conv2d, layer_type
from niftycnn.models.validate import iter_steps
from niftycnn.segmentation.tasks import SEGMENT_CHANNELS
from niftycnn.walkforward import Fold, Splitter, splitter_for
from niftycnn.walkforward.baselines import (
    check_baselines,
    check_oracle,
    cnn_baselines,
    default_baselines,
)
from niftycnn.walkforward.train import sequential_reason, torch_device
from niftycnn.windows import WindowDataset, attach_market, build_dataset, build_panel
from niftycnn.windows.build import network_input
from niftycnn.workflow.compare import check_compare, plan_images
from niftycnn.workflow.sources import load_series, load_universe_for, market_series

FILTER_MIN_TAPS = 3  # the filter analysis needs a curvature reference (k >= 3)


def architecture(experiment: Experiment) -> Architecture:
    """The network the experiment trains."""
    return architecture_for(experiment.model, experiment.n_classes)


def planted(experiment: Experiment) -> SyntheticConfig | None:
    """The synthetic market's table when the experiment's data is one synthetic series
    with a planted pattern (a synthetic universe plants its own, cross-sectional one)."""
    data = experiment.data
    single = data.source == "synthetic" and not data.is_universe
    return data.synthetic if single and data.synthetic.planted else None


def baselines(experiment: Experiment) -> tuple[str, ...]:
    """The baselines to run: as configured, or every one that fits head and features; on
    a planted synthetic market with a classification head whose windows can see the
    pattern (its channel among the features, its lookback within the window), the oracle
    is always among them (the ground truth each model is measured against, not a
    competitor)."""
    windows = experiment.windows
    if experiment.baselines.models is not None:
        names = tuple(experiment.baselines.models)
    else:
        names = default_baselines(
            experiment.model.head, windows.channels, experiment.data.is_universe
        )
    truth = planted(experiment)
    visible = truth is not None and truth.channel in windows.channels
    if visible and truth is not None and truth.lookback <= windows.length:
        if experiment.model.head == "classification" and "oracle" not in names:
            names = (*names, "oracle")
    return names


def check_experiment(experiment: Experiment, origin: str = "<experiment>") -> Experiment:
    """``experiment`` itself, once its networks and baselines fit its windows and head."""
    check_compare(experiment, origin)
    head, features = experiment.model.head, experiment.windows.channels
    try:
        check_baselines(baselines(experiment), head, features)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    per_day = head == "segmentation"  # the task's own inputs; it has no baselines
    channels, size = (
        (SEGMENT_CHANNELS, experiment.windows.length)
        if per_day
        else network_input(experiment.windows)
    )
    length = experiment.windows.length
    for where, build in _networks(experiment):
        try:
            _check_network(build(), channels, size)
        except SpecError as exc:
            message = str(exc).removeprefix("[model]: ").removeprefix("[model] ")
            raise ConfigError(f"{origin}: {where} {message}") from None
    if "oracle" in baselines(experiment):  # after the networks: theirs is the likelier slip
        try:
            check_oracle(planted(experiment), features, length)
        except ConfigError as exc:
            raise ConfigError(f"{origin}: {exc}") from None
    return experiment


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file and check it against the stages (module docstring)."""
    return check_experiment(read_experiment(path), origin=str(path))


@dataclass(frozen=True)
class Plan:
    """What a run needs, checked: the experiment, its data, windows, folds and networks.
    ``frame`` is the single series (None for a universe); ``universe`` the universe's
    frames (None for a single series)."""

    experiment: Experiment
    frame: pd.DataFrame | None
    provenance: Provenance
    dataset: WindowDataset
    splitter: Splitter
    folds: tuple[Fold, ...]
    universe: Universe | None = None
    images: WindowDataset | None = None  # [compare]'s chart images, on the dataset's days

    def closes(self) -> pd.DataFrame:
        """date x symbol closes (one column for a single series: its symbol)."""
        if self.universe is not None:
            return self.universe.closes()
        assert self.frame is not None
        return self.frame[["close"]].rename(columns={"close": self.dataset.symbols[0]})

    @property
    def architecture(self) -> Architecture:
        return architecture(self.experiment)

    @property
    def baselines(self) -> tuple[str, ...]:
        return baselines(self.experiment)


def plan_run(experiment: Experiment, origin: str = "<experiment>") -> Plan:
    """Check ``experiment`` as far as a run can be checked without training (module
    docstring); writes nothing. What needs no data is checked before the data is loaded
    (a Yahoo source refreshes its cache)."""
    check_experiment(experiment, origin)
    try:
        torch_device(experiment.train.device)
    except NiftyCNNError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    _check_stages(experiment, origin)
    _warn_about_engine(experiment)
    frame: pd.DataFrame | None = None
    universe: Universe | None = None
    if experiment.data.is_universe:
        universe = load_universe_for(experiment, origin)
        provenance = universe.provenance
        volume = pd.concat([f["volume"] for f in universe.frames.values()])
    else:
        frame, provenance = load_series(experiment, origin)
        volume = frame["volume"]
    _warn_about_volume(experiment, volume)
    market = market_series(experiment, universe, origin)
    try:
        if universe is not None:
            dataset = build_panel(universe.frames, experiment.windows, experiment.labels, market)
        else:
            assert frame is not None
            bars = frame if market is None else attach_market(frame, market)
            dataset = build_dataset(bars, experiment.windows, experiment.labels, provenance.symbol)
    except LabelError as exc:
        raise ConfigError(f"{origin}: [windows] / [labels]: {exc}") from None
    images = None
    if experiment.compare is not None:
        assert frame is not None  # check_compare refuses a universe comparison
        dataset, images = plan_images(experiment, frame, dataset, origin)
    if experiment.model.head == "classification" and dataset.n_classes != experiment.n_classes:
        raise ConfigError(
            f"{origin}: the labels have {dataset.n_classes} classes but [model] predicts "
            f"{experiment.n_classes}; set [model] n_classes to [labels] classes"
        )
    splitter, folds = folds_for(experiment, dataset, origin)
    if universe is not None:
        _check_cross_section(experiment, dataset, origin)
    return Plan(experiment, frame, provenance, dataset, splitter, tuple(folds), universe, images)


def _check_cross_section(experiment: Experiment, dataset: WindowDataset, origin: str) -> None:
    """A universe has enough symbols per date for ``[backtest] quantiles`` portfolios."""
    q = experiment.backtest.quantiles
    per_date = pd.Series(dataset.symbol_codes).groupby(dataset.end_dates.asi8).size()
    if per_date.max() < q:
        raise ConfigError(
            f"{origin}: [backtest] quantiles = {q} portfolios need at least {q} symbols on a "
            f"date, but the universe has at most {per_date.max()} ({len(dataset.symbols)} "
            "symbols in all); lower quantiles or add symbols"
        )


def folds_for(
    experiment: Experiment, dataset: WindowDataset, origin: str
) -> tuple[Splitter, list[Fold]]:
    """The walk-forward folds, or an error naming the ``[walkforward]`` key and the
    data's dates."""
    cfg = experiment.walkforward
    dates = dataset.end_dates
    n_sessions = len(dates.unique())
    span = f"{len(dates):,} windows end from {dates[0].date()} to {dates[-1].date()}"
    if dataset.is_panel:
        span += f" on {n_sessions:,} sessions"
    if cfg.first_test is not None and pd.Timestamp(cfg.first_test) > dates[-1]:
        raise ConfigError(
            f"{origin}: [walkforward] first_test = {cfg.first_test!r} is after the data's "
            f"last window ({span}); choose a date before {dates[-1].date()}"
        )
    if cfg.first_test is None and cfg.min_train >= n_sessions:
        raise ConfigError(
            f"{origin}: [walkforward] min_train = {cfg.min_train} needs more sessions than "
            f"the data give ({span}); lower min_train or load more data ([data])"
        )
    try:
        splitter = splitter_for(cfg, dates)
        return splitter, splitter.folds(dataset)
    except (SplitError, NiftyCNNError) as exc:
        message = str(exc).replace("min_train_size", "[walkforward] min_train")
        message = message.replace("first_test_date", "first_test")
        raise ConfigError(f"{origin}: [walkforward]: {message} ({span})") from None


def _check_stages(experiment: Experiment, origin: str) -> None:
    """The preconditions of the training and filter stages that need no data: the first
    layer holds filters, and the windows are long enough to analyse them; the market
    feature has a market; a sweep is over one series."""
    features = experiment.windows.features
    if "market" in features and experiment.data.market is None:
        raise ConfigError(
            f"{origin}: [windows] features include 'market' but [data] market is not set; "
            "set it to 'equal_weight' (a universe), a CSV file or a symbol, or drop 'market'"
        )
    for table in ("sweep", "search"):
        if getattr(experiment, table) is not None and experiment.data.is_universe:
            raise ConfigError(
                f"{origin}: [{table}] runs on one series; a universe {table} is not "
                f"supported yet: drop [{table}] or use one symbol"
            )
    steps = validate_architecture(architecture(experiment), *network_input(experiment.windows))
    if experiment.windows.inputs == "image":
        if not any(isinstance(s.spec, Conv2d) for s in iter_steps(steps)):
            raise ConfigError(
                f"{origin}: [model] has no conv2d layer for the chart images; start the "
                'layers with {type = "conv2d", ...} or use a jkx preset'
            )
        return  # no first-layer filter analysis for images (their filters are 2D)
    walk = iter_steps(steps)  # a block's first conv is the network's first layer
    first = next((s for s in walk if isinstance(s.spec, Conv | GramConv | Residual)), None)
    if first is None or not isinstance(first.spec, Conv | GramConv | Residual):
        raise ConfigError(
            f"{origin}: [model] has no conv layer, so there are no first-layer filters to "
            'store or analyse; start the layers with {type = "conv", ...}'
        )
    k, length = int(first.spec.kernel), experiment.windows.length
    if k >= FILTER_MIN_TAPS and length < k + 1:
        raise ConfigError(
            f"{origin}: [windows] length = {length} is too short for the filter analysis "
            f"of the first layer's {k}-tap filters (layer {first.index}); it needs windows "
            f"of at least {k + 1} days: raise length or use a shorter kernel"
        )
    channel = experiment.filters.channel
    if k >= FILTER_MIN_TAPS and channel not in features:
        raise ConfigError(
            f"{origin}: [filters] channel = {channel!r} is not among [windows] features "
            f"{list(features)}; set it to one of them"
        )


def _warn_about_volume(experiment: Experiment, volume: pd.Series) -> None:
    if "volume" in experiment.windows.features and not volume.to_numpy().any():
        warnings.warn(
            "[windows] features include 'volume' but the data have no volume (0 on every "
            "day), so that channel is all zeros; drop it from features",
            stacklevel=3,
        )


def _warn_about_engine(experiment: Experiment) -> None:
    """Say which networks the batched engine cannot stack and so train one by one."""
    if experiment.train.engine != "batched":
        return
    channels, length = network_input(experiment.windows)
    for where, build in _networks(experiment):
        arch = build()
        reason = None if arch is None else sequential_reason(arch, channels, length)
        if arch is not None and reason is not None:
            warnings.warn(
                f"{where.rstrip(':')} {arch.name} trains with the sequential engine "
                f"({reason}); expect it to be several times slower than the batched engine",
                stacklevel=3,
            )


def _networks(experiment: Experiment) -> list[tuple[str, Callable[[], Architecture | None]]]:
    """(where, build) of every network a run or sweep of ``experiment`` trains; building
    may raise the SpecError that ``where`` explains."""
    head, n = experiment.model.head, experiment.n_classes
    out: list[tuple[str, Callable[[], Architecture | None]]] = [
        ("[model]", lambda: architecture(experiment))
    ]
    for name in baselines(experiment):
        out.append((f"[baselines] {name}:", partial(_cnn_baseline, name, head, n)))
    if experiment.sweep is not None:
        for point in sweep_grid(experiment.sweep, experiment.windows.length):
            at = experiment.model.model_copy(update={"preset": None, "layers": point.layers})
            out.append((f"[sweep] point {point.name}:", partial(architecture_for, at, n)))
    search = experiment.search
    if search is not None:  # the largest kernel at the greatest depth: the tightest fit
        corner = grid_layers(
            search.filters[0], search.kernel[1], search.depth[1], 0.0, experiment.windows.length
        )
        at = experiment.model.model_copy(update={"preset": None, "layers": tuple(corner)})
        out.append(("[search] kernel and depth at their highs:", partial(architecture_for, at, n)))
    return out


def _cnn_baseline(name: str, head: str, n_classes: int) -> Architecture | None:
    found = cnn_baselines([name], head, n_classes)
    return found[0][1] if found else None


def _check_network(arch: Architecture | None, channels: int, length: Size) -> None:
    """The shapes fit (``validate_architecture``), and no kernel is longer than its input
    (with ``same`` padding torch accepts one, but most taps would see only padding)."""
    if arch is None:
        return  # not a network baseline
    for step in iter_steps(validate_architecture(arch, channels, length)):
        spec = step.spec
        if isinstance(spec, Conv | GramConv | Residual) and len(step.in_shape) == 2:
            dilation = spec.dilation if isinstance(spec, Conv) else 1
            span, size = dilation * (spec.kernel - 1) + 1, step.in_shape[1]
            if span > size:
                raise SpecError(
                    f"layer {step.index} ({layer_type(spec)}): kernel {spec.kernel} (span "
                    f"{span}) is longer than its {size}-day input; use a kernel of at most "
                    f"{size}, or longer windows ([windows] length)"
                )
