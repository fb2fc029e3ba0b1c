"""The paper's generated parts: LaTeX macros and tables from the experiments' recorded numbers.

Every number in ``paper/`` comes from ``figures/MANIFEST.json`` — the summaries that the experiments
return and ``scaling-theory reproduce`` records — through :data:`MACROS` (one ``\\newcommand`` each,
written to ``paper/tables/macros.tex``) and :data:`TABLES` (one ``.tex`` table each). Nothing is typed
by hand, so regenerating from the committed manifest changes nothing (a test checks it).

A value is addressed by a path into an experiment's summary: keys separated by ``/``; a step
``name[field=value;...]`` picks the first row of the list ``name`` whose fields match (values compared
as strings).

``scaling-theory paper`` writes the tables and builds ``paper/main.pdf`` with ``latexmk`` when a TeX
installation is present, and otherwise says so in one line and exits with status 1.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaling_theory.errors import InputError
from scaling_theory.io import write_text_atomic

__all__ = [
    "Macro",
    "Table",
    "MACROS",
    "TABLES",
    "CUSTOM_TABLES",
    "resolve",
    "render_macros",
    "render_tables",
    "write_tables",
    "build",
]

TEX_PACKAGES = "latexmk texlive-latex-recommended texlive-science"


# ------------------------------------------------------------------------------------------ paths

_STEP = re.compile(r"^(?P<key>[^\[]*)(\[(?P<sel>[^\]]*)\])?$")


def resolve(summary: Any, path: str) -> Any:
    """The value at ``path`` in ``summary`` (see the module docstring); ``KeyError`` naming the step."""
    value = summary
    for step in path.split("/"):
        match = _STEP.match(step)
        if match is None:
            raise KeyError(step)
        key, sel = match.group("key"), match.group("sel")
        if key:
            if not isinstance(value, dict) or key not in value:
                raise KeyError(key)
            value = value[key]
        if sel is not None:
            wanted = dict(part.split("=", 1) for part in sel.split(";") if part)
            rows = [r for r in value if isinstance(r, dict) and all(str(r.get(k)) == v for k, v in wanted.items())]
            if not rows:
                raise KeyError(f"[{sel}]")
            value = rows[0]
    return value


# ------------------------------------------------------------------------------------- formatting


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    out = str(text)
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("$", r"\$"),
        ("#", r"\#"),
        ("_", r"\_"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("~", r"\textasciitilde{}"),
        ("^", r"\^{}"),
    ):
        out = out.replace(a, b)
    return out.replace("\\textbackslash\\{\\}", r"\textbackslash{}")


def fmt(value: Any, spec: str) -> str:
    """Format ``value`` for LaTeX: ``spec`` is a Python format spec, or ``pct`` (×100, 1 decimal),
    ``pp`` (a percentage-point value, 1 decimal), ``int``, ``sci`` (a·10^b), ``text``."""
    if value is None:
        return "--"
    if spec == "text":
        return latex_escape(str(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    x = float(value)
    if not math.isfinite(x):
        return r"$\infty$" if x > 0 else ("--" if math.isnan(x) else r"$-\infty$")
    if spec == "pct":
        return f"{100 * x:.1f}"
    if spec == "pp":
        return f"{x:.1f}"
    if spec == "int":
        return f"{int(round(x)):,}".replace(",", "{,}")
    if spec == "sci":
        if x == 0:
            return "0"
        exp = int(math.floor(math.log10(abs(x))))
        mant = x / 10**exp
        return f"${mant:.2f}\\times 10^{{{exp}}}$"
    return format(x, spec)


# ------------------------------------------------------------------------------------------ macros


@dataclass(frozen=True)
class Macro:
    """``\\name`` = ``fmt(resolve(summary of experiment, path), spec)``."""

    name: str
    experiment: str
    path: str
    spec: str = ".3g"
    scale: float = 1.0


@dataclass(frozen=True)
class Table:
    """A booktabs table of the rows at ``path`` of an experiment's summary.

    ``columns``: (header, field, spec); ``where``: keep only rows whose fields match (as strings).
    """

    name: str
    experiment: str
    path: str
    columns: tuple[tuple[str, str, str], ...]
    caption: str
    where: tuple[tuple[str, str], ...] = ()


def _m(name: str, experiment: str, path: str, spec: str = ".3g", scale: float = 1.0) -> Macro:
    return Macro(name, experiment, path, spec, scale)


#: Every number quoted in the paper's prose.
MACROS: tuple[Macro, ...] = (
    # passk
    _m("passkSaberMaeAnchored", "passk_saber_synthetic", "mae/anchored", ".2f"),
    _m("passkSaberMaeEb", "passk_saber_synthetic", "mae/eb", ".2f"),
    _m(
        "passkRealPythiaAutoTen",
        "passk_real_backtests",
        "summary[data=pythia;observe=100;ratio=10;method=auto]/mae",
        ".2f",
    ),
    _m(
        "passkRealPythiaBestTen",
        "passk_real_backtests",
        "summary[data=pythia;observe=100;ratio=10;method=auto]/best_other",
        ".2f",
    ),
    _m(
        "passkRealCkptAutoHundred",
        "passk_real_backtests",
        "summary[data=checkpoints;observe=32;ratio=100;method=auto]/mae",
        ".1f",
    ),
    _m(
        "passkRealCkptBestHundred",
        "passk_real_backtests",
        "summary[data=checkpoints;observe=32;ratio=100;method=auto]/best_other",
        ".1f",
    ),
    _m(
        "passkRealCkptAnchoredHundred",
        "passk_real_backtests",
        "summary[data=checkpoints;observe=32;ratio=100;method=anchored]/mae",
        ".1f",
    ),
    _m(
        "passkRealCkptAutoCoverage",
        "passk_real_backtests",
        "summary[data=checkpoints;observe=32;ratio=10;method=auto]/coverage",
        "pct",
    ),
    _m("passkPythiaMaeEb", "passk_pythia_backtest", "mae[observe=100;budget=1000;method=eb]/mae", ".2f"),
    _m("passkPythiaMaeAnchored", "passk_pythia_backtest", "mae[observe=100;budget=1000;method=anchored]/mae", ".2f"),
    _m("passkCalibEbCoverage", "passk_calibration", "rows[config=SABER sim;method=eb]/coverage", "pct"),
    _m("passkCalibAnchoredCoverage", "passk_calibration", "rows[config=SABER sim;method=anchored]/coverage", "pct"),
    # judge
    _m("judgeFiniteTExactKmax", "judge_finite_t", "c=10/exact_kmax", ".4f"),
    _m("judgeFiniteTExptKmax", "judge_finite_t", "c=10/expt_kmax", ".4f"),
    _m("judgeFiniteTDeSimKmax", "judge_finite_t", "c=10/de_sim_kmax", ".4f"),
    _m("judgeFiniteTHteKmax", "judge_finite_t", "c=10/hte3_kmax", ".4f"),
    _m("judgeFiniteTMaxZ", "judge_finite_t", "max_abs_z_de_sim_vs_exact", ".2f"),
    _m("judgeBokEvtConstant", "judge_best_of_k", "n=10000/evt_constant_over_pi_sigma2", ".4f"),
    _m("judgeBokLteConstant", "judge_best_of_k", "n=10000/official_lte_constant_over_pi", ".4f"),
    _m("judgeBokRatioKmax", "judge_best_of_k", "n=10000/ratio_at_kmax", ".4f"),
    _m("judgeBokMaxZ", "judge_best_of_k", "n=10000/max_abs_z_sim_vs_exact", ".2f"),
    _m("judgeDifficultyEasyExponent", "judge_task_difficulty", "exponents[ratio=0.5]/fitted_exponent", ".3f"),
    _m("judgeDifficultyHardExponent", "judge_task_difficulty", "exponents[ratio=2.0]/fitted_exponent", ".3f"),
    _m("judgeDifficultyHardPredicted", "judge_task_difficulty", "exponents[ratio=2.0]/predicted_exponent", ".2f"),
    _m("judgeSpectrumExactKmax", "judge_general_spectrum", "exact_kmax", ".4f"),
    _m("judgeSpectrumExptKmax", "judge_general_spectrum", "expt_kmax", ".4f"),
    # saturation
    _m("satNstarSpec", "saturation_ttspm", "spec_table[p=0.1;eps=0.01]/n_star", "int"),
    _m("satTtspmMaxZ", "saturation_ttspm", "mc_max_z", ".2f"),
    _m("satHetRatioMedian", "saturation_heterogeneous", "ratio_median", ".2g"),
    _m("satHetRatioMax", "saturation_heterogeneous", "ratio_max", ".2g"),
    _m("satHetShortfall", "saturation_heterogeneous", "max_coverage_shortfall", "pct"),
    _m("satHetLaterFraction", "saturation_heterogeneous", "fraction_aggregate_later", "pct"),
    _m("satPythiaR", "saturation_pythia", "correlations[eps=0.01;method=plug-in]/r", ".2f"),
    _m("satPythiaRSmallEps", "saturation_pythia", "correlations[eps=0.0001;method=plug-in]/r", ".2f"),
    _m("satVerifierKoptNoCost", "saturation_verifiers", "toy[v_fluke=0.0]/k_opt", "int"),
    _m("satVerifierKoptCost", "saturation_verifiers", "toy[v_fluke=-1.0]/k_opt", "int"),
    # fitting
    _m("fitTableOneMaxBDiff", "fitting_passk", "max_abs_b_diff_vs_table1", ".1e"),
    _m("fitTableOneMaxADiff", "fitting_passk", "max_rel_a_diff_vs_table1", ".1e"),
    _m("fitRecoveryAlphaRatio", "fitting_recovery", "params/alpha/median_ratio", ".3f"),
    _m("fitRecoveryAlphaCoverage", "fitting_recovery", "params/alpha/coverage_95", "pct"),
    _m("fitRecoveryNstarRatio", "fitting_recovery", "params/N*/median_ratio", ".3f"),
    _m("fitDatablationsShortErr", "fitting_datablations", "median_abs_final_error_epochs_le_4", "pct"),
    _m("fitDatablationsLongErr", "fitting_datablations", "median_abs_final_error_epochs_ge_14", "pct"),
    _m("fitDatablationsShortCoverage", "fitting_datablations", "mean_coverage_epochs_le_4", "pct"),
    # testbed
    _m("testbedPassOne", "testbed_passk_extrapolation", "pass_at_1", ".3f"),
    _m("testbedCeilingNominal", "testbed_judge_selection", "verifier_ceiling_delta/nominal_soundness", ".3f"),
    _m("testbedCeilingPerProblem", "testbed_judge_selection", "verifier_ceiling_delta/per_problem_soundness", ".3f"),
    _m("testbedChinchillaResidual", "testbed_scaling", "chinchilla/rms_log_residual", ".3f"),
    # allocation
    _m(
        "allocPythiaMultEight",
        "allocation_pythia_backtest",
        "summary[data=pythia_math (7 models, n=10,000);pilot=8;budget=16.0;policy=lagrangian]/multiplier_median",
        ".2f",
    ),
    _m(
        "allocPythiaMultThirtyTwo",
        "allocation_pythia_backtest",
        "summary[data=pythia_math (7 models, n=10,000);pilot=32;budget=64.0;policy=lagrangian]/multiplier_median",
        ".2f",
    ),
    _m(
        "allocPythiaGainThirtyTwo",
        "allocation_pythia_backtest",
        "summary[data=pythia_math (7 models, n=10,000);pilot=32;budget=64.0;policy=lagrangian]/gain_pp",
        ".1f",
    ),
)

#: Every generated table (``paper/tables/<name>.tex``).
TABLES: tuple[Table, ...] = (
    Table(
        "passk_pythia",
        "passk_pythia_backtest",
        "mae",
        (
            ("observe $n$", "observe", "int"),
            ("predict $N$", "budget", "int"),
            ("method", "method", "text"),
            ("MAE (pp)", "mae", ".2f"),
            ("90\\% coverage", "coverage", "pct"),
        ),
        "Pythia $\\times$ MATH back-test: observe $n$ of 10{,}000 samples per problem, predict pass@$N$, "
        "mean absolute error over the models against the full-data unbiased estimate.",
    ),
    Table(
        "passk_real",
        "passk_real_backtests",
        "summary",
        (
            ("data", "data", "text"),
            ("observe $n$", "observe", "int"),
            ("$N/n$", "ratio", "int"),
            ("\\texttt{auto} MAE (pp)", "mae", ".2f"),
            ("best other (pp)", "best_other", ".2f"),
            ("coverage (\\%)", "coverage", "pct"),
            ("width (pp)", "width", ".1f"),
        ),
        "The self-validating default \\texttt{auto} on held-out real and synthetic tables: mean absolute error of "
        "pass@$N$ against the full-data unbiased estimate, the best single candidate's error in the same cell, and "
        "the coverage and width of \\texttt{auto}'s 90\\% interval.",
        where=(("method", "auto"),),
    ),
    Table(
        "passk_wrmse",
        "passk_real_backtests",
        "wrmse",
        (
            ("model", "model", "text"),
            ("published Beta-binomial", "published_beta_binomial", ".2f"),
            ("\\texttt{eb}", "eb_wrmse", ".2f"),
            ("\\texttt{auto}", "auto_wrmse", ".2f"),
        ),
        "Weighted RMSE of pass@$k$, $k = 10, 20, \\dots, 990$, from 10{,}000 samples spread over 128 problems "
        "(the protocol of the public \\texttt{compare\\_real.ipynb} notebook), against its published "
        "Beta-binomial figures.",
    ),
    Table(
        "passk_calibration",
        "passk_calibration",
        "rows",
        (
            ("setting", "config", "text"),
            ("method", "method", "text"),
            ("coverage (\\%)", "coverage", "pct"),
            ("s.e.", "se", "pct"),
            ("width (pp)", "width", ".2f"),
            ("MAE (pp)", "mae", ".2f"),
        ),
        "Coverage of nominal 90\\% intervals for ASR@1000 from $n = 100$ (synthetic SABER setting).",
    ),
    Table(
        "saturation_ttspm",
        "saturation_ttspm",
        "spec_table",
        (
            ("$p$", "p", ".2g"),
            ("$\\varepsilon$", "eps", ".0e"),
            ("$N^*$", "n_star", "int"),
            ("gain at $N^*$", "gain_at_n_star", ".3e"),
            ("gain at $N^*-1$", "gain_before", ".3e"),
        ),
        "Saturation points of parallel scaling, $N^* = \\min\\{N : p(1-p)^N < \\varepsilon\\}$.",
    ),
    Table(
        "saturation_heterogeneous",
        "saturation_heterogeneous",
        "table",
        (
            ("$\\alpha$", "alpha", ".3g"),
            ("$\\beta$", "beta", ".3g"),
            ("$N^*_{\\rm hom}$", "n_star_hom", "int"),
            ("$N^*_{\\rm agg}$", "n_star_agg", "int"),
            ("Hit claimed", "hit_claimed", ".3f"),
            ("Hit actual", "hit_actual", ".3f"),
        ),
        "Heterogeneous questions $p \\sim \\mathrm{Beta}(\\alpha,\\beta)$ with mean 0.1: the homogeneous formula's "
        "saturation point and the coverage it promises, against the Beta aggregate.",
    ),
    Table(
        "saturation_pythia",
        "saturation_pythia",
        "correlations",
        (
            ("$\\varepsilon$", "eps", ".0e"),
            ("$m$", "m", "int"),
            ("predictor", "method", "text"),
            ("problems", "problems", "int"),
            ("Pearson $r$", "r", ".2f"),
            ("median $|\\Delta N^*|$", "median_abs_error", ".0f"),
        ),
        "Predicted vs observed per-problem saturation points on Pythia $\\times$ MATH.",
    ),
    Table(
        "fitting_table1",
        "fitting_passk",
        "table",
        (
            ("model", "model", "text"),
            ("$a$", "a_ls", ".3f"),
            ("$a$ (Table 1)", "a_table1", ".3f"),
            ("$b$", "b_ls", ".3f"),
            ("$b$ (Table 1)", "b_table1", ".3f"),
            ("$b$ (distributional)", "b_passk_dist", ".3f"),
        ),
        "$-\\log \\mathrm{pass@}k \\approx a k^{-b}$ per Pythia model: our least-squares fit against Schaeffer et al.'s Table 1.",
    ),
    Table(
        "allocation_backtest",
        "allocation_pythia_backtest",
        "summary",
        (
            ("data", "data", "text"),
            ("pilot $n_0$", "pilot", "int"),
            ("extra per problem", "budget", ".0f"),
            ("uniform", "uniform", ".4f"),
            ("Lagrangian", "realised", ".4f"),
            ("gain (pp)", "gain_pp", ".2f"),
            ("models beating uniform", "groups_beating_uniform", "text"),
            ("multiplier", "multiplier_median", ".2f"),
            ("90\\% interval", "lower_median", ".2f"),
            ("", "upper_median", ".2f"),
        ),
        "Allocation back-test on Pythia $\\times$ MATH: realised coverage (fraction of problems solved at least once, "
        "scored exactly on held-out attempts) of the Lagrangian allocation against uniform spending of the same "
        "budget, and the compute multiplier (uniform budget needed to match, median over models, with the medians of "
        "the 90\\% bootstrap interval ends).",
        where=(("policy", "lagrangian"),),
    ),
    Table(
        "testbed_passk",
        "testbed_passk_extrapolation",
        "errors_pp",
        (
            ("observed $n$", "observed_n", "int"),
            ("method", "method", "text"),
            ("truth", "truth_at_N", ".3f"),
            ("prediction", "prediction_at_N", ".3f"),
            ("error (pp)", "error_pp_at_N", ".2f"),
            ("coverage", "coverage_90", "pct"),
        ),
        "Testbed: extrapolating pass@$N$ from $n$ sampled attempts per problem of our own transformer.",
    ),
)


def _summaries(manifest: dict[str, Any]) -> dict[str, Any]:
    return {name: entry.get("summary") for name, entry in manifest.get("experiments", {}).items()}


def _value(summaries: dict[str, Any], experiment: str, path: str, what: str) -> Any:
    if experiment not in summaries or summaries[experiment] is None:
        raise InputError(f"{what}: experiment {experiment!r} has no recorded summary (run `make reproduce`)")
    try:
        return resolve(summaries[experiment], path) if path else summaries[experiment]
    except (KeyError, TypeError) as exc:
        raise InputError(f"{what}: no {exc} in the summary of {experiment!r} (path {path!r})") from None


def render_macros(manifest: dict[str, Any], macros: Sequence[Macro] = MACROS) -> str:
    """``macros.tex``: one ``\\newcommand`` per macro, with the experiment and path it came from."""
    summaries = _summaries(manifest)
    lines = ["% Generated by `scaling-theory paper` from figures/MANIFEST.json -- do not edit.", ""]
    for m in macros:
        value = _value(summaries, m.experiment, m.path, f"macro \\{m.name}")
        if m.scale != 1.0 and value is not None:
            value = float(value) * m.scale
        lines.append(f"\\newcommand{{\\{m.name}}}{{{fmt(value, m.spec)}}}  % {m.experiment}: {m.path}")
    return "\n".join(lines) + "\n"


def _table_rows(t: Table, rows: list[dict]) -> str:
    head = " & ".join(h for h, _, _ in t.columns) + r" \\"
    body = []
    for row in rows:
        if any(str(row.get(k)) != v for k, v in t.where):
            continue
        body.append(" & ".join(fmt(row.get(field), spec) for _, field, spec in t.columns) + r" \\")
    cols = "l" * len(t.columns)
    return "\n".join(
        [
            "% Generated by `scaling-theory paper` from figures/MANIFEST.json -- do not edit.",
            r"\begin{table}[ht]",
            r"\centering\small",
            f"\\caption{{{t.caption}}}",
            f"\\label{{tab:{t.name}}}",
            f"\\begin{{tabular}}{{{cols}}}",
            r"\toprule",
            head,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{table}",
            "",
        ]
    )


def _judge_finite_t(summary: dict[str, Any]) -> str:
    """Theory vs simulation at the largest k of the official finite-T figure, for every reward misspecification c."""
    rows = []
    for c in summary["c"]:
        block = summary[f"c={c:g}"] if f"c={c:g}" in summary else summary[f"c={c}"]
        rows.append({"c": c, **block})
    t = Table(
        "judge_finite_t",
        "judge_finite_t",
        "",
        (
            ("$c$", "c", ".3g"),
            ("exact (D.E.)", "exact_kmax", ".4f"),
            ("D.E. simulation", "de_sim_kmax", ".4f"),
            ("finite-$d$ simulation", "expt_kmax", ".4f"),
            ("H.T.E. (3rd order)", "hte3_kmax", ".4f"),
            ("$k\\to\\infty$", "delta_inf", ".4f"),
        ),
        f"$\\delta/\\sigma^2$ at the largest $k$ of the official finite-$T$ figure ($t = {summary['t']:g}$): theory "
        "(exact quadrature over the deterministic equivalent, high-temperature expansion, $k\\to\\infty$ limit) "
        "against Monte Carlo.",
    )
    return _table_rows(t, rows)


#: Tables that need more than a row filter: file name → (experiment, renderer of its summary).
CUSTOM_TABLES: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "judge_finite_t": ("judge_finite_t", _judge_finite_t),
}


def render_tables(manifest: dict[str, Any], tables: Sequence[Table] = TABLES) -> dict[str, str]:
    """``{file name: LaTeX}`` for every table, plus ``experiments.tex`` (every experiment and its run time)."""
    summaries = _summaries(manifest)
    out: dict[str, str] = {}
    for name, (experiment, renderer) in CUSTOM_TABLES.items():
        summary = _value(summaries, experiment, "", f"table {name}")
        try:
            out[f"{name}.tex"] = renderer(summary)
        except (KeyError, TypeError) as exc:
            raise InputError(f"table {name}: no {exc} in the summary of {experiment!r}") from None
    for t in tables:
        rows = _value(summaries, t.experiment, t.path, f"table {t.name}")
        if not isinstance(rows, list):
            raise InputError(f"table {t.name}: {t.experiment}:{t.path} is not a list of rows")
        out[f"{t.name}.tex"] = _table_rows(t, rows)
    exp_rows = [
        {
            "experiment": name,
            "title": entry.get("title", ""),
            "seconds": entry.get("seconds"),
            "status": entry.get("status"),
        }
        for name, entry in sorted(manifest.get("experiments", {}).items())
    ]
    listing = Table(
        "experiments",
        "",
        "",
        (
            ("experiment", "experiment", "text"),
            ("quick-profile seconds", "seconds", ".0f"),
            ("status", "status", "text"),
        ),
        "Every registered experiment, with its run time at the quick profile on the machine of the manifest "
        "(\\texttt{figures/MANIFEST.json}).",
    )
    out["experiments.tex"] = _table_rows(listing, exp_rows)
    return out


def write_tables(figures: Path, out: Path) -> list[Path]:
    """Write ``macros.tex`` and every table under ``out`` from ``figures/MANIFEST.json``."""
    from scaling_theory.gallery import load_manifest

    manifest = load_manifest(figures)
    files = {"macros.tex": render_macros(manifest), **render_tables(manifest)}
    return [write_text_atomic(Path(out) / name, text) for name, text in sorted(files.items())]


def tex_available() -> bool:
    """Whether ``latexmk`` and ``pdflatex`` are on the PATH."""
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def build(paper: Path, quiet: bool = True) -> Path:
    """Build ``paper/main.pdf`` with latexmk; ``InputError`` (one line) if TeX is missing or LaTeX fails."""
    paper = Path(paper)
    if not tex_available():
        raise InputError(f"no TeX installation (latexmk, pdflatex) found; on Debian: apt-get install {TEX_PACKAGES}")
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
    if quiet:
        cmd.append("-quiet")
    proc = subprocess.run([*cmd, "main.tex"], cwd=paper, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [line for line in proc.stdout.splitlines() if ":" in line and ".tex:" in line]
        detail = errors[0] if errors else "see paper/main.log"
        raise InputError(f"LaTeX failed: {detail}")
    return paper / "main.pdf"


def undefined_references(log_text: str) -> list[str]:
    """The undefined references and citations a LaTeX log reports."""
    pattern = re.compile(r"(?:Reference|Citation) `([^']+)' .*undefined")
    return pattern.findall(log_text)
