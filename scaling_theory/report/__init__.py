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
