"""JAX's persistent compilation cache at the CLI entry: folder, opt-outs, reuse, and concurrent runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scaling_theory.compilation_cache import DISABLE_ENV, FOLDER_ENV, cache_folder

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "scaling_theory.cli", "saturation", "point", "--p", "0.1", "0.3", "--eps", "0.01"]


@pytest.fixture
def clean_env(monkeypatch):
    for var in (FOLDER_ENV, DISABLE_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_folder_defaults_to_the_user_cache(clean_env, tmp_path):
    clean_env.setenv("HOME", str(tmp_path))
    assert cache_folder() == tmp_path / ".cache" / "scaling_theory" / "jax"
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_folder() == tmp_path / "xdg" / "scaling_theory" / "jax"
    clean_env.setenv(FOLDER_ENV, str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"


@pytest.mark.parametrize("var,value", [(DISABLE_ENV, "1"), (DISABLE_ENV, "yes"), (FOLDER_ENV, "off"), (FOLDER_ENV, "")])
def test_opt_outs(clean_env, var, value):
    clean_env.setenv(var, value)
    assert cache_folder() is None


def test_disable_zero_keeps_the_cache(clean_env, tmp_path):
    clean_env.setenv(DISABLE_ENV, "0")
    clean_env.setenv(FOLDER_ENV, str(tmp_path))
    assert cache_folder() == tmp_path


def _run(env_extra: dict[str, str], *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in (FOLDER_ENV, DISABLE_ENV, "JAX_COMPILATION_CACHE_DIR")}
    env.update(env_extra)
    cmd = [*COMMAND[:3], *extra, *COMMAND[3:]]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_commands_share_the_cache_and_run_concurrently(tmp_path):
    cache = tmp_path / "cache"
    # two runs at once on an empty cache: both compile and write the same entries
    procs = [_run({FOLDER_ENV: str(cache)}) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    assert results[0][0] == results[1][0]
    assert all("Error" not in err for _, err in results), [err for _, err in results]
    written = _files(cache)
    assert written, "the first runs wrote no cache entry"
    # a repeated run reads them (and prints the same)
    again = _run({FOLDER_ENV: str(cache)})
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0 and out == results[0][0], err
    # opting out writes nothing
    off = tmp_path / "off"
    for env, extra in (
        ({FOLDER_ENV: str(off), DISABLE_ENV: "1"}, ()),
        ({FOLDER_ENV: str(off)}, ("--no-compile-cache",)),
    ):
        p = _run(env, *extra)
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and out == results[0][0], err
    assert _files(off) == []


def test_main_called_with_arguments_leaves_the_cache_alone(monkeypatch, capsys):
    import jax

    from scaling_theory.cli import main

    before = jax.config.jax_compilation_cache_dir
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    assert main(["saturation", "point", "--p", "0.5", "--eps", "0.1"]) == 0
    assert jax.config.jax_compilation_cache_dir == before
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ


# ------------------------------------------------------------------ executables kept by persistent_jit

PERSISTENT_SCRIPT = """
import json, sys
import jax, jax.numpy as jnp, numpy as np
from scaling_theory import compilation_cache
compilation_cache.enable()
from scaling_theory.compilation_cache import persistent_jit

TRACES = []

@persistent_jit(static_argnames=("power",))
def kernel(a, b, key, power):
    TRACES.append(1)  # runs only while tracing
    x = jnp.linalg.solve(a, b)  # a LAPACK call: loading it needs jaxlib's kernels initialised
    return {"x": x ** power, "u": jax.random.uniform(key, b.shape)}

with jax.enable_x64(True):
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    b = np.arange(1.0, 1.0 + int(sys.argv[1]))[:3]
    out = kernel(a, b, jax.random.key(7), power=int(sys.argv[2]))
    again = kernel(a, b, jax.random.key(7), power=int(sys.argv[2]))
    print(json.dumps([len(TRACES), np.asarray(out["x"]).tolist(), np.asarray(out["u"]).tolist()]))
    print(json.dumps(compilation_cache._lapack_ready))
    assert np.array_equal(np.asarray(out["x"]), np.asarray(again["x"]))
