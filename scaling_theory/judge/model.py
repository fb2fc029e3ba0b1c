"""``BLRJudge``: the Bayesian-linear-regression model of LLM-as-a-judge inference-time scaling.

A BLR "generator" trained on n teacher samples in d dimensions is sampled k times at a test input;
a linear judge's quadratic reward r(y) = −(y − μ_R)² picks one sample by a softmax at temperature
T (Halder & Pehlevan, arXiv 2512.19905). The generalisation error δ(k, T) = E_x δ(x; k, T) is
computed under the deterministic equivalent (quadrature over test inputs, ``inputs.py``) with any
pointwise method of ``selection.py``, or simulated at finite d exactly as the paper does
(``simulation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.judge import selection
from scaling_theory.judge.deterministic import DeterministicEquivalent, deterministic_equivalent
from scaling_theory.judge.inputs import InputQuadrature, input_quadrature
from scaling_theory.judge.simulation import SimulationResult, simulate
from scaling_theory.numerics import x64


def _positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name}={value!r}: must be a number") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name}={value!r}: must be finite and > 0")
    return v


@dataclass(frozen=True)
class BLRJudge:
    """BLR with a reward-weighted softmax sampler.

    d, n: input dimension and training-set size (α = d/n); sigma: teacher noise (= likelihood noise);
    gamma: prior std of the weights; S: input scale (Σ = S² I) unless ``spectrum`` gives the
    eigenvalues of Σ; teacher_scale: |w_T|²/d; c: reward misspecification, μ_R = μ_T − c(m − μ_T)
    (w_R = (I + c B_R) w_T; c = 0: reward = teacher). n_gh: Gauss–Hermite nodes per input dimension.
    """

    d: int
    n: int
    sigma: float
    gamma: float
    S: float = 1.0
    teacher_scale: float = 1.0
    c: float = 0.0
    spectrum: Any = None
    n_gh: int = 32
    _spec: np.ndarray | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        for name in ("d", "n"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InputError(f"{name}={v!r}: must be an integer ≥ 1")
        for name in ("sigma", "gamma", "S", "teacher_scale"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        try:
            c = float(self.c)
        except (TypeError, ValueError):
            raise InputError(f"c={self.c!r}: must be a number") from None
        if not np.isfinite(c):
            raise InputError(f"c={self.c!r}: must be finite")
        object.__setattr__(self, "c", c)
        if not isinstance(self.n_gh, (int, np.integer)) or not 2 <= self.n_gh <= 200:
            raise InputError(f"n_gh={self.n_gh!r}: must be an integer in [2, 200]")
        if self.spectrum is not None:
            spec = np.asarray(self.spectrum, dtype=np.float64).ravel()
            if spec.shape[0] != self.d:
                raise InputError(f"spectrum: has {spec.shape[0]} eigenvalues, expected d={self.d}")
            if not np.all(np.isfinite(spec) & (spec > 0)):
                raise InputError("spectrum: eigenvalues must be finite and > 0")
            object.__setattr__(self, "_spec", spec)

    # ------------------------------------------------------------------ deterministic equivalent
    @cached_property
    def de(self) -> DeterministicEquivalent:
        """The deterministic equivalent (R, A_R, B_R, …) of the posterior."""
        return deterministic_equivalent(self.d, self.n, self.sigma, self.gamma, self.S, self.teacher_scale, self._spec)

    @property
    def R(self) -> float:
        """Renormalised ridge."""
        return self.de.R

    @property
    def sigma2(self) -> float:
        return self.sigma**2

    def temperature(self, t: Any) -> Any:
        """T = 2σ² t (the paper's plots use t = T/(2σ²))."""
        return 2.0 * self.sigma2 * np.asarray(t, dtype=np.float64)

    def inputs(self, n_res: int | None = None, tilt: float = 0.0) -> InputQuadrature:
        """Quadrature nodes over test inputs of (μ_T, m, s, μ_R)."""
        return input_quadrature(self.de, self.c, self.n_gh, n_res, tilt)

    # ------------------------------------------------------------------ error curves
    @x64
    def error(
        self,
        k: Any,
        T: float,
        method: str = "exact",
        *,
        order: int = 3,
        official: bool = False,
        key: jax.Array | None = None,
        samples: int = 2000,
    ) -> np.ndarray:
        """δ(k, T) = E_x δ(x; k, T) for a vector of k (absolute units; divide by σ² for the plots).

        ``exact``/``hte``/``limit`` average the pointwise formulas with the input quadrature;
        ``mc`` samples the pointwise selection at every node (``samples`` per node, needs ``key``).
        ``limit`` at T = 0 is E_x π s² e^{a²/s²}(1 + 2ρα)/k² + E_x(μ_R − μ_T)², +inf when the
        Gaussian x-average diverges (2(1+c)² Var_x(Δ_T)/s̄² ≥ 1).
        """
        ks = np.atleast_1d(np.asarray(k, dtype=np.float64))
        T = float(T)
        if not np.all((ks >= 1) & (ks == np.round(ks))):
            raise InputError(f"k={np.asarray(k).tolist()}: must be integers ≥ 1")
        if not (T >= 0):
            raise InputError(f"T={T}: must be ≥ 0")
        if method not in selection.METHODS:
            raise InputError(f"method={method!r}: choose one of {', '.join(selection.METHODS)}")
        if method == "limit" and T == 0:
            return self._limit_zero_t(ks)
        q = self.inputs()
        t, alpha, rho = selection.standardize(T, q.mean, q.std, q.teacher, q.reward)
        s2 = jnp.asarray(q.std**2)
        if method == "exact":
            vals = selection.exact_grid(ks, t, alpha, rho)
        elif method == "hte":
            if T == 0:
                raise InputError("T=0: method='hte' is an expansion in 1/T and needs T > 0")
            vals = selection.hte_standard(ks[None, :], t[:, None], alpha[:, None], rho[:, None], order, official)
        elif method == "limit":
            vals = selection.limit_standard(ks[None, :], t[:, None], alpha[:, None], rho[:, None])
        else:
            if key is None:
                raise InputError("key=None: method='mc' needs a jax.random key")
            n_nodes = t.shape[0]
            kk = np.broadcast_to(ks[None, :], (n_nodes, ks.shape[0])).ravel().astype(np.int64)
            rep = lambda v: jnp.repeat(v, ks.shape[0])  # noqa: E731
            m, _ = selection.mc_standard(key, kk, rep(t), rep(alpha), rep(rho), int(samples))
            vals = m.reshape(n_nodes, ks.shape[0])
        return np.asarray(jnp.einsum("n,nk->k", jnp.asarray(q.weight) * s2, vals))

    def _limit_zero_t(self, ks: np.ndarray) -> np.ndarray:
        """T = 0 extreme-value asymptote averaged over inputs with a tilted Gauss–Hermite rule."""
        de = self.de
        var_a = (1.0 + self.c) ** 2 * de.bias_variance
        s2_bar = de.mean_variance
        tilt = var_a / (2.0 * s2_bar)
        if tilt >= 0.5:
            return np.full(ks.shape, np.inf)
        q = self.inputs(tilt=tilt)
        t0 = np.zeros_like(q.mean)
        _, alpha, rho = selection.standardize(t0, q.mean, q.std, q.teacher, q.reward)
        vals = selection.limit_standard(ks[None, :], jnp.zeros((len(q), 1)), alpha[:, None], rho[:, None])
        return np.asarray(jnp.einsum("n,nk->k", jnp.asarray(q.weight * q.std**2), vals))

    # ------------------------------------------------------------------ simulation
    @x64
    def simulate(
        self,
        k: Any,
        T: float,
        key: jax.Array,
        trials: int = 100,
        n_test: int = 10_000,
        posterior: str = "finite",
        chunk: int | None = None,
        estimator: str = "mc",
        control: bool = True,
    ) -> SimulationResult:
        """The paper's experiment: one training set from ``key``, ``n_test`` sampled test inputs.

        ``estimator`` = "mc": ``trials`` k-sample draws per input (the paper's Monte Carlo; float32
        draws, vectorised over k by prefix sums); "conditional": each input's selection error computed
        exactly (quadrature) from its posterior mean and std, so only the test inputs are sampled
        (``trials`` unused). ``posterior`` = "finite" (exact posterior of the sampled data) or "de"
        (deterministic-equivalent m(x), s(x)). Sharded over the devices of every process. Returns δ(k)
        and its standard error over test inputs (see ``simulation.py``)."""
        ks = np.atleast_1d(np.asarray(k))
        if ks.size == 0 or not np.all((ks >= 1) & (ks == np.round(ks))):
            raise InputError(f"k={np.asarray(k).tolist()}: must be integers ≥ 1")
        T = float(T)
        if not (T >= 0):
            raise InputError(f"T={T}: must be ≥ 0")
        if posterior not in ("finite", "de"):
            raise InputError(f"posterior={posterior!r}: choose 'finite' or 'de'")
        if estimator not in ("mc", "conditional"):
            raise InputError(f"estimator={estimator!r}: choose 'mc' or 'conditional'")
        for name, v in (("trials", trials), ("n_test", n_test)):
            if not isinstance(v, (int, np.integer)) or v < 2:
                raise InputError(f"{name}={v!r}: must be an integer ≥ 2")
        return simulate(
            self.de, self.c, ks.astype(np.int64), T, key, int(trials), int(n_test), posterior, chunk, estimator, control
        )
