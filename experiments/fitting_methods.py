"""Fitting methods compared: IsoFLOP Approach 2 vs Approach 3 (multi-start L-BFGS) vs variable projection (VPNLS), and the coverage of five interval methods.

Hoffmann et al. (2022) estimate the compute-optimal N*(C) by Approach 2 (a parabola per IsoFLOP
budget, §3.2, Fig. 3) and Approach 3 (the parametric law L(N, D) = E + A N^(−α) + B D^(−β) fitted by
Huber loss, App. D.2). Open-Athena's *scaling-law-analysis* ("Problems with Chinchilla Approach 2")
shows that Approach 2 is biased even on noise-free data, and fits the parametric law by variable
projection (VPNLS). Panels of ``methods.png``: (a) the error of N̂*(10²⁴ FLOPs) on **noise-free**
IsoFLOP studies against the width of the sampled range, for Hoffmann et al.'s and Besiroglu et al.'s
laws; (b) N̂*(10²⁴)/N* over noisy replicate studies (2 % log-normal noise) per method, with the
time per fit; (c) coverage of nominal-90 % intervals (± binomial SE) of the true curve at an
extrapolated point, for row / residual / block bootstrap, Student-t and the NumPyro posterior, on
pooled learning curves of 12 runs × 8 checkpoints with independent noise and with a per-run random
tilt (the checkpoints of a run share a deviation of the slope: correlated checkpoints), at equal
total noise variance. The summary also compares multi-start and VPNLS optima on the shipped
datablations curves (Muennighoff et al. 2023) and on transformer-testbed learning curves (paper
profile; at the quick profile only when ``testbed_scaling``'s quick runs are already cached in the
output folder). The NumPyro posterior's coverage is measured at the paper profile only.
"""

from __future__ import annotations

import time
from pathlib import Path

import jax
import numpy as np

from scaling_theory.stats import numpy_rng

NAME = "fitting_methods"
#: Run time of ``--profile paper`` (listed in experiments/README.md).
PAPER_RUNTIME = "hours on 2 CPU cores (estimate: every L-BFGS start instead of every 100th, 7× the data sets, 10× the coverage sets, NUTS on 40 sets)"
#: Reuses the quick runs ``testbed_scaling`` caches (its testbed row); ``reproduce`` runs that first when both run.
AFTER = ("testbed_scaling",)
GPU = True  # the paper profile is meant for an accelerator

PROFILES = {
    "smoke": {
        "spreads": (8.0,),
        "datasets": 2,
        "per_budget": 9,
        "start_step": 500,
        "datablations": 0,
        "coverage_sets": 3,
        "boot": 10,
        "bayes_sets": 0,
        "testbed": False,
    },
    "quick": {
        "spreads": (1.5, 2.0, 4.0, 8.0, 16.0),
        "datasets": 30,
        "per_budget": 15,
        "start_step": 100,
        "datablations": 16,
        "coverage_sets": 40,
        "boot": 100,
        "bayes_sets": 0,  # NUTS compiles for ~20 s; 2 sets (SE 0.2) measured nothing: paper profile only
        "testbed": "cached",  # only with testbed_scaling's quick runs already in the output folder
    },
    "paper": {
        "spreads": (1.25, 1.5, 2.0, 3.0, 4.0, 8.0, 16.0, 32.0),
        "datasets": 200,
        "per_budget": 27,
        "start_step": 1,
        "datablations": 48,
        "coverage_sets": 400,
        "boot": 200,
        "bayes_sets": 40,
        "testbed": True,
    },
}
SIGMA = 0.02
C_STAR = 1e24
LEVEL = 0.9
INTERVALS = ("row", "residual", "block", "t", "bayes")
# pooled learning curves for the coverage study: y = E + a x^(−b), runs × checkpoints
CURVE = {"E": 1.8, "a": 40.0, "b": 0.3}
RUNS, CHECKPOINTS, X_NEW = 12, 8, 1e6
NOISE, RUN_TILT = 0.005, 0.03  # i.i.d. log noise per checkpoint; sd of a per-run random tilt (correlated case)


