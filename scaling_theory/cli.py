"""``scaling-theory``: the command line. Thin: parse, call the library, print.

Each area contributes its commands from ``scaling_theory/<area>/cli.py`` through a function
``register(subparsers)`` that adds its parsers and sets ``func=handler`` on each; a handler takes the
parsed ``argparse.Namespace`` and returns an exit code. Heavy imports belong inside handlers so that
``--help`` stays fast. Bad input raises :class:`~scaling_theory.errors.InputError`; it is printed as
one line ``error: ...`` and the command exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scaling_theory import __version__, compilation_cache
from scaling_theory.errors import InputError

AREAS = ("passk", "judge", "saturation", "fitting", "testbed", "allocation", "report")


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message}\n")


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON (numpy/JAX scalars converted; NaN/inf as null)."""
    from scaling_theory.io import jsonable

    print(json.dumps(jsonable(obj), indent=2))


# ``--format`` of every command that reads logs (the readers: ``scaling_theory.io.LOG_FORMATS``).
LOG_FORMATS = ("auto", "counts", "attempts", "lm-eval", "human-eval", "inspect", "matrix")


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--format {auto,counts,attempts,lm-eval,human-eval,inspect,matrix}`` (for ``io.read_counts``)."""
    parser.add_argument(
        "--format",
        choices=LOG_FORMATS,
        default="auto",
        help="log format (default auto: recognised by its fields; a converted log is described in one line on stderr)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="scaling-theory",
        # no prefix matching at this level: the commands' own options (``judge curve --n``, ``--c``) must never
        # be read as abbreviations of the global ones (``--num-processes``, ``--no-compile-cache``, ``--coordinator``)
        allow_abbrev=False,
        description="Scaling laws of inference-time compute: pass@k extrapolation, LLM-as-a-judge theory, "
        "saturation, scaling-curve fitting and a transformer testbed.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--no-compile-cache",
        action="store_true",
        help="do not use JAX's persistent compilation cache (default: on, in $XDG_CACHE_HOME/scaling_theory/jax "
        "or ~/.cache/scaling_theory/jax; also SCALING_THEORY_NO_CACHE=1, or SCALING_THEORY_JAX_CACHE=DIR)",
    )
    dist = parser.add_argument_group(
        "multi-process runs (jax.distributed; auto-detected under SLURM / Open MPI with several tasks)"
    )
    dist.add_argument(
        "--coordinator", metavar="HOST:PORT", help="address of process 0's coordinator (same for all processes)"
    )
    dist.add_argument("--num-processes", type=int, metavar="P", help="number of processes")
    dist.add_argument("--process-id", type=int, metavar="I", help="this process's index in [0, P)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _register_reproduce(sub)
    _register_gallery(sub)
    _register_paper(sub)
    for area in AREAS:
        try:
            module = importlib.import_module(f"scaling_theory.{area}.cli")
        except ModuleNotFoundError as exc:
            if exc.name == f"scaling_theory.{area}.cli":
                continue  # the area has no commands yet
            raise
        module.register(sub)
    return parser


def _register_reproduce(sub: Any) -> None:
    p = sub.add_parser(
        "reproduce",
        help="run registered experiments: figures, plotted data and MANIFEST.json",
        description="Run the experiments in experiments/ (names or globs; 'all' for every one).",
    )
    p.add_argument("names", nargs="*", default=["all"], metavar="NAME", help="experiment names or globs (default: all)")
    p.add_argument("--profile", choices=("smoke", "quick", "paper"), default="quick")
    p.add_argument("--out", type=Path, default=Path("figures"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--jobs", type=int, default=1, help="experiments run in this many processes (default 1)")
    p.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from scaling_theory import reproduce
    from scaling_theory.tables import format_table

    available = reproduce.discover()
    chosen = reproduce.select(available, args.names)
    if args.list:
        print(format_table([{"name": e.name, "title": e.title} for e in chosen]))
        return 0
    manifest = reproduce.run_experiments(
        chosen, args.out, args.profile, args.seed, progress=not args.no_progress, jobs=args.jobs
    )
    from scaling_theory import gallery

    gallery.write(args.out, manifest)
    failed = [e.name for e in chosen if manifest["experiments"][e.name]["status"] != "ok"]
    rows = [
        {
            "experiment": e.name,
            "status": manifest["experiments"][e.name]["status"],
            "seconds": manifest["experiments"][e.name]["seconds"],
        }
        for e in chosen
    ]
    print(format_table(rows))
    print(f"manifest: {args.out / reproduce.MANIFEST}; gallery: {args.out / 'README.md'}")
    if failed:
        print(f"error: {len(failed)} experiment(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _register_gallery(sub: Any) -> None:
    p = sub.add_parser(
        "gallery",
        help="rewrite FIGURES/README.md (the figure gallery) from FIGURES/MANIFEST.json",
        description="Regenerate the figure gallery from the manifest of `scaling-theory reproduce`.",
    )
    p.add_argument("--figures", type=Path, default=Path("figures"), help="folder of MANIFEST.json (default: figures)")
    p.set_defaults(func=_gallery)


def _gallery(args: argparse.Namespace) -> int:
    from scaling_theory import gallery

    print(f"gallery: {gallery.write(args.figures)}")
    return 0


def _register_paper(sub: Any) -> None:
    p = sub.add_parser(
        "paper",
        help="regenerate paper/tables from FIGURES/MANIFEST.json and build paper/main.pdf (latexmk)",
        description="Write the paper's generated macros and tables from the experiments' recorded numbers, "
        "then build the PDF with latexmk where TeX is installed.",
    )
    p.add_argument("--figures", type=Path, default=Path("figures"), help="folder of MANIFEST.json (default: figures)")
    p.add_argument("--paper", type=Path, default=Path("paper"), help="folder of main.tex (default: paper)")
    p.add_argument("--tables-only", action="store_true", help="write the tables and macros, do not run LaTeX")
    p.set_defaults(func=_paper)


def _paper(args: argparse.Namespace) -> int:
    from scaling_theory import paper

    written = paper.write_tables(args.figures, args.paper / "tables")
    print(f"tables: {len(written)} files in {args.paper / 'tables'}")
    if args.tables_only:
        return 0
    if not paper.tex_available():
        print(
            f"error: no TeX installation (latexmk, pdflatex); on Debian: apt-get install {paper.TEX_PACKAGES}",
            file=sys.stderr,
        )
        return 1
    print(f"paper: {paper.build(args.paper)}")
    return 0


def main(argv: Sequence[str] | None = None, *, compile_cache: bool | None = None) -> int:
    """Run one command; returns its exit status.

    Args:
      argv: the arguments (default ``sys.argv[1:]``).
      compile_cache: switch on JAX's persistent compilation cache (``compilation_cache.enable``)
        unless ``--no-compile-cache`` is given; default: on for a command-line run (``argv`` None),
        off when called with explicit arguments (tests, notebooks).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.no_compile_cache:
        os.environ[compilation_cache.DISABLE_ENV] = "1"  # also for the testbed and processes started from here
    elif compile_cache if compile_cache is not None else argv is None:
        compilation_cache.enable()
    try:
        _join_processes(args)
        return int(args.func(args) or 0)
    except InputError as exc:
        if _is_main():
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `scaling-theory ... | head`
        return 0


