"""The synthetic verifiable task: chains of modular-arithmetic operations with written steps.

A problem is a start value ``a0 ∈ Z_m`` and a chain of ``L`` operations ``op_j ∈ {+c, ×c}`` on
``Z_m`` (m prime, c ≠ 0 and, for ×, c ≠ 1, so every operation is a bijection). The answer is written
as the running values ``v_j = op_j(v_{j-1})``, ``v_0 = a0``, then an end token; the verifiable
answer is the last value ``v_L``. Difficulty grows with the chain length ``L``: one wrong step makes
every later value wrong (operations are bijections, so one error is never undone by correct steps).

Text form (one token per word; the operation slots are padded with blanks ``_`` to ``max_len``)::

    prompt      <bos> 7 +3 *2 *5 _ _ _ _ _ _ _ =
    completion  10 9 1 .

Token ids: ``0 <pad>, 1 <bos>, 2 =, 3 .`` (end), ``4 _`` (blank), then the ``m`` values, then
``+1 … +(m-1)``, then ``*2 … *(m-1)``. Generation is deterministic in the seed; evaluation problems are those whose
prompt hash falls in the evaluation split, training batches mask them out, so the two sets are
disjoint by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling_theory.errors import InputError
from scaling_theory.results import Result

PAD, BOS, EQ, EOS, BLANK = 0, 1, 2, 3, 4
N_SPECIAL = 5
_SPECIAL_TEXT = ("<pad>", "<bos>", "=", ".", "_")


@dataclass(frozen=True)
class TaskConfig:
    """Task parameters: modulus ``m`` (prime), chain lengths ``min_len..max_len``, eval split ``1/eval_every``."""

    modulus: int = 11
    min_len: int = 2
    max_len: int = 10
    eval_every: int = 8

    def __post_init__(self) -> None:
        m = self.modulus
        if m < 3 or any(m % q == 0 for q in range(2, int(m**0.5) + 1)):
            raise InputError(f"modulus must be a prime ≥ 3, got {m}")
        if not 1 <= self.min_len <= self.max_len:
            raise InputError(f"need 1 ≤ min_len ≤ max_len, got min_len={self.min_len}, max_len={self.max_len}")
        if self.eval_every < 2:
            raise InputError(f"eval_every must be ≥ 2, got {self.eval_every}")

    # ---- vocabulary
    @property
    def n_add(self) -> int:
        return self.modulus - 1

    @property
    def n_mul(self) -> int:
        return self.modulus - 2

    @property
    def vocab_size(self) -> int:
        return N_SPECIAL + self.modulus + self.n_add + self.n_mul

    @property
    def prompt_len(self) -> int:
        """Longest prompt: ``<bos> a0 op_1..op_Lmax =``."""
        return self.max_len + 3

    @property
    def completion_len(self) -> int:
        """Longest correct completion: ``v_1..v_Lmax .``."""
        return self.max_len + 1

    @property
    def seq_len(self) -> int:
        """Training sequence length: prompt + completion."""
        return self.prompt_len + self.completion_len

    def value_token(self, v: Any) -> Any:
        return N_SPECIAL + np.asarray(v)

    def op_token(self, kind: Any, arg: Any) -> Any:
        """Token of ``+arg`` (kind 0, arg ∈ 1..m-1) or ``*arg`` (kind 1, arg ∈ 2..m-1)."""
        kind, arg = np.asarray(kind), np.asarray(arg)
        return np.where(kind == 0, N_SPECIAL + self.modulus + arg - 1, N_SPECIAL + self.modulus + self.n_add + arg - 2)

    def token_texts(self) -> list[str]:
        m = self.modulus
        return (
            list(_SPECIAL_TEXT)
            + [str(v) for v in range(m)]
            + [f"+{c}" for c in range(1, m)]
            + [f"*{c}" for c in range(2, m)]
        )


@dataclass(frozen=True)
class Problems(Result):
    """A batch of problems: start values, operation tokens (``-1`` past the length), lengths.

    Rows: one per problem with ``start`` and ``length`` (the operations stay an array).
    """

    _row_fields = ("start", "length")
    _index = ("problem",)

    start: np.ndarray  # (P,) int
    ops: np.ndarray  # (P, Lmax) op token ids, -1 beyond length
    length: np.ndarray  # (P,) int

    def __len__(self) -> int:
        return int(self.start.shape[0])

    def take(self, idx: Any) -> Problems:
        return Problems(self.start[idx], self.ops[idx], self.length[idx])


# ------------------------------------------------------------------------------------- generation


def random_problems(cfg: TaskConfig, rng: np.random.Generator, n: int, length: np.ndarray | None = None) -> Problems:
    """``n`` problems with uniform start values and operations; lengths uniform in min_len..max_len."""
    m, lmax = cfg.modulus, cfg.max_len
    if length is None:
        length = rng.integers(cfg.min_len, cfg.max_len + 1, size=n)
    length = np.asarray(length, dtype=np.int64)
    start = rng.integers(0, m, size=n)
    op_ids = rng.integers(0, cfg.n_add + cfg.n_mul, size=(n, lmax))  # uniform over the op tokens
    ops = N_SPECIAL + m + op_ids
    ops = np.where(np.arange(lmax)[None, :] < length[:, None], ops, -1)
    return Problems(start.astype(np.int64), ops.astype(np.int64), length)


def apply_op(cfg: TaskConfig, values: np.ndarray, op_tokens: np.ndarray) -> np.ndarray:
    """``op(v)`` mod m for operation tokens (vectorised; invalid tokens give -1)."""
    m = cfg.modulus
    idx = op_tokens - N_SPECIAL - m
    is_add = (idx >= 0) & (idx < cfg.n_add)
    is_mul = (idx >= cfg.n_add) & (idx < cfg.n_add + cfg.n_mul)
    add = (values + idx + 1) % m
    mul = (values * (idx - cfg.n_add + 2)) % m
    return np.where(is_add, add, np.where(is_mul, mul, -1))


def solve(cfg: TaskConfig, problems: Problems) -> np.ndarray:
    """Running values ``v_1..v_Lmax`` (P, Lmax), ``-1`` beyond each problem's length."""
    v = problems.start.copy()
    out = np.full(problems.ops.shape, -1, dtype=np.int64)
    for j in range(cfg.max_len):  # loop over chain positions (≤ Lmax), vectorised over problems
        live = j < problems.length
        v = np.where(live, apply_op(cfg, v, np.where(live, problems.ops[:, j], N_SPECIAL + cfg.modulus)), v)
        out[:, j] = np.where(live, v, -1)
    return out


