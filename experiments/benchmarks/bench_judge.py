"""Benchmark of the judge area: the official PyTorch script of Halder & Pehlevan (arXiv 2512.19905,
``BLR_non_zero_T.py``) side by side with ``BLRJudge.simulate`` (``mc`` and ``conditional``), in one run.

Setting: the paper's finite-T figure (d = 10, n = 10⁴, σ = 1e-4, γ = 1e-3, |w_T|²/d = 4, t = T/(2σ²) = 10,
c = 10), k = 1…99, 100 trials. The official ``run_inferences`` always runs two Monte Carlo branches
(finite-d posterior and deterministic equivalent), so "equal work" is both branches on both sides at
the same n_test and trials. The official script is loaded from ``../shared/reference/blr_official/``
(its definitions above ``# Parameters`` only, as its README says; never copied here) and needs
``torch`` (the ``bench`` extra). It is timed with torch's default threads and with one thread (under
load, two spin-waiting OpenMP threads can be several times slower); the faster is the baseline.
Ours runs on one forced host device per core (set below, before JAX starts), so both sides use every core.

Standard errors are over test inputs. The official estimator is the same as our ``mc`` (mean over
inputs of the trial mean of the prefix ratio Σwe/Σw), so at equal n_test and trials its standard error
is that of our ``mc`` run. ``conditional`` removes the trial noise (a fixed-node rule per input, the full
quadrature where that rule is not accurate) and most of the input noise (control variate δ_x(1) = b² + s²,
whose mean over inputs is known in closed form): it is timed at equal n_test and at the n_test that
matches the ``mc`` standard error at every k (from the measured per-input variances, at least
``MIN_INPUTS``).
Run: ``python experiments/benchmarks/bench_judge.py [--quick]``; ``--devices-scan`` prints the throughput
of both estimators on 1, 2 and 4 forced host devices (each in a fresh process) instead.
"""

from __future__ import annotations

import os

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={_CORES}".strip()
    )

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import jax  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import describe  # noqa: E402

from scaling_theory.judge.model import BLRJudge  # noqa: E402
from scaling_theory.tables import format_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = ROOT.parent / "shared" / "reference" / "blr_official" / "BLR_non_zero_T.py"
D, N, SIGMA, GAMMA, V, T_PAPER, C = 10, 10_000, 1e-4, 1e-3, 4.0, 10.0, 10.0
KS = np.arange(1, 100)
TRIALS = 100
SHOW = [0, 1, 9, 49, 98]  # k = 1, 2, 10, 50, 99
MIN_INPUTS = 256  # conditional: never fewer test inputs than this (a credible s.e. and control-variate slope)


def load_official() -> dict | None:
    """The official script's definitions (everything above ``# Parameters``), or None if unavailable."""
    try:
        import torch  # noqa: F401
    except ImportError:
        print("official: torch is not installed (pip install -e '.[bench]'); skipped")
        return None
    if not OFFICIAL.exists():
        print(f"official: {OFFICIAL} not found; skipped")
        return None
    src = OFFICIAL.read_text().split("# Parameters")[0]
    ns: dict = {"__name__": "blr_official"}
    exec(compile(src, str(OFFICIAL), "exec"), ns)  # noqa: S102 - the unmodified reference script
    return ns


def time_official(ns: dict, n_test: int) -> tuple[float, dict, np.ndarray, np.ndarray]:
    """Best time of ``run_inferences`` (both branches) over torch thread settings; its δ/σ² curves."""
    import torch

    torch.manual_seed(0)
    w_T = torch.normal(0.0, math.sqrt(V), size=(D,))
    T = 2.0 * SIGMA**2 * T_PAPER
    default_threads = torch.get_num_threads()
    times = {}
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        emp, _, de = ns["run_inferences"](N, D, 1.0, w_T, SIGMA, GAMMA, n_test, 1, int(KS[-1]) + 1, TRIALS, T, C)
        times[threads] = time.perf_counter() - t0
    torch.set_num_threads(default_threads)
    return min(times.values()), times, emp.numpy() / SIGMA**2, de.numpy() / SIGMA**2


