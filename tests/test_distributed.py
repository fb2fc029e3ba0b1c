"""Multi-process runs (``jax.distributed`` over gloo on 127.0.0.1): 2 processes × 2 forced CPU devices
give the same numbers as 1 process, only process 0 prints, only process 0 writes files.

Each command runs as real processes of ``python -m scaling_theory.cli --coordinator 127.0.0.1:PORT
--num-processes 2 --process-id I ...`` (a free port per run). The judge simulation splits its test
inputs across the 4 devices of both processes (cross-process ``psum``); the fitting optimiser
(bootstrap and multi-start fits) splits its starts into one contiguous block per device of both
processes; the pass@k back-test computes its batches on each process's own devices. For every command
the check is that the multi-process run reproduces the 1-process numbers and prints once; for the
bootstrap, also that each process computes only its own half of the replicates.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(devices: int) -> dict[str, str]:
    env = dict(os.environ)
    env["JAX_PLATFORMS"] = "cpu"
    flags = " ".join(f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f)
    env["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={devices}".strip()
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


def _launch(argv: list[str], processes: int, devices: int) -> list[subprocess.Popen]:
    port = _free_port()
    procs = []
    for i in range(processes):
        pre = (
            ["--coordinator", f"127.0.0.1:{port}", "--num-processes", str(processes), "--process-id", str(i)]
            if processes > 1
            else []
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "scaling_theory.cli", *pre, *argv],
                cwd=ROOT,
                env=_env(devices),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def _launch_code(code: str, *args: str, processes: int = 2, devices: int = 2) -> list[subprocess.Popen]:
    """``python -c code COORDINATOR PROCESS_ID *args`` in ``processes`` processes of ``devices`` CPU devices."""
    port = _free_port()
    return [
        subprocess.Popen(
            [sys.executable, "-c", code, f"127.0.0.1:{port}", str(i), *args],
            cwd=ROOT,
            env=_env(devices),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]


def _collect(procs: list[subprocess.Popen], timeout: float = 600) -> list[tuple[int, str, str]]:
    out = []
    try:
        for p in procs:
            o, e = p.communicate(timeout=timeout)
            out.append((p.returncode, o, e))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return out


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("dist")
    rng = np.random.default_rng(1)
    x = np.logspace(0, 4, 30)
    pd.DataFrame({"compute": x, "loss": 3.0 * x**-0.4 * np.exp(0.05 * rng.standard_normal(x.size))}).to_csv(
        tmp / "fit.csv", index=False
    )
    theta = rng.beta(0.4, 4.0, 60)
    pd.DataFrame({"problem": range(60), "n": 500, "k": rng.binomial(500, theta)}).to_csv(
        tmp / "counts.csv", index=False
    )
    return {"fit": tmp / "fit.csv", "counts": tmp / "counts.csv"}


def _commands(tables: dict[str, Path]) -> dict[str, list[str]]:
    return {
        "judge": [
            "judge",
            "simulate",
            "--d",
            "10",
            "--n",
            "1000",
            "--sigma",
            "1e-2",
            "--gamma",
            "0.1",
            "--teacher-scale",
            "4",
            "--c",
            "1",
            "--t",
            "1",
            "--k",
            "1",
            "4",
            "16",
            "--n-test",
            "200",
            "--trials",
            "20",
            "--json",
        ],
        "fit": [
            "fit",
            str(tables["fit"]),
            "--law",
            "power_law",
            "--x",
            "x=compute",
            "--y",
            "loss",
            "--loss",
            "mse",
            "--bootstrap",
            "20",
            "--seed",
            "3",
            "--json",
        ],
        "passk": [
            "passk",
            "backtest",
            str(tables["counts"]),
            "--observe",
            "50",
            "--budget",
            "400",
            "--repeats",
            "2",
            "--method",
            "naive",
            "plugin",
            "--json",
        ],
    }


def _numbers(obj):
    """All numbers of a JSON document in a fixed order (for a tolerance comparison)."""
    if isinstance(obj, dict):
        return [v for key in sorted(obj) for v in _numbers(obj[key])]
    if isinstance(obj, list):
        return [v for item in obj for v in _numbers(item)]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return []
    return [float(obj)]


def test_two_processes_times_two_devices_match_one_process(tables):
    cmds = _commands(tables)
    # all runs at once: 3 single-process runs and 3 pairs (the machine has few cores; they mostly wait)
    single = {name: _launch(argv, 1, 1) for name, argv in cmds.items()}
    multi = {name: _launch(argv, 2, 2) for name, argv in cmds.items()}
    for name in cmds:
        ((code1, out1, err1),) = _collect(single[name])
        assert code1 == 0, f"{name} (1 process): {err1[-2000:]}"
        (c0, out0, e0), (c1, outp1, e1) = _collect(multi[name])
        assert c0 == 0 and c1 == 0, f"{name} (2 processes): {e0[-2000:]}\n---\n{e1[-2000:]}"
        assert outp1 == "", f"{name}: process 1 printed {outp1[:200]!r}"  # only process 0 prints
        one, two = json.loads(out1), json.loads(out0)
        a, b = _numbers(one), _numbers(two)
        assert len(a) == len(b) and len(a) > 0
        # same draws (counters of global indices); only the order of the floating-point sums over
        # devices differs, so agreement is to rounding: 1e-12 relative (stderr: Chan's merge, also rounding)
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=0.0, err_msg=name)


def test_bootstrap_replicates_are_split_between_the_processes(tmp_path):
    """2 processes × 2 devices, 20 replicates × 4 starts = 80 starts, 20 per device: process 0 owns
    replicates 0–9, process 1 replicates 10–19. Each process is given NaN bootstrap counts for the
    other process's replicates, so a replicate computed by the wrong process (or by both, as when every
    process ran the whole batch) does not converge and returns its start. The gathered draws must be
    the 1-process draws with clean counts, on both processes."""
    from scaling_theory.fitting import bootstrap, fit

    code = textwrap.dedent(
        """
        import json, sys
        from scaling_theory import distributed
        distributed.initialize(sys.argv[1], 2, int(sys.argv[2]))
        import jax, numpy as np
        from scaling_theory.fitting import bootstrap, fit, uncertainty
        clean = uncertainty.bootstrap_counts
        other = slice(10, 20) if jax.process_index() == 0 else slice(0, 10)

        def poisoned(*args, **kwargs):
            counts = np.array(clean(*args, **kwargs))
            counts[:, other] = np.nan  # the replicates of the other process's devices
            return counts

        uncertainty.bootstrap_counts = poisoned
        rng = np.random.default_rng(1)
        x = np.logspace(0, 4, 30)
        y = 3.0 * x**-0.4 * np.exp(0.05 * rng.standard_normal(x.size))
        d = bootstrap(jax.random.key(3), fit("power_law", {"x": x}, y, loss="mse"), 20)
        print(json.dumps({"theta": d.theta.tolist(), "converged": d.converged.tolist()}))
        """
    )
    res = _collect(_launch_code(code), timeout=600)
    assert all(r[0] == 0 for r in res), [r[2][-1500:] for r in res]
    rng = np.random.default_rng(1)
    x = np.logspace(0, 4, 30)
    y = 3.0 * x**-0.4 * np.exp(0.05 * rng.standard_normal(x.size))
    one = bootstrap(jax.random.key(3), fit("power_law", {"x": x}, y, loss="mse"), 20)  # this process: 1 device
    assert one.converged.all()
    for _, out, _ in res:
        two = json.loads(out.strip().splitlines()[-1])
        assert all(two["converged"])
        np.testing.assert_allclose(two["theta"], one.theta, rtol=1e-12, atol=0.0)


def test_only_process_zero_writes_and_errors_print_once(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from scaling_theory import distributed
        from scaling_theory.io import write_json_atomic
        distributed.initialize(sys.argv[1], 2, int(sys.argv[2]))
        import jax, numpy as np
        from scaling_theory.numerics import global_array, to_host
        write_json_atomic(sys.argv[3] + f"/out{jax.process_index()}.json", {"devices": jax.device_count()})
        x = global_array(np.arange(8.0))  # each process supplies its own 4 of the 8 rows
        y = to_host(jax.jit(lambda a: a * a)(x))  # gathered from both processes
        print(jax.device_count(), jax.process_count(), len(x.addressable_shards), ",".join(f"{v:g}" for v in y))
        """
    )
    res = _collect(_launch_code(code, str(tmp_path)), timeout=300)
    assert all(r[0] == 0 for r in res), [r[2][-1500:] for r in res]
    squares = ",".join(f"{v * v:g}" for v in range(8))
    # 4 global devices in 2 processes, 2 shards held locally, the full result on both processes
    # (last line: gloo prints connection notices on stdout too)
    assert [r[1].strip().splitlines()[-1].split() for r in res] == [["4", "2", "2", squares]] * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out0.json"]  # process 1 wrote nothing (no temp file either)
    assert json.loads((tmp_path / "out0.json").read_text()) == {"devices": 4}
    # a bad input in a multi-process run: exit status 2 everywhere, one error line (process 0's)
    bad = _launch(
        [
            "judge",
            "simulate",
            "--d",
            "10",
            "--n",
            "100",
            "--sigma",
            "-1",
            "--gamma",
            "1",
            "--t",
            "1",
            "--k",
            "1",
            "--n-test",
            "8",
        ],
        2,
        1,
    )
    (c0, o0, e0), (c1, o1, e1) = _collect(bad, timeout=300)
    assert (c0, c1) == (2, 2)
    assert [ln for ln in e0.splitlines() if ln.startswith("error:")] == ["error: sigma=-1.0: must be finite and > 0"]
    assert not [ln for ln in e1.splitlines() if ln.startswith("error:")]


