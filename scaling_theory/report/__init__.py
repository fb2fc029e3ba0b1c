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

import importlib
from typing import Any

_SUBMODULES = ("analysis", "allocation", "figures", "html", "build")
# name -> module of this package; everything is imported on first use (PEP 562), so that importing the
# package (or its ``cli``) stays light: ``scaling-theory --help`` must not import JAX.
_EXPORTS: dict[str, str] = {
    "analyse": "analysis",
    "write_report": "build",
    "read_logs": "build",
}

__all__ = [*_SUBMODULES, *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
