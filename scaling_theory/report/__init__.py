"""``scaling-theory report``: a user's evaluation logs → one static HTML page (PNG + CSV) and ``report.json``.

The report holds no model logic: every number comes from the library (``passk`` estimators and
predictors, ``passk.backtest``, ``saturation.report``, and ``allocation`` when that area is present).

* ``analysis`` — :func:`analyse`: the report's numbers as a JSON-able dict (one concern: calling the library);
* ``allocation`` — :func:`allocation_section`: the adapter to the allocation area (optional);
* ``figures`` — the figures (``plotting.figure`` / ``save_figure``: PNG + PDF + the plotted data as CSV);
* ``html`` — the page (inline CSS, no external assets);
* ``build`` — :func:`write_report`: read the logs, analyse, draw, write atomically (temporary folder + rename);
* ``cli`` — the command.
"""

from __future__ import annotations

from scaling_theory._lazy import attach

_SUBMODULES = ("analysis", "allocation", "figures", "html", "build")
# name -> module of this package; everything is imported on first use (PEP 562), so that importing the
# package (or its ``cli``) stays light: ``scaling-theory --help`` must not import JAX.
_EXPORTS: dict[str, str] = {
    "analyse": "analysis",
    "write_report": "build",
    "read_logs": "build",
}

__all__ = [*_SUBMODULES, *_EXPORTS]


__getattr__, __dir__ = attach(__name__, _EXPORTS, _SUBMODULES)
