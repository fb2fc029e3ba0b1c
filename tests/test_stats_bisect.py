"""The one bisection (scaling_theory.stats.bisect / smallest_whole) against closed forms and brute force."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scaling_theory import stats
from scaling_theory.numerics import x64


@x64
def _cube_root(c, steps, use_jit):
    def run(c):
        return stats.bisect(lambda x: x**3 >= c, jnp.zeros_like(c), jnp.full_like(c, 10.0), steps)

    return (jax.jit(run) if use_jit else run)(jnp.asarray(c, jnp.float64))


@pytest.mark.parametrize("use_jit", [False, True])
def test_float_bisection_matches_closed_form_root(use_jit):
    c = np.array([1e-6, 0.5, 2.0, 27.0, 999.0])
    lo, hi = _cube_root(c, 80, use_jit)
    lo, hi = np.asarray(lo), np.asarray(hi)
    assert lo.shape == hi.shape == c.shape
    np.testing.assert_allclose(0.5 * (lo + hi), np.cbrt(c), rtol=1e-13)
    # The invariant: predicate False at lo, True at hi, the bracket as narrow as float64 allows.
    assert np.all(lo**3 < c) and np.all(hi**3 >= c)
    assert np.all(hi - lo <= 4 * np.spacing(np.cbrt(c)))


def test_float_bisection_width_halves_each_step():
    lo, hi = _cube_root(np.array([5.0]), 7, False)
    assert float(hi[0] - lo[0]) == pytest.approx(10.0 / 2**7, rel=1e-15)


@x64
def test_whole_bisection_matches_brute_force_and_traced_steps():
    targets = np.array([0.0, 1.0, 2.0, 10.0, 99.0, 100.0, 101.0, 12345.0])

    def first_square(c, steps):  # smallest whole n ≥ 0 with n² ≥ c, searched in (−1, 200]
        pred = lambda n: (n >= 0) & (n**2 >= c)  # noqa: E731  (monotone in n)
        _, hi = stats.bisect(pred, jnp.full_like(c, -1.0), jnp.full_like(c, 200.0), steps, whole=True)
        return hi

    got = np.asarray(jax.jit(first_square)(jnp.asarray(targets), jnp.asarray(9)))  # traced step count
    brute = np.array([next(n for n in range(0, 201) if n * n >= t) for t in targets])
    np.testing.assert_array_equal(got, brute)
    assert brute[-1] == math.isqrt(12344) + 1


@pytest.mark.parametrize("use_jit", [False, True])
@x64
def test_smallest_whole_zero_inside_and_unreachable(use_jit):
    c = jnp.asarray([0.0, 3.0, 1e6, 1e30])  # n³ ≥ c; upper 1e4 → the last is unreachable

    def run(c):
        return stats.smallest_whole(lambda n: n**3 >= c, jnp.full_like(c, 1e4))

    got = np.asarray((jax.jit(run) if use_jit else run)(c))
    np.testing.assert_array_equal(got, [0.0, 2.0, 100.0, np.inf])


@x64
def test_smallest_whole_default_range_reaches_2_pow_52():
    c = jnp.asarray([2.0**52, 2.0**52 - 5.0, 3.0**30])
    got = np.asarray(stats.smallest_whole(lambda n: n >= c, jnp.full_like(c, stats.WHOLE_MAX)))
    np.testing.assert_array_equal(got, [2.0**52, 2.0**52 - 5.0, 3.0**30])


@x64
def test_bisection_under_vmap_and_nan_counts_as_false():
    c = jnp.asarray([2.0, 8.0])
    lo, hi = jax.vmap(lambda ci: stats.bisect(lambda x: x**3 >= ci, 0.0, 4.0, 60))(c)
    np.testing.assert_allclose(np.asarray(hi), [2.0 ** (1 / 3), 2.0], rtol=1e-15)
    # A predicate that is NaN-based (comparison with NaN is False) keeps moving lo up: hi never changes.
    lo, hi = stats.bisect(lambda x: jnp.sqrt(-1.0 - x) >= 0.0, jnp.asarray(0.0), jnp.asarray(1.0), 10)
    assert float(hi) == 1.0 and float(lo) == pytest.approx(1.0 - 2.0**-10)