def time_ours(judge: BLRJudge, n_test: int, estimator: str, seed: int = 1) -> tuple[float, dict]:
    """Time of both branches (finite, de) after compilation; results per branch."""
    T = float(judge.temperature(T_PAPER))
    out, total = {}, 0.0
    for post in ("finite", "de"):
        judge.simulate(
            KS, T, jax.random.key(seed + 100), trials=TRIALS, n_test=n_test, posterior=post, estimator=estimator
        )
        t0 = time.perf_counter()
        out[post] = judge.simulate(
            KS, T, jax.random.key(seed), trials=TRIALS, n_test=n_test, posterior=post, estimator=estimator
        )
        total += time.perf_counter() - t0
    return total, out


def throughput(n_test: int, n_cond: int) -> dict:
    """Draws per second of ``mc`` and test inputs per second of ``conditional`` (finite-d branch,
    the paper's setting, after compilation) on the devices of this process."""
    judge = BLRJudge(D, N, SIGMA, GAMMA, teacher_scale=V, c=C)
    T = float(judge.temperature(T_PAPER))
    row = {"devices": jax.device_count()}
    for est, n in (("mc", n_test), ("conditional", n_cond)):
        judge.simulate(KS, T, jax.random.key(0), trials=TRIALS, n_test=n, estimator=est)
        t0 = time.perf_counter()
        judge.simulate(KS, T, jax.random.key(1), trials=TRIALS, n_test=n, estimator=est)
        dt = time.perf_counter() - t0
        row[f"{est} s"] = dt
        row["mc draws/s" if est == "mc" else "conditional inputs/s"] = (
            n * TRIALS * int(KS[-1]) if est == "mc" else n
        ) / dt
    return row


