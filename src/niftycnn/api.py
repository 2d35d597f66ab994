"""The Python API for notebooks: the same objects the command line uses.

::

    import niftycnn

    experiment = niftycnn.load_experiment("experiments/synthetic_momentum.toml")
    quick = experiment.with_overrides(train={"epochs": 3, "seeds": 1})
    run = niftycnn.run(quick, out="reports")          # a Run: the finished directory
    run.metrics.loc["cnn", ["accuracy", "log_loss"]]  # out-of-sample scores
    run.comparison                                    # CNN vs each baseline (DM tests)
    networks = run.models(fold=0)                     # the fold's trained networks
    again = niftycnn.open_run(run.root)               # any finished run directory

A :class:`Run` reads its directory lazily; nothing is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from niftycnn.config import Experiment
from niftycnn.errors import RunDirError
from niftycnn.rundir import RunLayout, read_json, read_tensors, require_run_dir
from niftycnn.workflow.engine import Engine
from niftycnn.workflow.plan import architecture, check_experiment, load_experiment

__all__ = ["Engine", "Run", "load_experiment", "open_run", "resume", "run", "search", "sweep"]


@dataclass(frozen=True)
class Run:
    """A run directory, opened: its config, tables, verdict, networks and report."""

    layout: RunLayout

    @property
    def root(self) -> Path:
        return self.layout.root

    @cached_property
    def config(self) -> Experiment:
        """The resolved experiment the run used."""
        from niftycnn.workflow.run import stored_experiment

        return stored_experiment(self.layout)

    @cached_property
    def predictions(self) -> pd.DataFrame:
        """Out-of-sample predictions of every model (``niftycnn.schema``)."""
        return pd.read_parquet(self._need(self.layout.predictions))

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """One row per model: prediction and trading metrics."""
        return pd.read_csv(self._need(self.layout.metric("summary")), index_col="model")

    @cached_property
    def comparison(self) -> pd.DataFrame:
        """The CNN against each baseline: losses, difference with its interval, DM p."""
        return pd.read_csv(self._need(self.layout.metric("comparison")))

    @property
    def verdict(self) -> dict[str, Any]:
        """The run's ``verdict.json``: ``comparisons`` (one entry per baseline),
        ``filters`` (first-layer and effective-kernel verdicts per analysed channel),
        ``effective_kernel``, ``market``, on planted synthetic runs ``oracle``, and the
        backtest's ``multiple`` (SPA / StepM against all baselines at once),
        ``accuracy``, ``overfitting`` (PBO, deflated Sharpe), ``paths`` (CPCV) and
        ``scheme`` (the README's "verdict.json" section documents every field)."""
        return dict(read_json(self._need(self.layout.verdict)))

    @property
    def report(self) -> Path:
        return self._need(self.layout.report_html)

    def models(self, fold: int, model: str = "cnn") -> list[Any]:
        """The trained networks of one fold (one per seed), in eval mode.

        Weights come from ``folds/fold_XXXX/state.pt``, a dict of tensors read with
        ``torch.load(weights_only=True)`` (a file holding anything else is refused, never
        unpickled: ``niftycnn.errors.UnsafeFileError``); the
        architecture is rebuilt from the run's ``config.toml``. The CNN's test-block
        probabilities are the softmax of these networks averaged over seeds.
        """
        from niftycnn.models import build_model
        from niftycnn.walkforward.baselines import cnn_baselines

        path = self.layout.fold(fold).state
        if not path.is_file():
            raise RunDirError(f"{path} does not exist; folds are 0..n-1 (see splits.csv)")
        cfg = self.config
        if model == "cnn":
            arch = architecture(cfg)
        else:
            arch = dict(cnn_baselines([model], cfg.model.head, cfg.n_classes))[model]
        states = read_tensors(path)
        if not isinstance(states, dict) or model not in states:
            raise RunDirError(f"{path} has no {model!r} weights; it has {sorted(states)}")
        channels, length = len(cfg.windows.features), cfg.windows.length
        networks = []
        for state in states[model]:
            network = build_model(arch, channels, length)
            network.load_state_dict(state)
            networks.append(network.eval())
        return networks

    def _need(self, path: Path) -> Path:
        if not path.is_file():
            raise RunDirError(
                f"{path} is missing: the run did not finish; resume it with "
                f"`niftycnn run --resume {self.root}`"
            )
        return path


def open_run(path: str | Path) -> Run:
    """A finished (or interrupted) run directory."""
    return Run(require_run_dir(path))


def run(
    experiment: Experiment | str | Path, out: str | Path = "reports", *, progress: bool = False
) -> Run:
    """Run an experiment (or an experiment file) into a new directory under ``out``; the
    plan's checks come first, and a run that fails before its first fold leaves nothing."""
    from niftycnn.workflow.run import run_experiment

    checked, origin = _checked(experiment)
    return Run(run_experiment(checked, out, origin=origin, progress=progress))


def resume(path: str | Path, *, progress: bool = False) -> Run:
    """Finish an interrupted run (finished folds are loaded, not retrained)."""
    from niftycnn.workflow.run import resume_run

    return Run(resume_run(path, progress=progress))


def sweep(
    experiment: Experiment | str | Path,
    out: str | Path = "reports",
    *,
    progress: bool = False,
    engine: Engine | None = None,
) -> Run:
    """Run an experiment's ``[sweep]`` grid into a new directory under ``out``; its points
    on ``engine`` (``Engine("ray")``: Ray tasks; default: in this process)."""
    return _many(experiment, out, "sweep", progress, engine)


def search(
    experiment: Experiment | str | Path,
    out: str | Path = "reports",
    *,
    progress: bool = False,
    engine: Engine | None = None,
) -> Run:
    """Run an experiment's ``[search]`` (Optuna trials before a held-out period, the best
    one refitted through it) into a new directory under ``out``, trials on ``engine``."""
    return _many(experiment, out, "search", progress, engine)


def _many(
    experiment: Experiment | str | Path,
    out: str | Path,
    command: str,
    progress: bool,
    engine: Engine | None,
) -> Run:
    from niftycnn.workflow.run import run_experiment

    checked, origin = _checked(experiment)
    return Run(
        run_experiment(
            checked, out, command=command, origin=origin, progress=progress, engine=engine
        )
    )


def _checked(experiment: Experiment | str | Path) -> tuple[Experiment, str]:
    """A loaded (or passed) experiment, checked against the stages, and its origin."""
    if isinstance(experiment, Experiment):
        return check_experiment(experiment), "<experiment>"
    return load_experiment(experiment), str(experiment)
