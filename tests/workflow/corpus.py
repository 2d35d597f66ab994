"""A generated corpus of invalid experiment files, each with the message it must give.

``CONFIG_CASES`` fail when the file is read (keys, types, ranges, tables against each
other); ``PLAN_CASES`` validate but cannot run, and must fail in the plan, before any
training or any write: they start from :data:`TINY` (a 640-session synthetic market, 4
folds), so the plan itself takes well under a second. Together they go beyond the
files of ``tests/test_config.py`` and ``tests/workflow/test_plan.py``.
"""

from __future__ import annotations

import copy
from typing import Any

import tomli_w

TINY: dict[str, Any] = {
    "seed": 3,
    "data": {"source": "synthetic", "synthetic": {"n_days": 640, "start": "2019-03-01"}},
    "train": {"epochs": 1, "patience": 1, "seeds": 1},
    "walkforward": {"min_train": 380, "refit": "every", "refit_every": 60},
    "baselines": {"models": ["majority"]},
    "backtest": {"bootstrap": 100, "permutations": 100},
    "filters": {"null_draws": 100},
}


def tiny(**tables: Any) -> str:
    """:data:`TINY` as TOML with some tables' keys replaced (``None`` drops a key)."""
    out = copy.deepcopy(TINY)
    for table, keys in tables.items():
        if not isinstance(keys, dict):
            out[table] = keys
            continue
        target = out.setdefault(table, {})
        for key, value in keys.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                target[key] = {**target[key], **value}
            else:
                target[key] = value
    return tomli_w.dumps(out)


def _conv(kernel: int, **extra: Any) -> dict[str, Any]:
    return {"type": "conv", "filters": 4, "kernel": kernel, "padding": "same", **extra}


CONFIG_CASES: list[tuple[str, str, str]] = [
    ("empty file", "", "has no keys"),
    ("comments only", "# to do\n", "has no keys, so it would run every default"),
    ("name ..", 'name = ".."\n', "name = '..': the name is the run's folder"),
    ("name .", 'name = "."\n', "name = '.': the name is the run's folder"),
    ("hidden name", 'name = ".hidden"\n', "name = '.hidden'"),
    ("name with slash", 'name = "a/b"\n', "name = 'a/b'"),
    ("empty name", 'name = ""\n', "name = '': the name"),
    ("name not a string", "name = 3\n", "name = 3: Input should be a valid string"),
    ("three quantiles", "[labels]\nquantiles = [0.2, 0.5, 0.8]\n", "quantiles needs 4 strictly"),
    (
        "quantile of 1.2",
        "[labels]\nquantiles = [0.2, 0.4, 0.6, 1.2]\n",
        "quantiles must lie inside (0, 1)",
    ),
    ("three cuts", "[labels]\ncuts = [-1.0, 0.0, 1.0]\n", "cuts needs 4 strictly increasing"),
    (
        "one garch value",
        "[data.synthetic]\ngarch = [0.1]\n",
        "[data.synthetic] garch = [0.1]: needs an array of 2 values, got 1",
    ),
    (
        "three garch values",
        "[data.synthetic]\ngarch = [0.1, 0.2, 0.3]\n",
        "garch = [0.1, 0.2, 0.3]: needs an array of 2 values, got 3",
    ),
    ("explosive garch", "[data.synthetic]\ngarch = [0.5, 0.6]\n", "is not stationary"),
    (
        "features as a string",
        '[windows]\nfeatures = "close"\n',
        "[windows] features = 'close': Input should be an array",
    ),
    ("data not a table", "data = 3\n", "data = 3: Input should be a table"),
    (
        "synthetic not a table",
        '[data]\nsynthetic = "big"\n',
        "[data] synthetic = 'big': Input should be a table",
    ),
    (
        "models as a string",
        '[baselines]\nmodels = "majority"\n',
        "[baselines] models = 'majority': Input should be an array",
    ),
    (
        "layers as a string",
        '[model]\nlayers = "conv"\n',
        "[model] layers = 'conv': Input should be an array",
    ),
    (
        "a layer not a table",
        "[model]\nlayers = [3]\n",
        "[model] layers[0] = 3: Input should be a table",
    ),
    (
        "feature not a name",
        '[windows]\nfeatures = ["close", 3]\n',
        "[windows] features[1] = 3: Input should be 'open'",
    ),
    ("negative seed", "seed = -1\n", "seed = -1: Input should be greater than or equal to 0"),
    ("huge seed", "seed = 2147483648\n", "Input should be less than 2147483648"),
    ("bool as 1", "[backtest]\nlong_short = 1\n", "long_short = 1: Input should be true or false"),
    (
        "lr as a word",
        '[train]\nlr = "fast"\n',
        "[train] lr = 'fast': Input should be a valid number",
    ),
    ("zero seeds", "[train]\nseeds = 0\n", "[train] seeds = 0: Input should be greater than 0"),
    ("chunk of 0", "[train]\nchunk_folds = 0\n", "[train] chunk_folds = 0"),
    ("validation 1", "[walkforward]\nvalidation = 1.0\n", "validation = 1.0: Input should be less"),
    ("sliding scheme", '[walkforward]\nscheme = "sliding"\n', "'expanding', 'rolling' or 'cpcv'"),
    ("daily expiry", '[labels]\nexpiry = "daily"\n', "'weekly' or 'monthly'"),
    ("one class", "[labels]\nclasses = 1\n", "[labels] classes = 1: Input should be greater"),
    ("21 classes", "[labels]\nclasses = 21\n", "classes = 21: Input should be less than or equal"),
    ("parquet source", '[data]\nsource = "parquet"\n', "'yahoo', 'csv', 'synthetic' or 'cache'"),
    ("zero max move", "[data.checks]\nmax_move = 0.0\n", "[data.checks] max_move = 0.0"),
    (
        "strict as a word",
        '[data.checks]\nstrict = "yes"\n',
        "[data.checks] strict = 'yes': Input should be true or false",
    ),
    (
        "unknown check",
        "[data.checks]\nmax_jump = 0.3\n",
        "unknown key [data.checks] max_jump; allowed keys here: max_move",
    ),
    ("10 null draws", "[filters]\nnull_draws = 10\n", "[filters] null_draws = 10"),
    ("filter channel", '[filters]\nchannel = "vol"\n', "[filters] channel = 'vol'"),
    ("10 days", "[data.synthetic]\nn_days = 10\n", "[data.synthetic] n_days = 10"),
    ("30 February", '[data.synthetic]\nstart = "2020-02-30"\n', "'2020-02-30' is not a YYYY-MM-DD"),
    ("zero depth", "[sweep]\ndepth = [0]\n", "[sweep] depth = [0]: needs one or more positive"),
    ("hourly sampling", '[windows]\nsampling = "hourly"\n', "'daily' or 'expiry'"),
    ("alpha 1.5", "[backtest]\nalpha = 1.5\n", "[backtest] alpha = 1.5"),
    (
        "ranking head",
        '[model]\nhead = "ranking"\n',
        "'classification', 'regression' or 'segmentation'",
    ),
    ("one output class", "[model]\nn_classes = 1\n", "[model] n_classes = 1"),
    ("array description", 'description = ["a"]\n', "description = ['a']: Input should be a valid"),
]

