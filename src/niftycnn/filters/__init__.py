"""Filter analysis: do learned first-layer filters look like momentum or curvature kernels?

``analyze_filters(weights, model_index, channel_names, windows=...)`` -> ``FilterAnalysis``
(tidy tables), ``verdict(analysis, channel)`` -> headline sentence, ``figures`` for plots.
"""

from niftycnn.filters.analysis import FilterAnalysis, analyze_filters, verdict

__all__ = ["FilterAnalysis", "analyze_filters", "verdict"]