def run(out: Path, profile: str = "quick", seed: int = 0) -> dict:
    from scaling_theory.plotting import COLORS, MARKERS, figure, label_panels, save_figure
    from scaling_theory.tables import format_table

    cfg = PROFILES[profile]
    out = Path(out)
    bias = _noise_free_bias(cfg)
    print(format_table(bias, digits=4))
    key = jax.random.key(seed)  # the run's one key: the noisy studies use it, the coverage study fold_in(key, 1)
    noisy, times = _noisy_studies(cfg, key)
    print(format_table(noisy, digits=4))
    datablations = _datablations(cfg) if cfg["datablations"] else None
    if datablations is not None:
        print(format_table([datablations], digits=4))
    testbed = _testbed(out, seed, train=cfg["testbed"] is True) if cfg["testbed"] else None
    if testbed is not None:
        print(format_table([testbed], digits=4))
    coverage = _coverage(cfg, jax.random.fold_in(key, 1))
    print(format_table(coverage, digits=3))

    fig, ax = figure(1, 3, width=11.0, height=3.2)
    for i, truth in enumerate(("Hoffmann", "Besiroglu")):
        rows = [r for r in bias if r["truth"] == truth]
        ax[0].plot(
            [r["spread"] for r in rows],
            [100 * r["approach2_error"] for r in rows],
            marker=MARKERS[i],
            color=COLORS[i],
            label=f"Approach 2, {truth} et al. law",
        )
        ax[0].plot(
            [r["spread"] for r in rows],
            [100 * r["vpnls_error"] for r in rows],
            ls="--",
            color=COLORS[i],
            lw=0.8,
            label=f"VPNLS, {truth}",
        )
    ax[0].axhline(0.0, color="k", lw=0.6)
    ax[0].set(
        xscale="log",
        xlabel="sampled range around N* (× / ÷)",
        ylabel=r"error of $\hat N^*(10^{24})$ (%)",
        title="noise-free IsoFLOP data",
    )
    ax[0].set_xticks(list(cfg["spreads"]), [f"{v:g}" for v in cfg["spreads"]])
    ax[0].minorticks_off()
    ax[0].legend(fontsize=7)
    methods = [r["method"] for r in noisy]
    ratios = [times["ratios"][m] for m in methods]
    ax[1].boxplot(ratios, widths=0.5, medianprops={"color": COLORS[1]}, flierprops={"markersize": 2})
    ax[1].set_xticks(range(1, len(methods) + 1), [f"{m}\n{times['seconds'][m] * 1e3:.0f} ms/fit" for m in methods])
    ax[1].axhline(1.0, color="k", ls="--", lw=0.8)
    ax[1].set(ylabel=r"$\hat N^*(10^{24}) / N^*$", title=f"{cfg['datasets']} noisy studies, σ = {SIGMA}")
    for j, case in enumerate(("independent", "per-run tilt")):
        rows = [r for r in coverage if r["noise"] == case and r["n"] > 0]
        pos = np.arange(len(rows)) + (j - 0.5) * 0.25
        ax[2].errorbar(
            pos,
            [r["coverage"] for r in rows],
            yerr=[r["se"] for r in rows],
            fmt=MARKERS[j],
            color=COLORS[j],
            capsize=2,
            label=f"{case} noise",
        )
        ax[2].set_xticks(np.arange(len(rows)), [r["interval"] for r in rows])
    ax[2].axhline(LEVEL, color="k", ls="--", lw=0.8)
    ax[2].set(
        ylim=(0.0, 1.02),
        ylabel="coverage of the true curve (± binomial SE)",
        title=f"nominal {LEVEL:.0%}, extrapolated ×{X_NEW / 1e5:.0f}",
    )
    ax[2].legend(loc="lower left", fontsize=7)
    label_panels(ax)
    save_figure(fig, out, "methods", data=noisy)
    return {
        "noise_free_bias": bias,
        "noisy": noisy,
        "seconds_per_fit": times["seconds"],
        "datablations": datablations,
        "testbed": testbed,
        "coverage": coverage,
    }


