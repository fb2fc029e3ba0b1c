"""Experiment scripts orchestrate and plot; model logic lives in the library (docs/CONTRIBUTING.md).

Checked mechanically on the source (AST) of every ``experiments/*.py`` (not the benchmarks):

1. names imported from ``scaling_theory`` are public: no module path component and no imported name
   starts with an underscore, and no private attribute (``x._name``) of a library object is read;
2. module-level functions are ``run``/``main`` or presentation helpers (``_figure*``, ``_plot*``,
   ``_print*``, ``_table*``), or are listed in :data:`ALLOWED` with the reason they are orchestration;
3. no numerical recipe is written inline: no calls to least-squares fitters (``polyfit``, ``lstsq``),
   finite-difference derivatives (``gradient``) or NumPy seeding (``default_rng``, ``np.random.*``) —
   these come from the library (``scaling_theory.stats``, the areas) and randomness from a key.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

EXPERIMENTS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.py"))
PRESENTATION = ("_figure", "_plot", "_print", "_table")
# file -> {function: reason}. Each entry runs one sub-study by calling the library; none computes a model.
ALLOWED: dict[str, dict[str, str]] = {
    "fitting_methods.py": {
        "_noise_free_bias": "sub-study: fits noise-free synthetic curves with fitting.fit_many",
        "_noisy_studies": "sub-study: bootstrap/posterior intervals of the library on noisy sets",
        "_datablations": "sub-study: loads the Datablations table and calls the library's fitters",
        "_testbed": "sub-study: reuses testbed_scaling's runs and fits them with the library",
        "_coverage": "sub-study: coverage of the library's intervals over synthetic data sets",
    },
    "fitting_recovery.py": {"_posterior_comparison": "sub-study: the library's bootstrap vs posterior"},
    "passk_pythia_backtest.py": {
        "load": "reads the shipped Pythia table (io.read_counts) into the padded arrays the library takes",
        "_exponents": "sub-study: passk.exponent estimators per model",
        "_curves": "sub-study: observed vs predicted curves from passk.predict",
    },
    "passk_real_backtests.py": {
        "_pythia": "sub-study: passk.backtest on the Pythia table",
        "_checkpoints": "sub-study: passk.backtest on the checkpoint table",
        "_saber": "sub-study: passk.backtest on the SABER table",
        "_testbed": "sub-study: passk.backtest on the testbed run",
        "_external": "sub-study: passk.predict on an external table",
        "_cell": "runs one (data, method) cell of the study through passk.backtest",
    },
    "testbed_judge_selection.py": {"_blr_reference": "evaluates judge.selection.selection_error for the overlay"},
    "testbed_scaling.py": {"_runs": "loads/trains the testbed runs through testbed.run (cached)"},
}
FORBIDDEN_CALLS = {"polyfit", "lstsq", "gradient", "default_rng"}


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


@pytest.mark.parametrize("path", EXPERIMENTS, ids=_ids(EXPERIMENTS))
def test_experiment_imports_only_public_names(path):
    tree = ast.parse(path.read_text())
    bad = []
    library = set()  # local names bound to scaling_theory modules or objects
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("scaling_theory"):
            library |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            library |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("scaling_theory")}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("scaling_theory"):
            if any(part.startswith("_") for part in node.module.split(".")):
                bad.append(node.module)
            bad += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.startswith("scaling_theory") and "._" in a.name]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in library:
                bad.append(ast.unparse(node))
    assert not bad, f"{path.name} uses private names: {bad}"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=_ids(EXPERIMENTS))
def test_experiment_defines_no_numerical_helpers(path):
    tree = ast.parse(path.read_text())
    allowed = ALLOWED.get(path.name, {})
    helpers = [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name not in ("run", "main")
        and not node.name.startswith(PRESENTATION)
        and node.name not in allowed
    ]
    assert not helpers, f"{path.name} defines {helpers}: move model logic into the library"
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert not classes, f"{path.name} defines classes {classes}"


@pytest.mark.parametrize("path", EXPERIMENTS, ids=_ids(EXPERIMENTS))
def test_experiment_writes_no_numerical_recipe_inline(path):
    tree = ast.parse(path.read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in FORBIDDEN_CALLS:
                bad.append(ast.unparse(f))
        if isinstance(node, ast.Attribute) and node.attr == "random" and ast.unparse(node.value) in ("np", "numpy"):
            bad.append(ast.unparse(node))
    assert not bad, f"{path.name} calls {sorted(set(bad))}: use scaling_theory.stats / the areas and a key"


def test_allow_list_names_existing_functions():
    # a stale entry would silently widen the rule
    for name, funcs in ALLOWED.items():
        tree = ast.parse((EXPERIMENTS[0].parent / name).read_text())
        defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        assert set(funcs) <= defined, f"{name}: allow-listed {sorted(set(funcs) - defined)} no longer exist"
