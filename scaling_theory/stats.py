"""Shared statistical building blocks used by every area (docs/CONTRIBUTING.md, "Shared building blocks").

One copy of each: keyed randomness helpers, root finding (bisection), weighted log–log least squares,
keyed sub-sampling and bootstrap, and convergence diagnostics (split R̂). Areas import these instead of
writing their own.
"""

from __future__ import annotations

# --- keyed randomness --------------------------------------------------------------------------------

# --- root finding --------------------------------------------------------------------------------------

# --- weighted log-log least squares ----------------------------------------------------------------------

# --- sub-sampling and bootstrap ------------------------------------------------------------------------

# --- convergence diagnostics ---------------------------------------------------------------------------