# ------------------------------------------------------------------------------ IsoFLOP studies


def _noise_free_bias(cfg: dict) -> list[dict]:
    """Approach 2 and VPNLS on exact losses: relative error of N*(10²⁴) per sampled width."""
    from scaling_theory.fitting import compute_optimal
    from scaling_theory.fitting.approach2 import approach2
    from scaling_theory.fitting.laws import CHINCHILLA
    from scaling_theory.fitting.synthetic import BESIROGLU, HOFFMANN, isoflop_design
    from scaling_theory.fitting.vpnls import vpnls

    rows = []
    for name, truth in (("Hoffmann", HOFFMANN), ("Besiroglu", BESIROGLU)):
        n_true = float(compute_optimal(truth, C_STAR).N)
        for spread in cfg["spreads"]:
            d = isoflop_design(truth, per_budget=cfg["per_budget"], spread=spread)
            y = CHINCHILLA.predict(truth, d)
            a2 = approach2(d["N"], d["C"], y)
            vp = vpnls("chinchilla", {"N": d["N"], "D": d["D"]}, y)
            rows.append(
                {
                    "truth": name,
                    "spread": spread,
                    "a_true": float(compute_optimal(truth, C_STAR).a),
                    "approach2_a": a2.a,
                    "approach2_error": float(a2.n_star(C_STAR)) / n_true - 1,
                    "vpnls_error": float(compute_optimal(vp.params, C_STAR).N) / n_true - 1,
                }
            )
    return rows


def _noisy_studies(cfg: dict, key: jax.Array) -> tuple[list[dict], dict]:
    """R noisy replicate studies: bias, spread and time of N̂*(10²⁴) for each method."""
    from scaling_theory.fitting import LBFGSOptions, chinchilla_grid, compute_optimal, fit_many
    from scaling_theory.fitting.approach2 import approach2
    from scaling_theory.fitting.synthetic import BESIROGLU, isoflop_design, simulate_losses
    from scaling_theory.fitting.vpnls import REFINE_OPTIONS, vpnls_many

    d = isoflop_design(BESIROGLU, per_budget=cfg["per_budget"])
    x = {"N": d["N"], "D": d["D"]}
    R = cfg["datasets"]
    Y = simulate_losses(BESIROGLU, d["N"], d["D"], SIGMA, key, n_sets=R)
    n_true = float(compute_optimal(BESIROGLU, C_STAR).N)
    est, seconds = {}, {}
    t0 = time.perf_counter()
    a2 = [approach2(d["N"], d["C"], y) for y in Y]
    seconds["approach2"] = (time.perf_counter() - t0) / R
    est["approach2"] = np.array([float(r.n_star(C_STAR)) for r in a2])
    starts = chinchilla_grid()[:: cfg["start_step"]]
    # the L-BFGS tolerances are traced arguments: a call capped at one evaluation per start compiles the
    # same program as the full call at almost no cost, so the timed call below excludes compilation
    full = {"approach3": LBFGSOptions(), "vpnls": REFINE_OPTIONS}
    for name, call in (
        ("approach3", lambda o: fit_many("chinchilla", [(x, y) for y in Y], starts=starts, options=o)),
        ("vpnls", lambda o: vpnls_many("chinchilla", [(x, y) for y in Y], options=o)),
    ):
        call(full[name]._replace(max_evals=1))  # compile
        t0 = time.perf_counter()
        fits = call(full[name])
        seconds[name] = (time.perf_counter() - t0) / R
        est[name] = np.array([float(compute_optimal(f.params, C_STAR).N) for f in fits])
        if name == "vpnls":
            objs = np.array([f.objective for f in fits])
        else:
            objs_ms = np.array([f.objective for f in fits])
    rows = []
    for m in ("approach2", "approach3", "vpnls"):
        lr = np.log(est[m] / n_true)
        rows.append(
            {
                "method": m,
                "mean_log_ratio": float(lr.mean()),
                "se": float(lr.std(ddof=1) / np.sqrt(R)),
                "sd_log_ratio": float(lr.std(ddof=1)),
                "ms_per_fit": 1e3 * seconds[m],
            }
        )
    rows[2]["max_rel_objective_vs_approach3"] = float(np.max((objs - objs_ms) / objs_ms))
    return rows, {"seconds": seconds, "ratios": {m: est[m] / n_true for m in est}}