def answers(cfg: TaskConfig, problems: Problems) -> np.ndarray:
    """The verifiable answer ``v_L`` of each problem."""
    steps = solve(cfg, problems)
    return steps[np.arange(len(problems)), problems.length - 1]


# ------------------------------------------------------------------------------------------- split


def prompt_hash(cfg: TaskConfig, problems: Problems) -> np.ndarray:
    """FNV-1a (32-bit) hash of ``(L, a0, op_1..op_L)``; it decides the train/eval split."""
    h = np.full(len(problems), 2166136261, dtype=np.uint64)
    mask32 = np.uint64(0xFFFFFFFF)
    words = np.concatenate([problems.length[:, None], problems.start[:, None], problems.ops], axis=1)
    for j in range(words.shape[1]):
        h = ((h ^ (words[:, j].astype(np.int64) & 0xFFFF).astype(np.uint64)) * np.uint64(16777619)) & mask32
    return h


def is_eval(cfg: TaskConfig, problems: Problems) -> np.ndarray:
    """True for problems in the evaluation split (about ``1/eval_every`` of all problems)."""
    return (prompt_hash(cfg, problems) % np.uint64(cfg.eval_every)) == 0


def _rng(key: Any, *stream: int) -> np.random.Generator:
    """``stats.numpy_rng(key, *stream)`` (imported here: the task stays importable without JAX)."""
    from scaling_theory.stats import numpy_rng

    return numpy_rng(key, *stream)


def key_seed(key: Any) -> int:
    """The integer of a key's data words (``jax.random.key_data``, most significant first): ``seed`` for
    ``jax.random.key(seed)`` with 0 ≤ seed < 2⁶⁴. The run identity in the testbed's fingerprints and cache
    folders (unchanged from when runs took an integer seed) and the seed of the imperfect verifier's hash.

    Args:
      key: a concrete JAX PRNG key (threefry, the default).
    Returns:
      A non-negative int.
    """
    import jax
    import jax.numpy as jnp

    try:
        data = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
        words = [int(w) for w in np.asarray(data, dtype=np.uint64).ravel()]
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(f"key must be a JAX PRNG key, got {type(key).__name__}") from exc
    out = 0
    for w in words:
        out = (out << 32) | w
    return out


def run_identity(key: Any) -> int | list[int]:
    """The identity of a testbed run's randomness in its fingerprints: :func:`key_seed` when below 2³² (so a run of
    ``jax.random.key(seed)`` has the fingerprint, cache folder and checkpoints of the integer ``seed`` it had
    before keys were threaded through, with the same draws), else the key's two 32-bit words (a different
    fingerprint: runs of larger seeds drew from ``default_rng([seed, …])``, which ``numpy_rng`` does not
    reproduce, so their old caches are recomputed, never reused).

    Args:
      key: a concrete JAX PRNG key.
    Returns:
      An int below 2³², or ``[high, low]``.
    """
    s = key_seed(key)
    return s if s < 2**32 else [s >> 32, s & 0xFFFFFFFF]


