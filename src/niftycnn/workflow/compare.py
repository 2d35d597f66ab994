"""One experiment, both models: a chart-image CNN beside the 1D CNN (``[compare]``).

The image CNN (Jiang, Kelly & Xiu 2023) sees the same days as the ``[model]`` network,
drawn as OHLC bar images of ``[windows] length`` days instead of windows of features.
Both train through the same walk-forward: the same samples (the 1D windows start where
the images' moving average has its history, so both have one sample per day from the
same first day), hence the same folds, purging, labels, seeds and recipe. The image
walk-forward is stored under ``points/cnn_image/`` (its own folds, resumable), and its
out-of-sample predictions join the run's as model ``cnn_image``. So the run's own
backtest compares the two like any two models: the 1D CNN against ``cnn_image`` and
every baseline (Diebold-Mariano; SPA across all), and here the image CNN against every
other model at once (``metrics/image_multiple.csv``: SPA and StepM with the image CNN
as reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from niftycnn.backtest import multiple_comparisons
from niftycnn.config import BacktestConfig, Experiment, WindowsConfig
from niftycnn.errors import ConfigError, LabelError, SpecError
from niftycnn.models import Architecture, architecture_for, build_model, summary_table
from niftycnn.models.checks import sample_shape
from niftycnn.models.validate import validate_architecture
from niftycnn.rundir import RunLayout, read_tensors, write_csv, write_npy
from niftycnn.walkforward import Splitter, run_walkforward
from niftycnn.windows import WindowDataset, build_dataset, labeler_for, network_input

IMAGE_MODEL = "cnn_image"  # the image CNN's name in the predictions table


def image_windows(experiment: Experiment) -> WindowsConfig:
    """The ``[windows]`` table of the image CNN: the same days, drawn as images."""
    return experiment.windows.model_copy(update={"inputs": "image"})


def image_architecture(experiment: Experiment) -> Architecture:
    """The image CNN of ``[compare]``, with the label's class count."""
    assert experiment.compare is not None
    return architecture_for(experiment.compare, experiment.n_classes)


def check_compare(experiment: Experiment, origin: str) -> None:
    """``[compare]`` puts an image CNN beside a 1D one, on one series, in a run."""
    if experiment.compare is None:
        return
    if experiment.windows.inputs == "image":
        raise ConfigError(
            f"{origin}: [compare] trains an image CNN beside the [model] network on 1D "
            "windows; set [windows] inputs = 'windows' (or drop [compare])"
        )
    if experiment.data.is_universe or experiment.sweep is not None:
        raise ConfigError(
            f"{origin}: [compare] runs on one series without a [sweep]; drop one of them"
        )
    if experiment.compare.head != experiment.model.head:
        raise ConfigError(
            f"{origin}: [compare] head {experiment.compare.head!r} differs from [model] "
            f"head {experiment.model.head!r}; compare models of one task"
        )
    try:
        validate_architecture(
            image_architecture(experiment), *network_input(image_windows(experiment))
        )
    except SpecError as exc:
        raise ConfigError(f"{origin}: [compare] {exc}") from None


def plan_images(
    experiment: Experiment, frame: pd.DataFrame, windows: WindowDataset, origin: str
) -> tuple[WindowDataset, WindowDataset]:
    """The 1D dataset on the images' days and the images (``[compare]``)."""
    try:
        images = build_dataset(
            frame, image_windows(experiment), experiment.labels, windows.symbols[0]
        )
    except LabelError as exc:
        raise ConfigError(f"{origin}: [compare] images: {exc}") from None
    return aligned(windows, images), images


def aligned(windows: WindowDataset, images: WindowDataset) -> WindowDataset:
    """The 1D samples on the images' days (images need more history, so they start
    later): after this both datasets have the same dates, labels and label ends."""
    keep = np.isin(windows.end_dates.to_numpy(), images.end_dates.to_numpy())
    out = windows.subset(np.flatnonzero(keep))
    assert out.end_dates.equals(images.end_dates), "the image and window days differ"
    return out


def image_walkforward(
    layout: RunLayout,
    experiment: Experiment,
    images: WindowDataset,
    splitter: Splitter,
    progress: bool,
) -> pd.DataFrame:
    """The image CNN's out-of-sample predictions, model ``cnn_image``, trained in
    ``points/cnn_image/`` (its architecture table there too) on the run's folds."""
    arch = image_architecture(experiment)
    out = layout.point(IMAGE_MODEL)
    write_csv(out.architecture, summary_table(arch, *sample_shape(images.X.shape)), index=False)
    predictions = run_walkforward(
        images,
        arch,
        splitter,
        experiment.train,
        seed=experiment.seed,
        labeler=labeler_for(experiment.labels),
        baselines=(),
        out=out,
        progress=progress,
    )
    return predictions.assign(model=IMAGE_MODEL)


def image_against_all(predictions: pd.DataFrame, config: BacktestConfig, seed: int) -> pd.DataFrame:
    """SPA and StepM of the image CNN against every other model (the 1D CNN and the
    baselines), as ``multiple`` has them for the 1D CNN."""
    return multiple_comparisons(predictions, config, reference=IMAGE_MODEL, seed=seed)


def sample_positions(images: WindowDataset, test_idx: np.ndarray, per_class: int) -> np.ndarray:
    """The first ``per_class`` labelled samples of each class in a test block (by date:
    no randomness, so a rerun shows the same images)."""
    test_idx = np.asarray(test_idx)
    labels = images.y_class[test_idx]
    chosen = [test_idx[labels == k][:per_class] for k in range(images.n_classes)]
    return np.concatenate(chosen).astype(np.int64)


def grad_cam(
    arch: Architecture, state: dict[str, torch.Tensor], X: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Grad-CAM maps (n, H, W) of images X (n, 1, H, W) for their ``target`` classes
    (captum ``LayerGradCam`` at the last Conv2d, ReLU'd, upsampled to the image)."""
    from captum.attr import LayerAttribution, LayerGradCam

    model = build_model(arch, *sample_shape(X.shape))
    model.load_state_dict(state)
    model.eval()
    last = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    inputs = torch.as_tensor(X, dtype=torch.float32)
    cam = LayerGradCam(model, last).attribute(
        inputs, target=torch.as_tensor(target), relu_attributions=True
    )
    up = LayerAttribution.interpolate(cam, tuple(X.shape[2:]), interpolate_mode="bilinear")
    return up[:, 0].detach().numpy().astype(np.float32)


def samples_stage(
    layout: RunLayout, experiment: Experiment, images: WindowDataset, splitter: Splitter
) -> None:
    """Writes ``chart_samples.npy``, ``chart_classes.npy`` and ``gradcam.npy``: three test
    images per class from the last fold, with Grad-CAM maps of its first seed's image CNN
    for their true class (a classification head only)."""
    folds = splitter.folds(images)
    point = layout.point(IMAGE_MODEL)
    stored = {f.index: f for f in point.folds()}
    if not folds or folds[-1].index not in stored:
        return
    fold = folds[-1]
    pos = sample_positions(images, fold.test_idx, per_class=3)
    if pos.size == 0:
        return
    X, classes = images.X[pos], images.y_class[pos]
    write_npy(layout.chart_samples, X[:, 0].astype(np.float32))
    write_npy(layout.chart_classes, classes)
    if experiment.model.head == "classification":
        state = read_tensors(stored[fold.index].state)["cnn"][0]
        write_npy(layout.gradcam, grad_cam(image_architecture(experiment), state, X, classes))
