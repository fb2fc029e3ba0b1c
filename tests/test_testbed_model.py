"""The transformer and the sampler: causal masking, padding, KV cache vs full recompute, sampling law."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from scaling_theory.errors import InputError
from scaling_theory.testbed import task as T
from scaling_theory.testbed.model import ModelConfig, count_params, forward, make_model, rope
from scaling_theory.testbed.sample import generate, generate_recompute, greedy_cached, sample_token

TASK = T.TaskConfig(modulus=7, min_len=1, max_len=5, eval_every=4)
MCFG = ModelConfig(TASK.vocab_size, d_model=32, n_layers=2, n_heads=4, d_ff=64)


@pytest.fixture(scope="module")
def flat():
    """A freshly initialised model: nearly flat next-token distributions (sampling is random)."""
    return make_model(jax.random.key(0), MCFG)


@pytest.fixture(scope="module")
def model():
    """The same model with every weight matrix scaled ×10: peaked, input-dependent logits, so
    greedy choices and the cache comparison are not decided by near-ties at the 1e-7 level."""
    g, state = nnx.split(make_model(jax.random.key(0), MCFG))
    return nnx.merge(g, jax.tree_util.tree_map(lambda x: x * 10.0 if x.ndim == 2 else x, state))


@pytest.fixture(scope="module")
def fwd(model):
    """One compiled forward of shape (4, 16), reused by the masking tests."""
    return jax.jit(lambda t, v: forward(model, t, v))


def test_parameter_count_matches_the_closed_form(model):
    d, f, V, L = MCFG.d_model, MCFG.d_ff, MCFG.vocab_size, MCFG.n_layers
    per_block = 3 * d * d + d * d + (d * f + f) + (f * d + d) + 2 * d  # qkv, out, MLP (+biases), 2 norms
    assert count_params(model) == V * d + L * per_block + d


def test_changing_a_later_token_never_changes_earlier_logits(fwd):
    rng = np.random.default_rng(0)
    x = rng.integers(0, MCFG.vocab_size, size=(4, 16))
    ones = np.ones((4, 16), bool)
    base = np.asarray(fwd(x, ones))
    for t in (0, 5, 15):
        y = x.copy()
        y[:, t] = (y[:, t] + rng.integers(1, MCFG.vocab_size, size=4)) % MCFG.vocab_size  # a different token
        out = np.asarray(fwd(y, ones))
        np.testing.assert_allclose(out[:, :t], base[:, :t], rtol=0, atol=1e-5)
        assert np.abs(out[:, t:] - base[:, t:]).max() > 1e-3  # the change is visible from t on


@pytest.mark.slow
def test_changing_a_later_token_without_jit(model):
    x = np.random.default_rng(3).integers(0, MCFG.vocab_size, size=(2, 6))
    y = x.copy()
    y[:, 4] = (y[:, 4] + 1) % MCFG.vocab_size
    a, b = np.asarray(forward(model, x)), np.asarray(forward(model, y))  # eager
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=0, atol=1e-5)


def test_left_padding_changes_nothing(fwd):
    x = np.random.default_rng(1).integers(T.N_SPECIAL, MCFG.vocab_size, size=(4, 16))
    a = np.asarray(fwd(x, np.ones((4, 16), bool)))
    padded = np.concatenate([np.zeros((4, 5), int), x[:, :11]], axis=1)  # same tokens, 5 pads in front
    valid = np.repeat((np.arange(16) >= 5)[None], 4, 0)
    b = np.asarray(fwd(padded, valid))[:, 5:]
    np.testing.assert_allclose(a[:, :11], b, atol=1e-5)


def test_rope_is_a_rotation_that_depends_on_relative_position():
    rng = np.random.default_rng(2)
    q = jnp.asarray(rng.normal(size=(1, 1, 1, 8)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(1, 1, 1, 8)), jnp.float32)
    norm = lambda x: float(jnp.linalg.norm(x))  # noqa: E731
    pos = lambda p: jnp.full((1, 1), p)  # noqa: E731
    assert norm(rope(q, pos(7), 100.0)) == pytest.approx(norm(q), rel=1e-6)
    dots = [float(jnp.sum(rope(q, pos(a + 3), 100.0) * rope(k, pos(a), 100.0))) for a in (0, 5, 40)]
    np.testing.assert_allclose(dots, dots[0], rtol=1e-4)


N_SAMPLES = 4


def _prompts(seed=0):
    """Eight prompts, rows 4..7 left-padded by two pads (ragged batch) — one shape for every test."""
    prompts, n_pad = T.encode_prompts(TASK, T.eval_problems(jax.random.key(seed), TASK, 8))
    ext = np.concatenate([np.full((8, 2), T.BOS, np.int32), prompts], axis=1)
    ext[4:, :2] = T.PAD
    return ext, n_pad + np.where(np.arange(8) >= 4, 2, 0).astype(np.int32)


def test_kv_cache_decoding_equals_full_recompute(model):
    prompts, n_pad = _prompts()
    toks_c, logits_c = greedy_cached(model, prompts, n_pad, TASK.completion_len)
    toks_r, logits_r = generate_recompute(
        jax.random.key(0), model, prompts, n_pad, n_samples=1, max_new=TASK.completion_len, temperature=0.0
    )
    np.testing.assert_array_equal(toks_c, toks_r)
    live = np.concatenate([np.ones((len(toks_c), 1), bool), np.cumsum(toks_c == T.EOS, 1)[:, :-1] == 0], 1)
    np.testing.assert_allclose(logits_c[live], logits_r[live], atol=2e-5, rtol=1e-5)
    assert len(set(map(tuple, toks_c.tolist()))) > 1  # not a degenerate constant output
    # the production sampler at T = 0 gives the greedy tokens for every one of its k samples
    s = generate(
        jax.random.key(3), model, prompts, n_pad, n_samples=N_SAMPLES, max_new=TASK.completion_len, temperature=0.0
    )
    np.testing.assert_array_equal(s.tokens, np.repeat(toks_c, N_SAMPLES, axis=0))


def test_sampled_logprob_is_the_models_log_likelihood(flat):
    prompts, n_pad = _prompts()
    s = generate(jax.random.key(5), flat, prompts, n_pad, n_samples=N_SAMPLES, max_new=TASK.completion_len)
    # recompute log p(completion | prompt) with one full forward pass over prompt + completion
    seq = np.concatenate([np.repeat(prompts, N_SAMPLES, 0), s.tokens], axis=1)
    valid = np.arange(seq.shape[1])[None, :] >= np.repeat(n_pad, N_SAMPLES)[:, None]
    logp = np.asarray(jax.nn.log_softmax(jax.jit(lambda t, v: forward(flat, t, v))(seq, valid), axis=-1))
    P = prompts.shape[1]
    want, least = np.zeros(len(seq)), np.zeros(len(seq))
    for j in range(s.tokens.shape[1]):  # loop over the ≤ 6 generated positions
        ended = (s.tokens[:, :j] == T.EOS).any(1)
        lp = logp[np.arange(len(seq)), P - 1 + j, s.tokens[:, j]]
        want += np.where(ended, 0.0, lp)
        least = np.where(ended, least, np.minimum(least, lp))
    np.testing.assert_allclose(s.logprob, want, atol=1e-4)
    np.testing.assert_allclose(s.min_logprob, least, atol=1e-5)
    assert s.generated_tokens == int((s.tokens != T.PAD).sum())


def test_sample_token_follows_the_tempered_softmax_and_the_nucleus():
    logits = jnp.log(jnp.array([[0.5, 0.3, 0.15, 0.05]]))
    n = 40_000
    keys = jax.random.split(jax.random.key(0), n)
    draw = jax.jit(jax.vmap(lambda k, t, p: sample_token(k, logits, t, p)[0], in_axes=(0, None, None)))
    for temp, top_p in [(1.0, 1.0), (0.5, 1.0), (2.0, 1.0), (1.0, 0.7)]:
        freq = np.bincount(np.asarray(draw(keys, temp, top_p)), minlength=4) / n
        p = np.array([0.5, 0.3, 0.15, 0.05]) ** (1 / temp)
        p /= p.sum()
        if top_p < 1:  # nucleus {0, 1}: mass before token 2 is 0.8 ≥ 0.7
            p = np.array([0.5, 0.3, 0, 0]) / 0.8
        # binomial standard error ≤ sqrt(0.25/n) = 0.0025; 5 SE
        np.testing.assert_allclose(freq, p, atol=0.0125)
    assert int(sample_token(keys[0], logits, 0.0, 1.0)[0]) == 0  # T = 0: argmax


def test_sampling_is_deterministic_in_the_key(flat):
    prompts, n_pad = _prompts()

    def run(k, **kw):
        return generate(
            jax.random.key(k), flat, prompts, n_pad, n_samples=N_SAMPLES, max_new=TASK.completion_len, **kw
        ).tokens

    a, b, c = run(1), run(1), run(2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # processing prompts sorted by a key (early exit) keeps the problem-major output order
    lengths = T.eval_problems(jax.random.key(0), TASK, 8).length
    np.testing.assert_array_equal(run(1, temperature=0.0, sort_key=-lengths), run(1, temperature=0.0))


def test_bfloat16_activations_run_and_stay_close():
    m32 = make_model(jax.random.key(0), MCFG)
    m16 = make_model(jax.random.key(0), ModelConfig(**{**MCFG.__dict__, "dtype": "bfloat16"}))
    x = np.random.default_rng(0).integers(0, MCFG.vocab_size, size=(2, 10))
    a = np.asarray(jax.jit(lambda t: forward(m32, t))(x))
    b = np.asarray(jax.jit(lambda t: forward(m16, t))(x))
    assert b.dtype == np.float32 and np.isfinite(b).all()
    assert np.abs(a - b).max() < 0.05  # bfloat16 has 8 mantissa bits: ~1e-2 relative error


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"d_model": 30}, "heads"),
        ({"n_layers": 0}, "n_layers"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_model_config(kw, match):
    with pytest.raises(InputError, match=match):
        ModelConfig(**{**MCFG.__dict__, **kw})


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"temperature": -1.0}, "temperature"),
        ({"top_p": 0.0}, "top_p"),
        ({"max_new": 0}, "max_new"),
    ],
)
def test_bad_sampling_arguments(flat, kw, match):
    prompts, n_pad = _prompts()
    args = {"n_samples": 2, "max_new": 3, **kw}
    with pytest.raises(InputError, match=match):
        generate(jax.random.key(0), flat, prompts, n_pad, **args)


def test_nnx_split_merge_roundtrip_keeps_the_function(model, fwd):
    g, s = nnx.split(model)
    x = np.arange(64).reshape(4, 16) % MCFG.vocab_size
    ones = np.ones((4, 16), bool)
    again = jax.jit(lambda t, v: forward(nnx.merge(g, s), t, v))
    np.testing.assert_array_equal(np.asarray(again(x, ones)), np.asarray(fwd(x, ones)))
