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
the JAX version and written only when missing, and every read and write holds the folder's file lock
(``filelock``), so that no run reads an entry another is still writing. (Without the lock, which JAX takes
only when the cache has a size limit, two runs on an empty folder sometimes read a half-written entry: JAX
warns "Error reading persistent compilation cache entry" and compiles.) The folder is kept under
:data:`MAX_BYTES` by deleting the least recently used entries. An entry that cannot be read is a cache miss
(``jax_raise_persistent_cache_errors`` stays off). The cache is trusted: do not point it at a folder others
can write to. JAX's key also holds the folder's own path (JAX 0.10 derives an XLA option from it), so a
folder that is moved or copied elsewhere starts cold; the Python version is not part of the key.

Executables (:func:`persistent_jit`): the compilation cache skips XLA compilation but not the tracing
and lowering before it. Functions decorated with :func:`persistent_jit` (the large kernels of ``passk``)
also keep their compiled executable in ``<folder>/executables``, keyed by the package's source, JAX's
version, the backend, the x64 mode, the static arguments and the argument shapes and dtypes; a
repeated command loads it and runs it directly. CPU, one device, one process only (elsewhere they
are plain ``jax.jit``). An entry is written only after a round trip (serialised, loaded back, run on the
call's arguments with the same outputs), atomically (temporary file, then rename); an unreadable entry is
compiled again.

References:
  https://docs.jax.dev/en/latest/persistent_compilation_cache.html
  https://docs.jax.dev/en/latest/aot.html (ahead-of-time lowering and compilation)
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["DISABLE_ENV", "FOLDER_ENV", "cache_folder", "enable", "executable_folder", "persistent_jit"]

FOLDER_ENV = "SCALING_THEORY_JAX_CACHE"
DISABLE_ENV = "SCALING_THEORY_NO_CACHE"
_OFF = ("off", "none", "0", "false", "no")
_JAX_DIR_ENV = "JAX_COMPILATION_CACHE_DIR"
#: Size limit of the compilation cache (bytes; least recently used entries are deleted beyond it). A limit is
#: also what makes JAX lock the folder around every read and write (module docstring). A full run of the test
#: suite writes about 25 MB.
MAX_BYTES = 2 * 1024**3


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


def enable(min_compile_time_secs: float = 0.0, *, executables: bool = True) -> str | None:
    """Switch on JAX's persistent compilation cache in :func:`cache_folder` (unless disabled).

    Call it before the first compilation. A folder configured already (by an earlier call, or by
    ``JAX_COMPILATION_CACHE_DIR``) is kept. JAX is not imported here: before its import the cache is
    configured through JAX's environment variables (which processes started from this one inherit),
    after it through ``jax.config``.

    Args:
      min_compile_time_secs: programs that compiled faster than this are not written (0: every
        program, which is what makes a repeated command fast: it compiles many small programs).
      executables: also keep the executables of :func:`persistent_jit` functions in
        ``<folder>/executables`` (:func:`executable_folder`), so that a repeated command skips their
        tracing and lowering too.

    Returns:
      The cache folder in use, or ``None`` when the cache is disabled.
    """
    global _store
    jax = sys.modules.get("jax")
    current = jax.config.jax_compilation_cache_dir if jax is not None else os.environ.get(_JAX_DIR_ENV)
    if current:
        if executables:
            _store = Path(current) / EXECUTABLES
        return str(current)
    folder = cache_folder()
    if folder is None:
        return None
    if executables:
        _store = folder / EXECUTABLES
    _add_access_times(folder)
    settings = {
        "jax_compilation_cache_dir": str(folder),
        "jax_persistent_cache_min_compile_time_secs": float(min_compile_time_secs),
        "jax_persistent_cache_min_entry_size_bytes": -1,  # no size threshold (and no filesystem override)
        "jax_compilation_cache_max_size": MAX_BYTES,  # LRU eviction, and the file lock that comes with it
    }
    for name, value in settings.items():
        if jax is not None:
            jax.config.update(name, value)
        else:
            os.environ.setdefault(name.upper(), str(value))
    return str(folder)


def _add_access_times(folder: Path) -> None:
    """Give every entry of ``folder`` written without a size limit (no ``-atime`` file beside it: an older
    version of this package, or another program) the access time JAX's eviction reads, its modification time;
    without it JAX's eviction fails and no new entry would be written."""
    try:
        entries = list(folder.glob("*-cache"))
    except OSError:
        return
    for entry in entries:
        atime = entry.with_name(entry.name[: -len("-cache")] + "-atime")
        if atime.exists():
            continue
        try:
            atime.write_bytes(entry.stat().st_mtime_ns.to_bytes(8, "little"))
        except OSError:  # the entry was deleted meanwhile, or the folder is read-only: nothing to do
            pass


# ----------------------------------------------------------------------------- compiled executables
#
# The persistent compilation cache skips XLA's compilation, not the Python tracing and the lowering to
# StableHLO that come before it; for a command that runs a few dozen large programs (``passk predict``'s
# ``auto``) those cost seconds on every run. ``persistent_jit`` stores the compiled executable itself
# (``jax.experimental.serialize_executable``) keyed by everything that determines it, so that a repeated
# command loads it and calls it without tracing, lowering or looking up the compilation cache.

EXECUTABLES = "executables"
_store: Path | None = None
_source_digest: str | None = None


def executable_folder() -> Path | None:
    """The folder of stored executables (``<cache folder>/executables``), or ``None`` when not in use.

    In use only after :func:`enable` found a cache folder (the command line, the testbed, the experiments);
    the library on its own (notebooks, tests) compiles as plain ``jax.jit`` does.
    """
    return _store


def _package_digest() -> str:
    """Hash of the package's source files: a stored executable is stale as soon as any of them changes."""
    global _source_digest
    if _source_digest is None:
        import hashlib

        h = hashlib.sha256()
        root = Path(__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
        _source_digest = h.hexdigest()
    return _source_digest


_usable: bool | None = None
_lapack_ready = False


def _store_usable() -> bool:
    """The store serves one CPU device in one process (checked once per process); other backends and
    sharded programs use plain ``jax.jit`` (with the compilation cache)."""
    global _usable
    if _usable is None:
        import jax

        _usable = jax.default_backend() == "cpu" and jax.process_count() == 1 and jax.local_device_count() == 1
        if _usable:
            try:
                from jax._src.lax.linalg import initialize_lapack  # noqa: F401  (checked here, called on demand)
            except Exception:  # a JAX without this hook: do not risk loading executables
                _usable = False
    return _usable


def _ensure_lapack() -> None:
    """Fill in jaxlib's LAPACK kernels before loading an executable that calls them.

    XLA:CPU executables call jaxlib's LAPACK kernels through function pointers that jaxlib fills in lazily,
    when a linear-algebra operation is first lowered; a process that loads such an executable without
    lowering anything must fill them in first (as ``jax.export`` does), or the call crashes. It imports
    scipy.linalg (about 0.5 s), so it runs only for executables whose bytes name a LAPACK kernel.
    """
    global _lapack_ready
    if not _lapack_ready:
        from jax._src.lax.linalg import initialize_lapack

        initialize_lapack()
        _lapack_ready = True


class _PersistentJit:
    """``jax.jit(fun, static_argnames=...)`` whose compiled executables are kept on disk (module comment)."""

    def __init__(self, fun, static_argnames: tuple[str, ...]):
        import inspect

        import jax

        self._fun = fun
        self._jitted = jax.jit(fun, static_argnames=static_argnames)
        self._static = frozenset(static_argnames)
        self._signature = inspect.signature(fun)
        self._loaded: dict[str, Any] = {}
        functools.update_wrapper(self, fun)

    def lower(self, *args: Any, **kwargs: Any) -> Any:
        return self._jitted.lower(*args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        folder = _store
        if folder is None:
            return self._jitted(*args, **kwargs)
        import jax

        if not _store_usable() or getattr(jax.config, "jax_disable_jit", False):
            return self._jitted(*args, **kwargs)
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError:
            return self._jitted(*args, **kwargs)  # let jit raise its own error
        bound.apply_defaults()
        static = {k: v for k, v in bound.arguments.items() if k in self._static}
        dynamic = {k: v for k, v in bound.arguments.items() if k not in self._static}
        leaves, treedef = jax.tree_util.tree_flatten(dynamic)
        if any(isinstance(x, jax.core.Tracer) for x in leaves):
            return self._jitted(*args, **kwargs)  # called inside another transformation
        try:
            key = self._key(static, leaves, treedef)
        except Exception:  # an argument without an abstract value: plain jit decides
            return self._jitted(*args, **kwargs)
        compiled = self._loaded.get(key)
        if compiled is None:
            compiled = self._load_or_compile(folder, key, static, dynamic)
            self._loaded[key] = compiled
        return compiled(**dynamic)

    def _key(self, static: dict, leaves: list, treedef: Any) -> str:
        import hashlib

        import jax
        import jaxlib
        import numpy as np

        parts = [
            _package_digest(),
            f"{self._fun.__module__}.{self._fun.__qualname__}",
            jax.__version__,
            jaxlib.__version__,
            jax.default_backend(),
            jax.devices()[0].device_kind,
            str(jax.dtypes.canonicalize_dtype(np.float64)),  # x64 on or off
            str(getattr(jax.config, "jax_default_prng_impl", "")),
            str(getattr(jax.config, "jax_threefry_partitionable", "")),
            os.environ.get("XLA_FLAGS", ""),
            repr(sorted(static.items())),
            str(treedef),
        ]
        for x in leaves:
            aval = jax.typeof(x)
            sharding = getattr(x, "sharding", None) if isinstance(x, jax.Array) else None
            parts.append(f"{aval.shape}|{aval.dtype}|{aval.weak_type}|{sharding}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]

    def _load_or_compile(self, folder: Path, key: str, static: dict, dynamic: dict) -> Any:
        path = folder / f"{self._fun.__name__}-{key}.pkl"
        if path.exists():
            try:
                return _deserialize(path.read_bytes())
            except Exception:  # unreadable (being written, corrupt, other version): compile again
                pass
        lowered = self._jitted.lower(**static, **dynamic)
        compiled = lowered.compile()
        if not _store_checked(compiled, path, dynamic):
            # JAX's compilation cache may have served ``compiled``: an executable loaded from it serialises
            # incompletely (a kernel "not found" when it runs). Compile it afresh once, under an inert option
            # whose value is new on every attempt (so that no cache entry, of this or an earlier package
            # version, can serve it), and store that one if it checks out.
            try:
                _store_checked(lowered.compile(compiler_options=_fresh_options()), path, dynamic)
            except Exception:
                pass
        return compiled


def _deserialize(payload: bytes) -> Any:
    """A stored executable, loaded (jaxlib's LAPACK kernels set up first when it calls them)."""
    import pickle

    from jax.experimental import serialize_executable

    if b"lapack" in payload:
        _ensure_lapack()
    return serialize_executable.deserialize_and_load(*pickle.loads(payload))


def _fresh_options() -> dict[str, str | bool]:
    """Compile options that change the compilation-cache key, not the program, new on every call.

    The store runs on CPU only; the option is a GPU autotuner's cache folder (a path that does not exist),
    which the CPU compiler never reads but JAX hashes into the cache key. (The dump options, also inert, are
    left out of the key by JAX.) A fixed option would work once only: after the package changes (a new store
    key) while the program does not, the earlier fresh compile is itself in JAX's cache, and no entry would
    ever be stored again."""
    import uuid

    return {"xla_gpu_per_fusion_autotune_cache_dir": f"/nonexistent/scaling-theory-fresh-{uuid.uuid4().hex}"}


def _store_checked(compiled: Any, path: Path, dynamic: dict) -> bool:
    """Serialise ``compiled``, load it back, run both on ``dynamic`` and write the entry (atomically) only when
    the loaded executable runs and gives the same outputs; ``False`` when it does not (nothing written)."""
    import pickle

    import jax
    import numpy as np
    from jax.experimental import serialize_executable

    from scaling_theory.io import write_bytes_atomic

    try:
        payload = pickle.dumps(serialize_executable.serialize(compiled))
        loaded = _deserialize(payload)
        want = [np.asarray(x) for x in jax.tree_util.tree_leaves(compiled(**dynamic))]
        got = [np.asarray(x) for x in jax.tree_util.tree_leaves(loaded(**dynamic))]
        if len(want) != len(got) or not all(
            a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc") for a, b in zip(want, got)
        ):
            return False
        write_bytes_atomic(path, payload)  # readers see the whole file or none
        return True
    except Exception:  # not serialisable (e.g. host callbacks), a broken round trip, or a read-only folder
        return False


def persistent_jit(fun: Any = None, *, static_argnames: tuple[str, ...] | str = ()) -> Any:
    """``jax.jit`` whose compiled executables persist across processes once :func:`enable` has run.

    Use it like ``jax.jit`` (as a decorator, with or without ``static_argnames``). With a stored executable
    for the same function, package source, JAX version, backend, x64 mode, static arguments and argument
    shapes/dtypes, a call skips tracing, lowering and compilation. It is plain ``jax.jit`` when the store is
    off (:func:`executable_folder` is ``None``), under another transformation (traced arguments), and with
    more than one device or process (sharded programs).

    Args:
      fun: the function (omitted when used as ``@persistent_jit(static_argnames=...)``).
      static_argnames: names of the static arguments, as for ``jax.jit``.

    Returns:
      The wrapped function (callable like the jitted one; ``.lower`` is the jitted function's).
    """
    names = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
    if fun is None:
        return functools.partial(persistent_jit, static_argnames=names)
    return _PersistentJit(fun, names)