def _datablations(cfg: dict) -> dict:
    """Offset power law per training curve (checkpoints in 10–100 % of the run): multi-start vs VPNLS."""
    from scaling_theory.fitting import LBFGSOptions, fit_many
    from scaling_theory.fitting.vpnls import vpnls_many
    from scaling_theory.io import data_path, read_table

    df = read_table(data_path("datablations_losses.csv"))
    sets = []
    for _, g in df.groupby(["params", "epochs", "data"], sort=True):
        g = g.sort_values("tokens")
        t = g["tokens"].to_numpy(float)
        keep = t >= 0.1 * t.max()
        sets.append(({"x": t[keep]}, g["loss"].to_numpy(float)[keep]))
    sets = sets[: cfg["datablations"]]
    tight = LBFGSOptions(ftol=1e-13, gtol=1e-9)
    out = {"curves": len(sets)}
    for name, call in (
        ("multistart", lambda: fit_many("offset_power_law", sets, options=tight)),
        ("vpnls", lambda: vpnls_many("offset_power_law", sets)),
    ):
        t0 = time.perf_counter()
        out[name] = call()
        out[f"{name}_seconds"] = time.perf_counter() - t0  # compilation included (one call each)
    rel = np.array([(v.objective - m.objective) / m.objective for v, m in zip(out["vpnls"], out["multistart"])])
    out["max_rel_objective_diff"] = float(np.max(np.abs(rel)))
    out["vpnls_lower_or_equal"] = int(np.sum(rel <= 1e-9))
    del out["vpnls"], out["multistart"]
    return out


def _testbed(out: Path, seed: int, train: bool) -> dict | None:
    """Chinchilla on the transformer testbed's learning curves: reuse the cached runs of
    ``testbed_scaling --profile quick`` when present, else (``train``) train its smoke sweep (~30 s
    on 2 cores), else None."""
    import importlib.util
    import json

    from scaling_theory.fitting import chinchilla_grid, fit
    from scaling_theory.fitting.vpnls import vpnls

    cache = out.parent / f"_testbed_scaling_quick_{seed}" / "runs.json"
    if cache.is_file():
        data = json.loads(cache.read_text())
        rows = [r for v in data["rows"].values() for r in v]
        source = "testbed_scaling quick cache"
    elif not train:
        return None
    else:
        spec = importlib.util.spec_from_file_location("_tb", Path(__file__).with_name("testbed_scaling.py"))
        tb = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(tb)
        rows = tb._runs(out.parent / f"_testbed_scaling_smoke_{seed}", "smoke", seed)
        source = "testbed_scaling smoke sweep (trained here)"
    N = np.array([r["N"] for r in rows], float)
    D = np.array([r["D"] for r in rows], float)
    L = np.array([r["loss"] for r in rows], float)
    x = {"N": N, "D": D}
    t0 = time.perf_counter()
    ms = fit("chinchilla", x, L, starts=chinchilla_grid())
    t_ms = time.perf_counter() - t0
    t0 = time.perf_counter()
    vp = vpnls("chinchilla", x, L)
    t_vp = time.perf_counter() - t0
    return {
        "source": source,
        "points": int(L.size),
        "multistart_objective": ms.objective,
        "vpnls_objective": vp.objective,
        "rel_diff": (vp.objective - ms.objective) / ms.objective,
        "multistart_seconds": t_ms,
        "vpnls_seconds": t_vp,
        "vpnls_params": vp.params,
    }


