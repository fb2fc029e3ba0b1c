"""Study (issue 10): can ``auto`` see past its internal ratio by extrapolating each candidate's error growth?

``auto`` back-tests its candidates at an internal ratio r′ ≤ n_ref/8 (r′ = 2 from n = 32, 8 from n = 100) and
stacks them with weights ∝ 1/MAE(r′)², while the user asks for r = 10 or 100. This study measures, on the cells
of ``experiments/passk_real_backtests.py`` (Pythia × MATH = design data; the checkpoints and the SABER
synthetic protocol = confirmation), whether weights from each candidate's error *extrapolated* to r do better:

* ``current``: 1/MAE(r′)², the default;
* ``linear``: MAE(ρ) ≈ s·log ρ fitted through the origin over every internal ratio ρ (m = 8 attempts kept,
  n_int = 12…92 held out within n), weights ∝ 1/s²;
* ``power``: log MAE = a + γ log log ρ fitted over the same ratios, the largest ratio's MAE scaled by
  (log r / log ρ_max)^γ with γ clipped to [0, 2];
* ``largest``: 1/MAE² at the largest internal ratio that fits in n (with m = 8).

Each outer draw keeps ``n`` attempts per problem (without replacement) and compares the stacked prediction of
pass@(r·n) with the truth from all logged attempts. Prints per cell the single candidates' MAE (pp), each
rule's MAE, the mean fitted γ per candidate, and a design/confirmation summary (mean MAE, cells within 10%
of the best single candidate). Not registered with ``reproduce`` (it informs a design choice; docs/passk.md,
"Error-growth weights (tried, not adopted)"):

    python experiments/studies/auto_error_growth.py --outer 7      # ≈ 5 min on 2 idle cores
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np
import pandas as pd

from scaling_theory.io import data_path, read_counts
from scaling_theory.passk.auto import BASE_CANDIDATES, internal_backtest
from scaling_theory.passk.backtesting import truth_pass_at_n
from scaling_theory.passk.grouping import stack_groups
from scaling_theory.passk.predictors import predict
from scaling_theory.passk.simulate import SABER_TABLE5, simulate_counts
from scaling_theory.stats import subsample
from scaling_theory.tables import format_table

KEPT = 8  # attempts kept in every internal test (auto's m_min)
N_INT = (12, 16, 24, 32, 48, 64, 92)  # internal budgets; those with n_int + KEPT ≤ n are used
RULES = ("current", "linear", "power", "largest")


def _data(key):
    py = read_counts(data_path("pythia_math_counts.csv"), ["model"])
    st = stack_groups(py, ["model"])
    out = {"pythia": (st.n, st.k, st.mask)}
    ck = stack_groups(read_counts(data_path("pythia_math_checkpoints_counts.csv"), ["model"]), ["model"])
    solved = np.flatnonzero((ck.k * ck.mask).sum(axis=1) > 0)[:16]  # as passk_real_backtests' quick profile
    out["checkpoints"] = (ck.n[solved], ck.k[solved], ck.mask[solved])
    a = np.array([p[3] for p in SABER_TABLE5])
    b = np.array([p[4] for p in SABER_TABLE5])
    sim = simulate_counts(key, a, b, 159, 10_000)
    out["saber"] = (np.full(sim.k.shape, 10_000.0), sim.k, np.ones(sim.k.shape))
    return out


def _stack(err):
    """Weights ∝ 1/err² over the candidates (last axis); a candidate with a non-finite error gets 0."""
    inv = np.where(np.isfinite(err), 1.0 / np.maximum(err, 1e-6) ** 2, 0.0)
    return inv / inv.sum(axis=-1, keepdims=True)


def _rule_weights(internal: dict[int, np.ndarray], ratio: float, current: int) -> dict[str, np.ndarray]:
    """Weights (rows, C) of every rule from the internal MAEs {n_int: (rows, C)}."""
    nints = sorted(internal)
    logr = np.array([np.log(ni / KEPT) for ni in nints])
    e = np.stack([internal[ni] for ni in nints], axis=-1)  # (rows, C, J)
    finite = np.all(np.isfinite(e), axis=-1)
    slope = np.where(finite, np.sum(np.nan_to_num(e) * logr, axis=-1) / np.sum(logr**2), np.inf)
    lx = np.log(logr)
    ly = np.log(np.maximum(np.nan_to_num(e, nan=1.0), 1e-3))
    gamma = np.sum((lx - lx.mean()) * (ly - ly.mean(axis=-1, keepdims=True)), axis=-1) / np.sum((lx - lx.mean()) ** 2)
    power = np.exp(ly[..., -1]) * (np.log(ratio) / logr[-1]) ** np.clip(gamma, 0.0, 2.0)
    return {
        "current": _stack(internal[current]),
        "linear": _stack(slope),
        "power": _stack(np.where(finite, power, np.inf)),
        "largest": _stack(internal[nints[-1]]),
    }, gamma


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outer", type=int, default=7, help="outer sub-samples per cell")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    key = jax.random.key(args.seed)
    cands = BASE_CANDIDATES
    rows = []
    for name, (n, k, mask) in _data(jax.random.fold_in(key, 0)).items():
        for obs in (32, 100):
            nints = [x for x in N_INT if x + KEPT <= obs]
            current = 16 if obs == 32 else 64  # auto's plan (m = 8): r′ = 2 from n = 32, 8 from n = 100
            for ratio in (10, 100):
                budget = obs * ratio
                live = mask * (n >= budget)
                keep = live.sum(axis=1) >= 16
                if not keep.any():
                    continue
                ns = np.where(live[keep] > 0, n[keep], 1.0)
                ks = np.where(live[keep] > 0, k[keep], 0.0)
                ms = live[keep]
                truth = truth_pass_at_n(ns, ks, ms, [budget])[:, 0]
                t0 = time.time()
                for o in range(args.outer):
                    ko = jax.random.fold_in(key, 1 + 1000 * o + budget + obs)
                    k_obs = subsample(ko, ns, ks, np.minimum(obs, ns))
                    n_obs = np.full(k_obs.shape, float(obs))
                    g = k_obs.shape[0]
                    signed = np.stack(
                        [
                            100
                            * (
                                np.asarray(predict(ko, n_obs, k_obs, [budget], c, mask=ms, bootstrap=8).asr)[:, 0]
                                - truth
                            )
                            for c in cands
                        ],
                        axis=1,
                    )  # (G, C)
                    internal = {}
                    for ni in nints:
                        pred, tr, _ = internal_backtest(
                            jax.random.fold_in(ko, ni),
                            n_obs,
                            k_obs,
                            ms,
                            np.full(g, float(ni)),
                            np.full(g, float(KEPT)),
                            cands,
                            repeats=5,
                            stopped=False,
                        )
                        internal[ni] = 100 * np.mean(np.abs(pred - tr[:, None, :]), axis=2)
                    weights, gamma = _rule_weights(internal, ratio, current)
                    for gi in range(g):
                        row = {"data": name, "observe": obs, "ratio": ratio}
                        row.update({c: abs(signed[gi, ci]) for ci, c in enumerate(cands)})
                        row.update({r: abs(np.sum(w[gi] * signed[gi])) for r, w in weights.items()})
                        row.update({f"gamma_{c}": gamma[gi, ci] for ci, c in enumerate(cands)})
                        rows.append(row)
                print(f"  {name}: n = {obs} → N = {budget}, {args.outer} draws in {time.time() - t0:.0f} s", flush=True)
    df = pd.DataFrame(rows)
    cells = df.groupby(["data", "observe", "ratio"], sort=False).mean(numeric_only=True).reset_index()
    cells["best_single"] = cells[list(cands)].min(axis=1)
    print(f"\nMAE (pp) over {args.outer} outer draws × groups; gamma = fitted growth exponent of the internal MAE")
    print(format_table(cells.to_dict(orient="records"), digits=3))
    summary = []
    for side, sel in (("design (Pythia)", cells.data == "pythia"), ("confirmation", cells.data != "pythia")):
        c = cells[sel]
        for r in RULES:
            summary.append(
                {
                    "cells": side,
                    "rule": r,
                    "mean_mae": c[r].mean(),
                    "within_10pct": f"{int((c[r] <= 1.1 * c.best_single).sum())} of {len(c)}",
                }
            )
    print("\nsummary")
    print(format_table(summary, digits=3))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
