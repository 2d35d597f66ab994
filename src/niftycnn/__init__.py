"""niftycnn: 1D convolutional networks on daily index data, NIFTY 50 first.

Pipeline stages are subpackages: ``data`` -> ``windows`` -> ``models`` ->
``walkforward`` -> ``backtest`` -> ``filters`` -> ``report``.
"""

__version__ = "0.1.0"
