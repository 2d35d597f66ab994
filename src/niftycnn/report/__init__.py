"""Report stage: ``report.html`` and ``report.md`` rendered from a run directory.

Reads only the run directory's files (``niftycnn.rundir.RunLayout``), so a finished run
re-renders byte for byte without retraining; writes ``report.html``, ``report.md`` and
``figures/*.png`` there.
"""

from niftycnn.report.build import render_report

__all__ = ["render_report"]
