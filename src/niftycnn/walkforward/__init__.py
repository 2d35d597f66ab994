"""Walk-forward stage: purged splits, training (sequential and batched), baselines."""
