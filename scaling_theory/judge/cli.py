"""``scaling-theory judge ...``: the BLR LLM-as-a-judge model on the command line (thin wrapper)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``judge`` command group (``judge curve``, ``judge simulate``)."""
    judge = subparsers.add_parser(
        "judge",
        help="LLM-as-a-judge theory: Bayesian linear regression with a reward-weighted sampler",
        description="Bayesian linear regression with a softmax (reward-weighted) sampler "
        "(Halder & Pehlevan, arXiv 2512.19905).",
    )
    sub = judge.add_subparsers(dest="judge_command", metavar="VERB", parser_class=subparsers._parser_class)
    curve = sub.add_parser(
        "curve",
        help="generalisation error δ(k) at temperature t = T/(2σ²)",
        description="Generalisation error δ(k, T) of the BLR judge model averaged over test inputs "
        "(deterministic equivalent), for the listed k at temperature t = T/(2σ²).",
    )
    curve.add_argument("--d", type=int, required=True, help="input dimension d")
    curve.add_argument("--n", type=int, required=True, help="number of training samples n")
    curve.add_argument("--sigma", type=float, required=True, help="teacher (and likelihood) noise std σ")
    curve.add_argument("--gamma", type=float, required=True, help="prior std γ of the weights")
    curve.add_argument("--S", type=float, default=1.0, help="input scale, Σ = S² I (default 1)")
    curve.add_argument("--teacher-scale", type=float, default=1.0, help="|w_T|²/d (default 1)")
    curve.add_argument(
        "--c", type=float, default=0.0, help="reward misspecification: μ_R = μ_T − c(m − μ_T) (default 0)"
    )
    curve.add_argument(
        "--t",
        type=float,
        required=True,
        help="temperature in the paper's units t = T/(2σ²); 0 = best-of-k, inf = uniform",
    )
    curve.add_argument("--k", type=int, nargs="+", required=True, help="numbers of samples k")
    curve.add_argument("--method", choices=("exact", "hte", "limit", "mc"), default="exact")
    curve.add_argument(
        "--samples", type=int, default=2000, help="Monte Carlo samples per quadrature node (--method mc)"
    )
    curve.add_argument("--seed", type=int, default=0, help="PRNG seed (--method mc)")
    curve.add_argument("--json", action="store_true", help="print JSON: [{k, delta, delta_over_sigma2}, ...]")
    curve.set_defaults(func=_curve)

    sim = sub.add_parser(
        "simulate",
        help="finite-d simulation of δ(k) (the paper's Monte Carlo, or its conditional estimator)",
        description="Simulate the paper's finite-d experiment: train BLR on n teacher samples, sample n_test "
        "test inputs and estimate δ(k) at temperature t = T/(2σ²): 'mc' draws k samples per trial as the "
        "paper does, 'conditional' computes each input's selection error by quadrature (no trial noise) "
        "and uses δ_x(1) = b² + s², whose mean is known, as a control variate. "
        "Prints δ(k) with its standard error over test inputs.",
    )
    sim.add_argument("--d", type=int, required=True, help="input dimension d")
    sim.add_argument("--n", type=int, required=True, help="number of training samples n")
    sim.add_argument("--sigma", type=float, required=True, help="teacher (and likelihood) noise std σ")
    sim.add_argument("--gamma", type=float, required=True, help="prior std γ of the weights")
    sim.add_argument("--teacher-scale", type=float, default=1.0, help="|w_T|²/d (default 1)")
    sim.add_argument("--c", type=float, default=0.0, help="reward misspecification: μ_R = μ_T − c(m − μ_T) (default 0)")
    sim.add_argument("--t", type=float, required=True, help="temperature t = T/(2σ²); 0 = best-of-k, inf = uniform")
    sim.add_argument("--k", type=int, nargs="+", required=True, help="numbers of samples k")
    sim.add_argument("--n-test", type=int, required=True, help="number of sampled test inputs")
    sim.add_argument(
        "--trials", type=int, default=100, help="k-sample draws per test input (--estimator mc; default 100)"
    )
    sim.add_argument("--estimator", choices=("mc", "conditional"), default="mc")
    sim.add_argument(
        "--posterior",
        choices=("finite", "de"),
        default="finite",
        help="finite: the posterior of the sampled training set; de: deterministic equivalent",
    )
    sim.add_argument("--seed", type=int, default=0, help="PRNG seed")
    sim.add_argument("--json", action="store_true", help="print JSON: [{k, delta, stderr, delta_over_sigma2}, ...]")
    sim.set_defaults(func=_simulate)
    judge.set_defaults(func=lambda args: (judge.print_help(), 2)[1])


def _curve(args: argparse.Namespace) -> int:
    from scaling_theory.cli import print_json
    from scaling_theory.judge.curves import error_curve
    from scaling_theory.tables import format_table

    key = None
    if args.method == "mc":
        import jax

        key = jax.random.key(args.seed)
    curve = error_curve(
        args.d,
        args.n,
        args.sigma,
        args.gamma,
        args.t,
        args.k,
        S=args.S,
        teacher_scale=args.teacher_scale,
        c=args.c,
        method=args.method,
        samples=args.samples,
        key=key,
    )
    rows = curve.rows()
    if args.json:
        print_json(rows)
    else:
        print(
            f"BLR judge: d={args.d} n={args.n} σ={args.sigma:g} γ={args.gamma:g} |w_T|²/d={args.teacher_scale:g} "
            f"c={args.c:g} t=T/(2σ²)={args.t:g} method={args.method} (R={curve.R:.6g})"
        )
        print(format_table(rows, digits=6))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import jax

    from scaling_theory.cli import print_json
    from scaling_theory.judge.curves import simulated_error_curve
    from scaling_theory.tables import format_table

    curve = simulated_error_curve(
        jax.random.key(args.seed),
        args.d,
        args.n,
        args.sigma,
        args.gamma,
        args.t,
        args.k,
        n_test=args.n_test,
        trials=args.trials,
        teacher_scale=args.teacher_scale,
        c=args.c,
        posterior=args.posterior,
        estimator=args.estimator,
    )
    rows = curve.rows()
    if args.json:
        print_json(rows)
    else:
        trials = f" trials={args.trials}" if args.estimator == "mc" else ""
        print(
            f"BLR judge simulation: d={args.d} n={args.n} σ={args.sigma:g} γ={args.gamma:g} "
            f"|w_T|²/d={args.teacher_scale:g} c={args.c:g} t=T/(2σ²)={args.t:g} estimator={args.estimator} "
            f"posterior={args.posterior} n_test={args.n_test}{trials} seed={args.seed}"
        )
        print(format_table(rows, digits=6))
    return 0
