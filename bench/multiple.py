"""Calibration of the tests that account for how many things were tried: the size and
power of Hansen's SPA (both directions, ``niftycnn.backtest.spa_tests``) and PBO on noise
and with one better strategy (``niftycnn.backtest.probability_of_overfitting``).

    PYTHONPATH=src python bench/multiple.py [--seeds 1000] [--days 2000]

SPA: the CNN and four baselines make zero-one losses with a shared day effect (30 % of
days are harder for every model); under the null every hit rate is 50 %. The script
prints the share of seeds rejecting at 5 % ("size"; about 0.05 when calibrated) and, for
a CNN hit rate of 52 / 53 / 55 % against 50 % baselines, the share rejecting "the CNN beats
no baseline" ("power"). PBO: mean and spread over seeds for 10 strategies of pure noise,
and with one strategy of daily Sharpe 0.05 / 0.1 (annualised 0.8 / 1.6).

Last run (2 shared CPU cores, ``--seeds 600 --days 1000 --reps 300``, 509 s): size 0.038
("the CNN beats no baseline") and 0.068 ("no baseline beats the CNN") over 600 seeds
(binomial sd 0.009); power to reject "beats no baseline" 0.25 / 0.44 / 0.83 at a CNN hit
rate of 52 / 53 / 55 % (120 seeds each), the reverse test never rejecting there. PBO:
0.52 (sd 0.22) on noise; 0.40 and 0.16 with one strategy of daily Sharpe 0.05 / 0.10
(100 seeds; over 2,500 days the latter falls to 0.016).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from niftycnn.backtest import probability_of_overfitting, spa_tests

MODELS = ("cnn", "a", "b", "c", "d")


def losses(seed: int, n: int, cnn_hit: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hard = rng.random(n) < 0.3
    out = {}
    for name in MODELS:
        p = cnn_hit if name == "cnn" else 0.5
        p_day = np.where(hard, p - 0.1, p + 0.1 * 0.3 / 0.7)
        out[name] = (rng.random(n) > p_day).astype(float)
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--days", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=500)
    args = parser.parse_args()
    start = time.perf_counter()
    for hit in (0.50, 0.52, 0.53, 0.55):
        seeds = args.seeds if hit == 0.5 else max(args.seeds // 5, 50)
        rows = [
            spa_tests(losses(s, args.days, hit), "cnn", block=1, reps=args.reps, seed=s)
            for s in range(seeds)
        ]
        beats = np.array([r[0]["p_value"] for r in rows])
        better = np.array([r[1]["p_value"] for r in rows])
        print(
            f"SPA  CNN hit {hit:.2f}, {seeds} seeds x {args.days} days: reject 'beats no "
            f"baseline' {np.mean(beats < 0.05):.3f}; reject 'no baseline beats the CNN' "
            f"{np.mean(better < 0.05):.3f}; StepM names all four "
            f"{np.mean([r[0]['stepm'] == 'a, b, c, d' for r in rows]):.3f}",
            flush=True,
        )
    for edge in (0.0, 0.05, 0.1):
        pbo = []
        for s in range(min(args.seeds, 100)):
            r = np.random.default_rng(s).normal(0, 0.01, (args.days, 10))
            r[:, 3] += edge * 0.01
            pbo.append(probability_of_overfitting(r).pbo)
        print(
            f"PBO  10 strategies x {args.days} days, one with daily Sharpe {edge:.2f}: mean "
            f"{np.mean(pbo):.3f}, sd {np.std(pbo):.3f}, max {np.max(pbo):.3f} "
            f"({len(pbo)} seeds)",
            flush=True,
        )
    print(f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
