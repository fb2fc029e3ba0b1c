"""Read the logs, analyse, draw, and write the report folder atomically (temporary folder, then rename).

:func:`write_report` is what ``scaling-theory report`` runs; :func:`read_logs` reads and merges the
input files (each in any of ``io.LOG_FORMATS``).
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.io import (
    describe_counts,
    read_counts,
    validate_counts,
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)
from scaling_theory.report.html import Figure, Table, render

TITLE = "Inference-time scaling report"


def read_logs(
    files: Sequence[str | os.PathLike], group_by: Sequence[str] = (), format: str = "auto"
) -> tuple[pd.DataFrame, list[str]]:
    """Read every file as counts (``io.read_counts``) and stack them; with several files a ``file`` column
    (the file name) tells them apart (``--group-by file``). Returns the counts and one line per file."""
    if not files:
        raise InputError("no input file")
    parts, lines = [], []
    many = len(files) > 1
    for f in files:
        # each file validated alone, except for grouping columns that only the union has (e.g. `file`)
        own = [c for c in group_by if not (many and c == "file")]
        c = read_counts(f, own, format=format)
        lines.append(describe_counts(c, own))
        if many:
            c = c.assign(file=Path(f).name)
        parts.append(c)
    counts = pd.concat(parts, ignore_index=True) if many else parts[0]
    counts.attrs.update(source=", ".join(map(str, files)), kind=None)
    return (validate_counts(counts, group_by) if many else counts), lines


def write_report(
    files: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    group_by: Sequence[str] = (),
    budgets: Sequence[float] | None = None,
    format: str = "auto",
    eps: float = 1e-4,
    seed: int = 0,
    progress: bool = True,
    command: str | None = None,
) -> dict[str, Any]:
    """Write ``out/index.html`` (+ PNG, PDF, CSV) and ``out/report.json`` for the logs in ``files``.

    Args:
      files: log files (``io.LOG_FORMATS``); several are stacked with a ``file`` column.
      out: the report folder; replaced atomically (built in a temporary sibling folder, then renamed).
      group_by: grouping columns (e.g. ``model``).
      budgets: target budgets N of the extrapolation (default 10× and 100× the largest n).
      format: the log format (``auto`` recognises it).
      eps: the saturation threshold (gain of one more attempt per problem).
      seed: seed of the bootstraps and the back-test.
      progress: show a progress bar (stderr).
      command: the command line, printed in the page.
    Returns:
      The report dict (what ``report.json`` holds).
    """
    from tqdm.auto import tqdm

    from scaling_theory.report import figures
    from scaling_theory.report.analysis import analyse

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder")
    if eps <= 0 or eps != eps:
        raise InputError(f"--eps must be > 0, got {eps:g}")
    group_by = list(group_by)
    bar = tqdm(total=9, desc="report", unit="step", disable=not progress, leave=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        bar.set_postfix_str("reading logs")
        counts, lines = read_logs(files, group_by, format)
        bar.update(1)

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        report = analyse(counts, group_by, budgets, eps=eps, seed=seed, step=step)
        report["inputs"] = [{"file": str(f), "read": line} for f, line in zip(files, lines)]
        report["command"] = command
        step("figures")
        names = [fig(report, tmp) for fig in figures.ALL]
        tables = _tables(report)
        for t in tables:
            rows = t.csv_rows if t.csv_rows is not None else t.rows
            write_csv_atomic(tmp / f"{t.name}.csv", rows if rows else [{c: None for c in t.columns}])
        report["figures"] = [f"{n}.png" for n in names]
        report["tables"] = [f"{t.name}.csv" for t in tables]
        write_json_atomic(tmp / "report.json", report)
        widths = {n: _display_width(tmp / f"{n}.png") for n in names}
        write_text_atomic(tmp / "index.html", _page(report, {t.name: t for t in tables}, widths))
        step("writing")
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    return report


def _display_width(png: Path, dpi: int = 200, css_px_per_inch: int = 115) -> int:
    """CSS width of a PNG saved at ``dpi``: its size in inches at ``css_px_per_inch`` (the PNG header's width)."""
    import struct

    with open(png, "rb") as fh:
        head = fh.read(24)
    return int(round(struct.unpack(">I", head[16:20])[0] / dpi * css_px_per_inch))


def _replace(tmp: Path, out: Path) -> None:
    """Put the finished folder at ``out``: rename the old one aside, rename the new one in, delete the old."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old.{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------ tables


def _ci(value: float | None, lower: float | None, upper: float | None) -> str:
    """'0.9358 [0.9088, 0.9552]'; a missing number (not finite in the library's result) shows as '–'."""

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.4f}"

    return f"{f(value)} [{f(lower)}, {f(upper)}]"


def _ordered(report: dict, rows: list[dict]) -> list[dict]:
    from scaling_theory.report.analysis import group_rows

    by_label = {g["label"]: g["group"] for g in report["groups"]}
    return [r for lab in report["order"] for r in group_rows(rows, by_label[lab])]


def _tables(report: dict) -> list[Table]:
    gb = report["group_by"]
    level = int(round(100 * report["level"]))
    glance = Table(
        "glance",
        "Data at a glance",
        gb
        + [
            "problems",
            "n_min",
            "n_median",
            "n_max",
            "attempts",
            "successes",
            "pass_at_1",
            "coverage_at_n",
            "never_solved",
            "always_solved",
        ],
        _ordered(report, report["glance"]),
        "Per group: problems, attempts per problem (min / median / max), pass@1 (mean per-problem k/n), the "
        "fraction of problems solved at least once in the logged attempts (coverage at n), never solved (k = 0) "
        "and always solved (k = n).",
    )
    # pass@k at the decades k = 1, 10, 100, … ≤ n (wide: one column per k)
    wide = []
    for r in _ordered(report, report["glance"]):
        grp = {c: r[c] for c in gb}
        row = dict(grp)
        from scaling_theory.report.analysis import group_rows

        for p in group_rows(report["passk"], grp):
            if p["k"] in (1, 10, 100, 1000, 10000, 100000) or p["k"] == r["n_min"]:
                row[f"pass@{p['k']}"] = _ci(p["pass_at_k"], p["lower"], p["upper"])
        wide.append(row)
    kcols = sorted({c for r in wide for c in r if c.startswith("pass@")}, key=lambda c: int(c[5:]))
    passk = Table(
        "passk_table",
        f"pass@k within the data (unbiased estimator, {level}% bootstrap interval over problems)",
        gb + kcols,
        wide,
        "Chen et al.'s unbiased estimator of pass@k for k ≤ n; the interval resamples "
        "problems (200 bootstrap replicates). Every k of the curve: <a href='passk.csv'>passk.csv</a>.",
    )
    ext_rows = _ordered(report, report["extrapolation"]["rows"])
    shown, seen = [], {}
    for r in ext_rows:  # one row per group, one column per budget: "pass@N [lower, upper]"
        key = tuple(r.get(c) for c in gb)
        if key not in seen:
            seen[key] = {
                **{c: r.get(c) for c in gb},
                "method": r.get("method"),
                "alpha": r.get("alpha"),
                "beta": r.get("beta"),
                "note": r.get("note"),
            }
            shown.append(seen[key])
        if "pass_at_budget" in r:
            seen[key][f"pass@{r['budget']:,}"] = _ci(r["pass_at_budget"], r["lower"], r["upper"])
    bcols = [f"pass@{b:,}" for b in report["budgets"]]
    ext = Table(
        "extrapolation",
        f"Extrapolation to the requested budgets ({level}% intervals)",
        gb + ["method", "alpha", "beta"] + bcols + (["note"] if any(r.get("note") for r in shown) else []),
        shown,
        "pass@N predicted at each budget N with its interval; alpha, beta: the fitted Beta law of per-problem "
        "success rates (the tail exponent alpha: 1 − pass@N falls like N^−alpha).",
        csv_rows=ext_rows,
    )
    details = report["extrapolation"]["details"]
    dcols = gb + sorted({c for r in details for c in r if c not in gb})
    det = Table(
        "method_details",
        "Diagnostics carried by the prediction",
        dcols,
        _ordered(report, details),
        "Every diagnostic field the library's prediction returns, per group.",
    )
    bt = report["backtest"]
    btt = Table(
        "backtest",
        "Back-test of the extrapolation on these logs",
        gb + ["method", "observe", "budget", "truth", "prediction", "error", "coverage", "width"],
        _ordered(report, bt.get("rows", [])),
        bt.get("note", ""),
    )
    sat_rows = _ordered(report, report["saturation"])
    sat = Table(
        "saturation",
        f"Saturation points (ε = {report['eps']:g})",
        gb
        + [
            "n_star_homogeneous",
            "n_star_aggregate",
            "n_star_observed",
            "n_star_per_question_median",
            "n_star_per_question_p90",
            "hit_at_n_star_aggregate",
        ]
        + (["note"] if any("note" in r for r in sat_rows) else []),
        sat_rows,
        "N* = the first N at which one more attempt per problem adds less than ε to pass@N. homogeneous: every "
        "problem at the mean pass@1; aggregate: the fitted Beta law of per-problem rates; observed: the data's own "
        "unbiased curve (only within N < n; empty when not reached); per question: each problem at its own k/n "
        "(median, 90th percentile). hit_at_n_star_aggregate: pass@N* under the Beta law.",
    )
    tables = [glance, passk, ext, det, btt, sat]
    alloc = report.get("allocation")
    if alloc is not None:
        cols = gb + sorted({c for r in alloc["rows"] for c in r if c not in gb})
        tables.append(
            Table("allocation", "What an extra budget would buy", cols, _ordered(report, alloc["rows"]), alloc["note"])
        )
    return tables


# -------------------------------------------------------------------------------------- page


def _page(report: dict, t: dict[str, Table], widths: dict[str, int]) -> str:
    from scaling_theory import __version__

    e = report["extrapolation"]
    level = int(round(100 * report["level"]))
    n_groups = len(report["groups"])
    inputs = "".join(f"<li><code>{html.escape(i['read'])}</code></li>" for i in report["inputs"])
    cmd = f"<p class='note'>Command: <code>{html.escape(report['command'])}</code></p>" if report.get("command") else ""
    bt = report["backtest"]
    bt_line = (
        f"On these logs, {e['method']} sees {bt['observe']} attempts per problem and predicts pass@{bt['budget']}: "
        f"mean absolute error {bt['mae']:.2f} percentage points over groups (table below)."
        if bt.get("rows")
        else f"Back-test not run: {html.escape(bt.get('note', ''))}."
    )
    budgets = ", ".join(f"{b:,}" for b in report["budgets"])
    sections: list[tuple[str, str, list[Any]]] = [
        (
            "glance",
            "1. The data at a glance",
            [
                f"<p>{n_groups} group{'s' if n_groups != 1 else ''}"
                f"{' by ' + ', '.join(map(html.escape, report['group_by'])) if report['group_by'] else ''}. Inputs:</p><ul>{inputs}</ul>{cmd}",
                t["glance"],
                Figure(
                    "histogram",
                    "Per-problem pass@1",
                    "How hard the problems are for each group: the number of problems "
                    "whose success rate k/n falls in each half-decade bin; the grey bar counts problems never solved in the "
                    "logged attempts (k = 0).",
                ),
            ],
        ),
        (
            "passk",
            "2. pass@k, within the data and beyond",
            [
                Figure(
                    "passk",
                    "pass@k against attempts per problem, all groups",
                    f"Solid: Chen's unbiased pass@k for k up to the "
                    f"logged n, with a {level}% bootstrap band over problems. Markers with error bars: the extrapolation to "
                    f"N = {budgets} with {level}% intervals, from the project's default predictor ({html.escape(e['method'])}).",
                ),
                t["passk_table"],
                f"<div class='why'><b>Extrapolation method: {html.escape(e['method'])}.</b> {html.escape(e['why'])}.<br>{bt_line}</div>",
                t["extrapolation"],
                t["method_details"],
                t["backtest"],
            ],
        ),
        (
            "saturation",
            "3. Where more samples stop paying",
            [
                Figure(
                    "saturation",
                    "Marginal gain of one more attempt per problem",
                    f"The gain pass@(N+1) − pass@N: "
                    f"observed (solid, unbiased, N below the logged n) and under the fitted Beta law (dashed, any N). "
                    f"The dotted line is ε = {report['eps']:g}; markers: the saturation point N* of each group's Beta law.",
                ),
                t["saturation"],
            ],
        ),
        (
            "allocation",
            "4. What an extra budget would buy",
            [
                t["allocation"]
                if "allocation" in t
                else "<p class='placeholder'>This section compares the best way to spend extra attempts across problems with "
                "spending them uniformly. It appears when the allocation area (<code>scaling_theory.allocation</code>) is "
                "installed; this installation does not include it.</p>",
            ],
        ),
        (
            "comparison",
            "5. Comparison across groups",
            [
                Figure(
                    "comparison",
                    "Groups side by side",
                    f"Per group: pass@1, pass@n at the logged number of attempts, and "
                    f"pass@{report['budgets'][-1]:,} predicted ({level}% interval). Groups ordered by pass@1.",
                ),
            ],
        ),
        (
            "files",
            "6. Files",
            [
                "<p>Every figure as PNG and PDF with its plotted numbers as CSV; every table as CSV; all numbers in "
                "<a href='report.json'>report.json</a>.</p><ul>"
                + "".join(f"<li><a href='{f}'>{f}</a></li>" for f in report["figures"] + report["tables"])
                + "</ul>"
                f"<p class='note'>scaling_theory {__version__}; seed {report['seed']}.</p>",
            ],
        ),
    ]
    for _, _, items in sections:
        for it in items:
            if isinstance(it, Figure):
                it.width = widths.get(it.name)
    subtitle = (
        f"{n_groups} group{'s' if n_groups != 1 else ''}, "
        f"{sum(r['problems'] for r in report['glance'])} problem rows, "
        f"{sum(r['attempts'] for r in report['glance']):,} attempts. Built by <code>scaling-theory report</code>."
    )
    return render(TITLE, subtitle, sections)
