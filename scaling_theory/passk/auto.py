"""``auto``: choose the extrapolation by back-testing every candidate on the user's own data (spec §3).

For each group (e.g. a model) and target budget N:

1. n_ref = the largest budget at which the observed problems' pass@ is known exactly (the smallest n_i of a
   fixed-n log, the cap of a log that stops at the first success); the requested ratio is r = N/n_ref. For
   N ≤ n_ref nothing needs extrapolating: the answer is the exact curve (Chen's estimator, or 1(t_i ≤ N)
   averaged for a stopped log) with its bootstrap interval.
2. Internal back-test at r′ ≈ min(r, n_ref/m_min): keep m = n_int/r′ attempts per problem — drawn
   without replacement (hypergeometric) from a fixed-n log, the first m (a prefix) of a stopped log — and
   predict pass@n_int with every candidate (n_int and r′ powers of two with n_int + m ≤ n_ref: :func:`plan`);
   the internal truth is Chen's pass@n_int of the n_i − m attempts *not* kept (exact and independent of the
   kept ones given θ_i; for a stopped log, the exact stopped curve at n_int). ``repeats`` sub-samples (a
   prefix is deterministic: one).
3. Stack, per group, the candidates with weights ∝ 1/MAE² of their internal mean absolute errors
   (``mode="stack"``, the default), or select the one with the lowest (``mode="select"``), or average the two best with equal weights when the
   runner-up's MAE is within :data:`TOP2_TIE` (25%) of the best's and select otherwise (``mode="top2"``);
   ``pool="all"`` ranks candidates by their MAE summed over all groups of the call instead (one choice for
   the batch).
4. Refit the chosen candidate(s) on all the data and predict N.
5. Interval: the chosen candidate's (for a stack, the weighted average of the candidates' ends), widened to ±z·e·s around the estimate where that is wider, with e the
   internal root-mean-square error of the chosen prediction and s = max(1, log r / log r′) (the internal
   test ran at a smaller ratio than requested when r > r′). An honest interval covers model error too.

Degenerate groups (no success, or no failure, anywhere) get the distribution-free bound of
:mod:`.degenerate` and a flag; the others are predicted as usual.

The candidates, and the internal back-tests of budgets with different plans, run on :data:`WORKERS` threads
(XLA computes and loads executables without holding the GIL); the result is the sequential one, bit for bit.

The report (``Prediction.extra``): ``chosen`` (per group and budget, '+'-joined for stacks), ``weights``
(G, C, B), ``internal_mae`` (G, C, B, percentage points), ``internal_rmse`` of the result, ``r_prime``,
``m`` (attempts kept), ``candidates`` and ``flag``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.numerics import check, x64
from scaling_theory.passk import mle
from scaling_theory.passk.degenerate import bound_prediction, degenerate_flags

#: The fewest attempts per problem the internal back-test keeps (8: `fit` needs 7, so it is back-tested too).
#: Default mode "stack" with m_min = 8 was chosen on the design data (Pythia, quick profile, seed 0: mean MAE
#: 3.92 vs 4.19 pp for select with m_min = 4, coverage ≥ 0.85 in 4/4 cells) and confirmed on the checkpoints
#: and SABER cells (3.24 vs 4.46 pp; within 10% of the best single method in 7/8 vs 6/8); docs/passk.md.
M_MIN = 8
DEFAULT_REPEATS = 5
# Candidates back-tested by default (:func:`default_candidates`); ``fit`` needs ≥ 7 attempts and is skipped
# when fewer are kept.
# Chosen on the design data (Pythia × MATH, experiments/passk_real_backtests.py): `anchored` (25 pp MAE from
# n = 32) and `tail_power` (never best, 7–25 pp) were dropped — a candidate that explodes on small sub-samples
# gets picked by a noisy internal test; confirmed on the checkpoints and the SABER protocol (docs/passk.md).
BASE_CANDIDATES = ("eb", "fit", "tail_hughes", "tail_eb")
MIXING_CANDIDATES = ("mix_beta_mix2", "mix_npmle", "mix_gmodel", "mix_scaled_beta", "mix_kumaraswamy")
MIN_ATTEMPTS = {"fit": 7, "tail_power": 2, "tail_hughes": 2, "tail_eb": 2}
INTERNAL_BOOTSTRAP = 8  # the internal runs only need point predictions
# Threads for independent candidate runs (XLA runs and loads executables without the GIL; 2 cores in CI).
WORKERS = 2
MODES = ("select", "stack", "top2")
# mode="top2": the runner-up joins the best (weights 1/2, 1/2) when its internal MAE is at most (1 + TOP2_TIE)×
# the best's. Fixed before any evaluation (not tuned): a gap the internal test cannot resolve from R = 5 repeats.
TOP2_TIE = 0.25


def default_candidates() -> tuple[str, ...]:
    """The candidates back-tested by default: :data:`BASE_CANDIDATES`.

    The mixing families (:data:`MIXING_CANDIDATES`, ``passk.mixing``) are opt-in (``candidates=``): their first
    compiled call took 20–200 s on the shared 2-core machine (load ≈ 13), far beyond ``auto``'s budget.
    """
    return BASE_CANDIDATES


def plan(n_ref, budget: float, m_min: int = M_MIN, held_out: bool = True):
    """(r, r′, m, n_int) per group for one budget, arrays (G,).

    The internal test predicts pass@n_int from m attempts, with n_int a power of two and r′ = n_int/m a power
    of two: min(r, n_int/m_min) rounded to the nearest power of two in log scale. Powers of two keep the number
    of distinct (m, n_int) pairs — separate batched calls — small when groups have many different n_ref (the
    checkpoints table has 14). ``held_out`` (fixed-n logs): n_int + m ≤ n_ref, so that the truth can be taken
    from attempts that were not observed (n_int is halved until it fits).
    """
    n_ref = np.asarray(n_ref, np.float64)
    r = float(budget) / n_ref
    n_int = 2.0 ** np.floor(np.log2(n_ref))
    for _ in range(2):
        target = np.maximum(np.minimum(float(budget) / n_int, n_int / m_min), 1.0)
        r_prime = np.minimum(2.0 ** np.round(np.log2(target)), np.maximum(n_int / m_min, 1.0))
        m = np.maximum(1.0, n_int / r_prime)
        if not held_out:
            break
        n_int = np.where((n_int + m > n_ref) & (n_int > 1), n_int / 2, n_int)
    m = np.minimum(m, np.maximum(n_ref - n_int, 1.0)) if held_out else m
    return r, n_int / m, m, n_int


@x64
def internal_backtest(
    key: jax.Array, n, c, mask, n_ref, keep, candidates: Sequence[str], *, repeats: int, stopped: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep ``keep`` attempts per problem, predict pass@n_ref with every candidate, compare with the truth.

    Args:
      key: PRNG key; ``fold_in(key, b)`` draws the sub-samples of the b-th (keep, n_ref) batch and ``key``
        itself drives the candidates' bootstraps.
      n, c, mask: counts and mask (G, K) of the non-degenerate groups.
      n_ref: per group reference budget (G,); keep: attempts kept per group (G,).
      candidates: method names.
      repeats: sub-samples of a fixed-n log (a stopped log's prefix is drawn once).
      stopped: the log stops at the first success.

    Returns:
      ``(pred, truth, ok)``: predictions (G, C, R), truth (G, R) — for a fixed-n log the pass@n_int of the
      held-out n_i − m attempts of each repeat — and whether the candidate could run (G, C).
    """
    from scaling_theory.passk.backtesting import prefix, stopped_curve, truth_pass_at_n
    from scaling_theory.passk.predictors import predict
    from scaling_theory.stats import subsample

    g, kk = c.shape
    pad_rows = _row_bucket(g * (1 if stopped else repeats))
    preds = np.full((g, len(candidates), repeats), np.nan)
    truth = np.empty((g, repeats))
    ok = np.zeros((g, len(candidates)), bool)
    for bi, (mm, nr) in enumerate(sorted(set(zip(keep.tolist(), n_ref.tolist())))):  # usually one or two batches
        rows = np.flatnonzero((keep == mm) & (n_ref == nr))
        ns, ks, ms = n[rows], c[rows], mask[rows]
        if stopped:
            truth[rows] = stopped_curve(ns, ks, ms, [nr])[:, :1]
            n_o, k_o = prefix(ns, ks, mm)
            reps = 1
            n_o, k_o = n_o[:, None], k_o[:, None]
        else:
            reps = repeats
            k_o = np.swapaxes(
                subsample(jax.random.fold_in(key, bi), ns, ks, np.minimum(mm, ns), reps), 0, 1
            )  # (g', R, K)
            n_o = np.full(k_o.shape, mm)
            # Truth from the held-out attempts: Chen's pass@n_int of the n_i − m attempts not observed (fresh
            # attempts, independent of the observed ones given θ_i — what every candidate predicts).
            live3 = np.broadcast_to(ms[:, None, :] > 0, k_o.shape)
            rest_n = np.where(live3, ns[:, None, :] - mm, float(nr))  # padding rows: any valid count
            rest_k = np.where(live3, ks[:, None, :] - k_o, 0.0)
            truth[rows] = truth_pass_at_n(
                rest_n.reshape(-1, kk),
                rest_k.reshape(-1, kk),
                np.broadcast_to(ms[:, None], rest_n.shape).reshape(-1, kk),
                [nr],
            )[:, 0].reshape(len(rows), reps)
        gg = len(rows)
        fn, fk = n_o.reshape(gg * reps, kk), k_o.reshape(gg * reps, kk)
        fm = np.broadcast_to(ms[:, None, :], (gg, reps, kk)).reshape(gg * reps, kk)
        # Pad every batch to one row count (copies of row 0) so that all batches share compiled programs.
        fn, fk, fm = (_pad_rows(x, pad_rows) for x in (fn, fk, fm))
        runnable = [ci for ci, cand in enumerate(candidates) if mm >= MIN_ATTEMPTS.get(cand, 1)]
        shared = ("anchored", "eb", "tail_eb")  # Beta-binomial candidates: one fit of the kept counts for all
        fit = mle.fit(fn, fk, fm) if any(candidates[ci] in shared for ci in runnable) else None
        thunks = [
            functools.partial(
                _safe_predict,
                predict,
                fn,
                fk,
                [nr],
                candidates[ci],
                fm,
                key,
                stopped,
                {"fit_result": fit} if candidates[ci] in shared else {},
            )
            for ci in runnable
        ]
        for ci, p in zip(runnable, _concurrently(thunks)):
            if p is None:
                continue
            a = p[: gg * reps].reshape(gg, reps)
            preds[rows, ci, :reps] = a
            ok[rows, ci] = np.all(np.isfinite(a), axis=1)
        if reps < repeats:
            preds[rows, :, reps:] = preds[rows, :, :1]
    return preds, truth, ok


