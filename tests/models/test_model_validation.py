"""Invalid specs are rejected before training, with messages naming layer, field and value."""

from __future__ import annotations

from typing import Any

import pytest

from niftycnn.errors import SpecError
from niftycnn.models import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GramConv,
    Pool,
    Residual,
    architecture_from_dict,
    build_model,
    parse_layers,
    preset,
    summarize,
    validate_architecture,
)

# (layers, length, substrings the one-line message must contain)
BAD_SPECS: list[tuple[tuple[Any, ...], int, tuple[str, ...]]] = [
    ((Conv(4, 21, padding="valid"),), 20, ("layer 0 (conv)", "kernel 21", "20")),
    ((Pool("max", 2),) * 5, 20, ("layer 4 (pool)", "size 2", "input length 1")),
    ((Conv(4, 3), "lstm"), 20, ("layer 1", "'lstm'", "valid types")),
    ((Conv(-3, 3),), 20, ("layer 0 (conv)", "filters -3")),
    ((Conv(4, 0),), 20, ("layer 0 (conv)", "kernel 0")),
    ((Conv(4, 3), Dropout(1.0)), 20, ("layer 1 (dropout)", "rate 1.0", "[0, 1)")),
    ((Dropout(-0.1),), 20, ("layer 0 (dropout)", "rate -0.1")),
    ((Conv(4, 3), Dense(8)), 20, ("layer 1 (dense)", "units 8", "gap or flatten")),
    ((Conv(4, 3, stride=2),), 20, ("layer 0 (conv)", "padding 'same'", "stride 2")),
    ((Pool("max", 2, stride=0),), 20, ("layer 0 (pool)", "stride 0")),
    ((Pool("max", -1),), 20, ("layer 0 (pool)", "size -1")),
    ((GlobalAvgPool(), Conv(4, 3)), 20, ("layer 1 (conv)", "already flat")),
    ((Conv(4, 3, dilation=10, padding="valid"),), 20, ("layer 0 (conv)", "kernel 3", "span 21")),
    ((Conv(4, 3, groups=3),), 20, ("layer 0 (conv)", "groups 3")),
    ((GramConv(0),), 20, ("layer 0 (gram)", "kernel 0")),
    ((Residual(8, 3, n_convs=0),), 20, ("layer 0 (residual)", "n_convs 0")),
    ((Pool("median", 2),), 20, ("layer 0 (pool)", "'median'")),
    ((Conv(4, 3, activation="swish"),), 20, ("layer 0 (conv)", "'swish'")),  # type: ignore[arg-type]
    ((Conv(4, 3, padding=-1),), 20, ("layer 0 (conv)", "padding -1")),
    ((Flatten(), Dense(0)), 20, ("layer 1 (dense)", "units 0")),
]


def test_the_documented_example_message_is_exact() -> None:
    arch = Architecture((Conv(4, 3, padding="valid"), Conv(4, 3, padding="valid"), Pool("max", 4)))
    with pytest.raises(SpecError) as err:
        validate_architecture(arch, 5, 7)
    assert str(err.value) == (
        "layer 2 (pool): size 4 exceeds input length 3; use a smaller size or fewer pooling layers"
    )


@pytest.mark.parametrize(("layers", "length", "expected"), BAD_SPECS)
def test_invalid_spec_is_rejected_naming_layer_index_and_value(
    layers: tuple[Any, ...], length: int, expected: tuple[str, ...]
) -> None:
    arch = Architecture(layers)
    for check in (validate_architecture, build_model, summarize):
        with pytest.raises(SpecError) as err:
            check(arch, 5, length)
        message = str(err.value)
        assert "\n" not in message
        for part in expected:
            assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"head": "ranking"}, "head 'ranking'"),
        ({"n_classes": 1}, "n_classes 1"),
    ],
)
def test_invalid_head_is_rejected(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError, match=expected):
        build_model(Architecture((Conv(4, 3),), **kwargs))


def test_regression_head_ignores_n_classes() -> None:
    model = build_model(Architecture((Conv(4, 3),), head="regression", n_classes=1))
    assert model[-1].out_features == 1


BAD_TABLES: list[tuple[list[Any], tuple[str, ...]]] = [
    ([{"type": "conv", "filters": 4, "kernel": 3}, {"type": "lstm"}], ("layer 1", "'lstm'")),
    ([{"type": "conv", "filters": 4, "kernal": 3}], ("layer 0 (conv)", "'kernal'", "kernel")),
    ([{"type": "conv", "filters": 4}], ("layer 0 (conv)", "'kernel'", "missing")),
    ([{"type": "conv", "filters": 4, "kernel": 3, "padding": "full"}], ("padding 'full'",)),
    ([{"type": "pool", "kind": "min"}], ("layer 0 (pool)", "kind 'min'")),
    ([{"type": "dropout", "rate": "high"}], ("layer 0 (dropout)", "rate 'high'")),
    ([{"type": "dense", "units": 2.5}], ("layer 0 (dense)", "units 2.5")),
    ([{"filters": 4}], ("layer 0", "missing 'type'")),
    ([{"type": "conv", "filters": True, "kernel": 3}], ("layer 0 (conv)", "filters True")),
]


@pytest.mark.parametrize(("tables", "expected"), BAD_TABLES)
def test_invalid_layer_table_is_rejected_naming_layer_and_value(
    tables: list[Any], expected: tuple[str, ...]
) -> None:
    with pytest.raises(SpecError) as err:
        parse_layers(tables)
    for part in expected:
        assert part in str(err.value)


def test_experiment_file_layer_list_parses_to_specs() -> None:
    d = {
        "head": "regression",
        "layers": [
            {"type": "conv", "filters": 16, "kernel": 3, "padding": "same"},
            {"type": "pool", "kind": "max", "size": 2},
            {"type": "dropout", "rate": 0.1},
            {"type": "gap"},
        ],
    }
    arch = architecture_from_dict(d)
    assert arch.layers == (Conv(16, 3), Pool("max", 2), Dropout(0.1), GlobalAvgPool())
    assert arch.n_outputs == 1
    assert build_model(arch)[-1].out_features == 1


def test_experiment_file_preset_keeps_its_layers_and_takes_the_head() -> None:
    arch = architecture_from_dict({"preset": "q10", "head": "classification", "n_classes": 3})
    assert arch.layers == preset("q10").layers
    assert (arch.name, arch.n_outputs) == ("q10", 3)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        ({"preset": "q10", "layers": []}, "exactly one"),
        ({}, "exactly one"),
        ({"preset": "alexnet"}, "valid presets: q10, q10_flat"),
        ({"preset": "q10", "head": "ranking"}, "head 'ranking'"),
        ({"preset": "q10", "n_classes": 1}, "n_classes 1"),
        ({"preset": "q10", "dropout": 0.1}, "unknown key 'dropout'"),
        ({"layers": {"type": "conv"}}, "list of tables"),
    ],
)
def test_invalid_model_table_is_rejected(d: dict[str, Any], expected: str) -> None:
    with pytest.raises(SpecError) as err:
        architecture_from_dict(d)
    assert expected in str(err.value)


def test_a_regression_model_table_needs_no_class_count() -> None:
    arch = architecture_from_dict({"preset": "q10", "head": "regression", "n_classes": 1})
    assert arch.n_outputs == 1
