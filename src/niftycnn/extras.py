"""Optional dependencies, imported only where they are used.

Ray (``niftycnn[ray]``: sweeps and searches on a cluster), Optuna (``niftycnn[search]``)
and MLflow (``niftycnn[track]``) are extras: the core package runs without them, and a
command that needs one it cannot import says which extra installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from niftycnn.errors import MissingExtraError

EXTRAS = {"ray": "ray", "optuna": "search", "mlflow": "track"}


def require(module: str, purpose: str) -> ModuleType:
    """``import module``, or a :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        extra = EXTRAS.get(module.partition(".")[0], module)
        raise MissingExtraError(
            f"{purpose} needs {module}, which is not installed; install the extra: "
            f"pip install 'niftycnn[{extra}]'"
        ) from None
