"""The mechanical parts of the library contract (docs/CONTRIBUTING.md).

(a) ``scaling_theory`` and every area package declare ``__all__`` and every name in it resolves;
(b) the CLI modules (``scaling_theory/cli.py``, ``scaling_theory/*/cli.py``) import only public names of the
    library (no ``_name``, no ``_module`` on the path, and from an area package only names of its ``__all__`` or
    its public submodules) and
    hold no numerical code: no ``jax``/``jnp``/``lax``/``scipy`` use but making a key from a seed
    (``jax.random.key``/``PRNGKey``), and from NumPy only the conversions and checks of :data:`NUMPY_ALLOWED`;
(c) ``import scaling_theory.cli`` and parsing ``--help`` (or a bad argument) import no heavy module.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "scaling_theory"
AREAS = ("passk", "judge", "saturation", "fitting", "testbed", "allocation", "report")
CLI_FILES = sorted([PACKAGE / "cli.py", *PACKAGE.glob("*/cli.py")])

# NumPy in a CLI module: converting parsed values and checking them, nothing that computes a model's numbers.
NUMPY_ALLOWED = {"asarray", "isfinite", "isnan", "ndarray", "float64", "int64", "integer", "floating"}
JAX_ALLOWED = {("random", "key"), ("random", "PRNGKey")}  # a key from the --seed the user gave
NUMERIC_MODULES = {"jax", "jax.numpy", "jax.lax", "jax.scipy", "scipy", "numpyro", "optax", "flax", "math"}
HEAVY = ("jax", "jaxlib", "numpy", "pandas", "scipy", "matplotlib", "flax", "numpyro", "optax")


# ----------------------------------------------------------------------------------------------------- (a)
@pytest.mark.parametrize("name", ["scaling_theory", *(f"scaling_theory.{a}" for a in AREAS)])
def test_package_declares_all_and_every_name_resolves(name):
    module = importlib.import_module(name)
    names = getattr(module, "__all__", None)
    assert isinstance(names, list | tuple) and names, f"{name} declares no __all__"
    assert len(set(names)) == len(names), f"{name}.__all__ repeats a name"
    for attr in names:
        assert isinstance(attr, str)
        assert hasattr(module, attr), f"{name}.__all__ lists {attr!r}, which does not resolve"


def test_public_import_paths_still_work():
    from scaling_theory.fitting import backtest, fit
    from scaling_theory.passk import fit as passk_fit
    from scaling_theory.passk import predict

    importlib.import_module("scaling_theory.fitting.fit")  # the submodule import must not shadow the function
    importlib.import_module("scaling_theory.fitting.backtest")
    from scaling_theory import fitting

    assert callable(fit) and callable(backtest) and callable(predict) and callable(passk_fit)
    assert fitting.fit is fit and fitting.backtest is backtest
    assert fit.__module__ == "scaling_theory.fitting.fit"
    assert predict.__module__ == "scaling_theory.passk.predictors"


# ----------------------------------------------------------------------------------------------------- (b)
def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` of a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def cli_violations(source: str, filename: str = "<cli>") -> list[str]:
    """Breaches of rule (b) in the source of one CLI module (an empty list when it obeys)."""
    tree = ast.parse(source, filename)
    out: list[str] = []
    aliases: dict[str, str] = {}  # local name -> module it stands for (numpy, jax, jax.numpy, ...)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
                if a.name.startswith("scaling_theory") and any(_private(p) for p in a.name.split(".")):
                    out.append(f"line {node.lineno}: imports the private module {a.name}")
                if a.name in NUMERIC_MODULES - {"jax"} or a.name.split(".")[0] in {"scipy", "numpyro", "optax", "flax"}:
                    out.append(f"line {node.lineno}: imports {a.name} (numerical code belongs in the library)")
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if mod in NUMERIC_MODULES - {"jax"} or mod.split(".")[0] in {"scipy", "numpyro", "optax", "flax"}:
                out.append(f"line {node.lineno}: imports from {mod} (numerical code belongs in the library)")
            if mod == "jax":
                out.append(f"line {node.lineno}: from jax import ... (use jax.random.key(seed) only)")
            if not mod.startswith("scaling_theory"):
                continue
            if any(_private(p) for p in mod.split(".")):
                out.append(f"line {node.lineno}: imports from the private module {mod}")
            public = None
            if mod == "scaling_theory" or (mod.count(".") == 1 and mod.split(".")[1] in AREAS):
                public = set(importlib.import_module(mod).__all__)
            for a in node.names:
                if _private(a.name):
                    out.append(f"line {node.lineno}: imports the private name {mod}.{a.name}")
                elif public is not None and a.name not in public and find_spec(f"{mod}.{a.name}") is None:
                    out.append(f"line {node.lineno}: {mod}.{a.name} is not in {mod}.__all__")
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue  # judge whole chains (jax.random.key), not their prefixes (jax.random)
        dotted = _dotted(node)
        if dotted is None:
            continue
        head, *rest = dotted.split(".")
        target = aliases.get(head)
        if target is None or not rest:
            continue
        if target == "numpy" and rest[0] not in NUMPY_ALLOWED:
            out.append(f"line {node.lineno}: {dotted} (NumPy arithmetic belongs in the library)")
        elif target == "jax" and tuple(rest[:2]) not in JAX_ALLOWED:
            out.append(f"line {node.lineno}: {dotted} (JAX belongs in the library)")
        elif target in ("jax.numpy", "jax.lax", "jax.scipy", "scipy", "math"):
            out.append(f"line {node.lineno}: {dotted} (numerical code belongs in the library)")
    return sorted(set(out))


@pytest.mark.parametrize("path", CLI_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cli_module_imports_public_names_and_holds_no_numerics(path):
    assert cli_violations(path.read_text(), str(path)) == []


def test_cli_files_are_found():
    names = {str(p.relative_to(PACKAGE)) for p in CLI_FILES}
    assert {"cli.py", "passk/cli.py", "judge/cli.py", "saturation/cli.py", "fitting/cli.py"} <= names


@pytest.mark.parametrize(
    "source,needle",
    [
        ("import numpy as np\ndef h(args):\n    return np.quantile(args.x, 0.5)\n", "np.quantile"),
        ("import jax.numpy as jnp\ndef h(args):\n    return jnp.exp(args.x)\n", "jax.numpy"),
        ("def h(args):\n    import jax\n    return jax.jit(abs)(args.x)\n", "jax.jit"),
        ("from scaling_theory.judge._exact import exact_curve\n", "private module"),
        ("from scaling_theory.saturation.ttspm import _something\n", "private name"),
        ("from scaling_theory.passk import not_exported_name\n", "not in scaling_theory.passk.__all__"),
        ("from scipy.special import betaln\n", "scipy.special"),
        ("import math\ndef h(args):\n    return math.log(args.x)\n", "math"),
    ],
)
def test_the_cli_rule_catches_a_breach(source, needle):
    found = cli_violations(source)
    assert found and any(needle in v for v in found), found


def test_the_cli_rule_allows_a_key_from_a_seed_and_checks():
    source = (
        "import numpy as np\n"
        "def h(args):\n"
        "    import jax\n"
        "    key = jax.random.key(args.seed)\n"
        "    return key, np.isfinite(args.x), np.asarray(args.k)\n"
    )
    assert cli_violations(source) == []


# ----------------------------------------------------------------------------------------------------- (c)
PROBE = """
import json, sys
import scaling_theory.cli as cli
parser = cli.build_parser()
for argv in {argvs!r}:
    try:
        parser.parse_args(argv)
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


@pytest.mark.parametrize(
    "argvs",
    [
        [["--help"]],
        [["passk", "predict", "--help"], ["judge", "curve", "--help"], ["fit", "--help"]],
        [["saturation", "point", "--eps"], ["judge", "curve", "--d", "x"], ["allocate", "--help"]],
    ],
    ids=["help", "verb-help", "argument-errors"],
)
def test_help_and_argument_errors_import_nothing_heavy(argvs):
    code = PROBE.format(argvs=argvs, heavy=HEAVY)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout.strip().splitlines()[-1]) == []


def test_the_heavy_import_probe_can_fail():
    code = PROBE.format(argvs=[], heavy=HEAVY).replace("import json, sys", "import json, sys\nimport numpy")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert json.loads(res.stdout.strip().splitlines()[-1]) == ["numpy"]
