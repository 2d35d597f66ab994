"""Filter analysis: do learned first-layer filters look like momentum or curvature kernels?

Reads the first-layer weights of every fold (``folds/fold_XXXX/first_layer.npy``) and the
test windows; gives tidy tables and a verdict, which the workflow writes under
``filters/``. ``analyze_filters(weights, model_index, channel_names, windows=...)`` ->
``FilterAnalysis``; ``verdict(analysis, channel)`` -> headline sentence; ``figures`` for
plots. Modules: ``analysis`` (composes the statistics, writes the tables), ``tables``
(summaries, stacking the folds), ``verdict``; the statistics are in ``similarity``
(weights), ``functional`` (outputs), ``null`` (tests) and ``stability`` (matching).

End to end on a run::

    weights, index = stack_folds({f.index: np.load(f.first_layer()) for f in layout.folds()})
    analysis = analyze_filters(weights, index, dataset.features, windows=test_X,
                               trained_null=shuffled_label_first_layers)  # optional
    print(verdict(analysis, "price"))   # price = taps summed over open/high/low/close
    write_tables(analysis, layout.filters_dir)
"""

from niftycnn.filters.analysis import FilterAnalysis, analyze_filters, write_tables
from niftycnn.filters.tables import stack_folds
from niftycnn.filters.verdict import verdict

__all__ = ["FilterAnalysis", "analyze_filters", "stack_folds", "verdict", "write_tables"]
