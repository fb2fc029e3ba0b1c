"""Cost of an attempt: dense FLOPs and Kinetics' memory-aware eFLOPs, from model shapes.

A problem sampled m times with a prompt of ``L_in`` tokens and ``L_out`` generated tokens per sample costs

* **dense** (the issue's 2·params·tokens, spec §5): ``m · 2·P·L_out`` FLOPs with P the parameters used in
  matrix products per token (non-embedding + output embedding d·V; the input embedding is a lookup), and with
  ``attention=True`` Kaplan et al.'s (arXiv 2001.08361, Table 1) attention term ``2·n_layer·n_ctx·d_model`` per
  token at context ``n_ctx = L_in + t``: ``+ m · 2·n_layer·d_model·(L_in·L_out + L_out(L_out+1)/2)``;
* **Kinetics eFLOPs** (Sadhukhan et al., arXiv 2506.05333, §3 and the public ``cost_model/utils.py::dense_cost``
  of Infini-AI-Lab/Kinetics): eFLOPs = C_comp + I · C_mem with

      C_comp = m · [2·P·L_out + 2·(2·L_in + L_out)·L_out·h_q·d_head·n_layer]
      C_mem  = 2·(2·L_in + m·L_out)·L_out·h_kv·d_head·n_layer

  (elements of K and V read; the prompt's KV is shared by the m samples; weights are amortised over the
  batch and not counted), and ``I = 562.5`` FLOPs per element — the paper's constant for an NVIDIA B200
  (bf16). Pythia uses multi-head attention: h_kv = h_q = heads, h_q·d_head = d_model.

Both are affine in m: ``cost(m) = m·per_sample + shared`` (:class:`AttemptCost`); prefill FLOPs are not
counted (as in Kinetics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scaling_theory.errors import InputError
from scaling_theory.numerics import check

KINETICS_INTENSITY = 562.5  # FLOPs per bf16 element moved, NVIDIA B200 (Kinetics, arXiv 2506.05333)
COST_MODELS = ("dense", "kinetics")


@dataclass(frozen=True)
class AttemptCost:
    """``cost(m) = m · per_sample + shared`` per problem, in FLOPs (or eFLOPs)."""

    per_sample: float
    shared: float = 0.0

    def __call__(self, m):
        return np.asarray(m, np.float64) * self.per_sample + self.shared

    def samples_within(self, budget):
        """Largest integer m with cost(m) ≤ budget (0 if none)."""
        return np.maximum(np.floor((np.asarray(budget, np.float64) - self.shared) / self.per_sample + 1e-12), 0.0)


def matmul_params(shape: dict) -> float:
    """Parameters used in matrix products per token: non-embedding + the output embedding (d_model · vocab)."""
    return float(shape["params_nonembedding"]) + float(shape["d_model"]) * float(shape["vocab"])


def dense_flops(shape: dict, prompt_tokens: float, output_tokens: float, *, attention: bool = False) -> AttemptCost:
    """Dense FLOPs per sample: ``2·P·L_out`` (+ Kaplan's attention term with ``attention=True``).

    Args:
      shape: a row of :func:`pythia_shapes` (``params_nonembedding, d_model, vocab, layers``).
      prompt_tokens, output_tokens: L_in, L_out.
    Returns:
      :class:`AttemptCost` (no shared part).
    References:
      Kaplan et al. arXiv 2001.08361 Table 1 (C_forward ≈ 2N + 2 n_layer n_ctx d_attn); spec §5.
    """
    L_in, L_out = float(prompt_tokens), float(output_tokens)
    check(
        L_in >= 0 and L_out >= 1,
        f"token counts must be prompt ≥ 0 and output ≥ 1, got {prompt_tokens}, {output_tokens}",
    )
    per = 2.0 * matmul_params(shape) * L_out
    if attention:
        per += 2.0 * float(shape["layers"]) * float(shape["d_model"]) * (L_in * L_out + L_out * (L_out + 1) / 2)
    return AttemptCost(per, 0.0)


def kinetics_eflops(
    shape: dict,
    prompt_tokens: float,
    output_tokens: float,
    *,
    intensity: float = KINETICS_INTENSITY,
    kv_heads: int | None = None,
) -> AttemptCost:
    """Kinetics' memory-aware eFLOPs for m samples: ``m·per_sample + shared`` (see the module doc).

    Args:
      shape: ``params_nonembedding, d_model, vocab, layers, heads, d_head``; kv_heads: for GQA (default = heads).
      prompt_tokens, output_tokens: L_in, L_out; intensity: I, FLOPs per element moved.
    References:
      Sadhukhan et al., arXiv 2506.05333 (eFLOPs = C_comp + C_mem·I; Best-of-N cost); Infini-AI-Lab/Kinetics
      ``cost_model/utils.py::dense_cost`` (the formula as implemented, I = 562.5 for B200).
    """
    L_in, L_out = float(prompt_tokens), float(output_tokens)
    check(
        L_in >= 0 and L_out >= 1,
        f"token counts must be prompt ≥ 0 and output ≥ 1, got {prompt_tokens}, {output_tokens}",
    )
    check(intensity >= 0, f"intensity must be ≥ 0, got {intensity}")
    layers, heads, d_head = float(shape["layers"]), float(shape["heads"]), float(shape["d_head"])
    hkv = heads if kv_heads is None else float(kv_heads)
    hd = d_head * layers  # head_dim × layers, as in the reference code
    comp = 2.0 * matmul_params(shape) * L_out + 2.0 * (2.0 * L_in + L_out) * L_out * heads * hd
    mem_per = 2.0 * L_out * L_out * hkv * hd  # m·L_out part of 2(2L_in + m L_out) L_out h_kv hd
    mem_shared = 2.0 * 2.0 * L_in * L_out * hkv * hd
    return AttemptCost(comp + intensity * mem_per, intensity * mem_shared)


def pythia_shapes() -> pd.DataFrame:
    """The shipped Pythia shapes table (``data/pythia_shapes.csv``; arXiv 2304.01373 Table 1), indexed by size label."""
    from scaling_theory.io import data_path, read_table

    df = read_table(data_path("pythia_shapes.csv"))
    return df.set_index("model", drop=False)


def pythia_size(model: str) -> str:
    """The size label of a Pythia model or checkpoint name ('Pythia_1.4B_200B' → '1.4B', 'Pythia 12B' → '12B')."""
    import re

    found = re.search(r"(?i)pythia[ _-]?(\d+(?:\.\d+)?)([mb])", str(model))
    if not found:
        raise InputError(f"cannot read a Pythia size from model name {model!r}")
    return found.group(1) + found.group(2).upper()


def model_costs(models, cost_model: str, prompt_tokens: float, output_tokens: float, **kw) -> dict[str, AttemptCost]:
    """:class:`AttemptCost` per Pythia model name under ``cost_model`` (``dense`` | ``kinetics``)."""
    if cost_model not in COST_MODELS:
        raise InputError(f"cost model must be one of {', '.join(COST_MODELS)}; got {cost_model!r}")
    shapes = pythia_shapes()
    out = {}
    for m in models:
        size = pythia_size(m)
        if size not in shapes.index:
            raise InputError(f"no Pythia shape for size {size!r} (model {m!r}); known: {', '.join(shapes.index)}")
        row = shapes.loc[size].to_dict()
        fn = dense_flops if cost_model == "dense" else kinetics_eflops
        out[m] = fn(row, prompt_tokens, output_tokens, **kw)
    return out