PLAN_CASES: list[tuple[str, str, str]] = [
    (
        "kernel 25 on 20 days",
        tiny(model={"layers": [_conv(25)]}),
        "[model] layer 0 (conv): kernel 25 (span 25) is longer than its 20-day input",
    ),
    (
        "length 3 windows",
        tiny(windows={"length": 3}),
        "[model] layer 2 (conv): kernel 3 (span 3) is longer than its 1-day input",
    ),
    (
        "4-tap filters on 4 days",
        tiny(windows={"length": 4}, model={"layers": [_conv(4)]}),
        "[windows] length = 4 is too short for the filter analysis of the first layer's 4-tap",
    ),
    (
        "dilated span",
        tiny(model={"layers": [_conv(3, dilation=10)]}),
        "layer 0 (conv): kernel 3 (span 21) is longer than its 20-day input",
    ),
    (
        "residual kernel",
        tiny(model={"layers": [{"type": "residual", "filters": 4, "kernel": 25}]}),
        "layer 0 (residual): kernel 25",
    ),
    (
        "first test after the data",
        tiny(walkforward={"min_train": None, "first_test": "2030-01-01"}),
        "[walkforward] first_test = '2030-01-01' is after the data's last window",
    ),
    (
        "min_train beyond the data",
        tiny(walkforward={"min_train": 5000}),
        "[walkforward] min_train = 5000 needs more sessions than the data give (620 windows",
    ),
    (
        "expiry sampling, few windows",
        tiny(windows={"sampling": "expiry"}),
        "[walkforward] min_train = 380 needs more sessions than the data give (",
    ),
    (
        "no conv layer",
        tiny(model={"layers": [{"type": "flatten"}, {"type": "dense", "units": 4}]}),
        "[model] has no conv layer",
    ),
    (
        "filter channel not a feature",
        tiny(windows={"features": ["volume", "range"]}),
        "[filters] channel = 'close' is not among [windows] features ['volume', 'range']",
    ),
    (
        "missing cache",
        tiny(data={"source": "cache", "symbol": "NOPE", "cache_dir": "no/such/cache"}),
        "[data] source = 'cache': no cached data for 'NOPE'",
    ),
    (
        "missing csv",
        tiny(data={"source": "csv", "path": "no/such/file.csv"}),
        "[data] source = 'csv': no such file: no/such/file.csv",
    ),
    (
        "range without data",
        tiny(data={"start": "2030-01-01", "end": "2030-06-01"}),
        "no data between 2030-01-01 and 2030-06-01",
    ),
    (
        "sweep kernel 25",
        tiny(sweep={"kernel": [3, 25]}),
        "[sweep] point f16_k25_d2_p0: layer 0 (conv): kernel 25",
    ),
    (
        "CNN baseline longer than the windows",
        tiny(
            windows={"length": 3},
            model={"layers": [_conv(2)]},
            baselines={"models": ["majority", "fixed_kernels"]},
        ),
        "[baselines] fixed_kernels: layer 2 (conv): kernel 3 (span 3) is longer than its 1-day",
    ),
    (
        "rolling window of 1",
        tiny(walkforward={"scheme": "rolling", "train_size": 1}),
        "[walkforward]: fold 0 (test from session 380) has no training sample after purge/embargo;"
        " start the first test block later ([walkforward] min_train / first_test)",
    ),
]
