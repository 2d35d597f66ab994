"""The ``niftycnn`` command line: a thin layer over the stage functions.

Every error niftycnn raises on purpose is printed as one line, ``error: ...``, and the
process exits with status 2; no traceback. A warning is one line, ``warning: ...``. An
interrupted run exits 130 naming the directory to resume; a closed output pipe
(``niftycnn data check X | head -2``) ends quietly with status 141, as ``SIGPIPE`` would.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from niftycnn.errors import NiftyCNNError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2), like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="niftycnn",
        description="1D CNNs on NIFTY 50 (and any Yahoo symbol): data, labels, walk-forward "
        "backtests, filter analysis and reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_commands(commands)
    _add_describe(commands)
    _add_run(commands)
    _add_sweep(commands)
    _add_report(commands)
    _add_runs(commands)
    _add_filters(commands)
    return parser


def _add_data_commands(commands: argparse._SubParsersAction) -> None:
    from niftycnn.data import commands as data_commands

    data_commands.add_parser(commands)


def _add_describe(commands: argparse._SubParsersAction) -> None:
    describe = commands.add_parser(
        "describe", help="print an architecture's per-layer summary (shapes, parameters, RF)"
    )
    describe.add_argument("target", help="a preset name (q10, lenet1d, ...) or an experiment file")
    describe.add_argument(
        "--channels", type=int, default=None, help="input channels (default 5; images 1)"
    )
    describe.add_argument(
        "--length", type=int, default=None, help="window length (default 20; images their own)"
    )
    describe.set_defaults(handler=_describe)


def _describe(args: argparse.Namespace) -> int:
    from pathlib import Path

    from niftycnn.models import describe
    from niftycnn.workflow.plan import architecture, load_experiment

    if args.target.endswith(".toml") or Path(args.target).is_file():
        from niftycnn.segmentation.tasks import SEGMENT_CHANNELS
        from niftycnn.windows import network_input

        experiment = load_experiment(args.target)
        windows = experiment.windows
        per_day = experiment.model.head == "segmentation"  # the task's own two channels
        shape = (SEGMENT_CHANNELS, windows.length) if per_day else network_input(windows)
        print(describe(architecture(experiment), *shape))
    else:
        print(describe(args.target, in_channels=args.channels, length=args.length))
    return 0


def _source_override(values: list[str] | None) -> dict[str, str | None] | None:
    """``--source synthetic``, ``--source yahoo`` or ``--source csv PATH`` -> [data] keys.
    ``csv PATH`` replaces the experiment's symbols: a file is one series, a folder of
    CSVs (one per symbol) a universe."""
    from niftycnn.errors import ConfigError

    if not values:
        return None
    kind, rest = values[0], values[1:]
    if kind not in ("yahoo", "synthetic", "csv", "cache"):
        raise ConfigError(f"--source {kind}: choose yahoo, synthetic, cache or csv PATH")
    if kind == "csv":
        if len(rest) != 1:
            raise ConfigError(
                "--source csv needs one path: --source csv path/to/file.csv (or a folder)"
            )
        return {"source": "csv", "path": rest[0], "symbols": None, "universe": None}
    if rest:
        raise ConfigError(f"--source {kind} takes no further argument (got {' '.join(rest)})")
    return {"source": kind}


def _add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help="run an experiment: data, labels, walk-forward, backtest, filters, report"
    )
    run.add_argument("experiment", nargs="?", help="experiment file (experiments/*.toml)")
    run.add_argument(
        "--source",
        nargs="+",
        metavar="SOURCE",
        help="override the data source: yahoo | synthetic | cache | csv PATH (a file, or a "
        "folder of one CSV per symbol: a universe)",
    )
    run.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override [train] device")
    run.add_argument("--engine", choices=["batched", "sequential"], help="override [train] engine")
    run.add_argument("--resume", metavar="RUN_DIR", help="resume an interrupted run directory")
    run.add_argument("--out", default="reports", help="root of run directories (default reports)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_tracking(run)
    run.set_defaults(handler=_run)


def _announce(args: argparse.Namespace, label: str) -> Callable[[Any], None]:
    """The ``on_start`` callback: print the run directory as soon as it exists, and keep
    it for the interrupt message."""

    def announce(layout: Any) -> None:
        args.started.append(layout.root)
        print(f"{label}: {layout.root}", flush=True)

    return announce


def _run(args: argparse.Namespace) -> int:
    from niftycnn.errors import ConfigError
    from niftycnn.workflow.run import resume_run, run_experiment_file

    if args.resume:
        if args.experiment or args.source:
            raise ConfigError("--resume RUN_DIR takes its experiment from the run directory")
        layout = resume_run(
            args.resume, progress=not args.quiet, on_start=_announce(args, "run directory")
        )
    else:
        if not args.experiment:
            raise ConfigError("give an experiment file, e.g. experiments/synthetic_momentum.toml")
        layout = run_experiment_file(
            args.experiment,
            data=_source_override(args.source),
            train={k: v for k, v in (("device", args.device), ("engine", args.engine)) if v},
            out_root=args.out,
            progress=not args.quiet,
            on_start=_announce(args, "run directory"),
        )
    print(f"report: {layout.report_html}")
    _track(args, layout)
    return 0


def _add_tracking(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--track", choices=["mlflow"], help="also log the finished run to MLflow (niftycnn[track])"
    )
    parser.add_argument(
        "--tracking-uri",
        metavar="URI",
        help="MLflow tracking URI (default: ./mlruns, a file store)",
    )


def _track(args: argparse.Namespace, layout: Any) -> None:
    if getattr(args, "track", None) == "mlflow":
        from niftycnn.workflow.tracking import log_run

        print(f"mlflow: run {log_run(layout.root, args.tracking_uri)}")
    elif getattr(args, "tracking_uri", None):
        from niftycnn.errors import ConfigError

        raise ConfigError("--tracking-uri needs --track mlflow")


def _add_sweep(commands: argparse._SubParsersAction) -> None:
    for name, table, what in (
        ("sweep", "[sweep]", "run the experiment's [sweep] grid: train vs test error per point"),
        ("search", "[search]", "run the experiment's [search]: Optuna trials, a held-out test"),
    ):
        sweep = commands.add_parser(name, help=what)
        sweep.add_argument("experiment", nargs="?", help=f"experiment file with a {table} table")
        sweep.add_argument("--resume", metavar="RUN_DIR", help=f"finish an interrupted {name}")
        sweep.add_argument(
            "--engine",
            choices=["local", "ray"],
            default="local",
            help="where the points run: one after another here (local), or as Ray tasks "
            "(ray, niftycnn[ray])",
        )
        sweep.add_argument("--address", help="a running Ray cluster (default: start a local one)")
        sweep.add_argument("--num-cpus", type=int, help="CPUs of the local Ray instance")
        sweep.add_argument("--out", default="reports", help="root of run directories")
        sweep.add_argument("--quiet", action="store_true", help="no progress bar")
        _add_tracking(sweep)
        sweep.set_defaults(handler=_sweep, command=name)


def _sweep(args: argparse.Namespace) -> int:
    from niftycnn.errors import ConfigError
    from niftycnn.workflow.engine import Engine
    from niftycnn.workflow.run import resume_run, run_experiment_file

    if args.engine == "local" and (args.address or args.num_cpus):
        raise ConfigError("--address and --num-cpus need --engine ray")
    engine = Engine(args.engine, args.address, args.num_cpus)
    announce = _announce(args, f"{args.command} directory")
    if args.resume:
        if args.experiment:
            raise ConfigError("--resume RUN_DIR takes its experiment from the run directory")
        layout = resume_run(args.resume, progress=not args.quiet, on_start=announce, engine=engine)
    elif not args.experiment:
        raise ConfigError(f"give an experiment file with a [{args.command}] table")
    else:
        layout = run_experiment_file(
            args.experiment,
            out_root=args.out,
            command=args.command,
            progress=not args.quiet,
            on_start=announce,
            engine=engine,
        )
    print(f"report: {layout.report_html}")
    _track(args, layout)
    return 0


def _add_runs(commands: argparse._SubParsersAction) -> None:
    runs = commands.add_parser(
        "runs", help="list the run directories under ROOT with verdicts and key metrics"
    )
    runs.add_argument("root", nargs="?", default="reports", help="where to look (default reports)")
    runs.add_argument(
        "--compare", nargs=2, metavar="RUN_DIR", help="the config keys two runs differ in"
    )
    runs.set_defaults(handler=_runs)


def _runs(args: argparse.Namespace) -> int:
    from niftycnn.workflow.runs import compare_runs, list_runs

    if args.compare:
        print(compare_runs(*args.compare))
    else:
        print(list_runs(args.root))
    return 0


def _add_report(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="re-render report.html / report.md from a run")
    report.add_argument("run_dir", help="reports/<experiment>/<timestamp>/")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from niftycnn.report import render_report

    print(f"report: {render_report(args.run_dir)}")
    return 0


def _add_filters(commands: argparse._SubParsersAction) -> None:
    filters = commands.add_parser(
        "filters", help="(re)run the first-layer filter analysis of a finished run"
    )
    filters.add_argument("run_dir", help="reports/<experiment>/<timestamp>/")
    filters.set_defaults(handler=_filters)


def _filters(args: argparse.Namespace) -> int:
    from niftycnn.workflow.run import analyze_run_filters

    print(analyze_run_filters(args.run_dir, progress=True))
    return 0


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A warning as one line, ``warning: ...``, without source path or code."""
    text = str(message).strip().splitlines()
    print(f"warning: {text[0] if text else category.__name__}", file=sys.stderr, flush=True)


def _interrupted(started: list[Path]) -> str:
    if started and started[-1].is_dir():
        return (
            f"interrupted; finished folds are kept in {started[-1]}: continue with "
            f"`niftycnn run --resume {started[-1]}`"
        )
    return "interrupted before any fold finished; nothing was kept (run it again)"


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the exit flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file (captured)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started = []
    handler: Handler = args.handler
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            status = handler(args)
            sys.stdout.flush()
            return status
        except NiftyCNNError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt:
            print(f"error: {_interrupted(args.started)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except BrokenPipeError:
            _quiet_stdout()
            return EXIT_BROKEN_PIPE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
