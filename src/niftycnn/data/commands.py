"""``niftycnn data fetch|import|check`` (argument parsing only; work is in the stage)."""

from __future__ import annotations

import argparse

from niftycnn.data.cache import DEFAULT_CACHE_DIR
from niftycnn.data.load import import_csv, load_ohlcv
from niftycnn.data.validate import report_for


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    data = commands.add_parser("data", help="fetch, import and check OHLCV data")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    fetch = sub.add_parser(
        "fetch", help="download a Yahoo symbol into the cache (tail only when cached)"
    )
    fetch.add_argument("symbol", help="Yahoo symbol, e.g. ^NSEI or ^NSEBANK")
    fetch.add_argument("--start", help="first date, YYYY-MM-DD (default: all history)")
    fetch.add_argument("--end", help="last date shown, YYYY-MM-DD (inclusive)")
    _cache_dir_arg(fetch)
    fetch.set_defaults(handler=_fetch)

    imp = sub.add_parser("import", help="validate a CSV file and store it in the cache")
    imp.add_argument("path", help="CSV file (yfinance export or NSE website export)")
    imp.add_argument("--symbol", required=True, help="name to cache it under, e.g. ^NSEI")
    _cache_dir_arg(imp)
    imp.set_defaults(handler=_import)

    check = sub.add_parser("check", help="validate a cached symbol, a CSV file or synthetic data")
    what = check.add_mutually_exclusive_group()
    what.add_argument("symbol", nargs="?", help="cached symbol to check, e.g. ^NSEI")
    what.add_argument("--csv", metavar="PATH", help="check a CSV file instead")
    what.add_argument("--source", choices=["synthetic"], help="check the synthetic market")
    _cache_dir_arg(check)
    check.set_defaults(handler=_check)


def _cache_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE_DIR),
        help=f"cache directory (default: {DEFAULT_CACHE_DIR})",
    )


def _fetch(args: argparse.Namespace) -> int:
    _, prov = load_ohlcv(
        "yahoo", symbol=args.symbol, start=args.start, end=args.end, cache_dir=args.cache_dir
    )
    print(
        f"{args.symbol}: {prov.rows:,} rows, {prov.first_date} to {prov.last_date} "
        f"(cached in {args.cache_dir}, sha256 {prov.sha256[:12]})"
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    frame, prov = import_csv(args.path, args.symbol, cache_dir=args.cache_dir)
    print(
        f"imported {args.path} as {args.symbol}: {prov.rows:,} rows, {prov.first_date} to "
        f"{prov.last_date} (sha256 {prov.sha256[:12]})"
    )
    print(report_for(frame))
    return 0


def _check(args: argparse.Namespace) -> int:
    if args.csv:
        frame, prov = load_ohlcv("csv", path=args.csv)
    elif args.symbol:
        frame, prov = load_ohlcv("cache", symbol=args.symbol, cache_dir=args.cache_dir)
    else:
        frame, prov = load_ohlcv("synthetic")
    print(f"source: {prov.source}  symbol: {prov.symbol}  sha256: {prov.sha256[:12]}")
    print(report_for(frame))
    return 0
