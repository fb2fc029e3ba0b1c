"""The contract's "one vocabulary" (docs/CONTRIBUTING.md): names in public signatures mean one thing.

Read from the source (AST), so the check imports nothing heavy: every public function and public method of a
public class in the areas' public modules (a superset of each area's ``__all__``).

* successes are ``c``: no public signature takes both ``n`` and ``k`` (``k`` then means successes), except the
  pass@k functions, where ``k`` is the budget of ``pass_at_k`` and the data are ``c`` (or a rate ``p``);
* no public parameter is named ``m`` (it meant a mask, a verifier model, observed attempts and a number of answers);
* the concepts that had one name for two things now have one definition each.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scaling_theory"
AREAS = ("passk", "allocation", "saturation", "judge", "testbed", "report", "fitting")
SHARED = ("beta.py", "stats.py", "special.py", "numerics.py", "io.py")


def _public_modules() -> list[Path]:
    files = [PACKAGE / name for name in SHARED if (PACKAGE / name).exists()]
    for area in AREAS:
        files += [p for p in sorted((PACKAGE / area).glob("*.py")) if not p.name.startswith("_") and p.name != "cli.py"]
    return files


def _public_functions() -> list[tuple[str, str, list[str]]]:
    """(module:qualname, name, parameter names) of every public function and public method of a public class."""
    out = []
    for path in _public_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mod = path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", ".")
        nodes: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                nodes.append((node.name, node))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                nodes += [
                    (f"{node.name}.{m.name}", m)
                    for m in node.body
                    if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                ]
        for qual, fn in nodes:
            if fn.name.startswith("_"):
                continue
            a = fn.args
            params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
            out.append((f"{mod}:{qual}", fn.name, params))
    return out


FUNCTIONS = _public_functions()
# Public functions where ``k`` next to ``n`` is a budget, not successes (the data there are not (n, k) counts).
K_IS_A_BUDGET = {"resampling_reward"}  # verifiers: reward of K resampling rounds given n logged attempts


def test_the_scan_sees_the_api():
    names = {name for _, name, _ in FUNCTIONS}
    # a scan that found nothing would pass every check below
    assert {"fit", "predict", "allocate", "optimal_temperature", "subsample", "selection_error"} <= names
    assert len(FUNCTIONS) > 300


def test_successes_are_c_not_k():
    bad = [
        f"{where}({', '.join(params)})"
        for where, name, params in FUNCTIONS
        if "n" in params and "k" in params and "c" not in params and "p" not in params and name not in K_IS_A_BUDGET
    ]
    assert not bad, "k names a success count next to n (use c):\n" + "\n".join(bad)


def test_no_public_parameter_is_m():
    bad = [f"{where}({', '.join(params)})" for where, _, params in FUNCTIONS if "m" in params]
    assert not bad, "public parameter named m (mask / verifier / n_obs / num_answers):\n" + "\n".join(bad)


@pytest.mark.parametrize(
    "name, module",
    [
        ("optimal_k", "scaling_theory.judge.analysis"),  # the judge's best-of-k optimum of δ(k)
        ("stationary_k", "scaling_theory.judge.analysis"),  # the expansion's stationary point of δ₂ in k
        ("optimal_sample_count", "scaling_theory.saturation.verifiers"),  # K_opt of the resampling utility
        ("selection_error", "scaling_theory.judge.selection"),  # the BLR judge's δ(k, T), a model
        ("empirical_selection_error", "scaling_theory.testbed.analysis"),  # δ(k, T) measured on logged attempts
    ],
)
def test_each_concept_has_one_definition(name, module):
    where = defaultdict(list)
    for qual, fn_name, _ in FUNCTIONS:
        where[fn_name].append(qual)
    assert len(where[name]) == 1 and where[name][0].startswith(module + ":"), where[name]
