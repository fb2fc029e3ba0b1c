"""JAX's persistent compilation cache at the CLI entry: folder, opt-outs, reuse, and concurrent runs."""

from __future__ import annotations

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