def _concurrently(tasks: Sequence[Callable[[], Any]]) -> list:
    """Run independent thunks on :data:`WORKERS` threads (XLA computes and loads executables without the GIL);
    results in order. Each thread runs with 64-bit types (JAX's x64 switch is per thread). In a multi-process
    run the thunks run in order on this thread: every process must launch its programs (which span all
    processes) in the same order."""
    if WORKERS <= 1 or len(tasks) <= 1 or jax.process_count() > 1:
        return [t() for t in tasks]
    from concurrent.futures import ThreadPoolExecutor

    def run(t):
        with jax.enable_x64(True):
            return t()

    with ThreadPoolExecutor(min(WORKERS, len(tasks))) as ex:
        return list(ex.map(run, tasks))


def _row_bucket(rows: int) -> int:
    """Rows of a padded batch: a power of two ≥ 16 (as the predictors pad groups)."""
    return max(16, 1 << (int(rows) - 1).bit_length())


def _pad_rows(x, rows: int):
    """Pad the leading axis of ``x`` to ``rows`` with copies of row 0."""
    x = np.asarray(x)
    if x.shape[0] >= rows:
        return x
    return np.concatenate([x, np.repeat(x[:1], rows - x.shape[0], axis=0)], axis=0)


def _safe_predict(predict, n, k, budgets, method, mask, key, stopped, opts):
    try:
        p = predict(key, n, k, budgets, method, mask=mask, bootstrap=INTERNAL_BOOTSTRAP, stopped=stopped, **opts)
    except InputError:
        return None
    return np.asarray(p.asr)[..., 0]