def eval_problems(key: Any, cfg: TaskConfig, n: int) -> Problems:
    """``n`` distinct evaluation-split problems, balanced over lengths, deterministic in ``key``.

    Lengths cycle ``min_len..max_len`` so every difficulty is equally represented.

    Args:
      key: JAX PRNG key (NumPy draws from ``stats.numpy_rng(key, 0xE7A1)``; for ``jax.random.key(seed)`` the
        generator of ``np.random.default_rng([seed, 0xE7A1])``, as before keys were threaded through).
      cfg: the task.
      n: number of problems (≥ 1).
    Returns:
      :class:`Problems`.
    """
    if n < 1:
        raise InputError(f"number of evaluation problems must be ≥ 1, got {n}")
    lengths = np.arange(cfg.min_len, cfg.max_len + 1)
    want = lengths[np.arange(n) % len(lengths)]
    rng = _rng(key, 0xE7A1)
    chosen: list[Problems] = []
    for L in lengths:  # one vectorised draw per length (≤ Lmax lengths)
        need = int((want == L).sum())
        if need == 0:
            continue
        cand = random_problems(cfg, rng, 64 * need + 4096, length=np.full(64 * need + 4096, L))
        keep = np.flatnonzero(is_eval(cfg, cand))
        _, first = np.unique(prompt_hash(cfg, cand)[keep], return_index=True)  # drop repeats
        keep = keep[np.sort(first)]
        if len(keep) < need:
            raise InputError(f"only {len(keep)} distinct evaluation problems of length {L}; asked for {need}")
        chosen.append(cand.take(keep[:need]))
    probs = Problems(*(np.concatenate([getattr(c, f) for c in chosen]) for f in ("start", "ops", "length")))
    # `probs` is grouped by ascending length; put problem j at the j-th slot of its length in `want`
    return probs.take(np.argsort(np.argsort(want, kind="stable"), kind="stable"))


# --------------------------------------------------------------------------------------- encoding


def _prompt_block(cfg: TaskConfig, problems: Problems) -> np.ndarray:
    """``<bos> a0 op_1..op_L _…_ =`` with the operation slots padded by blanks to ``max_len``."""
    P = len(problems)
    ops = np.where(problems.ops >= 0, problems.ops, BLANK)
    return np.concatenate(
        [np.full((P, 1), BOS), cfg.value_token(problems.start)[:, None], ops, np.full((P, 1), EQ)], axis=1
    ).astype(np.int64)


