"""JAX's persistent compilation cache, shared by the command line, the testbed and the experiments.

A command that compiles the same programs as an earlier one loads them from disk instead of
compiling them again (``scaling-theory judge curve ...`` twice: the second run skips XLA compilation).
The cache is switched on by :func:`enable` — called at the CLI's entry and by long-running
workloads (testbed, experiments), never at import of the library, so that notebooks and tests decide
for themselves.

Folder, in order of precedence:

1. ``SCALING_THEORY_NO_CACHE`` set to anything but ``""``/``0``: no cache (the CLI's
   ``--no-compile-cache`` does the same);
2. ``SCALING_THEORY_JAX_CACHE``: the folder (``off``, ``none`` or ``0`` also disable the cache);
3. ``$XDG_CACHE_HOME/scaling_theory/jax``, else ``~/.cache/scaling_theory/jax``.

Concurrent runs may share the folder: an entry is keyed by a hash of the program, the options and
the JAX version, entries are written only when missing, and an entry that cannot be read (one being
written by another process) is a cache miss — JAX warns and compiles (``jax_raise_persistent_cache_errors``
stays off). The cache is trusted: do not point it at a folder others can write to.

References:
  https://docs.jax.dev/en/latest/persistent_compilation_cache.html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["DISABLE_ENV", "FOLDER_ENV", "cache_folder", "enable"]

FOLDER_ENV = "SCALING_THEORY_JAX_CACHE"
DISABLE_ENV = "SCALING_THEORY_NO_CACHE"
_OFF = ("off", "none", "0", "false", "no")
_JAX_DIR_ENV = "JAX_COMPILATION_CACHE_DIR"


def cache_folder() -> Path | None:
    """The folder of the persistent compilation cache from the environment, or ``None`` when disabled.

    Returns:
      ``$SCALING_THEORY_JAX_CACHE``, else ``$XDG_CACHE_HOME/scaling_theory/jax``, else
      ``~/.cache/scaling_theory/jax``; ``None`` when ``SCALING_THEORY_NO_CACHE`` is set (not
      ``""``/``0``) or ``SCALING_THEORY_JAX_CACHE`` is ``off``/``none``/``0``.
    """
    if os.environ.get(DISABLE_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return None
    folder = os.environ.get(FOLDER_ENV)
    if folder is not None:
        folder = folder.strip()
        if folder.lower() in (*_OFF, ""):
            return None
        return Path(folder).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base).expanduser() if base else Path.home() / ".cache"
    return root / "scaling_theory" / "jax"


def enable(min_compile_time_secs: float = 0.0) -> str | None:
    """Switch on JAX's persistent compilation cache in :func:`cache_folder` (unless disabled).

    Call it before the first compilation. A folder configured already (by an earlier call, or by
    ``JAX_COMPILATION_CACHE_DIR``) is kept. JAX is not imported here: before its import the cache is
    configured through JAX's environment variables (which processes started from this one inherit),
    after it through ``jax.config``.

    Args:
      min_compile_time_secs: programs that compiled faster than this are not written (0: every
        program, which is what makes a repeated command fast: it compiles many small programs).

    Returns:
      The cache folder in use, or ``None`` when the cache is disabled.
    """
    jax = sys.modules.get("jax")
    current = jax.config.jax_compilation_cache_dir if jax is not None else os.environ.get(_JAX_DIR_ENV)
    if current:
        return str(current)
    folder = cache_folder()
    if folder is None:
        return None
    settings = {
        "jax_compilation_cache_dir": str(folder),
        "jax_persistent_cache_min_compile_time_secs": float(min_compile_time_secs),
        "jax_persistent_cache_min_entry_size_bytes": -1,  # no size threshold (and no filesystem override)
    }
    for name, value in settings.items():
        if jax is not None:
            jax.config.update(name, value)
        else:
            os.environ.setdefault(name.upper(), str(value))
    return str(folder)
