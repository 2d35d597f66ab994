"""The plan: the checks that need the stages, made before any work.

``load_experiment(path)`` reads the file (``niftycnn.config.read_experiment``: every key,
every table, the tables against each other) and then checks what only the stages know:
the network and every network baseline fit the windows (channels and length), and every
baseline serves the head and finds the features it reads. A problem is a
:class:`~niftycnn.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path

from niftycnn.config import Experiment, read_experiment
from niftycnn.errors import ConfigError, SpecError
from niftycnn.models import Architecture, architecture_for, validate_architecture
from niftycnn.walkforward.baselines import check_baselines, cnn_baselines, default_baselines


def architecture(experiment: Experiment) -> Architecture:
    """The network the experiment trains."""
    return architecture_for(experiment.model, experiment.n_classes)


def baselines(experiment: Experiment) -> tuple[str, ...]:
    """The baselines to run: as configured, or every one that fits head and features."""
    if experiment.baselines.models is not None:
        return tuple(experiment.baselines.models)
    return default_baselines(experiment.model.head, experiment.windows.features)


def check_experiment(experiment: Experiment, origin: str = "<experiment>") -> Experiment:
    """``experiment`` itself, once its networks and baselines fit its windows and head."""
    head, features = experiment.model.head, experiment.windows.features
    try:
        check_baselines(baselines(experiment), head, features)
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
