"""parameter_names: the one table of build_model's state-dict keys, per validated layer."""

from __future__ import annotations

from niftycnn.models import (
    Architecture,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GramConv,
    Pool,
    Residual,
    build_model,
    validate_architecture,
)
from niftycnn.models.build import layer_prefix, parameter_names


def test_parameter_names_are_the_state_dict_keys_of_every_layer_type():
    arch = Architecture(
        (
            GramConv(3),
            Conv(8, 3, batch_norm=True),
            Residual(16, 3, n_convs=3, batch_norm=True),
            Residual(16),
            Conv(4, 3, bias=False),
            Pool("avg", 2),
            Dropout(0.1),
            Flatten(),
            Dense(6),
        )
    )
    steps = validate_architecture(arch, 2, 20)
    names = [n for step in steps for n in parameter_names(step)]
    model = build_model(arch, 2, 20)
    assert names == [n for n, _ in model.named_parameters()]
    assert names[:4] == ["0.weight", "1.0.weight", "1.0.bias", "1.1.weight"]
    assert names[-4:] == ["8.0.weight", "8.0.bias", "9.weight", "9.bias"]  # Dense, head
    assert [layer_prefix(s) for s in steps[:2]] == ["0", "1.0"]
