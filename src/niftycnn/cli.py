"""The ``niftycnn`` command line: a thin layer over the stage functions.

Every error niftycnn raises on purpose is printed as one line, ``error: ...``, and the
process exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from niftycnn.errors import NiftyCNNError

EXIT_ERROR = 2

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
    describe.add_argument("--channels", type=int, default=5, help="input channels (default 5)")
    describe.add_argument("--length", type=int, default=20, help="window length (default 20)")
    describe.set_defaults(handler=_describe)


def _describe(args: argparse.Namespace) -> int:
    from pathlib import Path

    from niftycnn.models import describe
    from niftycnn.workflow.plan import architecture, load_experiment

    if args.target.endswith(".toml") or Path(args.target).is_file():
        experiment = load_experiment(args.target)
        windows = experiment.windows
        print(describe(architecture(experiment), len(windows.features), windows.length))
    else:
        print(describe(args.target, in_channels=args.channels, length=args.length))
    return 0


def _source_override(values: list[str] | None) -> dict[str, str] | None:
    """``--source synthetic``, ``--source yahoo`` or ``--source csv PATH`` -> [data] keys."""
    from niftycnn.errors import ConfigError

    if not values:
        return None
    kind, rest = values[0], values[1:]
    if kind not in ("yahoo", "synthetic", "csv", "cache"):
        raise ConfigError(f"--source {kind}: choose yahoo, synthetic, cache or csv PATH")
    if kind == "csv":
        if len(rest) != 1:
            raise ConfigError("--source csv needs one path: --source csv path/to/file.csv")
        return {"source": "csv", "path": rest[0]}
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
        help="override the data source: yahoo | synthetic | cache | csv PATH",
    )
    run.add_argument("--device", choices=["auto", "cpu", "cuda"], help="override [train] device")
    run.add_argument("--engine", choices=["batched", "sequential"], help="override [train] engine")
    run.add_argument("--resume", metavar="RUN_DIR", help="resume an interrupted run directory")
    run.add_argument("--out", default="reports", help="root of run directories (default reports)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from niftycnn.errors import ConfigError
    from niftycnn.workflow.run import resume_run, run_experiment_file

    if args.resume:
        if args.experiment or args.source:
            raise ConfigError("--resume RUN_DIR takes its experiment from the run directory")
        layout = resume_run(args.resume, progress=not args.quiet)
    else:
        if not args.experiment:
            raise ConfigError("give an experiment file, e.g. experiments/synthetic_momentum.toml")
        layout = run_experiment_file(
            args.experiment,
            data=_source_override(args.source),
            train={k: v for k, v in (("device", args.device), ("engine", args.engine)) if v},
            out_root=args.out,
            progress=not args.quiet,
        )
    print(f"run directory: {layout.root}")
    print(f"report: {layout.report_html}")
    return 0


def _add_sweep(commands: argparse._SubParsersAction) -> None:
    sweep = commands.add_parser(
        "sweep", help="run the experiment's [sweep] grid: train vs test error per point"
    )
    sweep.add_argument("experiment", help="experiment file with a [sweep] table")
    sweep.add_argument("--out", default="reports", help="root of run directories")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from niftycnn.workflow.sweep import run_sweep_file

    layout = run_sweep_file(args.experiment, out_root=args.out, progress=not args.quiet)
    print(f"sweep directory: {layout.root}")
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

    print(analyze_run_filters(args.run_dir))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except NiftyCNNError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(
            "error: interrupted; finished folds are kept, continue with "
            "`niftycnn run --resume RUN_DIR`",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