def devices_scan(counts: tuple[int, ...] = (1, 2, 4)) -> int:
    """Throughput vs the number of forced host devices, each count in a fresh process."""
    import json
    import subprocess

    print(describe())
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    for n in counts:
        env = dict(os.environ)
        flags = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f)
        env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
        proc = subprocess.run(
            [sys.executable, __file__, "--throughput-json"], env=env, capture_output=True, text=True, check=True
        )
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = rows[0]
    for r in rows:
        r["mc speed-up"] = r["mc draws/s"] / base["mc draws/s"]
        r["conditional speed-up"] = r["conditional inputs/s"] / base["conditional inputs/s"]
    print(format_table(rows, digits=4))
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n_test = 2000 instead of 10⁴")
    parser.add_argument("--devices-scan", action="store_true", help="throughput on 1, 2, 4 forced host devices")
    parser.add_argument("--throughput-json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.devices_scan:
        return devices_scan()
    if args.throughput_json:
        import json

        print(json.dumps(throughput(4096, 256)))
        return 0
    n_test = 2_000 if args.quick else 10_000
    print(describe())
    print(
        f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (shared machine: timings are under this load)"
    )
    print(
        f"setting: d={D} n={N} σ={SIGMA:g} γ={GAMMA:g} |w_T|²/d={V:g} t={T_PAPER:g} c={C:g} k=1..{KS[-1]} "
        f"trials={TRIALS} n_test={n_test}; both branches (finite-d and DE) on both sides"
    )
    judge = BLRJudge(D, N, SIGMA, GAMMA, teacher_scale=V, c=C)
    s2 = judge.sigma2

    ns = load_official()
    t_off = None
    if ns is not None:
        t_off, by_threads, off_emp, off_de = time_official(ns, n_test)
        print("official run_inferences: " + ", ".join(f"{th} thread(s) {t:.3f} s" for th, t in by_threads.items()))

    t_mc, mc = time_ours(judge, n_test, "mc")
    # conditional: per-input variance from a pilot, then the n_test matching the mc standard error at every k
    pilot_n = 512
    _, pilot = time_ours(judge, pilot_n, "conditional", seed=7)
    var_mc = {p: (mc[p].stderr ** 2) * n_test for p in mc}
    var_c = {p: (pilot[p].stderr ** 2) * pilot_n for p in pilot}
    need = max(int(math.ceil(n_test * np.max(var_c[p] / var_mc[p]))) for p in mc)
    need = max(need, MIN_INPUTS)
    for _ in range(4):  # the pilot variance is itself noisy (heavy-tailed at k = 1): grow n until s.e. ≤ mc's
        t_c_eq_se, cond_eq_se = time_ours(judge, need, "conditional")
        worst = max(float(np.max((cond_eq_se[p].stderr / mc[p].stderr) ** 2)) for p in mc)
        if worst <= 1.0:
            break
        need = int(math.ceil(need * worst * 1.05))
    t_c_eq_n, cond_eq_n = time_ours(judge, n_test, "conditional")

    print(
        f"\nδ/σ² (± s.e.) at selected k, finite-d branch (n_test={n_test}; the official s.e. is that of the same estimator, = mc)"
    )
    rows = []
    for i in SHOW:
        row = {"k": int(KS[i])}
        if ns is not None:
            row["official"] = float(off_emp[i])
        row.update(
            {
                "mc": mc["finite"].delta[i] / s2,
                "mc s.e.": mc["finite"].stderr[i] / s2,
                "conditional": cond_eq_n["finite"].delta[i] / s2,
                "cond s.e.": cond_eq_n["finite"].stderr[i] / s2,
                f"cond n={need}": cond_eq_se["finite"].delta[i] / s2,
                "s.e. ": cond_eq_se["finite"].stderr[i] / s2,
            }
        )
        rows.append(row)
    print(format_table(rows, digits=5))
    exact = judge.error(KS, float(judge.temperature(T_PAPER))) / s2

    def max_z(res) -> float:  # k with s.e. > 0 (conditional: δ(1) is the closed form, s.e. 0)
        se = res.stderr / s2
        pos = se > 1e-9 * np.abs(exact)
        return float(np.max(np.abs((res.delta / s2 - exact)[pos] / se[pos])))

    print(
        "DE branch vs the exact deterministic-equivalent curve, max |z| over k: "
        f"mc {max_z(mc['de']):.2f}, conditional {max_z(cond_eq_n['de']):.2f} "
        f"(conditional k = 1: relative difference {abs(cond_eq_n['de'].delta[0] / s2 - exact[0]) / exact[0]:.1e}, the DE k = 1 closed form)"
    )

    se_ratio_eq_n = float(np.median(cond_eq_n["finite"].stderr / mc["finite"].stderr))
    table = [
        {
            "side": "official (torch, float32)",
            "n_test": n_test,
            "seconds": t_off if t_off is not None else float("nan"),
            "max s.e./σ² (finite)": float(np.max(mc["finite"].stderr)) / s2,
            "official/this": 1.0 if t_off else float("nan"),
        },
        {
            "side": "ours mc",
            "n_test": n_test,
            "seconds": t_mc,
            "max s.e./σ² (finite)": float(np.max(mc["finite"].stderr)) / s2,
            "official/this": (t_off / t_mc) if t_off else float("nan"),
        },
        {
            "side": "ours conditional, equal n_test",
            "n_test": n_test,
            "seconds": t_c_eq_n,
            "max s.e./σ² (finite)": float(np.max(cond_eq_n["finite"].stderr)) / s2,
            "official/this": (t_off / t_c_eq_n) if t_off else float("nan"),
        },
        {
            "side": "ours conditional, s.e. ≤ mc's at every k",
            "n_test": need,
            "seconds": t_c_eq_se,
            "max s.e./σ² (finite)": float(np.max(cond_eq_se["finite"].stderr)) / s2,
            "official/this": (t_off / t_c_eq_se) if t_off else float("nan"),
        },
    ]
    print()
    print(format_table(table, digits=4))
    print(
        f"conditional / mc s.e. at equal n_test: median over k {se_ratio_eq_n:.3f}; "
        f"per-input variance ratio (conditional/mc) over k: min {min(np.min(var_c[p] / var_mc[p]) for p in mc):.4f}, "
        f"max {max(np.max(var_c[p] / var_mc[p]) for p in mc):.4f}"
    )
    if t_off:
        print(
            f"goals: mc ≥ official speed at equal work: {'met' if t_off >= t_mc else 'missed'} (ratio {t_off / t_mc:.2f}); "
            f"conditional ≥ 10× faster at equal or lower s.e.: {'met' if t_off / t_c_eq_se >= 10 else 'missed'} "
            f"(ratio {t_off / t_c_eq_se:.2f})"
        )
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
