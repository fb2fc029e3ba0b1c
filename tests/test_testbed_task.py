"""The synthetic task: generator, split, encoding, and the parsers (including garbage generations)."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scaling_theory.errors import InputError
from scaling_theory.testbed import task as T

CFG = T.TaskConfig(modulus=11, min_len=2, max_len=10, eval_every=8)


def _solve_by_hand(cfg: T.TaskConfig, text: str) -> list[int]:
    """Independent solver working on the text form ("<bos> 7 +3 *2 _ _ =") with Python ints."""
    words = text.split()
    assert words[0] == "<bos>" and words[-1] == "="
    v, out = int(words[1]), []
    for w in words[2:-1]:
        if w == "_":
            continue
        c = int(w[1:])
        v = (v + c) % cfg.modulus if w[0] == "+" else (v * c) % cfg.modulus
        out.append(v)
    return out


def test_solver_matches_an_independent_text_solver():
    probs = T.random_problems(CFG, np.random.default_rng(0), 200)
    steps = T.solve(CFG, probs)
    for i in range(len(probs)):
        want = _solve_by_hand(CFG, T.problem_text(CFG, probs, i))
        L = int(probs.length[i])
        assert steps[i, :L].tolist() == want
        assert np.all(steps[i, L:] == -1)
        assert T.answers(CFG, probs)[i] == want[-1]


def test_operations_are_bijections():
    # every op token permutes Z_m, so one wrong step can never be undone by correct later steps
    m = CFG.modulus
    vals = np.arange(m)
    for tok in range(T.N_SPECIAL + m, CFG.vocab_size):
        assert sorted(T.apply_op(CFG, vals, np.full(m, tok)).tolist()) == list(range(m))


def test_generation_is_deterministic_in_the_seed():
    a, b = T.eval_problems(jax.random.key(3), CFG, 64), T.eval_problems(jax.random.key(3), CFG, 64)
    c = T.eval_problems(jax.random.key(4), CFG, 64)
    for f in ("start", "ops", "length"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.ops, c.ops)
    x1, m1 = T.training_batch(jax.random.key(0), CFG, step=17, batch_size=32)
    x2, m2 = T.training_batch(jax.random.key(0), CFG, step=17, batch_size=32)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(x1, T.training_batch(jax.random.key(0), CFG, step=18, batch_size=32)[0])


def test_eval_problems_are_distinct_balanced_and_never_trained_on():
    ev = T.eval_problems(jax.random.key(0), CFG, 270)
    assert len(set(T.prompt_hash(CFG, ev).tolist())) == 270
    counts = np.bincount(ev.length, minlength=CFG.max_len + 1)[CFG.min_len :]
    assert counts.max() - counts.min() <= 1  # lengths cycle min_len..max_len
    assert T.is_eval(CFG, ev).all()
    # every eval-split problem a training batch happens to draw has zero loss weight
    for step in range(5):
        seq, mask = T.training_batch(jax.random.key(0), CFG, step=step, batch_size=512)
        probs = T.random_problems(CFG, np.random.default_rng([0, 0x7EA1, step]), 512)
        ev_rows = T.is_eval(CFG, probs)
        assert ev_rows.any() and not mask[ev_rows].any() and mask[~ev_rows].sum(1).min() > 0
    # the hash splits off 1/eval_every = 1/8 of the problems; treating it as random, the binomial SE
    # over 20,000 draws is sqrt(.125·.875/20000) ≈ 0.0023: 5 SE
    assert abs(T.is_eval(CFG, T.random_problems(CFG, np.random.default_rng(1), 20_000)).mean() - 1 / 8) < 0.0125
    # training-split problems for the judge are disjoint from the evaluation split
    assert not T.is_eval(CFG, T.training_problems(jax.random.key(0), CFG, 300)).any()


def test_training_encoding_and_mask():
    probs = T.eval_problems(jax.random.key(1), CFG, 30)
    seq, mask = T.encode_training(CFG, probs)
    prompts, n_pad = T.encode_prompts(CFG, probs)
    assert seq.shape == (30, CFG.seq_len) and np.all(n_pad == 0)
    np.testing.assert_array_equal(seq[:, : CFG.prompt_len], prompts)
    steps = T.solve(CFG, probs)
    for i in range(30):
        L = int(probs.length[i])
        targets = seq[i, 1:][mask[i, :-1] > 0]  # the tokens the loss is on
        assert targets.tolist() == [int(CFG.value_token(v)) for v in steps[i, :L]] + [T.EOS]
        # the text parser reads the answer back from the decoded sequence
        assert T.parse_answer_text(CFG, T.decode_text(CFG, seq[i])) == steps[i, L - 1]


def test_token_parser_on_well_formed_and_malformed_completions():
    v = lambda x: T.N_SPECIAL + x  # noqa: E731
    op = CFG.vocab_size - 1
    rows = np.array(
        [
            [v(3), v(7), T.EOS, T.PAD, T.PAD],  # ok, answer 7
            [v(3), T.EOS, v(5), v(6), v(1)],  # ok, anything after the end is ignored
            [T.EOS, T.PAD, T.PAD, T.PAD, T.PAD],  # empty answer
            [v(3), v(4), v(5), v(6), v(7)],  # no end token
            [v(3), op, T.EOS, T.PAD, T.PAD],  # an operation inside the answer
            [v(2), T.PAD, v(2), T.EOS, T.PAD],  # padding inside
            [v(1), 999, T.EOS, T.PAD, T.PAD],  # out-of-vocabulary id
            [-5, v(1), T.EOS, T.PAD, T.PAD],  # negative id
        ]
    )
    p = T.parse_completions(CFG, rows)
    assert p.answer.tolist() == [7, 3, -1, -1, -1, -1, -1, -1]
    assert p.n_steps.tolist() == [2, 1, 0, 0, 0, 0, 0, 0]
    assert p.well_formed.tolist() == [True, True] + [False] * 6
    with pytest.raises(InputError, match="tokens"):
        T.parse_completions(CFG, np.zeros(5, int))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(-3, 200), min_size=1, max_size=14), min_size=1, max_size=6))
def test_token_parser_never_crashes_and_agrees_with_the_text_parser(rows):
    width = max(map(len, rows))
    tok = np.array([r + [T.PAD] * (width - len(r)) for r in rows])
    p = T.parse_completions(CFG, tok)
    assert p.answer.shape == (len(rows),)
    assert np.all((p.answer >= -1) & (p.answer < CFG.modulus))
    assert np.all(p.well_formed == (p.answer >= 0))
    for i in range(len(rows)):
        text_answer = T.parse_answer_text(CFG, T.decode_text(CFG, tok[i]))
        assert (text_answer if text_answer is not None else -1) == p.answer[i]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.none(), st.integers(), st.binary(max_size=10)))
def test_text_parser_never_crashes_on_garbage(text):
    out = T.parse_answer_text(CFG, text)
    assert out is None or 0 <= out < CFG.modulus


def test_text_parser_cases():
    assert T.parse_answer_text(CFG, "<bos> 3 +1 = 4 .") == 4
    assert T.parse_answer_text(CFG, "4 10 .") == 10
    assert T.parse_answer_text(CFG, "4 11 .") is None  # out of Z_11
    assert T.parse_answer_text(CFG, "4 07 .") is None  # no leading zeros
    assert T.parse_answer_text(CFG, "4 ٣ .") is None  # non-ASCII digit
    assert T.parse_answer_text(CFG, "4 5") is None  # no end
    assert T.parse_answer_text(CFG, ". 4") is None  # empty answer
    assert T.parse_answer_text(CFG, "= = 4 .") == 4


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"modulus": 9}, "prime"),
        ({"modulus": 2}, "prime"),
        ({"min_len": 0}, "min_len"),
        ({"min_len": 5, "max_len": 4}, "min_len"),
        ({"eval_every": 1}, "eval_every"),
    ],
)
def test_bad_task_config(kw, match):
    with pytest.raises(InputError, match=match):
        T.TaskConfig(**kw)


def test_vocabulary_is_consistent():
    texts = CFG.token_texts()
    assert len(texts) == CFG.vocab_size == len(set(texts))
    assert texts[int(CFG.op_token(0, 3))] == "+3" and texts[int(CFG.op_token(1, 2))] == "*2"
    assert texts[int(CFG.value_token(10))] == "10"


def test_keys_reproduce_the_seeded_runs_and_their_identity():
    """A run of ``jax.random.key(seed)`` keeps the identity (fingerprint, cache folder) and the draws it had when
    runs took an integer ``seed``: its NumPy streams are ``default_rng([seed, stream])``; seeds ≥ 2³² get a
    different identity (their old draws are not reproduced, so their old caches must not be reused)."""
    for seed in (0, 7, 2**32 - 1):
        assert T.key_seed(jax.random.key(seed)) == seed == T.run_identity(jax.random.key(seed))
    big = 2**40 + 5
    with jax.enable_x64(True):  # (outside x64, jax.random.key keeps the low 32 bits of a seed)
        key_big = jax.random.key(big)
    assert T.key_seed(key_big) == big and T.run_identity(key_big) == [256, 5]
    old_rng = np.random.default_rng([3, 0x4E1D])  # the pre-key heldout_problems, written out
    cand = T.random_problems(CFG, old_rng, 4 * 20 * CFG.eval_every + 64)
    old = cand.take(np.flatnonzero(T.is_eval(CFG, cand))[:20])
    new = T.heldout_problems(jax.random.key(3), CFG, 20)
    for field in ("start", "ops", "length"):
        np.testing.assert_array_equal(getattr(new, field), getattr(old, field))
    x_old = T.encode_training(CFG, T.random_problems(CFG, np.random.default_rng([0, 0x7EA1, 17]), 32))[0]
    np.testing.assert_array_equal(T.training_batch(jax.random.key(0), CFG, step=17, batch_size=32)[0], x_old)
