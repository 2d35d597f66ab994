"""The ``niftycnn`` command line: a thin layer over the stage functions.

Every error niftycnn raises on purpose is printed as one line, ``error: ...``, and the
process exits with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from niftycnn.errors import NiftyCNNError

EXIT_ERROR = 2

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="niftycnn",
        description="1D CNNs on NIFTY 50 (and any Yahoo symbol): data, labels, walk-forward "
        "backtests, filter analysis and reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_commands(commands)
    return parser


def _add_data_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from niftycnn.data import commands as data_commands

    data_commands.add_parser(commands)


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
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
