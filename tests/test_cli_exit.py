"""The program's exit (``cli.run``): it skips the interpreter's teardown but loses no output, runs the
``atexit`` handlers, keeps the exit status, and falls back to the ordinary exit while other threads live."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> subprocess.CompletedProcess:
    # Block-buffered standard streams, as for a user (PYTHONUNBUFFERED would hide a missing flush).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_output_is_complete_and_atexit_handlers_run_last():
    # stdout is a pipe, so Python buffers it in blocks: an exit without a flush would print nothing; a handler
    # that prints after the command's output must appear too (a second flush after the handlers).
    out = _python(
        """
        import atexit, sys
        atexit.register(lambda: print("atexit handler ran"))
        sys.argv = ["scaling-theory", "saturation", "point", "--p", "0.1", "0.3", "--eps", "0.01", "--json"]
        from scaling_theory.cli import run
        run()
        print("not reached")
        """
    )
    assert out.returncode == 0, out.stderr
    body, _, last = out.stdout.rstrip("\n").rpartition("\n")
    assert last == "atexit handler ran"
    rows = json.loads(body)["rows"]
    # the whole result arrived: the first N with marginal gain p(1 − p)^N < ε, N* = ⌈log(ε/p) / log(1 − p)⌉
    for row, p in zip(rows, (0.1, 0.3), strict=True):
        assert row["n_star"] == math.ceil(math.log(0.01 / p) / math.log(1 - p))
        assert row["gain_at_n_star"] == pytest.approx(p * (1 - p) ** row["n_star"], rel=1e-12)
    assert "not reached" not in out.stdout


def test_exit_status_of_bad_input_is_kept(tmp_path):
    out = _python(
        f"""
        import sys
        sys.argv = ["scaling-theory", "passk", "predict", {str(tmp_path / "missing.csv")!r}, "--budget", "10"]
        from scaling_theory.cli import run
        run()
        """
    )
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "no such file" in lines[0], out.stderr


def test_a_live_thread_gets_the_ordinary_exit(tmp_path):
    # os._exit would kill the thread before it writes; the ordinary exit waits for non-daemon threads.
    flag = tmp_path / "written"
    out = _python(
        f"""
        import threading, time
        from pathlib import Path
        from scaling_theory.cli import _exit_now

        def late():
            time.sleep(0.5)
            Path({str(flag)!r}).write_text("done")

        threading.Thread(target=late).start()
        _exit_now(3)
        """
    )
    assert out.returncode == 3, out.stderr
    assert flag.read_text() == "done"


def test_a_profiler_still_writes_its_report(tmp_path):
    # cProfile writes its file after the program returns: the quick exit must not cut it off.
    prof = tmp_path / "run.prof"
    args = ["saturation", "point", "--p", "0.1", "--eps", "0.01"]
    out = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "scaling_theory.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    import pstats

    stats = pstats.Stats(str(prof))
    assert any(name == "main" and path.endswith("cli.py") for path, _, name in stats.stats)  # type: ignore[attr-defined]
