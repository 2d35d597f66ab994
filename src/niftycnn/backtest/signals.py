"""From out-of-sample predictions to positions.

A prediction made at the close of day t becomes a *score* (how bullish the model is),
the score becomes a *position* in [-1, 1] (fraction of equity, short if negative), and
the position is held either

- ``"daily"``: from t's close to t+1's close (a position is re-decided every day), or
- ``"label_end"`` (or its older name ``"expiry"``): from t's close to the close of t's
  label end (the expiry, the horizon's last day, the first barrier touch), as one
  trade; trades never overlap, so while a trade is open every later signal is ignored.

Scores (``signal``):

- ``"expected_return"``: ``r_pred``, the predicted log return to the label end;
- ``"prob_diff"``: P(up) - P(down), the up and down classes of the label vocabulary
  (``niftycnn.schema.LabelVocabulary``: with 5 classes proba_3 + proba_4 - proba_0 -
  proba_1); falls back to ``r_pred`` for regression rows, whose probabilities are NaN;
- ``"class"``: +1 if the predicted class is an up class, -1 if a down class, else 0.

Positions (``sizing``): ``"sign"`` gives sign(score) outside the no-trade band
|score| <= band and 0 inside; ``"scaled"`` gives clip(score / scale, -1, 1) outside the
band. Long-only strategies clip the position to [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from niftycnn.errors import BacktestError
from niftycnn.schema import LabelVocabulary, n_classes_of, require_columns

SIGNALS: tuple[str, ...] = ("expected_return", "prob_diff", "class")


def signal_scores(predictions: pd.DataFrame, signal: str = "expected_return") -> np.ndarray:
    """Score per row of ``predictions``: positive = bullish. See the module docstring."""
    if signal not in SIGNALS:
        raise BacktestError(f"unknown signal {signal!r}; choose one of {SIGNALS}")
    if signal == "expected_return":
        require_columns(predictions, ["r_pred"])
        return predictions["r_pred"].to_numpy(dtype=float)
    vocab = LabelVocabulary(n_classes_of(predictions))
    if signal == "class":
        require_columns(predictions, ["y_pred"])
        y = predictions["y_pred"].to_numpy()
        return np.isin(y, vocab.up).astype(float) - np.isin(y, vocab.down).astype(float)
    require_columns(predictions, ["r_pred"])
    p = predictions[vocab.proba_columns].to_numpy(dtype=float)
    score = p[:, list(vocab.up)].sum(1) - p[:, list(vocab.down)].sum(1)
    return np.where(np.isnan(score), predictions["r_pred"].to_numpy(dtype=float), score)


def positions_from_scores(
    scores: np.ndarray,
    *,
    band: float = 0.0,
    long_short: bool = True,
    sizing: str = "sign",
    scale: float = 0.02,
) -> np.ndarray:
    """Position in [-1, 1] per score: 0 inside the no-trade band |score| <= band.

    ``sizing="sign"``: sign(score); ``"scaled"``: clip(score / scale, -1, 1). NaN scores
    give 0 (no trade). Long-only (``long_short=False``) clips to [0, 1].
    """
    if sizing not in ("sign", "scaled"):
        raise BacktestError(f"unknown sizing {sizing!r}; choose 'sign' or 'scaled'")
    if band < 0:
        raise BacktestError(f"no-trade band must be >= 0, got {band}")
    if sizing == "scaled" and not scale > 0:
        raise BacktestError(f"scale must be > 0 for scaled sizing, got {scale}")
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    raw = np.sign(s) if sizing == "sign" else np.clip(s / scale, -1.0, 1.0)
    pos = np.where(np.abs(s) > band, raw, 0.0)
    return pos if long_short else np.clip(pos, 0.0, 1.0)


def select_non_overlapping(entry: np.ndarray, exit_: np.ndarray) -> np.ndarray:
    """Mask of the trades taken when trades may not overlap (greedy, earliest first).

    ``entry`` and ``exit_`` are integer session indices with entry strictly increasing
    and exit > entry. Trade 0 is taken; after a taken trade i the next one taken is the
    first j with entry[j] >= exit[i] (a new trade may open at the close where the last
    one closes). With nxt[i] = searchsorted(entry, exit[i]) the taken trades are the
    chain 0, nxt[0], nxt[nxt[0]], ...; it is found by pointer doubling in
    O(n log n) numpy work, with ~log2(n) vectorised steps instead of a loop over trades.
    """
    n = len(entry)
    taken = np.zeros(n + 1, dtype=bool)
    if n == 0:
        return taken[:0]
    jump = np.append(np.searchsorted(entry, exit_, side="left"), n)  # sentinel n -> n
    taken[0] = True
    for _ in range(int(np.ceil(np.log2(n + 1))) + 1):
        taken[jump[taken]] = True
        jump = jump[jump]
    return taken[:n]