def _join_processes(args: argparse.Namespace) -> None:
    """Join a multi-process run when asked (or under a cluster); then only process 0 prints."""
    from scaling_theory import distributed

    joined = distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    if not joined:
        return
    # native libraries (gloo) print connection notices on file descriptor 1: send those to stderr,
    # keep Python's stdout for the results, and give the other processes no stdout at all
    sys.stdout.flush()
    results = os.dup(1)
    os.dup2(2, 1)
    if distributed.is_main_process():
        sys.stdout = os.fdopen(results, "w", buffering=1)  # noqa: SIM115 - for the life of the process
    else:
        os.close(results)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115


def _is_main() -> bool:
    from scaling_theory.distributed import is_main_process

    return is_main_process()


def run() -> None:
    """The ``scaling-theory`` program (console script and ``python -m scaling_theory.cli``): :func:`main`, then exit.

    The exit skips the interpreter's final teardown, which frees every module and JAX's compiled programs one
    by one: 0.3–0.6 s of a 2–3 s command on 2 cores, more than the command's own work when it is repeated with
    a warm cache. Standard output and error are flushed and the ``atexit`` handlers run first (JAX's among
    them: pending computations, the distributed client), so nothing written is lost. The exit is the ordinary
    one when a non-daemon thread or a child process is still alive, or a profiler or debugger is attached
    (``python -m cProfile -o F -m scaling_theory.cli ...`` writes F after this returns). Tests and notebooks
    call :func:`main`, which returns its status.
    """
    code = main()
    _exit_now(code)


def _exit_now(code: int) -> None:
    import atexit
    import threading

    mp = sys.modules.get("multiprocessing")
    attached = _instrumented()
    # Python's own exit waits for non-daemon threads only (daemon ones, e.g. tqdm's monitor, are stopped).
    waiting = any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())
    if attached or waiting or (mp is not None and mp.active_children()):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream: nothing more can be written
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _instrumented() -> bool:
    """A profiler or debugger is attached (it reports after the program returns): ``sys.setprofile`` /
    ``sys.settrace``, or, from Python 3.12, the profiler and debugger tools of ``sys.monitoring`` (cProfile)."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    mon = getattr(sys, "monitoring", None)
    return mon is not None and any(mon.get_tool(i) is not None for i in (mon.PROFILER_ID, mon.DEBUGGER_ID))


if __name__ == "__main__":
    run()
