"""The plan: checks that need the stages (networks vs windows, baselines vs head and
features) fail at load, naming the file and the key."""

from __future__ import annotations

import pytest

from niftycnn.errors import ConfigError
from niftycnn.workflow.plan import architecture, baselines, load_experiment

BAD_FILES = [
    ('[model]\npreset = "q11"\n', "unknown preset 'q11'"),
    (
        '[model]\nlayers = [{type = "conv", filters = 8, kernel = 30, padding = "valid"}]\n',
        "[model] layer 0 (conv)",
    ),
    ('[model]\nlayers = [{type = "lstm"}]\n', "'lstm'"),
    (
        '[model]\nhead = "regression"\n[baselines]\nmodels = ["majority"]\n',
        "models ['majority'] only apply to classification heads",
    ),
    ('[baselines]\nmodels = ["majority", "xgboost"]\n', "unknown baseline(s) ['xgboost']; allowed"),
    (
        '[windows]\nfeatures = ["volume", "range"]\n[baselines]\nmodels = ["momentum"]\n',
        "[baselines] momentum reads the 'close' feature",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_FILES, ids=[m[:30] for _, m in BAD_FILES])
def test_a_file_the_stages_cannot_run_fails_at_load(tmp_path, body, message):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_the_class_count_and_baselines_follow_the_labels_and_features(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[labels]\nclasses = 3\n[windows]\nfeatures = ["volume", "range"]\n')
    experiment = load_experiment(path)
    assert experiment.n_classes == 3 and architecture(experiment).n_outputs == 3
    # momentum reads the close channel, which these windows lack: not a default baseline
    assert "momentum" not in baselines(experiment)
    assert "fixed_kernels" in baselines(experiment)  # the frozen kernels fit any channels
