"""The oracle baseline: the planted rule computed on the models' own inputs."""

from __future__ import annotations

import numpy as np
import pytest

from niftycnn.config import LabelsConfig, SyntheticConfig, WindowsConfig
from niftycnn.data import pattern_kernel
from niftycnn.data.synthetic import simulate_market
from niftycnn.errors import ConfigError
from niftycnn.walkforward.baselines import Oracle, check_oracle, default_baselines, estimators
from niftycnn.windows import build_dataset

FEATURES = ("open", "high", "low", "close", "volume")


@pytest.mark.parametrize("channel", ["close", "volume", "range"])
def test_oracle_reads_the_planted_kernel_output_of_each_window(channel):
    """Its first input is w . (the channel's last k window values), the kernel output the
    next day's drift follows: its sign agrees with the planted drift's on every day."""
    cfg = SyntheticConfig(n_days=800, pattern="momentum", lookback=5, channel=channel)
    market = simulate_market(cfg, seed=2)
    features = (*FEATURES, "range")
    ds = build_dataset(
        market.frame, WindowsConfig(features=features), LabelsConfig(target="horizon", horizon=1)
    )
    ((_, oracle),) = estimators(["oracle"], features, cfg)
    assert isinstance(oracle, Oracle)
    inputs = oracle._inputs(ds.X)
    nxt = market.frame.index.get_indexer(ds.end_dates) + 1  # the day after each window
    has_next = nxt < len(market.frame)
    drift = market.planted_drift[nxt[has_next]]
    live = drift != 0
    agree = np.sign(inputs[has_next, 0][live]) == np.sign(drift[live])
    assert agree.mean() > 0.99
    # with the training side's scale of the output: z = out / rms
    k = pattern_kernel("momentum", 5)
    out = (ds.X[:, features.index(channel), -5:].astype(np.float64) * k).sum(1)
    np.testing.assert_allclose(inputs[:, 0], out / np.sqrt(np.mean(out**2)), rtol=1e-9)


def test_oracle_needs_a_planted_market_it_can_see():
    assert "oracle" not in default_baselines("classification", FEATURES)
    with pytest.raises(ConfigError, match="needs a synthetic market with a planted pattern"):
        check_oracle(SyntheticConfig(pattern="none"), FEATURES, 20)
    with pytest.raises(ConfigError, match="planted channel 'range'"):
        check_oracle(SyntheticConfig(channel="range"), FEATURES, 20)
    with pytest.raises(ConfigError, match="lookback = 30 exceeds"):
        check_oracle(SyntheticConfig(lookback=30), FEATURES, 20)