"""


def _persistent(tmp_path, *argv, cache=None):
    script = tmp_path / "kernel_script.py"
    script.write_text(PERSISTENT_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in (FOLDER_ENV, DISABLE_ENV, "JAX_COMPILATION_CACHE_DIR")}
    env[FOLDER_ENV] = str(cache or tmp_path / "cache")
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, str(script), *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.strip().splitlines()
    traces, x, u = json.loads(lines[-2])
    LAPACK_SET_UP_BY_LOADER.append(json.loads(lines[-1]))
    return traces, x, u


LAPACK_SET_UP_BY_LOADER: list[bool] = []


def test_a_repeated_process_loads_the_executable_without_tracing(tmp_path):
    import numpy as np

    first = _persistent(tmp_path, "3", "2")
    stored = list((tmp_path / "cache" / "executables").glob("kernel-*.pkl"))
    assert first[0] == 1 and len(stored) == 1
    # A fresh process: same result, and the function body is never traced (the executable was loaded).
    LAPACK_SET_UP_BY_LOADER.clear()
    second = _persistent(tmp_path, "3", "2")
    assert second == (0, first[1], first[2])
    # the loaded executable calls LAPACK (solve), so the loader set jaxlib's kernels up first (else: segfault)
    assert LAPACK_SET_UP_BY_LOADER == [True]
    # The numbers are right: solve against NumPy (independent), squared.
    a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
    assert np.allclose(first[1], np.linalg.solve(a, [1.0, 2.0, 3.0]) ** 2, rtol=1e-13)
    # A different static argument is a different program: traced and stored once more.
    third = _persistent(tmp_path, "3", "3")
    assert third[0] == 1 and len(list((tmp_path / "cache" / "executables").glob("kernel-*.pkl"))) == 2
    assert np.allclose(third[1], np.linalg.solve(a, [1.0, 2.0, 3.0]) ** 3, rtol=1e-13)


def test_an_unreadable_executable_is_compiled_again(tmp_path):
    first = _persistent(tmp_path, "3", "2")
    (stored,) = (tmp_path / "cache" / "executables").glob("kernel-*.pkl")
    stored.write_bytes(b"not an executable")
    again = _persistent(tmp_path, "3", "2")
    assert again == first  # traced again (count 1), same numbers
    assert stored.read_bytes() != b"not an executable"  # and rewritten whole


def test_persistent_jit_is_plain_jit_when_the_store_is_off_or_traced(monkeypatch, tmp_path):
    import jax
    import jax.numpy as jnp
    import numpy as np

    from scaling_theory import compilation_cache

    calls = []

    @compilation_cache.persistent_jit
    def double(x):
        calls.append(1)
        return 2.0 * x

    monkeypatch.setattr(compilation_cache, "_store", None)
    assert np.array_equal(np.asarray(double(np.arange(3.0))), [0.0, 2.0, 4.0])
    monkeypatch.setattr(compilation_cache, "_store", tmp_path / "executables")
    # inside another jit the arguments are tracers: the wrapper defers to jax.jit and writes nothing
    assert float(jax.jit(lambda x: double(x).sum())(jnp.arange(3.0))) == 6.0
    assert not (tmp_path / "executables").exists()
    # concrete arguments with the store on: compiled, stored, and equal to the plain result
    assert np.array_equal(np.asarray(double(np.arange(4.0))), [0.0, 2.0, 4.0, 6.0])
    assert len(list((tmp_path / "executables").glob("double-*.pkl"))) == 1
    # under jax.disable_jit the body runs op by op at every call, even with an executable in memory
    before = len(calls)
    with jax.disable_jit():
        double(np.arange(4.0))
        double(np.arange(4.0))
    assert len(calls) == before + 2


def test_an_executable_served_by_the_compilation_cache_is_stored_afresh(tmp_path):
    # JAX's compilation cache holds the program (first run) but the store does not (deleted): the second run's
    # compile is a cache hit, whose re-serialised executable would be incomplete ("... not found" when run).
    # The store must not keep that one: the third run loads a working executable, untraced, same numbers.
    import shutil

    first = _persistent(tmp_path, "3", "2")
    shutil.rmtree(tmp_path / "cache" / "executables")
    second = _persistent(tmp_path, "3", "2")
    third = _persistent(tmp_path, "3", "2")
    assert second == first and third == (0, first[1], first[2])
    # Once more: now the afresh compile of the second run is in JAX's cache too (as after a package update that
    # leaves the program unchanged). The store must still end up with a working entry: the fifth run is untraced.
    shutil.rmtree(tmp_path / "cache" / "executables")
    fourth = _persistent(tmp_path, "3", "2")
    fifth = _persistent(tmp_path, "3", "2")
    assert fourth == first and fifth == (0, first[1], first[2])


def test_a_folder_written_without_a_size_limit_keeps_working(tmp_path):
    """An entry without JAX's access-time file (written by an earlier version, without the size limit and its
    lock) would make JAX's eviction fail on every later write: `enable` adds the file, and new entries are
    written without a warning."""
    cache = tmp_path / "cache"
    cache.mkdir()
    old = cache / "0123abcd-cache"
    old.write_bytes(b"an entry of another program")
    p = _run({FOLDER_ENV: str(cache)})
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "Error" not in err, err
    atime = cache / "0123abcd-atime"
    assert int.from_bytes(atime.read_bytes(), "little") == old.stat().st_mtime_ns
    assert len(list(cache.glob("*-cache"))) > 1, "no new entry was written"
    assert (cache / ".lockfile").exists(), "JAX did not lock the folder"
