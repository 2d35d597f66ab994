"""One exception hierarchy for the whole toolkit: one class per stage.

Every message says what was wrong and what to do about it, on one line; the CLI prints
``error: <message>`` and exits with status 2, without a traceback.
"""


class NiftyCNNError(Exception):
    """Base class of every error niftycnn raises on purpose."""


class ConfigError(NiftyCNNError):
    """An experiment file is invalid (names the key and the allowed values)."""


class DataSourceError(NiftyCNNError):
    """A data source (Yahoo, a CSV file, the cache) could not deliver data."""


class DataValidationError(NiftyCNNError):
    """Data was delivered but is unusable (missing columns, bad prices, ...)."""


class CacheError(NiftyCNNError):
    """The on-disk cache is missing, unreadable or inconsistent."""


class CalendarError(NiftyCNNError):
    """Trading sessions or expiries were asked for outside what is known."""


class LabelError(NiftyCNNError):
    """Windows or labels cannot be built as asked (too little data, bad thresholds)."""


class SpecError(NiftyCNNError):
    """An architecture spec is invalid (names the layer index and the bad value)."""


class SplitError(NiftyCNNError):
    """A walk-forward scheme yields no usable fold."""


class TrainingError(NiftyCNNError):
    """Networks or baselines cannot be trained as asked (device, engine, inputs)."""


class BacktestError(NiftyCNNError):
    """Predictions cannot be backtested or scored (missing columns, misaligned dates)."""


class FilterAnalysisError(NiftyCNNError):
    """The filter analysis cannot run on the weights or windows it was given."""


class RunDirError(NiftyCNNError):
    """A run directory is missing, incomplete or from an incompatible run."""


class UnsafeFileError(RunDirError):
    """A run file holds Python objects (a pickle) where niftycnn writes plain arrays or
    tensors: it is refused, never loaded, since loading it could run code."""


class SegmentationError(NiftyCNNError):
    """Per-day labels or a per-step network cannot be built, trained or scored as asked."""


class MissingExtraError(NiftyCNNError):
    """An optional dependency (Ray, Optuna, MLflow) is not installed; names the extra."""


class EngineError(NiftyCNNError):
    """Tasks of a sweep or search could not run on their engine (Ray), or failed after
    their retry; the finished ones are kept and the run can be resumed."""