def _weights(err, ok, mode: str, pool: str):
    """Weights (G, C) from internal MAEs (G, C); candidates that could not run get 0.

    ``select``: 1 on the lowest MAE; ``stack``: ∝ 1/MAE²; ``top2``: 1/2 on each of the two lowest when the
    runner-up's MAE ≤ (1 + :data:`TOP2_TIE`) × the lowest, else as ``select``. ``pool="all"`` replaces every
    group's MAEs by the candidates' sums over the groups (over the groups where all ran, if any candidate
    failed somewhere its mean over the groups where it ran).
    """
    err = np.where(ok, err, np.inf)
    if pool == "all":
        tot = np.where(np.all(ok, axis=0), err.sum(axis=0), np.inf)
        if np.all(~np.isfinite(tot)):
            tot = np.nanmean(np.where(ok, err, np.nan), axis=0)
            tot = np.where(np.isfinite(tot), tot, np.inf)
        err = np.broadcast_to(tot, err.shape)
    g, n_cand = err.shape
    rows = np.arange(g)
    order = np.argsort(err, axis=1, kind="stable")
    w = np.zeros(err.shape)
    w[rows, order[:, 0]] = 1.0
    if mode == "top2" and n_cand > 1:
        e1, e2 = err[rows, order[:, 0]], err[rows, order[:, 1]]
        tie = np.isfinite(e2) & (e2 <= (1.0 + TOP2_TIE) * e1)
        w[rows, order[:, 0]] = np.where(tie, 0.5, 1.0)
        w[rows, order[:, 1]] = np.where(tie, 0.5, 0.0)
    elif mode == "stack":
        inv = np.where(np.isfinite(err), 1.0 / np.maximum(err, 1e-6) ** 2, 0.0)
        tot = inv.sum(axis=1, keepdims=True)
        w = np.where(tot > 0, inv / np.where(tot > 0, tot, 1.0), w)  # nothing ran: as select
    return w


