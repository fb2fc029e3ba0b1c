"""Registry and runner of the experiments in ``experiments/``.

An experiment is a script ``experiments/<file>.py`` that defines

* a module docstring naming the paper and the figure or table it reproduces,
* ``NAME = "area_what"`` (unique; used on the command line),
* ``run(out: pathlib.Path, profile: str = "quick", seed: int = 0) -> dict`` that writes its figures
  and plotted data under ``out`` (its own folder) and returns a JSON-able summary of the numbers it
  plots (the runner prints and records it),

and ends with ``if __name__ == "__main__": script_main(run, NAME)`` so it also runs on its own.
Profiles: ``smoke`` (seconds; used by the tests), ``quick`` (minutes on a 2-core CPU; ``make
reproduce``) and ``paper`` (the papers' sizes; meant for a GPU).

``scaling-theory reproduce [NAME ...|all]`` runs them with a progress bar and writes
``OUT/<NAME>/...`` and ``OUT/MANIFEST.json`` (experiment, arguments, seconds, git revision,
files with their SHA-256, summary).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import fnmatch
import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaling_theory.errors import InputError
from scaling_theory.io import jsonable, write_json_atomic

PROFILES = ("smoke", "quick", "paper")
MANIFEST = "MANIFEST.json"


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path
    run: Callable[..., dict]
    title: str  # first line of the script's docstring
    doc: str | None = None  # the whole docstring (the gallery's caption comes from it)
    paper_runtime: str | None = None  # the script's PAPER_RUNTIME: measured or estimated paper-profile run time
    gpu: bool = False  # the script's GPU: its paper profile is meant for a GPU
    after: tuple[str, ...] = ()  # the script's AFTER: experiments whose outputs it reuses, run first when selected


def repo_root() -> Path:
    """The source checkout this package is installed from (editable install)."""
    return Path(__file__).resolve().parents[1]


def experiments_dir() -> Path:
    env = os.environ.get("SCALING_THEORY_EXPERIMENTS")
    return Path(env) if env else repo_root() / "experiments"


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_scaling_theory_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def discover(directory: Path | None = None) -> dict[str, Experiment]:
    """All experiments in ``directory`` (default ``experiments/``), keyed by ``NAME``, sorted by name."""
    directory = directory or experiments_dir()
    if not directory.is_dir():
        raise InputError(f"{directory}: experiments folder not found (run from a source checkout)")
    found: dict[str, Experiment] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = _load(path)
        name, run = getattr(module, "NAME", None), getattr(module, "run", None)
        if name is None or run is None:
            continue
        if name in found:
            raise RuntimeError(f"duplicate experiment name {name!r}: {found[name].path} and {path}")
        title = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        found[name] = Experiment(
            name,
            path,
            run,
            title,
            module.__doc__,
            paper_runtime=getattr(module, "PAPER_RUNTIME", None),
            gpu=bool(getattr(module, "GPU", False)),
            after=tuple(getattr(module, "AFTER", ())),
        )
    return dict(sorted(found.items()))


def select(available: dict[str, Experiment], patterns: list[str]) -> list[Experiment]:
    """Experiments matching any of ``patterns`` (exact names or shell globs; ``all`` = every one)."""
    if not patterns or "all" in patterns:
        return list(available.values())
    chosen: dict[str, Experiment] = {}
    for pat in patterns:
        hits = [n for n in available if fnmatch.fnmatchcase(n, pat)]
        if not hits:
            names = ", ".join(available) or "(none)"
            raise InputError(f"unknown experiment {pat!r}; available: {names}")
        chosen.update({n: available[n] for n in hits})
    return list(chosen.values())


def git_revision(root: Path | None = None) -> str | None:
    """``HEAD`` of the checkout, suffixed ``-dirty`` when tracked files have uncommitted changes."""
    root = root or repo_root()
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: Libraries whose versions the manifest records.
LIBRARIES = ("jax", "jaxlib", "flax", "optax", "numpyro", "numpy", "scipy", "pandas", "matplotlib")


def library_versions() -> dict[str, str | None]:
    """Installed versions of :data:`LIBRARIES` (``None`` where one is missing)."""
    from importlib import metadata

    versions: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    return versions


def _environment() -> dict[str, Any]:
    import jax

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
        "libraries": library_versions(),
    }


def _run_one(path: str, name: str, folder: str, profile: str, seed: int) -> tuple[str, dict[str, Any]]:
    """Run one experiment (in this process or a worker); its status, summary or error, and seconds."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    entry: dict[str, Any] = {}
    try:
        module = _load(Path(path))
        summary = module.run(out, profile=profile, seed=seed)
        entry["status"] = "ok"
        entry["summary"] = jsonable(summary) if summary is not None else None
    except Exception as exc:  # an experiment bug: record it, show it, go on with the others
        entry["status"] = "failed"
        entry["error"] = f"{type(exc).__name__}: {exc}"
        entry["traceback"] = traceback.format_exc()
    entry["seconds"] = round(time.perf_counter() - start, 3)
    return name, entry


