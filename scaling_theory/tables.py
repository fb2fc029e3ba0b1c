"""Plain-text tables for the command line and experiment logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np


def _fmt(v: Any, digits: int) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.{digits}g}"
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v)


def format_table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None, digits: int = 4) -> str:
    """Render ``rows`` (dicts) as an aligned text table; floats keep ``digits`` significant digits."""
    rows = list(rows)
    if not rows:
        return "(no rows)"
    cols = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_fmt(r.get(c), digits) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    right = [all(_is_number(row[i]) for row in cells) for i in range(len(cols))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right)).rstrip()

    out = [line(cols), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return s in ("-", "nan", "inf", "-inf")
    return True
