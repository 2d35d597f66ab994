"""Benchmark: chart-image rendering and 2D training cost.

Run: PYTHONPATH=src python bench/images.py [--images 4000] [--steps 30] [--full]

1. Render rate: 4,000 20-day images (64 x 60, moving average and volume) from a
   synthetic OHLCV frame, bit-packed (``render_images``) and unpacked to the network's
   float input (``unpack_images``); median of ``--repeats`` runs, images per second, and
   the memory per image packed vs float32.
2. Training cost per member-step (batch 128, forward + backward + AdamW, the sequential
   engine's step) of the ``jkx20_small`` preset on 64 x 60 images, against q10 on 5 x 20
   windows in the same run (a ratio; the batched engine stacks 1D networks only, so the
   sequential step is what an image member costs). ``--full`` adds the paper's jkx20.
   On a CUDA device the same steps are timed there too.

Times are medians of one run on whatever machine this is: quote ratios, and say whether
the machine was shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from niftycnn.data import synthetic_ohlcv
from niftycnn.models import build_model, preset
from niftycnn.windows.images import render_images, style_for, unpack_images


def _median(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def render_rate(n_images: int, repeats: int) -> None:
    style = style_for(20)
    frame = synthetic_ohlcv(n_images + style.history - 1, 0, start="2008-01-01")
    packed = render_images(frame, style)
    assert len(packed) == n_images
    render = _median(lambda: render_images(frame, style), repeats)
    unpack = _median(lambda: unpack_images(packed, style.width), repeats)
    per_packed = packed[0].nbytes
    per_float = style.height * style.width * 4
    print(f"render {n_images:,} 20-day images ({style.height} x {style.width}, MA, volume):")
    print(f"  render + pack  {render * 1e3:8.1f} ms  {n_images / render:12,.0f} images/s")
    print(f"  unpack (float) {unpack * 1e3:8.1f} ms  {n_images / unpack:12,.0f} images/s")
    ratio = per_float // per_packed
    print(f"  bytes / image  packed {per_packed:,}  float32 {per_float:,} ({ratio}x)")


def step_time(name: str, shape: tuple[int, ...], steps: int, device: torch.device) -> float:
    """Median seconds of one training step (batch 128) of preset ``name`` on ``device``."""
    torch.manual_seed(0)
    size = shape[1] if len(shape) == 2 else (shape[1], shape[2])
    model = build_model(preset(name, n_classes=2), shape[0], size).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, foreach=False)
    x = (torch.rand(128, *shape, device=device) > 0.9).float()
    y = torch.randint(0, 2, (128,), device=device)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(3):  # warm-up
        step()
    return _median(step, steps)


def training_cost(steps: int, full: bool) -> None:
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    nets = [("q10", (5, 20)), ("jkx20_small", (1, 64, 60))] + (
        [("jkx20", (1, 64, 60))] if full else []
    )
    for device in devices:
        where = (
            f"{device.type} ({torch.get_num_threads()} threads)" if device.type == "cpu" else "cuda"
        )
        print(f"training step, batch 128, sequential engine, {where}:")
        base = None
        for name, shape in nets:
            t = step_time(name, shape, steps if name != "jkx20" else max(3, steps // 10), device)
            base = base or t
            dims = " x ".join(map(str, shape))
            print(f"  {name:12s} {dims:10s} {t * 1e3:9.2f} ms  {t / base:7.1f}x q10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--full", action="store_true", help="also time the paper's jkx20")
    args = parser.parse_args()
    print(f"host: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    render_rate(args.images, args.repeats)
    training_cost(args.steps, args.full)


if __name__ == "__main__":
    main()
