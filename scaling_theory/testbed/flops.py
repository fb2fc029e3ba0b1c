"""FLOP counts of the testbed transformer and model FLOP utilisation (MFU).

Per token, with N the non-embedding parameters (the tied embedding costs one matmul at the output),
d the model width, L the layers, T the attended context (Kaplan et al. 2020; Chowdhery et al. 2022,
App. B):

* forward   ``C_f = 2 (N + V d) + 4 L T d``  (matmuls: 2 per weight; attention: QKᵀ and AV)
* training  ``C_t = 3 C_f``  (backward ≈ 2 × forward)
* decoding with a KV cache: ``C_f`` with T = the cache length so far.

MFU = achieved model FLOP/s ÷ peak FLOP/s. Peaks: a table of accelerators (dense, per device) and,
for CPUs, a *nominal* peak ``cores × clock × FLOP/cycle`` (32 FP32 FLOP/cycle with AVX2 + 2 FMA
units, 64 with AVX-512), which is an upper bound rarely approached by small matmuls.
"""

from __future__ import annotations

import os
import re

import jax

from scaling_theory.testbed.model import ModelConfig

# Dense peak FLOP/s per device by (device kind substring, dtype).
PEAKS = {
    ("H200", "bfloat16"): 989e12,
    ("H200", "float32"): 67e12,
    ("H100", "bfloat16"): 989e12,
    ("H100", "float32"): 67e12,  # SXM; TF32 tensor cores: 495e12
    ("A100", "bfloat16"): 312e12,
    ("A100", "float32"): 19.5e12,
    ("L4", "bfloat16"): 121e12,
    ("L4", "float32"): 30.3e12,
    ("TPU v4", "bfloat16"): 275e12,
    ("TPU v5", "bfloat16"): 197e12,
}


def non_embedding_params(cfg: ModelConfig) -> int:
    """Weights of the blocks (attention, MLP with biases, norms) and the final norm."""
    d, f = cfg.d_model, cfg.d_ff
    return cfg.n_layers * (4 * d * d + 2 * d * f + f + d + 2 * d) + d


def forward_flops_per_token(cfg: ModelConfig, context: float) -> float:
    """``2 (N + V d) + 4 L T d``: matmul FLOPs of one token attending to ``context`` tokens."""
    return 2.0 * (non_embedding_params(cfg) + cfg.vocab_size * cfg.d_model) + 4.0 * cfg.n_layers * context * cfg.d_model


def train_flops_per_token(cfg: ModelConfig, seq_len: int) -> float:
    """``3 × forward`` with the causal average context ``(T + 1)/2``."""
    return 3.0 * forward_flops_per_token(cfg, (seq_len + 1) / 2)


def cpu_peak_flops() -> tuple[float, str]:
    """Nominal FP32 peak of the CPU cores this process may use, and how it was derived."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    mhz, flags = 0.0, ""
    try:
        with open("/proc/cpuinfo") as fh:
            text = fh.read()
        m = re.search(r"cpu MHz\s*:\s*([\d.]+)", text)
        mhz = float(m.group(1)) if m else 0.0
        f = re.search(r"flags\s*:\s*(.*)", text)
        flags = f.group(1) if f else ""
    except OSError:
        pass
    per_cycle = 64 if "avx512f" in flags else 32 if "avx2" in flags and "fma" in flags else 8
    ghz = mhz / 1e3 if mhz else 2.0
    return cores * ghz * 1e9 * per_cycle, f"nominal {cores} cores × {ghz:.2f} GHz × {per_cycle} FP32 FLOP/cycle"


def peak_flops(dtype: str = "float32") -> tuple[float, str]:
    """Peak FLOP/s of all devices (table for accelerators, nominal for CPUs) and its source."""
    dev = jax.devices()[0]
    if dev.platform == "cpu":
        return cpu_peak_flops()
    for (kind, dt), peak in PEAKS.items():
        if kind.lower() in dev.device_kind.lower() and dt == dtype:
            return peak * jax.device_count(), f"{jax.device_count()}× {dev.device_kind} dense {dtype} peak"
    return float("nan"), f"unknown peak for {dev.device_kind}"


def mfu(tokens_per_s: float, flops_per_token: float, peak: float) -> float:
    """Model FLOP utilisation: ``tokens/s × FLOP/token ÷ peak FLOP/s``."""
    return tokens_per_s * flops_per_token / peak
