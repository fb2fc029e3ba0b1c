"""Benchmark: scaling_theory.passk vs saber-risk (the SABER authors' SciPy package), side by side.

1. One Beta-binomial MLE at K = 159, 10^4, 10^5 problems (n = 100, θ ~ Beta(0.4, 4)): wall time of
   ``saber.fit_beta_binomial_MLE`` (L-BFGS-B, numerical gradients) and of ``passk.fit`` (compiled
   damped Newton; compile time reported separately), and the agreement of α̂, β̂ and the log-likelihood.
2. 1,000 bootstrap fits at K = 159 (the same resampled index sets for both): a Python loop of SciPy
   fits vs one batched ``passk.fit`` call; throughput ratio and the worst α̂ disagreement.
3. Predictions given the same α̂, β̂: anchored (Eq. 12), plugin (Eq. 11) and corrected plugin (Eq. 56)
   must be identical (goal 1e-6); end to end (each side with its own fit) the difference is reported.
4. The default estimator vs anchored on the two back-tests (SABER synthetic protocol, Pythia × MATH
   at n = 100 → N = 1000), one seed each (the experiments run more seeds).

``--quick``: 100 bootstrap fits for SciPy (its throughput is extrapolated), K ≤ 10^4, and smaller back-tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _machine import describe  # noqa: E402


def _timed(fn, repeats: int = 1):
    best, out = np.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _saber_loglik(k, n, a, b):
    from scipy.stats import betabinom

    return float(np.sum(betabinom.logpmf(k, n, a, b)))


def single_fits(sizes, rng) -> list[dict]:
    import saber

    from scaling_theory.passk import mle

    rows = []
    for size in sizes:
        theta = rng.beta(0.4, 4.0, size)
        k = rng.binomial(100, theta).astype(float)
        n = np.full(size, 100.0)
        t_compile, _ = _timed(lambda: mle.fit(n, k))  # first call: compile + run
        t_ours, res = _timed(lambda: mle.fit(n, k), repeats=3)
        t_saber, (a_s, b_s) = _timed(lambda: saber.fit_beta_binomial_MLE(k, n), repeats=3 if size < 50_000 else 1)
        rows.append(
            {
                "K": size,
                "saber_s": t_saber,
                "ours_s": t_ours,
                "ours_first_call_s": t_compile,
                "speedup": t_saber / t_ours,
                "alpha_saber": a_s,
                "alpha_ours": float(res.alpha),
                "rel_diff_alpha": abs(float(res.alpha) - a_s) / a_s,
                "rel_diff_beta": abs(float(res.beta) - b_s) / b_s,
                "loglik_ours_minus_saber": float(res.loglik) - _saber_loglik(k, n, a_s, b_s),
            }
        )
    return rows


def bootstrap_fits(replicates: int, saber_replicates: int, rng) -> dict:
    import saber

    from scaling_theory.passk import mle

    k0 = rng.binomial(100, rng.beta(0.4, 4.0, 159)).astype(float)
    idx = rng.integers(0, 159, (replicates, 159))
    kb = k0[idx]
    mle.fit(100.0, kb)  # compile
    t_ours, res = _timed(lambda: mle.fit(100.0, kb), repeats=2)
    t_saber, saber_alpha = _timed(
        lambda: np.array([saber.fit_beta_binomial_MLE(kb[i], np.full(159, 100.0))[0] for i in range(saber_replicates)])
    )
    per_saber = t_saber / saber_replicates
    rel = np.abs(res.alpha[:saber_replicates] - saber_alpha) / saber_alpha
    # Which optimum is higher where they differ most (SciPy's beta re-fitted only for these few replicates)?
    worst = np.argsort(rel)[-5:]
    ll_gap = [
        float(res.loglik[i]) - _saber_loglik(kb[i], 100.0, *saber.fit_beta_binomial_MLE(kb[i], np.full(159, 100.0)))
        for i in worst
    ]
    return {
        "replicates": replicates,
        "saber_fits_timed": saber_replicates,
        "saber_s_per_1000": per_saber * 1000,
        "ours_s_per_1000": t_ours / replicates * 1000,
        "throughput_ratio": per_saber / (t_ours / replicates),
        "max_rel_diff_alpha": float(rel.max()),
        "median_rel_diff_alpha": float(np.median(rel)),
        "loglik_gain_at_5_worst": min(ll_gap),
        "ours_at_bound": int(np.sum(res.at_bound)),
    }


def predictions() -> list[dict]:
    import saber

    from scaling_theory.passk import mle, predict

    k = np.array([3, 5, 0, 2, 8, 1, 4, 0, 6, 2])
    res = mle.fit(100, k)
    a, b = float(res.alpha), float(res.beta)
    budgets = [150, 1000, 10_000, 100_000]
    ours = {
        m: predict(jax.random.key(0), 100, k, budgets, m, fit_result=res).asr
        for m in ("anchored", "plugin_leading", "plugin_corrected")
    }
    theirs = {
        "anchored": [saber.predict_anchored(N, 100, 0.8, a) for N in budgets],
        "plugin_leading": [saber.predict_plugin(N, a, b) for N in budgets],
        "plugin_corrected": [saber.predict_plugin(N, a, b, correction=True) for N in budgets],
    }
    rows = [
        {
            "comparison": f"{m} (same alpha, beta)",
            "max_abs_diff": float(np.max(np.abs(np.asarray(ours[m]) - theirs[m]))),
        }
        for m in ours
    ]
    model = saber.SABER().fit(k, 100)
    e2e = np.array([model.predict(N).asr for N in budgets])
    ours_e2e = predict(jax.random.key(0), 100, k, budgets, "anchored").asr
    rows.append({"comparison": "anchored end to end (own fits)", "max_abs_diff": float(np.max(np.abs(e2e - ours_e2e)))})
    rows.append({"comparison": "alpha: ours vs SABER() (README toy)", "max_abs_diff": abs(model.alpha - a)})
    return rows


def backtests(quick: bool) -> list[dict]:
    from scaling_theory.io import data_path, read_counts
    from scaling_theory.passk import DEFAULT_METHOD
    from scaling_theory.passk.backtesting import backtest
    from scaling_theory.passk.grouping import stack_groups
    from scaling_theory.passk.simulate import SABER_TABLE5, simulate_counts

    pairs = np.array([row[3:] for row in SABER_TABLE5])
    seeds = 2 if quick else 8
    sim = simulate_counts(jax.random.key(0), np.tile(pairs[:, 0], seeds), np.tile(pairs[:, 1], seeds), 159, 10_000)
    methods = ["anchored", DEFAULT_METHOD]
    syn = backtest(jax.random.key(0), 10_000, sim.k, 100, [1000], methods, repeats=5)
    syn_tab = syn.table.assign(seed=syn.table["group"] // 12)
    per_seed = syn_tab.groupby(["method", "seed"])["error"].mean().unstack()
    st = stack_groups(read_counts(data_path("pythia_math_counts.csv"), ["model"]), ["model"])
    py = []
    for s in range(2 if quick else 4):
        r = backtest(jax.random.key(s), st.n, st.k, 100, [1000], methods, repeats=5, mask=st.mask, groups=st.groups)
        py.append(r.mae.set_index("method")["mae"])
    py = np.array([[p[m] for m in methods] for p in py])
    return [
        {"back-test": f"SABER synthetic (12 pairs × {seeds} seeds)", **{m: per_seed.loc[m].mean() for m in methods}},
        {"back-test": f"Pythia × MATH n=100→N=1000 ({py.shape[0]} seeds)", **dict(zip(methods, py.mean(axis=0)))},
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a minute or two on a laptop CPU)")
    args = parser.parse_args(argv)
    try:
        import saber
    except ImportError:
        print("saber-risk is not installed (pip install -e '.[bench]'); skipping the passk benchmark")
        return 0
    from scaling_theory.tables import format_table

    print(describe())
    print(f"reference: saber-risk {saber.__version__} (SciPy L-BFGS-B); ours: scaling_theory.passk (JAX, float64)\n")
    rng = np.random.default_rng(0)
    sizes = (159, 10_000) if args.quick else (159, 10_000, 100_000)
    print("1. One Beta-binomial MLE (n = 100, θ ~ Beta(0.4, 4)); times in seconds, best of 3 (ours after compile)")
    print(format_table(single_fits(sizes, rng), digits=4))
    reps, saber_reps = 1000, (100 if args.quick else 1000)
    print(f"\n2. {reps} bootstrap fits at K = 159 (SciPy timed on {saber_reps}, scaled to 1000)")
    print(format_table([bootstrap_fits(reps, saber_reps, rng)], digits=4))
    print("\n3. Predictions (goal: identical to 1e-6 given the same α̂, β̂)")
    print(format_table(predictions(), digits=3))
    print("\n4. Back-tests: MAE (percentage points) of the default estimator vs SABER-anchored")
    print(format_table(backtests(args.quick), digits=3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
