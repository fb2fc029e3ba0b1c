"""One figure style for every experiment, and saving a figure with the data it plots.

Importing this module installs the house style (``RC``) in matplotlib's rcParams.

``fig, axes = figure(ncols=2)`` makes a figure in the house style (no pyplot global state);
``save_figure(fig, out, "name", data=rows)`` writes ``name.png``, ``name.pdf`` and the plotted data
as ``name.csv`` (a table) or ``name.json`` (anything else), atomically.
"""

from __future__ import annotations

import io as _io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
from cycler import cycler

matplotlib.use("Agg")  # headless; set before any figure is made

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from scaling_theory.io import write_bytes_atomic, write_csv_atomic, write_json_atomic  # noqa: E402

# Okabe–Ito: distinguishable under the common colour-vision deficiencies and in greyscale print.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

RC = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.4,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by journals
    "axes.prop_cycle": cycler(color=COLORS),
}

# The plotting module is imported only by code that draws, so the house style is installed globally.
matplotlib.rcParams.update(RC)  # type: ignore[arg-type]

PANEL_WIDTH = 3.3  # inches: one column of a two-column paper
PANEL_HEIGHT = 2.6


def figure(
    nrows: int = 1,
    ncols: int = 1,
    *,
    width: float | None = None,
    height: float | None = None,
    squeeze: bool = True,
    **subplot_kw: Any,
) -> tuple[Figure, Any]:
    """A figure in the house style with ``nrows × ncols`` panels (axes as from ``plt.subplots``)."""
    fig = Figure(figsize=(width or PANEL_WIDTH * ncols, height or PANEL_HEIGHT * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, subplot_kw=subplot_kw or None)
    return fig, axes


#: Resolution of the gallery PNGs, and the size each must stay under (figures/README.md is committed).
WEB_DPI = 150
MAX_PNG_BYTES = 200_000


def _png_bytes(fig: Figure, dpi: int) -> bytes:
    """The figure as PNG at ``dpi``, or smaller (a 256-colour palette, then lower resolutions) until it
    fits in :data:`MAX_PNG_BYTES`."""
    from PIL import Image

    data = b""
    for scale in (1.0, 0.8, 0.65, 0.5, 0.4, 0.3):
        buf = _io.BytesIO()
        fig.savefig(buf, format="png", dpi=max(30, round(dpi * scale)), metadata=_metadata("png"))
        data = buf.getvalue()
        if len(data) <= MAX_PNG_BYTES:
            return data
        image = Image.open(_io.BytesIO(data)).convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
        buf = _io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        data = buf.getvalue()
        if len(data) <= MAX_PNG_BYTES:
            return data
    return data


def save_figure(
    fig: Figure,
    out_dir: str | Path,
    name: str,
    data: pd.DataFrame | Sequence[dict] | dict | None = None,
    *,
    dpi: int = WEB_DPI,
) -> list[Path]:
    """Write ``name.png``, ``name.pdf`` and the plotted ``data`` under ``out_dir``; return the paths.

    The PDF is vector (for papers); the PNG is a web-resolution copy for the committed gallery: it is
    rendered at ``dpi`` and, if it exceeds :data:`MAX_PNG_BYTES`, reduced (a 256-colour palette, then
    lower resolutions) until it fits. Deterministic: the same figure always gives the same bytes.
    """
    out = Path(out_dir)
    paths = [write_bytes_atomic(out / f"{name}.png", _png_bytes(fig, dpi))]
    buf = _io.BytesIO()
    # The PNG's draw placed the panels (constrained layout); the PDF keeps that placement instead of solving it
    # again at 72 dpi: about a third less time, and a placement that differs from a fresh solve by less than a
    # pixel of the PNG (text extents are measured at the PNG's resolution).
    engine = fig.get_layout_engine()
    if engine is not None:
        fig.set_layout_engine("none")
    try:
        fig.savefig(buf, format="pdf", metadata=_metadata("pdf"))
    finally:
        if engine is not None:
            fig.set_layout_engine(engine)
    paths.append(write_bytes_atomic(out / f"{name}.pdf", buf.getvalue()))
    if data is not None:
        paths.append(save_data(out, name, data))
    return paths


def save_data(out_dir: str | Path, name: str, data: pd.DataFrame | Sequence[dict] | dict) -> Path:
    """The plotted numbers: a table as ``name.csv``, anything else as ``name.json``."""
    out = Path(out_dir)
    if isinstance(data, pd.DataFrame) or (isinstance(data, (list, tuple)) and data and isinstance(data[0], dict)):
        return write_csv_atomic(out / f"{name}.csv", data)
    return write_json_atomic(out / f"{name}.json", data)


def _metadata(ext: str) -> dict:
    # Fixed metadata so that the same numbers give byte-identical files (no creation dates).
    if ext == "pdf":
        return {"Creator": "scaling_theory", "Producer": "scaling_theory", "CreationDate": None}
    if ext == "png":
        return {"Software": "scaling_theory"}
    return {}


def band(ax: Any, x: Any, lo: Any, hi: Any, color: str, alpha: float = 0.2, **kw: Any) -> None:
    """Shade an interval band between ``lo`` and ``hi`` over ``x``."""
    ax.fill_between(np.asarray(x), np.asarray(lo), np.asarray(hi), color=color, alpha=alpha, linewidth=0, **kw)


def label_panels(axes: Any) -> None:
    """Label panels (a), (b), … in the top-left corner."""
    for i, ax in enumerate(np.ravel(axes)):
        ax.text(-0.02, 1.02, f"({chr(97 + i)})", transform=ax.transAxes, ha="right", va="bottom", fontweight="bold")
