"""``scaling-theory report``: report.json equals the library on the same data, the page's links resolve,
every figure has its CSV, one bad group does not abort the others, and the folder is replaced atomically."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest
from scipy.special import comb

from scaling_theory import cli
from scaling_theory.errors import InputError
from scaling_theory.passk import backtest, predict
from scaling_theory.report.build import write_report
from scaling_theory.saturation.report import counts_summary

SEED = 3
EPS = 1e-3
BUDGETS = [200.0, 2000.0]


def synthetic_counts(path: Path) -> pd.DataFrame:
    """Two Beta-binomial groups (different n) and one group with no success at all."""
    rng = np.random.default_rng(0)
    rows = []
    for model, (a, b, n) in {"A": (0.4, 3.0, 40), "B": (0.3, 8.0, 60), "Z": (1.0, 1.0, 40)}.items():
        p = rng.beta(a, b, size=25)
        k = rng.binomial(n, p) if model != "Z" else np.zeros(25, dtype=int)
        rows += [{"model": model, "problem": f"p{i}", "n": n, "k": int(kk)} for i, kk in enumerate(k)]
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.hrefs, self.ids = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if "id" in a:
            self.ids.append(a["id"])


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    df = synthetic_counts(tmp / "counts.csv")
    out = tmp / "out"
    report = write_report(
        [tmp / "counts.csv"], out, group_by=["model"], budgets=BUDGETS, eps=EPS, seed=SEED, progress=False
    )
    return df, out, report


def arrays(df, model):
    sub = df[df["model"] == model]
    return sub["n"].to_numpy(float), sub["k"].to_numpy(float)


def rows_of(rows, model):
    return [r for r in rows if r.get("model") == model]


def test_report_json_is_what_was_returned(built):
    _, out, report = built
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["order"] == report["order"] and on_disk["glance"] == report["glance"]


def test_glance_and_passk_equal_independent_computations(built):
    df, out, report = built
    for model in ("A", "B", "Z"):
        n, k = arrays(df, model)
        [g] = rows_of(report["glance"], model)
        assert g["problems"] == 25 and g["attempts"] == int(n.sum()) and g["successes"] == int(k.sum())
        assert g["pass_at_1"] == pytest.approx(np.mean(k / n), abs=1e-12)
        assert g["coverage_at_n"] == pytest.approx(np.mean(k > 0), abs=1e-12)
        hist = rows_of(report["histogram"], model)
        assert sum(h["problems"] for h in hist) == 25 and hist[0]["problems"] == int(np.sum(k == 0))
        curve = rows_of(report["passk"], model)
        assert curve[0]["k"] == 1 and curve[-1]["k"] == int(n.min())
        for r in curve:  # Chen's estimator from SciPy's binomial coefficients
            chen = np.mean(1.0 - comb(n - k, r["k"], exact=False) / comb(n, r["k"], exact=False))
            assert r["pass_at_k"] == pytest.approx(chen, abs=1e-9)
            assert r["lower"] <= r["pass_at_k"] <= r["upper"]


def test_passk_intervals_equal_the_library(built):
    df, _, report = built
    n, k = arrays(df, "B")
    curve = rows_of(report["passk"], "B")
    pred = predict(jax.random.PRNGKey(SEED), n, k, [r["k"] for r in curve], "combinatorial", level=report["level"])
    np.testing.assert_allclose([r["lower"] for r in curve], pred.lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose([r["upper"] for r in curve], pred.upper, rtol=0, atol=1e-12)


def test_extrapolation_equals_the_default_predictor_and_bad_group_is_isolated(built):
    df, _, report = built
    from scaling_theory.passk.grouping import stack_groups

    data = stack_groups(df[df["model"].isin(["A", "B"])].reset_index(drop=True), ["model"])
    pred = predict(jax.random.PRNGKey(SEED), data.n, data.k, BUDGETS, None, level=report["level"], mask=data.mask)
    ext = report["extrapolation"]
    assert ext["method"] == pred.method and ext["why"]
    for i, model in enumerate(("A", "B")):
        rows = rows_of(ext["rows"], model)
        assert [r["budget"] for r in rows] == [200, 2000]
        np.testing.assert_allclose([r["pass_at_budget"] for r in rows], pred.asr[i], rtol=1e-12)
        np.testing.assert_allclose([r["lower"] for r in rows], pred.lower[i], rtol=1e-12)
    [z] = rows_of(ext["rows"], "Z")
    assert "no successes" in z["note"] and "pass_at_budget" not in z
    assert [d["model"] for d in ext["details"]] == ["A", "B"]


def test_backtest_equals_the_library(built):
    df, _, report = built
    from scaling_theory.passk.grouping import stack_groups

    data = stack_groups(df[df["model"].isin(["A", "B"])].reset_index(drop=True), ["model"])
    bt = report["backtest"]
    assert bt["observe"] == 4 and bt["budget"] == 40  # n/10 of the smallest n, predict pass@(smallest n)
    res = backtest(
        jax.random.key(SEED),
        data.n,
        data.k,
        4,
        [40],
        [report["extrapolation"]["method"]],
        repeats=3,
        mask=data.mask,
        groups=data.groups,
        level=report["level"],
    )
    assert bt["mae"] == pytest.approx(float(res.mae["mae"].iloc[0]), rel=1e-12)


def test_saturation_equals_the_library(built):
    df, _, report = built
    for model in ("A", "B"):
        sub = df[df["model"] == model].reset_index(drop=True)
        want = counts_summary(sub, EPS)
        [got] = rows_of(report["saturation"], model)
        for key in ("n_star_homogeneous", "n_star_aggregate", "alpha", "beta", "n_star_per_question_median"):
            assert got[key] == pytest.approx(want[key], rel=1e-12)
    [z] = rows_of(report["saturation"], "Z")
    assert set(z) == {"model", "note"} and "no successes" in z["note"]  # the all-zero group: a note, never an abort
    assert rows_of(report["gain"], "Z") == []


def test_every_image_and_link_exists_and_figures_have_csv(built):
    _, out, report = built
    page = Links()
    page.feed((out / "index.html").read_text())
    assert sorted(page.imgs) == sorted(report["figures"]) and len(page.imgs) == 4
    for target in page.imgs + [h for h in page.hrefs if not h.startswith("#")]:
        assert (out / target).is_file(), target
    for fig in report["figures"]:
        stem = fig[: -len(".png")]
        assert (out / f"{stem}.pdf").is_file() and len(pd.read_csv(out / f"{stem}.csv")) > 0
    passk_csv = pd.read_csv(out / "passk.csv")
    obs = passk_csv[passk_csv["kind"] == "observed"]
    np.testing.assert_allclose(obs["pass_at_k"], [r["pass_at_k"] for r in report["passk"]], rtol=1e-12)
    for sec in ("glance", "passk", "saturation", "allocation", "comparison", "files"):
        assert sec in page.ids
    assert "What an extra budget would buy" in (out / "index.html").read_text()
    assert "http://" not in (out / "index.html").read_text() and "https://" not in (out / "index.html").read_text()


def test_tables_are_csv_with_the_numbers_shown(built):
    _, out, report = built
    glance = pd.read_csv(out / "glance.csv")
    assert list(glance["model"]) == report["order"]  # displayed order: highest pass@1 first
    assert glance["pass_at_1"].is_monotonic_decreasing
    for t in report["tables"]:
        assert (out / t).is_file()


def test_replaced_atomically_and_failure_leaves_the_old_report(built, tmp_path):
    df, out, _ = built
    dest = tmp_path / "rep"
    dest.mkdir()
    (dest / "stale.txt").write_text("old")
    bad = tmp_path / "bad.csv"
    bad.write_text("problem,n,k\n1,5,7\n")
    with pytest.raises(InputError, match="k=7 exceeds n=5"):
        write_report([bad], dest, progress=False)
    assert (dest / "stale.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_cli_two_files_grouped_by_file_with_an_allocation_area(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(5)
    for name in ("run1.jsonl_results.jsonl", "run2.jsonl_results.jsonl"):
        lines = [
            json.dumps(
                {"task_id": f"T/{t}", "completion": "", "result": "", "passed": bool(rng.random() < 0.1 + 0.05 * t)}
            )
            for t in range(8)
            for _ in range(12)
        ]
        (tmp_path / name).write_text("\n".join(lines) + "\n")
    calls = []

    def report_rows(n, k, mask, groups, extra):
        calls.append((np.shape(n), extra))
        return [{**g, "policy": "uniform", "expected_coverage": 0.5} for g in groups]

    fake = types.ModuleType("scaling_theory.allocation")
    fake.__spec__ = importlib.machinery.ModuleSpec("scaling_theory.allocation", None)
    fake.report_rows = report_rows
    monkeypatch.setitem(sys.modules, "scaling_theory.allocation", fake)
    out = tmp_path / "r"
    code = cli.main(
        [
            "report",
            str(tmp_path / "run1.jsonl_results.jsonl"),
            str(tmp_path / "run2.jsonl_results.jsonl"),
            "--group-by",
            "file",
            "--out",
            str(out),
            "--no-progress",
            "--budget",
            "100",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0 and err.count("read as human-eval: 96 rows, 8 problems, 12 attempts per problem") == 2
    report = json.loads((out / "report.json").read_text())
    assert [g["group"]["file"] for g in report["groups"]] == ["run1.jsonl_results.jsonl", "run2.jsonl_results.jsonl"]
    assert calls == [((2, 8), 12.0)]
    assert [r["policy"] for r in report["allocation"]["rows"]] == ["uniform", "uniform"]
    assert (out / "allocation.csv").is_file() and "What an extra budget would buy" in (out / "index.html").read_text()


# ------------------------------------------------------------------------------- browser

CHROMIUM = next((c for c in ("chromium", "chromium-browser", "google-chrome") if __import__("shutil").which(c)), None)
PROBE = """<script>window.addEventListener('load', function () {
  var secs = [];
  document.querySelectorAll('section[id]').forEach(function (s) {
    var b = s.getBoundingClientRect(); secs.push([s.id, b.top + window.scrollY, b.bottom + window.scrollY]); });
  var imgs = Array.prototype.map.call(document.images, function (i) { return i.naturalWidth; });
  var copied = {}; window.put = function (s) { copied.last = s; };
  copyLatex('t-glance'); copied.latex = copied.last; copyTable('t-glance'); copied.tsv = copied.last;
  var p = document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({height: document.documentElement.scrollHeight, sections: secs, imgs: imgs,
                                  latex: copied.latex, tsv: copied.tsv});
  document.body.appendChild(p); });</script>"""


def _chromium(*args: str) -> str:
    import subprocess

    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (Debian package 'chromium') to render the page")
def test_page_renders_in_headless_chromium(built, tmp_path):
    import html
    import re
    import shutil

    from PIL import Image

    _, out, report = built
    site = tmp_path / "site"
    shutil.copytree(out, site)
    page = (site / "index.html").read_text()
    (site / "probe.html").write_text(page.replace("</body>", PROBE + "</body>"))
    dom = _chromium("--dump-dom", (site / "probe.html").as_uri())
    geo = json.loads(html.unescape(re.search(r"<pre id=\"probe\">(.*?)</pre>", dom, re.S).group(1)))
    secs = {name: (top, bottom) for name, top, bottom in geo["sections"]}
    assert list(secs)[:6] == ["glance", "passk", "saturation", "allocation", "comparison", "files"]
    assert all(b - t > 40 for name, (t, b) in secs.items() if name != "end")  # every section has content
    assert all(w > 0 for w in geo["imgs"]) and len(geo["imgs"]) == 4  # every image loaded
    tsv = [line.split("\t") for line in geo["tsv"].split("\n")]  # "copy as TSV": the glance table as shown
    assert tsv[0][:3] == ["model", "problems", "n min"] and [r[0] for r in tsv[1:]] == report["order"]
    latex = geo["latex"].split("\n")  # "copy as LaTeX": a booktabs tabular with one row per group
    assert latex[0] == "\\begin{tabular}{l" + "r" * (len(tsv[0]) - 1) + "}" and latex[-1] == "\\end{tabular}"
    assert sum(line.endswith(" \\\\") for line in latex) == 1 + len(report["order"])
    assert latex[2].startswith("model & problems & n min")
    height = int(geo["height"])
    shot = tmp_path / "shot.png"
    _chromium(f"--window-size=1100,{height + 40}", f"--screenshot={shot}", (site / "index.html").as_uri())
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    ink = (img < 235).any(axis=2)
    assert img.shape[0] >= height and ink.mean() > 0.02  # not blank
    assert len(np.unique(img.reshape(-1, 3)[::97], axis=0)) > 50  # figures drawn, not only text
    last_row = int(np.nonzero(ink.any(axis=1))[0].max())
    assert last_row >= secs["files"][0] + 40  # the screenshot covers every section down to the last one


def test_figures_cope_with_many_groups_and_missing_intervals(tmp_path):
    """15 groups (sequential colours, heatmap histogram) and an extrapolation whose interval the library
    could not give (None in report.json, as jsonable writes NaN) still draw, and passk.csv keeps every row."""
    from scaling_theory.report import figures

    groups = [{"model": f"m{i:02d}"} for i in range(15)]
    edges = np.logspace(-2, 0, 5)
    report = {
        "level": 0.9,
        "eps": 1e-3,
        "budgets": [100],
        "order": [g["model"] for g in groups],
        "groups": [{"group": g, "label": g["model"]} for g in groups],
        "glance": [],
        "histogram": [],
        "passk": [],
        "extrapolation": {"method": "eb", "rows": []},
        "saturation": [],
        "gain": [],
    }
    for i, g in enumerate(groups):
        report["glance"].append({**g, "pass_at_1": 0.5 - i / 40, "coverage_at_n": 0.8, "n_min": 10, "n_max": 10})
        report["histogram"] += [{**g, "bin_lo": 0.0, "bin_hi": 0.0, "problems": i}] + [
            {**g, "bin_lo": lo, "bin_hi": hi, "problems": 3} for lo, hi in zip(edges[:-1], edges[1:])
        ]
        report["passk"] += [{**g, "k": k, "pass_at_k": 0.1 * k**0.5, "lower": 0.05, "upper": 0.4} for k in (1, 4, 10)]
        report["extrapolation"]["rows"].append(
            {
                **g,
                "budget": 100,
                "pass_at_budget": 0.9,
                "lower": None if i == 3 else 0.8,
                "upper": None if i == 3 else 0.95,
            }
        )
        report["saturation"].append({**g, "n_star_aggregate": 50.0})
        report["gain"] += [
            {**g, "N": n, "gain_observed": 0.1 / n if n < 10 else None, "gain_beta_law": 0.1 / n} for n in (1, 5, 50)
        ]
    names = [fig(report, tmp_path) for fig in figures.ALL]
    for name in names:
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert len(pd.read_csv(tmp_path / "passk.csv")) == 15 * 3 + 15
    assert len(pd.read_csv(tmp_path / "histogram.csv")) == 15 * 5
    from scaling_theory.report.build import _tables

    report.update(group_by=["model"], backtest={"rows": []}, allocation=None)
    report["extrapolation"]["details"] = []
    [ext] = [t for t in _tables(report) if t.name == "extrapolation"]
    shown = {r["model"]: r["pass@100"] for r in ext.rows}
    assert shown["m03"] == "0.9000 [–, –]" and shown["m04"] == "0.9000 [0.8000, 0.9500]"


def test_allocation_rows_equal_the_top_gains_computed_here(built):
    """Greedy expected coverage = solved + the B largest marginal gains E[θ(1−θ)^(j−1)] over unsolved problems
    (each problem's gains decrease in j, so the top-B set is the optimum), computed here with SciPy's betaln."""
    from scipy.special import betaln

    from scaling_theory.passk import fit

    df, _, report = built
    rows = report["allocation"]["rows"]
    assert len(rows) == df["model"].nunique()
    for r in rows:
        n, k = arrays(df, r["model"])
        if k.sum() == 0:  # a group with no success gets a note, not numbers from a fit at its bound
            assert r["expected_coverage"] is None and "no success" in r["note"]
            continue
        res = fit(n[None], k[None])
        a, b = float(res.alpha[0]) + k, float(res.beta[0]) + n - k
        budget = int(round(r["extra_per_problem"] * len(n)))
        j = np.arange(1, budget + 1)[None, :]
        unsolved = (k == 0)[:, None]
        gains = np.where(
            unsolved,
            np.exp(betaln(a[:, None], b[:, None] + j - 1) - betaln(a[:, None], b[:, None]))
            - np.exp(betaln(a[:, None], b[:, None] + j) - betaln(a[:, None], b[:, None])),
            0.0,
        )
        best = np.mean(k > 0) + np.sort(gains.ravel())[::-1][:budget].sum() / len(n)
        np.testing.assert_allclose(r["expected_coverage"], best, rtol=1e-9, atol=1e-12)
        assert r["uniform_expected_coverage"] <= r["expected_coverage"] + 1e-12
