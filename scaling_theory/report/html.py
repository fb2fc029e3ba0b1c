"""The report page: static HTML with inline CSS (and a few lines of inline script for "copy"), no external assets.

:func:`render` lays out the sections from the tables and figures already written; numbers are
formatted for reading (4 significant digits) and every table links to its full-precision CSV.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1a1a1a;max-width:1020px;margin:0 auto;padding:24px 28px 60px;line-height:1.45;font-size:15px;background:#fff}
h1{font-size:26px;margin:0 0 4px} h2{font-size:20px;margin:34px 0 8px;padding-top:10px;border-top:1px solid #ddd}
h3{font-size:16px;margin:20px 0 6px}
.sub{color:#555;margin:0 0 14px} .note{color:#555;font-size:13.5px} .why{background:#f4f7fb;border-left:3px solid #0072B2;padding:8px 12px;margin:10px 0}
nav{background:#f7f7f7;border:1px solid #e3e3e3;border-radius:4px;padding:8px 14px;font-size:14px;margin:14px 0}
nav a{margin-right:14px;color:#0b5fa5;text-decoration:none}
figure{margin:12px 0 18px} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:13.5px;color:#444;margin-top:4px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 4px;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e2e2e2;padding:3px 9px;text-align:right;white-space:nowrap}
th{background:#f3f3f3;font-weight:600;border-bottom:2px solid #ccc} td:first-child,th:first-child{text-align:left}
.tbl{overflow-x:auto;margin-bottom:6px} .tools{font-size:12.5px;color:#555;margin-bottom:14px}
.tools a{color:#0b5fa5} button{font-size:12px;padding:1px 8px;margin-right:8px;cursor:pointer}
.kv td{text-align:left} .placeholder{background:#fafafa;border:1px dashed #bbb;padding:10px 14px;color:#555}
code{background:#f3f3f3;padding:0 3px;border-radius:3px;font-size:13px}
"""

SCRIPT = """
function cells(id){var t=document.getElementById(id);var rows=[];
for(var r of t.rows){var c=[];for(var x of r.cells){c.push(x.innerText)};rows.push(c)};return rows}
function put(s){if(navigator.clipboard){navigator.clipboard.writeText(s)}}
function copyTable(id){put(cells(id).map(function(r){return r.join('\\t')}).join('\\n'))}
function tex(s){return s.replace(/([&%$#_{}])/g,'\\\\$1').replace(/\u2013/g,'--')}
function copyLatex(id){var rows=cells(id);var n=rows[0].length;
var out=['\\\\begin{tabular}{l'+'r'.repeat(n-1)+'}','\\\\toprule',rows[0].map(tex).join(' & ')+' \\\\\\\\','\\\\midrule'];
for(var r of rows.slice(1)){out.push(r.map(tex).join(' & ')+' \\\\\\\\')};
out.push('\\\\bottomrule','\\\\end{tabular}');put(out.join('\\n'))}
"""


HEADERS = {
    "pass_at_1": "pass@1",
    "coverage_at_n": "pass@n",
    "never_solved": "never solved",
    "always_solved": "always solved",
    "n_min": "n min",
    "n_median": "n median",
    "n_max": "n max",
    "pass_at_budget": "pass@N",
    "budget": "N",
    "n_star_homogeneous": "N* homogeneous",
    "n_star_aggregate": "N* Beta law",
    "n_star_observed": "N* observed",
    "n_star_per_question_median": "N* per problem, median",
    "n_star_per_question_p90": "N* per problem, p90",
    "hit_at_n_star_aggregate": "pass@N* (Beta law)",
    "observe": "n observed",
    "truth": "truth",
    "width": "width (pp)",
    "error": "error (pp)",
    "se_alpha": "SE alpha",
    "se_beta": "SE beta",
    "at_bound": "at bound",
}


@dataclass
class Table:
    """A table of the report: shown in the page, written as ``<name>.csv`` (full precision)."""

    name: str
    title: str
    columns: Sequence[str]
    rows: list[dict]
    caption: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    csv_rows: list[dict] | None = None  # the CSV's rows when they differ from the page's (long form, full precision)


@dataclass
class Figure:
    """A figure of the report: ``<name>.png`` (+ PDF, CSV) shown at ``width`` CSS pixels (None: natural size)."""

    name: str
    title: str
    caption: str
    width: int | None = None


def fmt(v: Any) -> str:
    """A cell for reading: floats to 4 significant digits, None as an en dash."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:
            return "–"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(t.headers.get(c, HEADERS.get(c, c)))}</th>" for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(r.get(c)))}</td>" for c in t.columns) + "</tr>" for r in t.rows
    )
    cap = f"<p class='note'>{t.caption}</p>" if t.caption else ""
    return (
        f"<h3 id='{t.name}'>{html.escape(t.title)}</h3>{cap}<div class='tbl'><table id='t-{t.name}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div><div class='tools'><button type='button' onclick=\"copyTable('t-{t.name}')\">"
        f"copy as TSV</button><button type='button' onclick=\"copyLatex('t-{t.name}')\">copy as LaTeX</button>"
        f"<a href='{t.name}.csv'>{t.name}.csv</a> (full precision)</div>"
    )


def figure_html(f: Figure) -> str:
    size = f" width='{f.width}'" if f.width else ""
    return (
        f"<figure id='fig-{f.name}'><img src='{f.name}.png'{size} alt='{html.escape(f.title)}'>"
        f"<figcaption><b>{html.escape(f.title)}.</b> {f.caption} "
        f"<a href='{f.name}.pdf'>PDF</a> · <a href='{f.name}.csv'>data (CSV)</a></figcaption></figure>"
    )


def render(title: str, subtitle: str, sections: list[tuple[str, str, list[Any]]]) -> str:
    """The page: ``sections`` is ``[(anchor, heading, [html string | Table | Figure, ...]), ...]``."""
    nav = "".join(f"<a href='#{a}'>{html.escape(h)}</a>" for a, h, _ in sections)
    parts = []
    for anchor, heading, items in sections:
        parts.append(f"<section id='{anchor}'><h2>{html.escape(heading)}</h2>")
        for it in items:
            parts.append(table_html(it) if isinstance(it, Table) else figure_html(it) if isinstance(it, Figure) else it)
        parts.append("</section>")
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style><script>{SCRIPT}</script></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='sub'>{subtitle}</p><nav>{nav}</nav>{''.join(parts)}"
        f"<section id='end'></section></body></html>\n"
    )
