"""Filter analysis: do learned first-layer filters look like momentum or curvature kernels?

``analyze_filters(weights, model_index, channel_names, windows=...)`` -> ``FilterAnalysis``
(tidy tables), ``verdict(analysis, channel)`` -> headline sentence, ``figures`` for plots.

End to end on a run::

    weights, index = stack_folds({f: np.load(run / f"fold_{f}/first_layer.npy") for f in folds})
    analysis = analyze_filters(weights, index, dataset.features, windows=test_X,
                               trained_null=shuffled_label_first_layers)  # optional
    print(verdict(analysis, "price"))   # price = taps summed over open/high/low/close
    write_tables(analysis, run / "filters")
"""

from niftycnn.filters.analysis import (
    FilterAnalysis,
    analyze_filters,
    stack_folds,
    verdict,
    write_tables,
)

__all__ = ["FilterAnalysis", "analyze_filters", "stack_folds", "verdict", "write_tables"]
