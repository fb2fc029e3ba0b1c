"""Results with one row per entry of the input table's groups or problems, labelled by its key columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_theory.results import Result, to_python


@dataclass(frozen=True)
class LabelledRows(Result):
    """Base of results whose rows are labelled by key columns of the user's table (``labels``: column → values,
    one per row, first in each row). Subclasses list their value fields in ``_row_fields`` (1-D, one per row)."""

    labels: dict[str, np.ndarray]

    def rows(self) -> list[dict[str, Any]]:
        """One dict per row: the label columns, then the value fields.

        Returns:
          A list of dicts of plain Python values.
        """
        values = super().rows()
        return [{**{k: to_python(v[i]) for k, v in self.labels.items()}, **r} for i, r in enumerate(values)]
