"""Training: the learning-rate schedule, exact checkpoint resume, and 1- vs 4-device agreement."""

from __future__ import annotations

import math
import shutil
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np
import pytest
from flax import nnx

from scaling_theory.errors import InputError
from scaling_theory.io import read_table
from scaling_theory.testbed.model import ModelConfig
from scaling_theory.testbed.task import TaskConfig
from scaling_theory.testbed.train import TrainConfig, _reached, schedule, train
from tests.multidevice import run_with_devices

TASK = TaskConfig(modulus=5, min_len=1, max_len=3, eval_every=4)
MCFG = ModelConfig(TASK.vocab_size, d_model=16, n_layers=1, n_heads=2, d_ff=32)
TCFG = TrainConfig(steps=12, batch_size=16, lr=1e-2, warmup=3, eval_every=4, eval_problems=16, ckpt_every=4)


def test_schedule_is_linear_warmup_then_cosine_decay():
    cfg = TrainConfig(steps=1000, lr=2e-3, warmup=100, min_lr_ratio=0.1)
    lr = schedule(cfg)
    assert float(lr(0)) == 0.0
    assert float(lr(50)) == pytest.approx(1e-3, rel=1e-6)
    assert float(lr(100)) == pytest.approx(2e-3, rel=1e-6)
    for s in (300, 550, 800):  # cosine from lr to 0.1 lr over steps 100..1000
        frac = (s - 100) / 900
        want = 2e-4 + (2e-3 - 2e-4) * 0.5 * (1 + math.cos(math.pi * frac))
        assert float(lr(s)) == pytest.approx(want, rel=1e-5)
    assert float(lr(1000)) == pytest.approx(2e-4, rel=1e-6)


def _params(model) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param))]


def test_interrupted_run_resumes_to_the_same_parameters(tmp_path):
    full = train(jax.random.key(1), TASK, MCFG, TCFG, workdir=None, progress=False)  # uninterrupted, in memory
    # a crash after step 6: the checkpoint of step 4 survives, the one of step 6 was never written
    part = train(jax.random.key(1), TASK, MCFG, TCFG, workdir=tmp_path, progress=False, stop_after=6)
    assert part.steps == 6 and (tmp_path / "checkpoints" / "6").is_dir()
    shutil.rmtree(tmp_path / "checkpoints" / "6")
    resumed = train(jax.random.key(1), TASK, MCFG, TCFG, workdir=tmp_path, progress=False)
    assert resumed.resumed_from == 4 and resumed.steps == full.steps == 12
    for a, b in zip(_params(full.model), _params(resumed.model), strict=True):
        np.testing.assert_array_equal(a, b)  # same batches, same optimiser state: bitwise equal
    # the log rows after the checkpoint were replaced by the replayed ones
    assert [r["step"] for r in resumed.log] == [r["step"] for r in full.log] == [4, 8, 12]
    np.testing.assert_allclose([r["eval_loss"] for r in resumed.log], [r["eval_loss"] for r in full.log], rtol=1e-6)
    assert read_table(tmp_path / "train_log.csv")["step"].tolist() == [4, 8, 12]
    # it learned something: held-out loss below the uniform-guess loss log V
    assert full.log[-1]["eval_loss"] < math.log(TASK.vocab_size)
    # a different configuration in the same folder is refused with one clear error
    with pytest.raises(InputError, match="different configuration"):
        train(
            jax.random.key(1),
            TASK,
            MCFG,
            TrainConfig(**{**TCFG.__dict__, "lr": 5e-3}),
            workdir=tmp_path,
            progress=False,
        )


def test_training_stops_at_the_target_accuracy_and_stays_stopped(tmp_path):
    full = train(jax.random.key(1), TASK, MCFG, TCFG, workdir=None, progress=False)
    target = 1e-9  # "any problem solved greedily": the first evaluation with a positive exact-match rate
    want = next((r["step"] for r in full.log if r["eval_greedy_acc"] >= target), TCFG.steps)
    cfg = TrainConfig(**{**TCFG.__dict__, "target_greedy_acc": target})
    first = train(jax.random.key(1), TASK, MCFG, cfg, workdir=tmp_path, progress=False)
    assert first.steps == want
    again = train(jax.random.key(1), TASK, MCFG, cfg, workdir=tmp_path, progress=False)  # a rerun does not train on
    assert again.steps == want and again.resumed_from == want
    for a, b in zip(_params(first.model), _params(again.model), strict=True):
        np.testing.assert_array_equal(a, b)


def test_reached_rule():
    cfg = TrainConfig(**{**TCFG.__dict__, "target_greedy_acc": 0.5})
    log = [{"step": 4, "eval_greedy_acc": 0.2}, {"step": 8, "eval_greedy_acc": 0.5}]
    assert _reached(cfg, log, 8) and not _reached(cfg, log[:1], 4) and not _reached(cfg, log, 9)
    assert not _reached(TCFG, log, 8)  # no target: never stops early


_SNIPPET = """
import json, jax, numpy as np
from flax import nnx
from scaling_theory.testbed.model import ModelConfig
from scaling_theory.testbed.task import TaskConfig
from scaling_theory.testbed.train import TrainConfig, train
from scaling_theory.numerics import shard_batch
from scaling_theory.testbed.run import enable_compilation_cache
enable_compilation_cache()  # repeated test runs skip recompiling in the fresh process
task = TaskConfig(modulus=5, min_len=1, max_len=3, eval_every=4)
m = ModelConfig(task.vocab_size, d_model=16, n_layers=1, n_heads=2, d_ff=32)
t = TrainConfig(steps=6, batch_size=16, lr=1e-2, warmup=2, eval_every=3, eval_problems=16, ckpt_every=100)
res = train(jax.random.key(3), task, m, t, progress=False)
leaves = [np.asarray(x).ravel().tolist() for x in jax.tree_util.tree_leaves(nnx.state(res.model, nnx.Param))]
n_shards = len(shard_batch(np.zeros((16, 4))).sharding.device_set)
print(json.dumps({"leaves": leaves, "loss": [r["eval_loss"] for r in res.log], "shards": n_shards}))
"""


@pytest.mark.slow
def test_one_and_four_devices_train_to_the_same_parameters():
    with ThreadPoolExecutor(2) as pool:  # the two processes run side by side
        one, four = pool.map(lambda n: run_with_devices(_SNIPPET, n=n), (1, 4))
    assert one["shards"] == 1 and four["shards"] == 4  # the batch really is split over 4 devices
    assert len(one["leaves"]) == len(four["leaves"])
    for a, b in zip(one["leaves"], four["leaves"]):
        # the same arithmetic up to the order of the cross-device gradient sum (float32 rounding)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(one["loss"], four["loss"], rtol=1e-5)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"steps": 0}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"warmup": 12}, "warmup"),
        ({"batch_size": 0}, "batch_size"),
        ({"target_greedy_acc": 1.5}, "target_greedy_acc"),
    ],
)
def test_bad_train_config(kw, match):
    with pytest.raises(InputError, match=match):
        TrainConfig(**{**TCFG.__dict__, **kw})
