"""Logged-data tables (counts, attempts, curve) from CSV, JSONL or parquet, validated.

Tables (see DESIGN.md):

* counts   — ``problem, n, k`` (+ grouping columns): k successes out of n attempts per problem;
* attempts — ``problem, attempt, correct`` (0/1) [+ ``score``] (+ grouping columns);
* curve    — x columns and one y column, for scaling-law fits.

Every reader reports bad input as one :class:`~scaling_theory.errors.InputError` line naming the
file, the row (1-based over data rows; CSV also gives the line) and the column. Writers are atomic
(temporary file + rename), so an interrupted or failed command never leaves a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from scaling_theory.distributed import is_main_process
from scaling_theory.errors import InputError

COUNTS_COLUMNS = ("problem", "n", "k")
ATTEMPTS_COLUMNS = ("problem", "attempt", "correct")
# Accepted spellings of the problem column in public logs (renamed to ``problem`` on read).
PROBLEM_ALIASES = ("problem_idx", "problem_id", "prompt_id", "question_id", "task_id")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
COMPRESSION = (".gz", ".bz2", ".xz")  # CSV / JSONL may be compressed


# --------------------------------------------------------------------------------------- reading


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, JSONL or parquet file into a DataFrame, with one-line errors. Rows keep file order."""
    p = Path(path)
    suffixes = [s.lower() for s in p.suffixes[-2:]]
    compressed = bool(suffixes) and suffixes[-1] in COMPRESSION
    kind = SUFFIXES.get(suffixes[0] if compressed and len(suffixes) == 2 else p.suffix.lower())
    if kind is None or (compressed and kind == "parquet"):
        raise InputError(f"{p}: unsupported file type '{''.join(p.suffixes[-2:])}' (use .csv, .jsonl or .parquet)")
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    try:
        if kind == "csv":
            df = pd.read_csv(p, skipinitialspace=True)
        elif kind == "jsonl":
            df = _read_jsonl(p)
        else:
            df = pd.read_parquet(p)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: the file is empty") from None
    except Exception as exc:  # parser errors, bad encodings, corrupt parquet (pyarrow's own types)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{p}: cannot read {kind} file: {first}") from None
    if len(df) == 0:
        raise InputError(f"{p}: no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["source"] = str(p)
    df.attrs["kind"] = kind
    return df.reset_index(drop=True)


def _read_jsonl(p: Path) -> pd.DataFrame:
    import gzip
    import bz2
    import lzma

    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(p.suffix.lower(), open)
    records = []
    with opener(p, "rt", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}: line {lineno}: invalid JSON ({exc.msg})") from None
            if not isinstance(obj, dict):
                raise InputError(f"{p}: line {lineno}: expected a JSON object, got {type(obj).__name__}")
            records.append(obj)
    if not records:
        raise InputError(f"{p}: the file is empty")
    return pd.DataFrame.from_records(records)


def _where(df: pd.DataFrame, i: int) -> str:
    """'row R' (1-based data row) plus the file line for CSV."""
    src = df.attrs.get("source", "<table>")
    line = f" (line {i + 2})" if df.attrs.get("kind") == "csv" else ""
    return f"{src}: row {i + 1}{line}"


def _src(df: pd.DataFrame) -> str:
    return df.attrs.get("source", "<table>")


def require_columns(df: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise unless every column is present (names the first missing one and lists what exists)."""
    for c in columns:
        if c not in df.columns:
            found = ", ".join(map(str, df.columns))
            raise InputError(f"{_src(df)}: missing column '{c}' (found: {found})")


def numeric_column(
    df: pd.DataFrame,
    col: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    positive: bool = False,
) -> np.ndarray:
    """Column ``col`` as a float64 (or int64) array, validated row by row.

    Errors name the first offending row: missing value, not a number, not finite, not an integer,
    below ``minimum``, or not > 0 when ``positive`` (e.g. where a logarithm is taken).
    """
    require_columns(df, [col])
    raw = df[col]
    if raw.dtype == bool:
        raw = raw.astype(np.int64)
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.argmax(bad))
        orig = raw.iloc[i]
        if orig is None or (isinstance(orig, float) and math.isnan(orig)) or (isinstance(orig, str) and not orig.strip()):
            what = "missing value"
        elif np.isnan(vals[i]):
            what = f"{_show(orig)} is not a number"
        else:
            what = f"{_show(orig)} is not finite"
        raise InputError(f"{_where(df, i)}, column '{col}': {what}")
    if integer:
        frac = vals != np.round(vals)
        if frac.any():
            i = int(np.argmax(frac))
            raise InputError(f"{_where(df, i)}, column '{col}': {_show(raw.iloc[i])} is not an integer")
    if minimum is not None:
        low = vals < minimum
        if low.any():
            i = int(np.argmax(low))
            raise InputError(f"{_where(df, i)}, column '{col}': {_num(vals[i])} is below the minimum {_num(minimum)}")
    if positive:
        nonpos = vals <= 0
        if nonpos.any():
            i = int(np.argmax(nonpos))
            raise InputError(f"{_where(df, i)}, column '{col}': {_num(vals[i])} is not positive")
    return vals.astype(np.int64) if integer else vals


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _show(v: Any) -> str:
    """A cell value as the user wrote it: strings quoted, numbers plain."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, float):
        return _num(v)
    return str(v)


def _rename_problem(df: pd.DataFrame) -> pd.DataFrame:
    if "problem" in df.columns:
        return df
    for alias in PROBLEM_ALIASES:
        if alias in df.columns:
            return df.rename(columns={alias: "problem"})
    return df


def check_groups(df: pd.DataFrame, group_by: Sequence[str]) -> None:
    """Raise unless every grouping column is present and has no missing value (names the first row)."""
    require_columns(df, group_by)
    for c in group_by:
        miss = df[c].isna().to_numpy()
        if miss.any():
            raise InputError(f"{_where(df, int(np.argmax(miss)))}, column '{c}': missing value")


def _check_unique(df: pd.DataFrame, keys: Sequence[str], what: str) -> None:
    dup = df.duplicated(list(keys), keep="first").to_numpy()
    if dup.any():
        i = int(np.argmax(dup))
        first = int(np.argmax((df[list(keys)] == df[list(keys)].iloc[i]).all(axis=1).to_numpy()))
        vals = ", ".join(f"{k}={_show(df[k].iloc[i])}" for k in keys)
        # columns whose values differ between the two rows could tell them apart: suggest grouping by them
        known = set(keys) | {"problem", "n", "k", "attempt", "correct", "score", "accepted", "round"}
        differ = [c for c in df.columns if c not in known and _show(df[c].iloc[i]) != _show(df[c].iloc[first])]
        hint = f"; to treat them as separate groups, add --group-by {' '.join(differ)}" if differ else ""
        raise InputError(f"{_where(df, i)}: duplicate {what} ({vals}; first at row {first + 1}){hint}")


def validate_counts(df: pd.DataFrame, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Validate a counts table: integer ``n ≥ 1``, integer ``0 ≤ k ≤ n``, unique problem per group."""
    group_by = list(group_by)
    df = _rename_problem(df)
    require_columns(df, COUNTS_COLUMNS)
    check_groups(df, group_by)
    n = numeric_column(df, "n", integer=True, minimum=1)
    k = numeric_column(df, "k", integer=True, minimum=0)
    over = k > n
    if over.any():
        i = int(np.argmax(over))
        raise InputError(f"{_where(df, i)}, column 'k': k={k[i]} exceeds n={n[i]}")
    check_groups(df, ["problem"])  # a missing problem id
    _check_unique(df, group_by + ["problem"], "problem")
    out = df.copy()
    out["n"], out["k"] = n, k
    return out


def validate_attempts(df: pd.DataFrame, group_by: Sequence[str] = (), score: bool = False) -> pd.DataFrame:
    """Validate an attempts table: ``correct`` ∈ {0, 1}, unique (problem, attempt) per group; ``score`` finite."""
    group_by = list(group_by)
    df = _rename_problem(df)
    require_columns(df, ATTEMPTS_COLUMNS)
    check_groups(df, group_by)
    correct = df["correct"]
    if correct.dtype == object:  # accept true/false spelled out
        lowered = correct.astype(str).str.strip().str.lower()
        correct = lowered.map({"true": 1, "false": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}).where(
            lowered.isin(["true", "false", "1", "0", "1.0", "0.0"]), df["correct"]
        )
        df = df.assign(correct=correct)
    c = numeric_column(df, "correct")
    bad = (c != 0) & (c != 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"{_where(df, i)}, column 'correct': {_show(df['correct'].iloc[i])} is not 0 or 1")
    check_groups(df, ["problem"])  # a missing problem id
    attempt = numeric_column(df, "attempt", integer=True, minimum=0)
    _check_unique(df, group_by + ["problem", "attempt"], "attempt")
    out = df.copy()
    out["correct"] = c.astype(np.int64)
    out["attempt"] = attempt
    if score or "score" in df.columns:
        out["score"] = numeric_column(df, "score")
    return out


def aggregate_attempts(attempts: pd.DataFrame, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Attempts → counts: ``n`` = number of attempts, ``k`` = number correct, per (group, problem)."""
    keys = list(group_by) + ["problem"]
    g = attempts.groupby(keys, sort=False, dropna=False)["correct"]
    counts = g.agg(n="size", k="sum").reset_index()
    counts["n"] = counts["n"].astype(np.int64)
    counts["k"] = counts["k"].astype(np.int64)
    counts.attrs.update(attempts.attrs)
    return counts


def is_attempts_table(df: pd.DataFrame) -> bool:
    """True when ``df`` looks like an attempts table (has ``correct`` and lacks ``n``/``k``)."""
    return "correct" in df.columns and not {"n", "k"} <= set(df.columns)


def read_counts(path: str | os.PathLike, group_by: Sequence[str] = ()) -> pd.DataFrame:
    """Read a counts table, or an attempts table aggregated to counts, validated."""
    df = read_table(path)
    if is_attempts_table(df):
        return aggregate_attempts(validate_attempts(df, group_by), group_by)
    return validate_counts(df, group_by)


def read_attempts(path: str | os.PathLike, group_by: Sequence[str] = (), score: bool = False) -> pd.DataFrame:
    """Read and validate an attempts table (``score`` required when ``score=True``)."""
    return validate_attempts(read_table(path), group_by, score=score)


def read_curve(
    path: str | os.PathLike,
    columns: Sequence[str],
    *,
    positive: Sequence[str] = (),
    group_by: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a curve table: every column in ``columns`` numeric and finite, those in ``positive`` > 0."""
    df = read_table(path)
    require_columns(df, list(columns) + list(group_by))
    check_groups(df, group_by)
    out = df.copy()
    for c in columns:
        out[c] = numeric_column(df, c, positive=c in positive)
    return out


def data_path(name: str) -> Path:
    """Path of a data file shipped with the project (``data/`` in the checkout, else ``../shared/data``).

    ``SCALING_THEORY_DATA`` overrides the folder. ``name`` may omit a ``.gz`` suffix.
    """
    root = Path(__file__).resolve().parents[1]
    folders = [Path(os.environ["SCALING_THEORY_DATA"])] if os.environ.get("SCALING_THEORY_DATA") else []
    folders += [root / "data", root.parent / "shared" / "data"]
    for folder in folders:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise InputError(f"data file {name!r} not found in {', '.join(map(str, folders))}")


# -------------------------------------------------------------------------------------- grouping


def split_groups(df: pd.DataFrame, group_by: Sequence[str] = ()) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """``[(group_dict, sub_table), ...]`` in order of first appearance; ``[({}, df)]`` without grouping."""
    group_by = list(group_by)
    if not group_by:
        return [({}, df)]
    out = []
    for key, sub in df.groupby(group_by, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        group = {c: jsonable(v) for c, v in zip(group_by, key)}
        sub = sub.reset_index(drop=True)
        sub.attrs.update(df.attrs)
        out.append((group, sub))
    return out


def jsonable(v: Any) -> Any:
    """Convert numpy / pandas scalars and arrays to plain Python for ``json.dumps``; NaN/inf → None."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()]
    if hasattr(v, "shape") and getattr(v, "shape", None) == () and hasattr(v, "item"):
        v = v.item()  # numpy / JAX scalars
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


# --------------------------------------------------------------------------------------- writing


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    In a multi-process run only process 0 writes (the others return the path without writing)."""
    p = Path(path)
    if not is_main_process():
        return p
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(jsonable(obj), indent=2) + "\n")


def write_csv_atomic(path: str | os.PathLike, df: pd.DataFrame | Sequence[dict]) -> Path:
    frame = df if isinstance(df, pd.DataFrame) else pd.DataFrame(list(df))
    return write_text_atomic(path, frame.to_csv(index=False))
