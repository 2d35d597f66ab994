"""``niftycnn data fetch|import|check`` (argument parsing only; work is in the stage)."""

from __future__ import annotations

import argparse
from pathlib import Path

from niftycnn.config import DataChecksConfig
from niftycnn.data.cache import DEFAULT_CACHE_DIR
from niftycnn.data.load import bar_check, import_csv, load_ohlcv
from niftycnn.data.plausibility import enforce
from niftycnn.data.validate import report_for
from niftycnn.errors import ConfigError, DataSourceError


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    data = commands.add_parser("data", help="fetch, import and check OHLCV data")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    fetch = sub.add_parser(
        "fetch", help="download a Yahoo symbol into the cache (tail only when cached)"
    )
    fetch.add_argument("symbol", help="Yahoo symbol, e.g. ^NSEI or ^NSEBANK")
    fetch.add_argument("--start", help="first date, YYYY-MM-DD (default: all history)")
    fetch.add_argument("--end", help="last date shown, YYYY-MM-DD (inclusive)")
    _replace_arg(fetch)
    _checks_args(fetch, drop_missing=False)
    _cache_dir_arg(fetch)
    fetch.set_defaults(handler=_fetch)

    imp = sub.add_parser("import", help="validate a CSV file and store it in the cache")
    imp.add_argument("path", help="CSV file (yfinance export or NSE website export)")
    imp.add_argument("--symbol", required=True, help="name to cache it under, e.g. ^NSEI")
    _replace_arg(imp)
    _checks_args(imp)
    _cache_dir_arg(imp)
    imp.set_defaults(handler=_import)

    check = sub.add_parser("check", help="validate a cached symbol, a CSV file or synthetic data")
    what = check.add_mutually_exclusive_group()
    what.add_argument(
        "target", nargs="?", help="cached symbol (e.g. ^NSEI), or the path of a CSV file"
    )
    what.add_argument("--csv", metavar="PATH", help="check a CSV file")
    what.add_argument("--source", choices=["synthetic"], help="check the synthetic market")
    check.add_argument(
        "--symbol", help="what a CSV file holds (e.g. ^NSEI: an index), for the bar limits"
    )
    _checks_args(check)
    _cache_dir_arg(check)
    check.set_defaults(handler=_check)


def _cache_dir_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        default=str(DEFAULT_CACHE_DIR),
        help=f"cache directory (default: {DEFAULT_CACHE_DIR})",
    )


def _replace_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replace",
        action="store_true",
        help="overwrite the cache even if the new data lack some of its dates",
    )


def _checks_args(parser: argparse.ArgumentParser, drop_missing: bool = True) -> None:
    parser.add_argument(
        "--strict", action="store_true", help="implausible bars are errors, not warnings"
    )
    parser.add_argument(
        "--max-move", type=float, metavar="FRACTION", help="close-to-close limit (0.25 = 25%%)"
    )
    parser.add_argument(
        "--max-spike", type=float, metavar="FRACTION", help="limit for a bar that reverts"
    )
    if drop_missing:
        parser.add_argument(
            "--drop-missing",
            action="store_true",
            help="drop rows with missing prices (listed in a warning) instead of refusing",
        )


def _checks(args: argparse.Namespace) -> DataChecksConfig:
    for flag in ("max_move", "max_spike"):
        value = getattr(args, flag)
        if value is not None and not value > 0:
            raise ConfigError(f"--{flag.replace('_', '-')} {value}: give a fraction > 0")
    return DataChecksConfig(
        strict=args.strict,
        max_move=args.max_move,
        max_spike=args.max_spike,
        drop_missing=getattr(args, "drop_missing", False),
    )


def _fetch(args: argparse.Namespace) -> int:
    _, prov = load_ohlcv(
        "yahoo",
        symbol=args.symbol,
        start=args.start,
        end=args.end,
        cache_dir=args.cache_dir,
        checks=_checks(args),
        replace=args.replace,
    )
    print(
        f"{args.symbol}: {prov.rows:,} rows, {prov.first_date} to {prov.last_date} "
        f"(cached in {args.cache_dir}, sha256 {prov.sha256[:12]})"
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    frame, prov = import_csv(
        args.path, args.symbol, cache_dir=args.cache_dir, checks=_checks(args), replace=args.replace
    )
    print(
        f"imported {args.path} as {args.symbol}: {prov.rows:,} rows, {prov.first_date} to "
        f"{prov.last_date} (sha256 {prov.sha256[:12]})"
    )
    print(report_for(frame))
    return 0


def _check(args: argparse.Namespace) -> int:
    """A data-quality report; an argument that names an existing file is a CSV."""
    checks = _checks(args)
    target = args.target
    a_path = target is not None and (target.lower().endswith(".csv") or "/" in target)
    if a_path and not Path(target).is_file():  # symbols have neither (^NSEI, M&M)
        raise DataSourceError(f"no such file: {target}; pass an existing CSV file or a symbol")
    csv = args.csv or (target if target and Path(target).is_file() else None)
    if csv:
        symbol = args.symbol or Path(csv).stem
        frame, prov = load_ohlcv("csv", symbol=symbol, path=csv, checks=checks, check_bars=False)
    elif args.target:
        frame, prov = load_ohlcv(
            "cache", symbol=args.target, cache_dir=args.cache_dir, checks=checks, check_bars=False
        )
        symbol = args.target
    else:
        frame, prov = load_ohlcv("synthetic", checks=checks, check_bars=False)
        symbol = prov.symbol
    bars, limits = bar_check(frame, symbol, checks, prov.fetched_at)
    print(f"source: {prov.source}  symbol: {prov.symbol}  sha256: {prov.sha256[:12]}")
    print(report_for(frame, implausible=bars, limits=limits.describe()))
    enforce(bars, limits, checks.strict, where=csv or symbol)
    return 0
