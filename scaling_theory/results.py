"""The one kind of result container every area returns (docs/CONTRIBUTING.md, "The library contract").

A result is a frozen dataclass deriving from :class:`Result`. Its array fields are NumPy (float64 for real
values), never JAX arrays, and :meth:`Result.rows` / :meth:`Result.to_frame` turn it into tidy rows by one rule:

1. **Row fields.** The fields named in the class variable ``_row_fields``, or every field when a class does not
   declare it. A dict field gives one column per key, named ``<field>_<key>``; values that are neither scalars,
   ``None`` nor arrays (lists, models) are left out (named explicitly in ``_row_fields``, they are an error).
2. **Row shape.** Every array row field is broadcast to one row shape, the broadcast of all their shapes:
   NumPy rules (trailing axes aligned), except for the fields listed in ``_axes``, which name their axes among
   ``_index`` (e.g. ``{"spend": ("group", "budget")}`` under ``_index = ("group", "budget", "problem")``) and are
   broadcast along the missing ones. Scalars (numbers, strings, bools, ``None``, 0-d arrays) go to every row,
   so a result's columns do not depend on which optional outputs it holds. Rows
   enumerate the row shape in C order (the last axis fastest): a (G, B) row shape gives G·B rows, group-major;
   a result without array row fields gives one row.
3. **Index columns.** ``_index`` names the axes of the row shape (as many names as it has axes). An axis named
   like a row field is labelled by that 1-D field's values; any other axis name gets the integer position along
   it (0-based). Index columns come first, then the other row fields in the order of ``_row_fields`` (by
   default, the fields' declaration order).
4. **Names.** ``_columns`` renames output columns (``{"budgets": "budget"}``).

A class whose fields cannot follow the rule (nested tables, per-key layouts) overrides :meth:`Result.rows`;
:meth:`Result.to_frame` always builds on :meth:`Result.rows`. Row values are plain Python
``int``/``float``/``bool``/``str``/``None``, so rows serialise to JSON as they are. pandas is imported only
inside :meth:`Result.to_frame` (nothing heavy at import).

JAX arrays given to a result's constructor (also inside dict fields) are converted to NumPy by
``Result.__post_init__`` (dtype kept: float64 stays float64), so no JAX array leaves a public function inside a
result. A subclass that defines its own ``__post_init__`` calls ``super().__post_init__()``. Results are plain
dataclasses, not JAX pytrees: they are built outside ``jit``/``vmap``/``lax.scan`` from a traced core's outputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_SCALARS = (str, bool, int, float, complex, np.generic)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, np.generic)


def to_python(value: Any) -> Any:
    """A plain Python scalar from a NumPy/JAX scalar or 0-d array (Python scalars and None unchanged).

    Args:
      value: a scalar, a 0-d array or None.
    Returns:
      ``int``, ``float``, ``bool``, ``complex``, ``str`` or ``None``.
    """
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return np.asarray(value).item()


def as_numpy(value: Any) -> Any:
    """A JAX array as NumPy (``np.asarray``, dtype kept: float64 stays float64); other values unchanged.

    Args:
      value: a JAX or NumPy array, a scalar, a dict of those (converted item by item), or anything else.
    Returns:
      ``value`` itself when nothing needed converting, else the converted array or a new dict.
    """
    if isinstance(value, dict):
        new = {k: as_numpy(v) for k, v in value.items()}
        return value if all(new[k] is value[k] for k in value) else new
    if _is_array(value) and not isinstance(value, np.ndarray):
        return np.asarray(value)
    return value


@dataclass(frozen=True)
class Result:
    """Base of the frozen result dataclasses of every area: :meth:`rows` and :meth:`to_frame` (module doc)."""

    _row_fields: ClassVar[tuple[str, ...] | None] = None
    _index: ClassVar[tuple[str, ...]] = ()
    _axes: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    _columns: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            converted = as_numpy(value)
            if converted is not value:
                object.__setattr__(self, f.name, converted)

    def _row_items(self) -> list[tuple[str, str, Any]]:
        """(field, column, value) of the row fields in ``_row_fields`` order (dicts expanded)."""
        explicit = self._row_fields is not None
        names = self._row_fields if explicit else tuple(f.name for f in dataclasses.fields(self))
        out: list[tuple[str, str, Any]] = []
        for name in names or ():
            value = getattr(self, name)
            items = [(f"{name}_{k}", v) for k, v in value.items()] if isinstance(value, Mapping) else [(name, value)]
            for col, v in items:
                if v is None or _is_array(v) or isinstance(v, _SCALARS):
                    out.append((name, col, v))
                elif explicit:
                    raise TypeError(
                        f"{type(self).__name__}.{name}: {type(v).__name__} is neither a scalar nor an array"
                    )
        return out

    def _aligned(self, field: str, value: np.ndarray) -> np.ndarray:
        """``value`` with singleton axes inserted for the row axes it lacks (fields in ``_axes`` / index labels)."""
        index = tuple(self._index)
        axes = self._axes.get(field, (field,) if field in index else None)
        if axes is None:
            return value
        if value.ndim != len(axes) or not set(axes) <= set(index):
            raise TypeError(f"{type(self).__name__}.{field} of shape {value.shape} does not match its axes {axes}")
        shape = [value.shape[axes.index(a)] if a in axes else 1 for a in index]
        order = sorted(range(len(axes)), key=lambda i: index.index(axes[i]))
        return np.transpose(value, order).reshape(shape)

    def rows(self) -> list[dict[str, Any]]:
        """Tidy rows by the module's rule: one dict per element of the row shape, plain Python values.

        Returns:
          A list of dicts: index columns first, then the row fields (``_row_fields`` order).
        """
        name = type(self).__name__
        index = tuple(self._index)
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, Any] = {}
        for field, col, value in self._row_items():
            if _is_array(value) and np.ndim(value) > 0:
                arrays[col] = self._aligned(field, np.asarray(value))
            else:
                scalars[col] = to_python(value)
        try:
            shape = tuple(np.broadcast_shapes(*(a.shape for a in arrays.values())))
        except ValueError:
            shapes = ", ".join(f"{c} {a.shape}" for c, a in arrays.items())
            raise TypeError(
                f"{name}: row fields do not broadcast ({shapes}); declare _axes or override rows()"
            ) from None
        if index and len(index) != len(shape):
            raise TypeError(f"{name}._index names {len(index)} axes; the row shape is {shape}")
        size = int(np.prod(shape, dtype=np.int64))
        columns: dict[str, list[Any]] = {}
        positions = np.unravel_index(np.arange(size), shape) if index else ()
        for axis, pos in zip(index, positions):
            if axis not in arrays:
                columns[axis] = pos.tolist()
            else:
                columns[axis] = np.broadcast_to(arrays.pop(axis), shape).ravel().tolist()
        order = [col for _, col, _ in self._row_items()]
        for col in order:
            if col in arrays:
                columns[col] = np.broadcast_to(arrays[col], shape).ravel().tolist()
            elif col in scalars:
                columns[col] = [scalars[col]] * size
        names = [self._columns.get(c, c) for c in columns]
        return [dict(zip(names, vals)) for vals in zip(*columns.values())] if names else [{} for _ in range(size)]

    def to_frame(self) -> pd.DataFrame:
        """The rows of :meth:`rows` as a pandas DataFrame (one row per dict, columns in row order).

        Returns:
          A ``pandas.DataFrame``.
        """
        import pandas as pd

        rows = self.rows()
        return pd.DataFrame.from_records(rows, columns=list(rows[0]) if rows else None)
