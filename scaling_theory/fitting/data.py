"""Curve tables for fitting: map table columns to a law's x variables, validate, split into groups.

Numbers written with a magnitude suffix, as logs often store model sizes ("70M", "2.8B", "1.5T"),
are read as numbers (k/K = 10³, M = 10⁶, B/G = 10⁹, T = 10¹²). Every problem is one
:class:`~scaling_theory.errors.InputError` naming the file, row and column (via
:func:`scaling_theory.io.numeric_column`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from scaling_theory import io
from scaling_theory.errors import InputError
from scaling_theory.fitting.laws import Law

SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
_SUFFIXED = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKMBGT])\s*$")


def parse_x_specs(specs: Sequence[str], law: Law) -> dict[str, str]:
    """``["N=params", "D=tokens"]`` → ``{"N": "params", "D": "tokens"}``, checked against the law.

    A law with a single x variable also accepts a bare column name.
    """
    mapping: dict[str, str] = {}
    for spec in specs:
        if "=" in spec:
            name, _, column = spec.partition("=")
            name, column = name.strip(), column.strip()
        elif len(law.xs) == 1:
            name, column = law.xs[0], spec.strip()
        else:
            raise InputError(f"--x {spec!r}: expected NAME=COLUMN with NAME one of {', '.join(law.xs)}")
        if name not in law.xs:
            raise InputError(f"--x {spec!r}: law {law.name!r} has no x variable {name!r} (it uses {', '.join(law.xs)})")
        if not column:
            raise InputError(f"--x {spec!r}: empty column name")
        if name in mapping:
            raise InputError(f"--x {spec!r}: x variable {name!r} given twice")
        mapping[name] = column
    missing = [n for n in law.xs if n not in mapping]
    if missing:
        raise InputError(f"law {law.name!r} needs --x {missing[0]}=COLUMN (it uses {', '.join(law.xs)})")
    return mapping


def parse_suffixed(values: pd.Series) -> pd.Series:
    """Strings like ``"2.8B"`` → 2.8e9; returns ``values`` unchanged unless every non-missing entry
    is a plain or suffixed number."""
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return values
    present = values.dropna().astype(str)
    if present.empty:
        return values
    out = pd.to_numeric(present, errors="coerce")
    matches = present.str.extract(_SUFFIXED)
    suffixed = matches[0].notna()
    if not (out.notna() | suffixed).all():
        return values
    converted = out.where(~suffixed, matches[0].astype(float) * matches[1].map(SUFFIXES))
    return values.where(values.isna(), converted.reindex(values.index)).astype(float)


def load_curve(
    path: str | os.PathLike,
    law: Law,
    x_columns: dict[str, str],
    y_column: str,
    *,
    space: str = "log",
    group_by: Sequence[str] = (),
    weights: str | None = None,
    extra: Sequence[str] = (),
) -> list[tuple]:
    """``[(group, x, y), …]`` from a curve table: x by law variable name, y; validated per column.

    Columns the law takes a logarithm of (named laws: every x; y with log residuals) must be > 0.
    With ``weights`` (a column of non-negative row weights) or ``extra`` (columns passed through
    as they are, e.g. the run of each row), each entry is ``(group, x, y, info)`` with
    ``info["w"]`` (ones without ``weights``) and ``info[column]`` for each extra column.
    """
    group_by = list(group_by)
    extra = [c for c in extra if c]
    df = io.read_table(path)
    columns = list(dict.fromkeys(list(x_columns.values()) + [y_column] + ([weights] if weights else [])))
    io.require_columns(df, columns + group_by + extra)
    io.check_groups(df, group_by)
    for c in columns:
        df[c] = parse_suffixed(df[c])
    positive = {x_columns[n] for n in law.positive_x}
    if space == "log":
        positive.add(y_column)
    values = {
        c: io.numeric_column(df, c, positive=c in positive, minimum=0.0 if c == weights and c not in positive else None)
        for c in columns
    }
    table = pd.DataFrame(values)
    for g in dict.fromkeys(group_by + extra):
        if g not in table:
            table[g] = df[g].to_numpy()
    table.attrs.update(df.attrs)
    out: list[tuple] = []
    for group, sub in io.split_groups(table, group_by):
        x = {name: sub[col].to_numpy(np.float64) for name, col in x_columns.items()}
        y = sub[y_column].to_numpy(np.float64)
        if weights or extra:
            info = {"w": sub[weights].to_numpy(np.float64) if weights else np.ones_like(y)}
            info.update({c: sub[c].to_numpy() for c in extra})
            out.append((group, x, y, info))
        else:
            out.append((group, x, y))
    return out
