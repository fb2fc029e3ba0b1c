"""Whole-process latency of the CLI commands that issue 13 names, optionally beside another checkout.

Each command runs once to fill its caches (JAX's compilation cache and the stored executables, in a private
folder per tree), then ``--repeats`` more times; the runs of the trees are interleaved so that a change in
the machine's load hits both sides alike. Prints wall time median / min / max per command and tree, and
whether the trees printed the same output.

    python experiments/benchmarks/bench_latency.py                      # this tree only
    python experiments/benchmarks/bench_latency.py --baseline ../old    # side by side with another checkout
    python experiments/benchmarks/bench_latency.py --baseline ../old --baseline-pythonpath /tmp/extra

``--baseline-pythonpath`` prepends folders to the baseline's ``PYTHONPATH`` (e.g. other versions of a
dependency, to measure a change of pin). Both trees run with this interpreter.

``--warm`` measures instead, in one warm process per tree (best of 3 after a warm-up): Chen's pass@k on a
(64, 128, 32) grid (the shape of auto's fit grid), ``passk.predict(..., "auto")`` on the Pythia table, and the
accuracy of the Beta law's log-survival at N = 1, where it is exactly log(β/(α+β)) (1,000 (α, β) over ten
decades; max relative error).

    python experiments/benchmarks/bench_latency.py --warm --baseline ../old
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from _machine import cpu_model  # noqa: E402

COMMANDS = {
    "--help": ["--help"],
    "argument error": ["saturation", "point", "--eps"],
    "saturation point": ["saturation", "point", "--p", "0.1", "0.3", "0.5", "--eps", "0.01"],
    "judge curve": (
        "judge curve --d 10 --n 10000 --sigma 1e-4 --gamma 1e-3 --teacher-scale 4 --c 10 --t 0 --k 50 100 199".split()
    ),
    "passk predict (auto)": (
        "passk predict data/pythia_math_counts.csv --budget 100000 1000000 --group-by model".split()
    ),
    "passk predict --method eb": (
        "passk predict data/pythia_math_counts.csv --budget 100000 1000000 --group-by model --method eb".split()
    ),
}


# --warm: run in each tree (PYTHONPATH) by this interpreter; prints one "label value" line per measurement.
_WARM = """
import time
import jax
import numpy as np
jax.config.update("jax_enable_x64", True)
from scaling_theory import beta
from scaling_theory.io import read_counts
from scaling_theory.passk.grouping import stack_groups
from scaling_theory.passk.estimators import pass_at_k
from scaling_theory.passk import predict

def best(f):
    f()
    times = []
    for _ in range(3):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)

rng = np.random.default_rng(0)
n, c = np.full((64, 128, 1), 10000.0), rng.integers(0, 10000, (64, 128, 1)).astype(float)
ks = np.round(np.geomspace(5, 9999, 32))
print("pass@k (64, 128, 32) grid, s", best(lambda: np.asarray(pass_at_k(n, c, ks))))
s = stack_groups(read_counts("data/pythia_math_counts.csv", ["model"]), ["model"])
key = jax.random.key(0)
print("predict auto, Pythia, 2 budgets, s", best(lambda: predict(key, s.n, s.k, [1e5, 1e6], "auto", mask=s.mask).asr))
a, b = 10 ** np.random.default_rng(2).uniform(-3, 7, (2, 1000))
got = np.asarray(beta.log_survival(a, b, 1.0))
print("log_survival at N = 1, max rel error", np.max(np.abs(got + np.log1p(a / b)) / np.log1p(a / b)))
"""


def _warm(tree: Path, pythonpath: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, str(tree)) if p)
    proc = subprocess.run([sys.executable, "-c", _WARM], cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{tree}: the warm measurement failed:\n{proc.stderr[-2000:]}")
    return dict(line.rsplit(" ", 1) for line in proc.stdout.splitlines() if line.strip())


# What the `scaling-theory` console script runs, importable from either tree through PYTHONPATH.
# What each tree's `scaling-theory` console script runs: `cli.run` (main, then the quick exit) where the tree has
# it, else `sys.exit(cli.main())`.
_ENTRY = (
    "import sys; from scaling_theory import cli; sys.argv[0] = 'scaling-theory'; "
    "cli.run() if hasattr(cli, 'run') else sys.exit(cli.main())"
)


def _run(tree: Path, args: list[str], cache: Path, pythonpath: str) -> tuple[float, str]:
    env = dict(os.environ)
    env["SCALING_THEORY_JAX_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, str(tree)) if p)
    env.pop("SCALING_THEORY_NO_CACHE", None)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _ENTRY, *args], cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    return wall, proc.stdout + f"[exit {proc.returncode}]"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, help="another checkout of the project, run beside this one")
    ap.add_argument("--baseline-pythonpath", default="", help="folders prepended to the baseline's PYTHONPATH")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*", help="substrings of the command labels to run")
    ap.add_argument("--warm", action="store_true", help="library calls in a warm process instead (docstring)")
    args = ap.parse_args(argv)
    trees = [("this tree", ROOT, "")]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve(), args.baseline_pythonpath))
    commands = {k: v for k, v in COMMANDS.items() if not args.only or any(o in k for o in args.only)}
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; load {os.getloadavg()}")
    for label, tree, pp in trees:
        print(f"{label}: {tree}" + (f" (PYTHONPATH += {pp})" if pp else ""))
    if args.warm:
        results = {label: _warm(tree, pp) for label, tree, pp in trees}
        print(f"\n{'measurement':42s} " + " ".join(f"{label:>12s}" for label, _, _ in trees))
        for name in next(iter(results.values())):
            print(f"{name:42s} " + " ".join(f"{float(r[name]):12.3g}" for r in results.values()))
        return 0
    with tempfile.TemporaryDirectory(prefix="latency-") as tmp:
        caches = {label: Path(tmp) / label.replace(" ", "_") for label, _, _ in trees}
        print(f"\n{'command':28s} " + " ".join(f"{label + ' median (min-max) s':>30s}" for label, _, _ in trees))
        for name, cmd in commands.items():
            times: dict[str, list[float]] = {label: [] for label, _, _ in trees}
            outputs: dict[str, str] = {}
            for label, tree, pp in trees:  # warm-up: fills each tree's caches
                _, outputs[label] = _run(tree, cmd, caches[label], pp)
            for _ in range(args.repeats):
                for label, tree, pp in trees:
                    wall, _ = _run(tree, cmd, caches[label], pp)
                    times[label].append(wall)
            cells = [f"{statistics.median(t):8.2f} ({min(t):.2f}-{max(t):.2f})".rjust(30) for t in times.values()]
            same = (
                "" if len(trees) == 1 else ("  same output" if len(set(outputs.values())) == 1 else "  OUTPUT DIFFERS")
            )
            print(f"{name:28s} " + " ".join(cells) + same, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