def test_incomplete_distributed_options_are_one_line_errors(capsys):
    from scaling_theory.cli import main

    assert (
        main(
            [
                "--coordinator",
                "127.0.0.1:1234",
                "judge",
                "curve",
                "--d",
                "2",
                "--n",
                "4",
                "--sigma",
                "1",
                "--gamma",
                "1",
                "--t",
                "1",
                "--k",
                "1",
            ]
        )
        == 2
    )
    assert (
        capsys.readouterr().err.strip()
        == "error: --coordinator, --num-processes and --process-id must be given together"
    )
    assert (
        main(
            [
                "--coordinator",
                "localhost",
                "--num-processes",
                "2",
                "--process-id",
                "0",
                "judge",
                "curve",
                "--d",
                "2",
                "--n",
                "4",
                "--sigma",
                "1",
                "--gamma",
                "1",
                "--t",
                "1",
                "--k",
                "1",
            ]
        )
        == 2
    )
    assert "expected HOST:PORT" in capsys.readouterr().err
    assert (
        main(
            [
                "--coordinator",
                "h:1",
                "--num-processes",
                "2",
                "--process-id",
                "2",
                "judge",
                "curve",
                "--d",
                "2",
                "--n",
                "4",
                "--sigma",
                "1",
                "--gamma",
                "1",
                "--t",
                "1",
                "--k",
                "1",
            ]
        )
        == 2
    )
    assert "--process-id=2" in capsys.readouterr().err
