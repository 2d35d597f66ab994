"""``niftycnn data fetch|import|check`` (argument parsing only; work is in the stage)."""

from __future__ import annotations

import argparse


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    data = commands.add_parser("data", help="fetch, import and check OHLCV data")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate a cached symbol, a CSV file or synthetic data")
    check.add_argument("--source", choices=["synthetic"], default="synthetic")
    check.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    print("synthetic: ok (placeholder until the data layer lands)")
    return 0
