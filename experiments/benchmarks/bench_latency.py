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


# What the `scaling-theory` console script runs, importable from either tree through PYTHONPATH.
_ENTRY = "import sys; from scaling_theory.cli import main; sys.argv[0] = 'scaling-theory'; sys.exit(main())"


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
    args = ap.parse_args(argv)
    trees = [("this tree", ROOT, "")]
    if args.baseline is not None:
        trees.insert(0, ("baseline", args.baseline.resolve(), args.baseline_pythonpath))
    commands = {k: v for k, v in COMMANDS.items() if not args.only or any(o in k for o in args.only)}
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; load {os.getloadavg()}")
    for label, tree, pp in trees:
        print(f"{label}: {tree}" + (f" (PYTHONPATH += {pp})" if pp else ""))
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
