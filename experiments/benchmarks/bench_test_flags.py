"""What the test suite's XLA options (``tests/conftest.py``, ``FAST_COMPILE_FLAGS``) save, and what they change.

``make test`` compiles hundreds of programs that each run once on small inputs, so it sets XLA options that
compile faster. This runs one workload in a fresh process per option set, without a compilation cache:

* ``passk.predict(..., "auto")`` on the shipped Pythia table (two budgets): 100+ programs, the heaviest
  command of the library; wall time of the call and the seconds XLA spent compiling (``backend_compile``);
* values of the float64 cores (lgamma, digamma, the log-gamma ratio difference, the Beta log-survival and
  budget, Chen's pass@k, the Beta-binomial MLE, ``eb`` predictions) on fixed random inputs.

Prints, per option set, the wall and compile seconds, and per value the largest difference from XLA's defaults
(what users run), ``max |Δ| / max(|v|, 1)``: relative for values above 1, absolute below (lgamma has zeros
at 1 and 2, where a relative difference means nothing).

    python experiments/benchmarks/bench_test_flags.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from _machine import cpu_model  # noqa: E402


def _suite_flags() -> tuple[str, ...]:
    """``FAST_COMPILE_FLAGS`` of tests/conftest.py (read from the file, not imported: importing it configures JAX)."""
    import ast

    tree = ast.parse((ROOT / "tests" / "conftest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "FAST_COMPILE_FLAGS" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise SystemExit("tests/conftest.py defines no FAST_COMPILE_FLAGS")


_WORKLOAD = r"""
import cProfile, json, pstats, sys, time
import jax
import numpy as np
jax.config.update("jax_enable_x64", True)
from scaling_theory import beta, special
from scaling_theory.io import read_counts
from scaling_theory.passk import mle, predict
from scaling_theory.passk.estimators import pass_at_k
from scaling_theory.passk.grouping import stack_groups

s = stack_groups(read_counts("data/pythia_math_counts.csv", ["model"]), ["model"])
prof = cProfile.Profile()
start = time.perf_counter()
prof.enable()
np.asarray(predict(jax.random.key(0), s.n, s.k, [1e5, 1e6], "auto", mask=s.mask).asr)
prof.disable()
wall = time.perf_counter() - start
compile_s = sum(v[3] for k, v in pstats.Stats(prof).stats.items() if k[2] == "backend_compile_and_load")

rng = np.random.default_rng(0)
x, h = 10 ** rng.uniform(-3, 6, (2, 5000))
a, b = 10 ** rng.uniform(-2, 2, 3000), 10 ** rng.uniform(-1, 3, 3000)
n = np.full((8, 200), 100.0)
c = rng.binomial(100, rng.beta(0.3, 3, (8, 200))).astype(float)
fit = mle.fit(n, c)
eb = predict(jax.random.key(1), n, c, [1e3, 1e5], "eb")
values = {
    "lgamma": special.lgamma(x),
    "digamma": special.digamma(x),
    "log_gamma_ratio_diff": special.log_gamma_ratio_diff(x, h, 0.3 * x),
    "beta.log_survival": beta.log_survival(a, b, 1e5),
    "beta.budget": beta.budget(a, b, 0.5),
    "pass_at_k": pass_at_k(n[..., None], c[..., None], np.array([1.0, 10.0, 50.0, 90.0])),
    "mle alpha, beta": np.concatenate([np.asarray(fit.alpha), np.asarray(fit.beta)]),
    "eb estimate, interval": np.concatenate([np.ravel(eb.asr), np.ravel(eb.lower), np.ravel(eb.upper)]),
}
json.dump({"wall": wall, "compile": compile_s, "values": {k: np.ravel(np.asarray(v)).tolist() for k, v in values.items()}},
          sys.stdout)
"""


def _run(flags: tuple[str, ...]) -> dict:
    env = dict(os.environ, XLA_FLAGS=" ".join(flags), SCALING_THEORY_NO_CACHE="1")
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, "-c", _WORKLOAD], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"workload failed with XLA_FLAGS={' '.join(flags)!r}:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def main() -> int:
    import numpy as np

    suite = _suite_flags()
    sets = {
        "XLA defaults": (),
        "level 0 only": tuple(f for f in suite if "fusion_emitters" not in f),
        "make test (all)": suite,
    }
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; load {os.getloadavg()}")
    print(f"make test's XLA_FLAGS: {' '.join(suite)}")
    results = {label: _run(flags) for label, flags in sets.items()}
    print(f"\n{'option set':20s} {'auto wall s':>12s} {'XLA compile s':>14s}")
    for label, r in results.items():
        print(f"{label:20s} {r['wall']:12.1f} {r['compile']:14.1f}")
    base = results["XLA defaults"]["values"]
    print("\nmax |Δ| / max(|v|, 1) against XLA defaults")
    print(f"{'value':24s} " + " ".join(f"{label:>20s}" for label in list(sets)[1:]))
    for name, ref in base.items():
        ref_a = np.asarray(ref)
        cells = []
        for label in list(sets)[1:]:
            got = np.asarray(results[label]["values"][name])
            rel = np.abs(got - ref_a) / np.maximum(np.abs(ref_a), 1.0)
            cells.append(f"{np.max(rel):20.2e}")
        print(f"{name:24s} " + " ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
