"""The batched training engine: every member (fold x seed) of a chunk of folds trains as
one stacked ensemble, with the sequential engine's recipe exactly.

- :mod:`.kernels`: the stacked layer arithmetic and its fused autograd functions;
- :mod:`.net`: the stacked networks, ``StackedNet`` (built from the validated spec, the
  fast path) and ``VmapNet`` (any module, ``functional_call`` under ``vmap``);
- :mod:`.engine`: the training loop, ``train_batched``.
"""

from niftycnn.walkforward.batched.engine import train_batched
from niftycnn.walkforward.batched.net import StackedForward, StackedNet, VmapNet

__all__ = ["StackedForward", "StackedNet", "VmapNet", "train_batched"]
