"""The committed gallery (figures/) and the paper's generated parts (paper/tables/).

The committed ``figures/MANIFEST.json`` must list exactly the registered experiments, every image of
``figures/README.md`` must exist within the web-size budget, and regenerating the gallery or the
paper's tables from the committed manifest must change nothing.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from scaling_theory import cli, gallery, paper, plotting, reproduce
from scaling_theory.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"
PAPER = ROOT / "paper"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((FIGURES / "MANIFEST.json").read_text())


# ------------------------------------------------------------------------------------------ gallery


def test_caption_takes_the_first_sentence_after_the_title():
    doc = """Paper X (arXiv 1234.5678), Figure 2: a curve.

    Panels show the error of a thing
    against k. More text that is not shown.
    """
    shows, title = gallery.caption(doc)
    assert title == "Paper X (arXiv 1234.5678), Figure 2: a curve."
    assert shows == "Panels show the error of a thing against k."
    assert gallery.caption(None) == ("", "")


def test_key_numbers_flatten_nested_scalars_and_skip_lists():
    summary = {"a": 1.23456789, "rows": [{"x": 1}], "b": {"c": 20000, "d": True}, "s": "eb"}
    assert gallery.key_numbers(summary) == [("a", "1.235"), ("b.c", "20,000"), ("b.d", "True"), ("s", "eb")]


def test_manifest_lists_exactly_the_registered_experiments(manifest):
    registered = set(reproduce.discover())
    recorded = set(manifest["experiments"])
    assert recorded == registered, (
        f"figures/MANIFEST.json is stale: missing {sorted(registered - recorded)}, extra {sorted(recorded - registered)};"
        " run `make reproduce` and commit figures/"
    )
    failed = [n for n, e in manifest["experiments"].items() if e["status"] != "ok"]
    assert not failed
    assert all(e["arguments"]["profile"] == "quick" for e in manifest["experiments"].values())
    assert manifest["environment"]["libraries"]["jax"]


def test_every_gallery_image_exists_within_the_web_budget():
    text = (FIGURES / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images
    sizes = []
    for rel in images:
        path = FIGURES / rel
        assert path.is_file(), f"gallery image {rel} is missing"
        sizes.append(path.stat().st_size)
        assert sizes[-1] <= gallery.MAX_PNG_BYTES, f"{rel}: {sizes[-1]} bytes"
    assert sum(sizes) <= gallery.MAX_TOTAL_PNG_BYTES
    # every committed PNG is shown in the gallery
    committed = {str(p.relative_to(FIGURES)) for p in FIGURES.glob("*/*.png") if not p.parent.name.startswith("_")}
    assert committed == set(images)


def test_committed_pngs_match_the_manifest_hashes(manifest):
    import hashlib

    for entry in manifest["experiments"].values():
        for f in entry["files"]:
            if f["path"].endswith(".png"):
                data = (FIGURES / f["path"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == f["sha256"], f["path"]


def test_gallery_is_up_to_date_with_the_manifest(manifest):
    expected = gallery.render(manifest, gallery.experiment_docs())
    assert (FIGURES / "README.md").read_text() == expected, "run `scaling-theory gallery` and commit figures/README.md"


def test_catalog_is_up_to_date_with_the_manifest(manifest):
    expected = gallery.render_catalog(manifest, reproduce.discover())
    committed = (ROOT / "experiments" / "README.md").read_text()
    assert committed == expected, "run `scaling-theory gallery` and commit experiments/README.md"


def test_every_experiment_states_its_paper_profile_runtime():
    missing = [name for name, exp in reproduce.discover().items() if not (exp.paper_runtime or "").strip()]
    assert not missing, f"experiments without PAPER_RUNTIME: {missing}"


def test_catalog_rows_count_outputs_and_format_times():
    exp = reproduce.Experiment(
        "demo_x",
        Path("/e/demo_x.py"),
        run=lambda **_: {},
        title="t",
        doc="Paper Y, Fig. 3.",
        paper_runtime="2 h",
        gpu=True,
    )
    files = [{"path": p} for p in ("demo_x/a.png", "demo_x/a.pdf", "demo_x/a.csv", "demo_x/b.csv")]
    text = gallery.render_catalog({"experiments": {"demo_x": {"seconds": 594.0, "files": files}}}, {"demo_x": exp})
    assert "| [`demo_x`](demo_x.py) | Paper Y, Fig. 3. | 9.9 min | 2 h | yes | 2 CSV, 1 PDF, 1 PNG |" in text
    assert "Sum of the quick times: 9.9 min" in text
    bare = reproduce.Experiment("demo_y", Path("/e/demo_y.py"), run=lambda **_: {}, title="t", doc="Z.")
    assert "| 45 s | not estimated |  | — |" in gallery.render_catalog(
        {"experiments": {"demo_y": {"seconds": 45.2}}}, {"demo_y": bare}
    )


def test_png_copies_stay_under_the_budget_even_for_a_dense_figure(tmp_path):
    fig, ax = plotting.figure(1, 1, width=12, height=9)
    rng = np.random.default_rng(0)
    for _ in range(40):  # a noisy figure that compresses badly
        ax.scatter(rng.random(3000), rng.random(3000), s=2, alpha=0.5)
    paths = plotting.save_figure(fig, tmp_path, "dense")
    png = next(p for p in paths if p.suffix == ".png")
    assert png.stat().st_size <= plotting.MAX_PNG_BYTES
    assert matplotlib.image.imread(png).shape[0] > 200  # still a usable picture


# ------------------------------------------------------------------------------------------- paper


def test_resolve_paths_with_row_selection():
    summary = {"rows": [{"m": "a", "n": 1, "v": 0.1}, {"m": "b", "n": 1, "v": 0.2}], "x": {"y=1": {"z": 3}}}
    assert paper.resolve(summary, "rows[m=b;n=1]/v") == 0.2
    assert paper.resolve(summary, "x/y=1/z") == 3
    with pytest.raises(KeyError):
        paper.resolve(summary, "rows[m=c]/v")
    with pytest.raises(InputError, match=r"macro \\q: no 'nope' in the summary of 'e'"):
        paper.render_macros({"experiments": {"e": {"summary": {"a": 1}}}}, [paper.Macro("q", "e", "nope")])


def test_formatting():
    assert paper.fmt(0.8437, "pct") == "84.4"
    assert paper.fmt(12345, "int") == "12{,}345"
    assert paper.fmt(None, ".2f") == "--"
    assert paper.fmt(float("inf"), ".2f") == r"$\infty$"
    assert paper.fmt("a_b & c%", "text") == r"a\_b \& c\%"
    assert paper.fmt(3.2e-5, "sci") == r"$3.20\times 10^{-5}$"


def test_regenerating_tables_from_the_committed_manifest_changes_nothing(manifest):
    files = {"macros.tex": paper.render_macros(manifest), **paper.render_tables(manifest)}
    committed = {p.name: p.read_text() for p in (PAPER / "tables").glob("*.tex")}
    assert set(committed) == set(files)
    for name, text in files.items():
        assert committed[name] == text, f"paper/tables/{name} is stale: run `make paper` (or --tables-only)"


def _tex_sources() -> list[Path]:
    return [PAPER / "main.tex", *sorted((PAPER / "sections").glob("*.tex"))]


def test_every_input_and_graphic_exists():
    macros = set(re.findall(r"\\newcommand\{\\(\w+)\}", (PAPER / "tables" / "macros.tex").read_text()))
    for src in _tex_sources():
        text = src.read_text()
        for target in re.findall(r"\\input\{([^}]+)\}", text):
            path = PAPER / target
            assert path.with_suffix(".tex").is_file() or path.is_file(), f"{src.name}: \\input{{{target}}} missing"
        for target in re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", text):
            base = FIGURES / target
            assert base.with_suffix(".png").is_file() or base.with_suffix(".pdf").is_file(), (
                f"{src.name}: figure {target} missing (run `make reproduce`)"
            )
        # every macro the text uses that looks like a generated one is defined
        used = set(re.findall(r"\\((?:passk|judge|sat|fit|testbed|alloc|scale|report)[A-Z]\w*)", text))
        assert used <= macros, f"{src.name}: undefined macros {sorted(used - macros)}"


@pytest.mark.skipif(not paper.tex_available(), reason="no TeX installation (latexmk, pdflatex)")
def test_latex_builds_without_undefined_references(tmp_path):
    work = tmp_path / "paper"
    shutil.copytree(PAPER, work, ignore=shutil.ignore_patterns("*.pdf", "*.aux", "*.log", "*.fdb_latexmk", "*.fls"))
    (tmp_path / "figures").symlink_to(FIGURES)
    pdf = paper.build(work)
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    log = (work / "main.log").read_text(errors="replace")
    assert paper.undefined_references(log) == []
    assert "There were undefined references" not in log


def test_paper_command_without_tex_is_one_line_and_nonzero(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(paper, "tex_available", lambda: False)
    code = cli.main(["paper", "--figures", str(FIGURES), "--paper", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no TeX installation") and "\n" not in err
    assert (tmp_path / "tables" / "macros.tex").is_file()


def test_paper_command_without_manifest_is_one_line(tmp_path, capsys):
    assert cli.main(["paper", "--figures", str(tmp_path), "--paper", str(tmp_path), "--tables-only"]) == 2
    assert "no manifest" in capsys.readouterr().err


# --------------------------------------------------------------------------------- reproducibility


@pytest.mark.slow
def test_two_runs_with_the_same_seed_write_identical_numbers(tmp_path):
    chosen = reproduce.select(reproduce.discover(), ["saturation_ttspm", "judge_phase_k"])
    for run in ("a", "b"):
        reproduce.run_experiments(chosen, tmp_path / run, profile="smoke", seed=3, progress=False)
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.suffix in (".csv", ".json")
    )
    files_a = [f for f in files_a if f.name != "MANIFEST.json"]
    assert files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