def _schedule(experiments: list[Experiment], previous: dict[str, Any]) -> list[Experiment]:
    """Longest first (by the previous manifest's seconds), so parallel workers finish together."""
    seconds = {n: e.get("seconds") or 0.0 for n, e in previous.items()}
    return sorted(experiments, key=lambda e: -float(seconds.get(e.name, 0.0)))


def _waiting_for(exp: Experiment, selected: set[str], finished: set[str]) -> set[str]:
    """The experiments of this run that ``exp`` reuses (its ``AFTER``) and that have not finished yet."""
    return {d for d in exp.after if d in selected and d != exp.name} - finished


def _in_order(experiments: list[Experiment]) -> list[Experiment]:
    """``experiments`` with every one after the selected experiments it names in ``AFTER`` (stable otherwise);
    a cycle is broken in the given order."""
    selected = {e.name for e in experiments}
    pending, order = list(experiments), []
    done: set[str] = set()
    while pending:
        ready = next((e for e in pending if not _waiting_for(e, selected, done)), pending[0])
        pending.remove(ready)
        order.append(ready)
        done.add(ready.name)
    return order


def run_experiments(
    experiments: list[Experiment],
    out: Path,
    profile: str = "quick",
    seed: int = 0,
    progress: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """Run ``experiments`` into ``out/<name>/``; update and return ``out/MANIFEST.json``.

    With ``jobs > 1`` the experiments run in that many worker processes (spawned, each with its own
    JAX), longest first; every experiment is seeded on its own, so the numbers do not depend on
    ``jobs``. An experiment that names others in its ``AFTER`` (it reuses their outputs, e.g. cached
    testbed runs) starts only when those of them selected in this run have finished. The manifest is
    rewritten atomically after each experiment.
    """
    from tqdm.auto import tqdm

    if profile not in PROFILES:
        raise InputError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST
    manifest: dict[str, Any] = {"experiments": {}}
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text())
            manifest.setdefault("experiments", {})
        except json.JSONDecodeError:
            manifest = {"experiments": {}}
    revision = git_revision()
    manifest.update({"git_revision": revision, "environment": _environment(), "updated": _now()})
    bar = tqdm(total=len(experiments), desc="reproduce", unit="exp", disable=not progress, file=sys.stderr)
    started: dict[str, tuple[float, str]] = {}

    def record(exp: Experiment, result: dict[str, Any]) -> None:
        folder = out / exp.name
        start_wall, started_iso = started[exp.name]
        entry: dict[str, Any] = {
            "experiment": exp.name,
            "title": exp.title,
            "script": str(exp.path.relative_to(repo_root())) if exp.path.is_relative_to(repo_root()) else str(exp.path),
            "arguments": {"profile": profile, "seed": seed},
            "git_revision": revision,
            "started": started_iso,
        }
        tb = result.pop("traceback", None)
        entry.update(result)
        if tb:
            tqdm.write(f"[{exp.name}] FAILED\n{tb}", file=sys.stderr)
        entry["files"] = [
            {"path": str(p.relative_to(out)), "bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.stat().st_mtime >= start_wall - 1
        ]
        manifest["experiments"][exp.name] = entry
        write_json_atomic(manifest_path, manifest)
        if entry["status"] == "ok":
            tqdm.write(f"[{exp.name}] done in {entry['seconds']:.1f} s -> {folder}", file=sys.stderr)
        bar.update(1)

    if jobs == 1 or len(experiments) == 1:
        for exp in _in_order(experiments):
            bar.set_postfix_str(exp.name)
            started[exp.name] = (time.time(), _now())
            record(exp, _run_one(str(exp.path), exp.name, str(out / exp.name), profile, seed)[1])
    else:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        pending = _schedule(experiments, manifest["experiments"])
        by_name = {e.name: e for e in pending}
        selected, finished = set(by_name), set[str]()
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures: dict[Any, str] = {}

            def submit_ready() -> None:
                ready = [e for e in pending if not _waiting_for(e, selected, finished)]
                if not ready and pending and not futures:  # a cycle: run the next one anyway
                    ready = pending[:1]
                for exp in ready:
                    pending.remove(exp)
                    started[exp.name] = (time.time(), _now())
                    job = pool.submit(_run_one, str(exp.path), exp.name, str(out / exp.name), profile, seed)
                    futures[job] = exp.name

            submit_ready()
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = futures.pop(fut)
                    try:
                        _, result = fut.result()
                    except Exception as exc:  # the worker itself died (e.g. out of memory)
                        result = {
                            "status": "failed",
                            "error": f"worker died: {type(exc).__name__}: {exc}",
                            "seconds": None,
                        }
                    record(by_name[name], result)
                    finished.add(name)
                submit_ready()
    bar.close()
    return manifest


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def script_main(run: Callable[..., dict], name: str, argv: list[str] | None = None) -> None:
    """Entry point for running one experiment script directly: ``python experiments/x.py --profile quick``."""
    parser = argparse.ArgumentParser(description=f"Run the experiment {name}.")
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--out", type=Path, default=Path("out") / name)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    summary = run(args.out, profile=args.profile, seed=args.seed)
    print(json.dumps(jsonable(summary), indent=2))
