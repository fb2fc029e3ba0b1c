"""House figure style: files written, plotted data saved, byte-identical reruns; text tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scaling_theory import plotting
from scaling_theory.tables import format_table


def _draw():
    fig, (a, b) = plotting.figure(ncols=2)
    x = np.linspace(1, 10, 20)
    a.loglog(x, x**-0.5, label="law")
    plotting.band(a, x, x**-0.5 * 0.9, x**-0.5 * 1.1, plotting.COLORS[0])
    b.plot(x, np.log(x), marker=plotting.MARKERS[1])
    plotting.label_panels((a, b))
    return fig, pd.DataFrame({"x": x, "y": x**-0.5})


def test_save_figure_writes_png_pdf_and_data(tmp_path):
    fig, df = _draw()
    paths = plotting.save_figure(fig, tmp_path, "law", data=df)
    assert [p.name for p in paths] == ["law.png", "law.pdf", "law.csv"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    np.testing.assert_allclose(pd.read_csv(paths[2])["y"], df["y"])
    json_path = plotting.save_data(tmp_path, "summary", {"b": 0.5})
    assert json_path.name == "summary.json"


def test_same_numbers_give_identical_files(tmp_path):
    for sub in ("a", "b"):
        fig, df = _draw()
        plotting.save_figure(fig, tmp_path / sub, "law", data=df)
    for ext in ("png", "pdf", "csv"):
        assert (tmp_path / "a" / f"law.{ext}").read_bytes() == (tmp_path / "b" / f"law.{ext}").read_bytes()


def test_format_table_aligns_and_formats():
    text = format_table([{"name": "x", "v": 0.123456, "n": 3}, {"name": "longer", "v": None, "n": np.int64(12)}])
    lines = text.splitlines()
    assert lines[0].split() == ["name", "v", "n"]
    assert lines[2].split() == ["x", "0.1235", "3"]
    assert lines[3].split() == ["longer", "-", "12"]
    assert len({len(line) for line in lines[:2]}) == 1  # header and rule have the same width
    assert format_table([]) == "(no rows)"
