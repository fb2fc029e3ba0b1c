"""x64 locality, host-side checks that vanish under tracing, batch sharding helpers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from scaling_theory.errors import InputError
from scaling_theory.numerics import check, eager_jit, pad_to_multiple, shard_batch, x64


def test_x64_is_local_to_the_call():
    @x64
    def f(x):
        return jnp.asarray(x) * 2.0

    assert f(1.0).dtype == jnp.float64
    assert jnp.ones(1).dtype == jnp.float32  # the global flag is untouched


def test_check_raises_on_concrete_values_including_nan_and_skips_under_jit():
    check(jnp.array([1.0, 2.0]) > 0, "fine")
    with pytest.raises(InputError, match="p must be in"):
        check(jnp.array([0.5, 1.5]) <= 1, "p must be in [0, 1]")
    with pytest.raises(InputError):
        check(jnp.array(jnp.nan) > 0, "nan fails")

    @jax.jit
    def g(x):
        check(x > 0, "never raised under tracing")
        return x

    assert float(g(-1.0)) == -1.0


def test_shard_batch_single_device_and_padding():
    x = shard_batch({"a": jnp.arange(6.0), "s": jnp.asarray(2.0)})
    assert float(x["a"].sum()) == 15.0 and float(x["s"]) == 2.0
    assert pad_to_multiple(10, 4) == 12 and pad_to_multiple(12, 4) == 12


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_small_adjugate_solve_and_definiteness_match_numpy_linalg(p, jit):
    import numpy as np

    from scaling_theory.numerics import small_adjugate, small_is_positive_definite, small_solve

    rng = np.random.default_rng(p)
    adj_fn = jax.jit(small_adjugate) if jit else small_adjugate
    solve_fn = jax.jit(small_solve) if jit else small_solve
    pd_fn = jax.jit(small_is_positive_definite) if jit else small_is_positive_definite
    with jax.enable_x64(True):
        for trial in range(40):
            a = rng.normal(size=(p, p))
            sym = a + a.T + (trial % 2) * 3.0 * p * np.eye(p)  # half of them shifted towards definite
            b = rng.normal(size=p)
            det, adj = (np.asarray(x) for x in adj_fn(jnp.asarray(a)))
            assert np.isclose(det, np.linalg.det(a), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(a @ adj, det * np.eye(p), atol=1e-12)
            np.testing.assert_allclose(
                np.asarray(solve_fn(jnp.asarray(a), jnp.asarray(b))), np.linalg.solve(a, b), rtol=1e-9
            )
            assert bool(pd_fn(jnp.asarray(sym))) == bool(np.all(np.linalg.eigvalsh(sym) > 0))


def test_eager_jit_compiles_an_eager_call_once_and_inlines_under_a_transformation():
    """Eager calls with the same shapes trace the body once (one cached program, even with a fresh closure inside);
    under an enclosing jit the body is traced into that program (no nested call); the static argument selects code."""
    traces = []

    @eager_jit(static_argnames="power")
    def f(x, power):
        traces.append(power)
        return jax.lax.fori_loop(0, 3, lambda i, acc: acc + (lambda t: t**power)(x), jnp.zeros_like(x))

    x = jnp.arange(4.0)
    first, second = f(x, 2), f(x + 1.0, 2)
    assert len(traces) == 1
    assert jnp.array_equal(first, 3 * x**2) and jnp.array_equal(second, 3 * (x + 1.0) ** 2)
    assert jnp.array_equal(f(x, power=3), 3 * x**3) and len(traces) == 2  # another static value: another program
    outer = jax.make_jaxpr(lambda y: f(y, 2) + 1.0)(x)
    assert len(traces) == 3
    assert not any(eqn.primitive.name in ("pjit", "jit") for eqn in outer.jaxpr.eqns)
