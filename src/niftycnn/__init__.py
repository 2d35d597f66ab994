"""niftycnn: convolutional networks on daily financial time series, NIFTY 50 first.

Pipeline stages are subpackages: ``data`` -> ``windows`` -> ``models`` ->
``walkforward`` -> ``backtest`` -> ``filters`` -> ``report``, wired by ``workflow``.
The contracts between them have one home each: ``config`` (the stage tables), ``schema``
(the predictions table and the label vocabulary), ``rundir`` (every artefact path).

The notebook API (``niftycnn.api``) is importable from here: ``load_experiment``,
``run``, ``resume``, ``sweep``, ``search``, ``open_run``, ``Run`` and ``Engine``.
"""

from typing import Any

__version__ = "0.1.0"
_API = ("Engine", "Run", "load_experiment", "open_run", "resume", "run", "search", "sweep")


def __getattr__(name: str) -> Any:
    """The API names, imported on first use (``import niftycnn`` stays light)."""
    if name in _API:
        from niftycnn import api

        return getattr(api, name)
    raise AttributeError(f"module 'niftycnn' has no attribute {name!r}")