# ------------------------------------------------------------------------------ interval coverage


def _coverage(cfg: dict, key: jax.Array) -> list[dict]:
    """Coverage of the true curve E + a x^(−b) at x = X_NEW by nominal-90 % curve intervals, pooled
    runs × checkpoints, with i.i.d. log-normal noise or with a per-run random tilt. All data sets'
    fits, and each bootstrap's replicates of all data sets, are one batched call each."""
    from tqdm import tqdm

    from scaling_theory.fitting import LBFGSOptions, bootstrap_many, fit_many
    from scaling_theory.fitting.bayes import posterior
    from scaling_theory.fitting.intervals import block_bootstrap_many, residual_bootstrap_many, t_prediction_interval

    xs = np.tile(np.logspace(2, 5, CHECKPOINTS), RUNS)
    run_id = np.repeat(np.arange(RUNS), CHECKPOINTS)
    truth = CURVE["E"] + CURVE["a"] * X_NEW ** -CURVE["b"]
    x0 = {"x": np.array([X_NEW])}
    rng = numpy_rng(key)  # the noise; the bootstraps use the key itself, data set j's posterior fold_in(post_key, j)
    post_key = jax.random.fold_in(key, 1)
    tight = LBFGSOptions(ftol=1e-13, gtol=1e-9)
    R, B = cfg["coverage_sets"], cfg["boot"]
    rows = []
    u = np.log(xs)
    u = (u - u.mean()) / u.std()  # a run's tilt: its own slope deviation in log x, shared by its checkpoints
    cases = (("independent", np.hypot(NOISE, RUN_TILT), 0.0), ("per-run tilt", NOISE, RUN_TILT))
    for case, sigma, tau in tqdm(cases, desc="coverage", leave=False):  # same total variance in both cases
        eps = sigma * rng.standard_normal((R, xs.size)) + tau * rng.standard_normal((R, RUNS))[:, run_id] * u
        Y = (CURVE["E"] + CURVE["a"] * xs ** -CURVE["b"]) * np.exp(eps)
        fits = fit_many("offset_power_law", [({"x": xs}, y) for y in Y], loss="mse", options=tight)
        draws = {
            "row": bootstrap_many(key, fits, B),
            "residual": residual_bootstrap_many(key, fits, B),
            "block": block_bootstrap_many(key, fits, [run_id] * R, B),
        }
        hits = {k: [] for k in INTERVALS}
        for k, ds in draws.items():
            for d in ds:
                band = d.predict_interval(x0, LEVEL)
                hits[k].append(band.lo[0] <= truth <= band.hi[0])
        for j, res in enumerate(fits):
            band = t_prediction_interval(res, x0, LEVEL, kind="curve")
            hits["t"].append(band.lo[0] <= truth <= band.hi[0])
            if j < cfg["bayes_sets"]:
                post = posterior(
                    jax.random.fold_in(post_key, j), res, num_warmup=300, num_samples=600, likelihood="normal"
                )
                band = post.predict_interval(x0, LEVEL)
                hits["bayes"].append(band.lo[0] <= truth <= band.hi[0])
        for k in INTERVALS:
            h = np.asarray(hits[k], float)
            rows.append(
                {
                    "noise": case,
                    "interval": k,
                    "n": int(h.size),
                    "coverage": float(h.mean()) if h.size else float("nan"),
                    "se": float(np.sqrt(LEVEL * (1 - LEVEL) / h.size)) if h.size else float("nan"),
                }
            )
    return rows


if __name__ == "__main__":
    from scaling_theory.reproduce import script_main

    script_main(run, NAME)
