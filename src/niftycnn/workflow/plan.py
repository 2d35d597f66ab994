"""The plan: the checks that need the stages, made before any work.

``load_experiment(path)`` reads the file (``niftycnn.config.read_experiment``: every key,
every table, the tables against each other) and then checks what only the stages know:
the network and every network baseline fit the windows (channels and length), and every
baseline serves the head and finds the features it reads. A problem is a
:class:`~niftycnn.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

from niftycnn.config import Experiment, SyntheticConfig, read_experiment
from niftycnn.errors import ConfigError, SpecError
from niftycnn.models import Architecture, architecture_for, validate_architecture
from niftycnn.walkforward.baselines import (
    check_baselines,
    check_oracle,
    cnn_baselines,
    default_baselines,
)


def architecture(experiment: Experiment) -> Architecture:
    """The network the experiment trains."""
    return architecture_for(experiment.model, experiment.n_classes)


def planted(experiment: Experiment) -> SyntheticConfig | None:
    """The synthetic market's table when the experiment's data carries a planted pattern."""
    synthetic = experiment.data.synthetic
    return synthetic if experiment.data.source == "synthetic" and synthetic.planted else None


def baselines(experiment: Experiment) -> tuple[str, ...]:
    """The baselines to run: as configured, or every one that fits head and features; on
    a planted synthetic market with a classification head, the oracle is always among them
    (it is the ground truth each model is measured against, not a competitor)."""
    if experiment.baselines.models is not None:
        names = tuple(experiment.baselines.models)
    else:
        names = default_baselines(experiment.model.head, experiment.windows.features)
    if planted(experiment) and experiment.model.head == "classification":
        names = (*names, "oracle") if "oracle" not in names else names
    return names


def check_experiment(experiment: Experiment, origin: str = "<experiment>") -> Experiment:
    """``experiment`` itself, once its networks and baselines fit its windows and head."""
    head, features = experiment.model.head, experiment.windows.features
    try:
        check_baselines(baselines(experiment), head, features)
        if "oracle" in baselines(experiment):
            check_oracle(planted(experiment), features, experiment.windows.length)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    channels, length = len(features), experiment.windows.length
    where = "[model]"
    try:
        validate_architecture(architecture(experiment), channels, length)
        for name, arch in cnn_baselines(baselines(experiment), head, experiment.n_classes):
            where = f"[baselines] {name}:"
            validate_architecture(arch, channels, length)
    except SpecError as exc:
        message = str(exc).removeprefix("[model]: ").removeprefix("[model] ")
        raise ConfigError(f"{origin}: {where} {message}") from None
    return experiment


def load_experiment(path: str | Path) -> Experiment:
    """Read an experiment file and check it against the stages (module docstring)."""
    return check_experiment(read_experiment(path), origin=str(path))