@x64
def predict_auto(
    key: jax.Array,
    n,
    c,
    budgets,
    *,
    mask=None,
    level: float = 0.9,
    stopped: bool = False,
    candidates: Sequence[str] | None = None,
    repeats: int = DEFAULT_REPEATS,
    mode: str = "stack",
    pool: str = "group",
    widen: bool = True,
    m_min: int = M_MIN,
    bootstrap: int = 200,
):
    """Self-validating pass@N prediction (module docstring); returns a :class:`~.predictors.Prediction`.

    Args:
      key: PRNG key: ``key`` drives the final predictions' bootstraps, ``fold_in(key, i)`` the i-th distinct
        internal back-test (i = 1, 2, …; its sub-samples and its candidates' bootstraps). Budgets whose plan
        (groups, m, n_int) coincides share one internal back-test.
      n, c: counts (..., K); mask: live problems (default all).
      budgets: target budgets N.
      level: interval coverage.
      stopped: the log stops at each problem's first success.
      candidates: methods to back-test (default :func:`default_candidates`).
      repeats: internal sub-samples R.
      mode: ``"select"`` (best candidate), ``"stack"`` (weights ∝ 1/MAE²) or ``"top2"`` (the two best
        averaged when their internal MAEs are within :data:`TOP2_TIE`, else the best).
      pool: ``"group"`` (choose per group) or ``"all"`` (one choice for all groups of the call).
      widen: widen the interval by the internal back-test error.
      m_min: the fewest attempts kept in the internal back-test (default 8, so that ``fit`` is back-tested).
      bootstrap: bootstrap replicates of the final prediction's interval.

    Returns:
      ``Prediction`` with ``method="auto"`` and the report in ``extra`` (see the module docstring).

    References:
      spec ``difficulty_and_allocation.md`` §3.
    """
    from scaling_theory.passk.predictors import Prediction, _validate, check_stopped, predict, z_value
    from scaling_theory.passk.tail import reference_n

    check(mode in MODES, f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    check(pool in ("group", "all"), f"pool must be 'group' or 'all', got {pool!r}")
    cands = tuple(default_candidates() if candidates is None else candidates)
    n_, k_, m_, b = _validate(n, c, budgets, "eb", level, mask, stopped)
    batch, kk = k_.shape[:-1], k_.shape[-1]
    n2, k2, m2 = (x.reshape(-1, kk) for x in (n_, k_, m_))
    g = n2.shape[0]
    z = z_value(level)
    flags = degenerate_flags(n2, k2, m2)
    good = np.flatnonzero(flags == "")
    asr = np.full((g, b.size), np.nan)
    lower, upper = asr.copy(), asr.copy()
    n_cand = len(cands)
    weights = np.zeros((g, n_cand, b.size))
    imae = np.full((g, n_cand, b.size), np.nan)
    irmse = np.full((g, b.size), np.nan)
    r_prime = np.full((g, b.size), np.nan)
    kept = np.full((g, b.size), np.nan)
    chosen = np.full((g, b.size), "", dtype=object)
    if flags.any():
        da, dl, du = bound_prediction(n2, k2, m2, b, level, stopped)
        bad = flags != ""
        asr[bad], lower[bad], upper[bad] = da[bad], dl[bad], du[bad]
        chosen[bad] = "bound"
    if good.size:
        ng, kg, mg = n2[good], k2[good], m2[good]
        n_ref = reference_n(ng, kg, mg, stopped)
        exact = b[None, :] <= n_ref[:, None]  # (G', B): no extrapolation needed
        if exact.any():
            ex = _exact_curve(ng, kg, mg, b, stopped, level, key, bootstrap)
            for arr, src in zip((asr, lower, upper), ex):
                sub = arr[good]
                sub[exact] = np.asarray(src)[exact]
                arr[good] = sub
            ch = chosen[good]
            ch[exact] = "combinatorial"
            chosen[good] = ch
        rows_pad = _row_bucket(len(good) * (1 if stopped else int(repeats)))
        padded = [_pad_rows(x, rows_pad) for x in (ng, kg, mg)]  # like the internal batches: same programs

        def final(cand: str) -> tuple:
            """One candidate's prediction of every budget from all the data (asr, lower, upper), (G', B)."""
            p = predict(
                key, padded[0], padded[1], b, cand, mask=padded[2], level=level, bootstrap=bootstrap, stopped=stopped
            )
            return tuple(np.asarray(x)[: len(good)] for x in (p.asr, p.lower, p.upper))

        final_cache: dict[str, tuple] = {}
        plans: dict[int, tuple] = {}
        tasks: dict[tuple, Callable[[], tuple]] = {}
        for j, budget in enumerate(b):
            rows = np.flatnonzero(~exact[:, j])
            if not rows.size:
                continue
            r, rp, mm, n_int = plan(n_ref[rows], budget, m_min, held_out=not stopped)
            # Budgets with the same plan (r′ is a power of two) share one internal back-test.
            tag = (rows.tobytes(), mm.tobytes(), n_int.tobytes())
            plans[j] = (rows, r, rp, mm, tag)
            if tag not in tasks:
                tasks[tag] = functools.partial(
                    internal_backtest,
                    jax.random.fold_in(key, len(tasks) + 1),
                    ng[rows],
                    kg[rows],
                    mg[rows],
                    n_int,
                    mm,
                    cands,
                    repeats=int(repeats),
                    stopped=stopped,
                )
        internal = dict(zip(tasks, _concurrently(list(tasks.values()))))
        for j, (rows, r, rp, mm, tag) in plans.items():
            pred, truth, ok = internal[tag]
            err = np.abs(pred - truth[:, None, :])  # (G', C, R)
            mae = 100.0 * np.mean(err, axis=2)  # mean over repeats of |prediction − truth|, pp
            w = _weights(mae, ok, mode, pool)
            comb = np.einsum("gc,gcr->gr", w, np.nan_to_num(pred))
            rmse = np.sqrt(np.mean((comb - truth) ** 2, axis=1))
            # Final predictions of the candidates that carry weight anywhere.
            used = [cands[ci] for ci in range(n_cand) if w[:, ci].max() > 0]
            fa = np.zeros(len(rows))
            fl, fu = np.zeros(len(rows)), np.zeros(len(rows))
            missing = [cand for cand in used if cand not in final_cache]
            final_cache.update(zip(missing, _concurrently([functools.partial(final, c) for c in missing])))
            for cand in used:
                pa, pl, pu = (x[rows, j] for x in final_cache[cand])
                wc = w[:, cands.index(cand)]
                fa, fl, fu = fa + wc * pa, fl + wc * pl, fu + wc * pu
            if widen:
                scale = np.where(r > rp, np.log(np.maximum(r, 1.0 + 1e-12)) / np.log(np.maximum(rp, 1.0 + 1e-12)), 1.0)
                scale = np.where(rp > 1.0, scale, 1.0)
                half = z * rmse * scale
                fl, fu = np.minimum(fl, fa - half), np.maximum(fu, fa + half)
            gi = good[rows]
            asr[gi, j], lower[gi, j], upper[gi, j] = fa, np.clip(fl, 0.0, 1.0), np.clip(fu, 0.0, 1.0)
            weights[gi, :, j], imae[gi, :, j] = w, np.where(ok, mae, np.nan)
            irmse[gi, j], r_prime[gi, j], kept[gi, j] = 100.0 * rmse, rp, mm
            chosen[gi, j] = ["+".join(cands[ci] for ci in np.flatnonzero(wr > 0)) for wr in w]
    if stopped:
        check_stopped(k2, m2)

    def shaped(x):
        return np.asarray(x).reshape(batch + np.shape(x)[1:])

    extra = {
        "chosen": shaped(chosen),
        "weights": shaped(weights),
        "internal_mae": shaped(imae),
        "internal_rmse": shaped(irmse),
        "r_prime": shaped(r_prime),
        "m": shaped(kept),
        "flag": shaped(flags),
        "candidates": cands,
    }
    return Prediction(
        method="auto",
        budgets=b,
        asr=shaped(asr),
        lower=shaped(np.minimum(lower, asr)),
        upper=shaped(np.maximum(upper, asr)),
        level=level,
        extra=extra,
    )


def _exact_curve(n, k, m, budgets, stopped, level, key, bootstrap):
    """Exact pass@N per group for budgets N ≤ that group's n_ref (NaN elsewhere), with bootstrap intervals."""
    from scaling_theory.passk.predictors import predict
    from scaling_theory.passk.tail import reference_n

    n_ref = reference_n(n, k, m, stopped)
    out = [np.full((n.shape[0], budgets.size), np.nan) for _ in range(3)]
    for nr in np.unique(n_ref):
        rows = np.flatnonzero(n_ref == nr)
        cols = np.flatnonzero(budgets <= nr)
        if cols.size == 0:
            continue
        p = predict(
            key,
            n[rows],
            k[rows],
            budgets[cols],
            "combinatorial",
            mask=m[rows],
            level=level,
            bootstrap=bootstrap,
            stopped=stopped,
        )
        for o, x in zip(out, (p.asr, p.lower, p.upper)):
            o[np.ix_(rows, cols)] = x
    return tuple(out)


def describe(pred, group_index: int = 0) -> str:
    """One line per budget of what ``auto`` used for one group (for the CLI and logs)."""
    ex = pred.extra
    lines = []
    chosen = np.asarray(ex["chosen"]).reshape(-1, len(pred.budgets))[group_index]
    rp = np.asarray(ex["r_prime"]).reshape(-1, len(pred.budgets))[group_index]
    ir = np.asarray(ex["internal_rmse"]).reshape(-1, len(pred.budgets))[group_index]
    for j, budget in enumerate(pred.budgets):
        lines.append(f"N={budget:g}: {chosen[j]} (internal RMSE {ir[j]:.2f} pp at r'={rp[j]:.3g})")
    return "; ".join(lines)


__all__ = ["predict_auto", "internal_backtest", "plan", "default_candidates", "describe"]