def encode_prompts(cfg: TaskConfig, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """Prompts ``(P, prompt_len)`` and their numbers of left-pad tokens ``(P,)`` (all 0 here).

    The operation slots are padded with blanks to ``max_len``, so every prompt has the same length
    and the answer ``v_j`` always sits ``max_len`` tokens after ``op_j``: the difficulty comes from
    the chain, not from locating the operations. (The sampler also accepts left-padded prompts.)
    """
    return _prompt_block(cfg, problems).astype(np.int32), np.zeros(len(problems), np.int32)


def encode_training(cfg: TaskConfig, problems: Problems) -> tuple[np.ndarray, np.ndarray]:
    """Training sequences ``(P, seq_len)`` and the loss mask over next-token targets.

    ``<bos> a0 op_1..op_L _…_ = v_1..v_L . <pad>…``; ``mask[:, t]`` is 1 where token ``t+1`` is a
    completion token (``v_j`` or the end token), i.e. the loss is on the written answer only.
    """
    T0 = cfg.prompt_len
    L = problems.length[:, None]
    cols = np.arange(cfg.completion_len)[None, :]
    steps = cfg.value_token(np.clip(solve(cfg, problems), 0, None))
    comp = np.where(cols < L, np.pad(steps, ((0, 0), (0, 1))), np.where(cols == L, EOS, PAD))
    seq = np.concatenate([_prompt_block(cfg, problems), comp], axis=1)
    tcol = np.arange(cfg.seq_len)[None, :] + 1  # column of the target token
    mask = (tcol >= T0) & (tcol <= T0 + L)
    return seq.astype(np.int32), mask.astype(np.float32)


def training_batch(key: Any, cfg: TaskConfig, step: int, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The training batch of ``step`` (a pure function of ``key`` and ``step``: exact resumes).

    Evaluation-split problems that happen to be drawn get loss weight 0.
    """
    rng = _rng(key, 0x7EA1, step)
    probs = random_problems(cfg, rng, batch_size)
    seq, mask = encode_training(cfg, probs)
    mask = mask * (~is_eval(cfg, probs))[:, None].astype(np.float32)
    return seq, mask


def heldout_problems(key: Any, cfg: TaskConfig, n: int) -> Problems:
    """``n`` evaluation-split problems drawn like training problems (repeats allowed): held-out loss."""
    rng = _rng(key, 0x4E1D)
    cand = random_problems(cfg, rng, 4 * n * cfg.eval_every + 64)
    keep = np.flatnonzero(is_eval(cfg, cand))
    if len(keep) < n:
        raise InputError(f"could not draw {n} held-out problems")
    return cand.take(keep[:n])


def training_problems(key: Any, cfg: TaskConfig, n: int) -> Problems:
    """``n`` training-split problems (for fitting a judge), balanced over lengths."""
    rng = _rng(key, 0x7D6E)
    lengths = np.arange(cfg.min_len, cfg.max_len + 1)
    cand = random_problems(cfg, rng, 2 * n + 64, length=lengths[np.arange(2 * n + 64) % len(lengths)])
    keep = np.flatnonzero(~is_eval(cfg, cand))[:n]
    return cand.take(keep)


# ---------------------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Parsed(Result):
    """Parsed completions: final answer (-1 if malformed), number of written steps, well-formedness.

    Rows: one per completion with ``answer``, ``n_steps``, ``well_formed``.
    """

    _index = ("completion",)

    answer: np.ndarray  # (N,) int, -1 when malformed
    n_steps: np.ndarray  # (N,) int: values written before the end token (0 when malformed)
    well_formed: np.ndarray  # (N,) bool: ≥ 1 value, then the end token, nothing else before it


def parse_completions(cfg: TaskConfig, tokens: Any) -> Parsed:
    """Parse generated token ids ``(N, G)`` (anything after the first end token is ignored).

    Well-formed: one or more value tokens followed by the end token. Any other content (operations,
    ``=``, ``<bos>``, pads, out-of-range ids, no end token) gives ``answer = -1``. Never raises on
    content; only the shape is checked.
    """
    tok = np.asarray(tokens)
    if tok.ndim != 2 or tok.shape[1] == 0:
        raise InputError(f"tokens must be a non-empty 2-D array (N, G), got shape {tok.shape}")
    tok = tok.astype(np.int64, copy=False)
    N, G = tok.shape
    is_end = tok == EOS
    has_end = is_end.any(axis=1)
    end = np.where(has_end, is_end.argmax(axis=1), G)
    before = np.arange(G)[None, :] < end[:, None]
    is_val = (tok >= N_SPECIAL) & (tok < N_SPECIAL + cfg.modulus)
    clean = np.all(is_val | ~before, axis=1)
    well = has_end & clean & (end >= 1)
    last = np.take_along_axis(tok, np.clip(end - 1, 0, G - 1)[:, None], axis=1)[:, 0]
    answer = np.where(well, last - N_SPECIAL, -1)
    return Parsed(answer.astype(np.int64), np.where(well, end, 0).astype(np.int64), well)


def decode_text(cfg: TaskConfig, tokens: Any) -> str:
    """Token ids → space-separated text (unknown ids shown as ``<unk:ID>``)."""
    texts = cfg.token_texts()
    out = []
    for t in np.asarray(tokens).ravel().tolist():
        out.append(texts[t] if 0 <= t < len(texts) else f"<unk:{t}>")
    return " ".join(out)


def parse_answer_text(cfg: TaskConfig, text: Any) -> int | None:
    """Final answer of a completion given as text (``"10 9 1 ."``), or ``None`` if malformed.

    Accepts the prompt in front (everything up to the last ``=`` is dropped). Never raises: any
    input that is not ``value+ .`` (values in ``0..m-1``) gives ``None``.
    """
    if not isinstance(text, str):
        return None
    body = text.rsplit("=", 1)[-1]
    words = body.split()
    if "." not in words:
        return None
    words = words[: words.index(".")]
    if not words:
        return None
    vals = []
    for w in words:
        if not (w.isascii() and w.isdigit()):
            return None
        v = int(w)
        if v >= cfg.modulus or (len(w) > 1 and w[0] == "0"):
            return None
        vals.append(v)
    return vals[-1]


def problem_text(cfg: TaskConfig, problems: Problems, i: int) -> str:
    """Human-readable prompt of problem ``i``."""
    prompt, n_pad = encode_prompts(cfg, problems.take(np.array([i])))
    return decode_text(cfg, prompt[0, n_pad[0] :])
