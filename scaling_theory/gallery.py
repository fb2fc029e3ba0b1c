"""The figure gallery: ``figures/README.md`` generated from ``MANIFEST.json`` and the experiments' own metadata.

For each experiment the gallery shows its figures (the PNGs recorded in the manifest), a two-line
caption (what it shows — the first sentence of the script's docstring body — and the paper/figure it
reproduces — the docstring's first line), the command that regenerates it and the key numbers of its
summary. Nothing in the gallery is typed by hand: ``scaling-theory reproduce`` rewrites it after every
run and ``scaling-theory gallery`` rewrites it from an existing manifest.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from scaling_theory.errors import InputError
from scaling_theory.io import write_text_atomic
from scaling_theory.plotting import MAX_PNG_BYTES

GALLERY = "README.md"
#: Web-resolution budget of the committed PNGs: :data:`MAX_PNG_BYTES` each, this much in all.
MAX_TOTAL_PNG_BYTES = 6_000_000
__all__ = ["MAX_PNG_BYTES", "MAX_TOTAL_PNG_BYTES", "caption", "key_numbers", "render", "render_catalog", "write"]
#: The experiment catalog, written beside the scripts (``experiments/README.md``).
CATALOG = "README.md"
#: How many scalar numbers of a summary the gallery lists.
KEY_NUMBERS = 8

_HEADER = """# Figure gallery

Every figure of `make reproduce` (quick profile, CPU), regenerated with the command under it. This page
is written by `scaling-theory gallery` from `MANIFEST.json` and the experiments' docstrings — do not
edit it by hand. Vector PDFs and the plotted numbers (CSV/JSON) are written beside each PNG by
`make reproduce` and are not committed.

"""


def caption(doc: str | None) -> tuple[str, str]:
    """``(what it shows, paper/figure)`` from an experiment script's docstring.

    The docstring's first paragraph (usually one line) names the paper and figure; the first sentence
    of the following paragraph says what is shown (cut at 300 characters).
    """
    lines = (doc or "").strip().splitlines()
    if not lines:
        return "", ""
    head = 1  # the title is the first paragraph (a long one wraps over several lines)
    while head < len(lines) and lines[head].strip():
        head += 1
    title = " ".join(line.strip() for line in lines[:head])
    body: list[str] = []
    for line in lines[head:]:
        if not line.strip():
            if body:
                break
            continue
        body.append(line.strip())
    text = " ".join(body)
    match = re.match(r"(.+?[.;:])(\s|$)", text)
    first = match.group(1) if match else text
    if len(first) > 300:
        first = first[:297].rstrip() + "…"
    return first, title


def _format_number(value: float) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}" if abs(value) >= 1e4 else str(int(value))
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


def key_numbers(summary: Any, limit: int = KEY_NUMBERS) -> list[tuple[str, str]]:
    """The first ``limit`` scalar entries of a summary (nested keys joined by ``.``), formatted."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if len(out) >= limit:
            return
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, (bool, int, float)) and value is not None:
            out.append((prefix, _format_number(value)))
        elif isinstance(value, str) and len(value) <= 60 and prefix:
            out.append((prefix, value))

    walk("", summary)
    return out


def _pngs(entry: dict[str, Any]) -> list[str]:
    return [f["path"] for f in entry.get("files", []) if f["path"].endswith(".png")]


def render(manifest: dict[str, Any], docs: dict[str, str | None]) -> str:
    """The gallery's Markdown for ``manifest`` (``docs``: experiment name → script docstring)."""
    experiments = manifest.get("experiments", {})
    parts = [_HEADER]
    rev = manifest.get("git_revision") or "unknown"
    env = manifest.get("environment", {})
    parts.append(
        f"Generated from revision `{rev}` on {env.get('cpu_count', '?')} CPU core(s), "
        f"Python {env.get('python', '?')}, JAX {env.get('jax', '?')}.\n\n"
    )
    parts.append("| experiment | reproduces | seconds |\n|---|---|---|\n")
    for name in sorted(experiments):
        entry = experiments[name]
        _, title = caption(docs.get(name))
        parts.append(f"| [`{name}`](#{name}) | {title or entry.get('title', '')} | {entry.get('seconds', '')} |\n")
    for name in sorted(experiments):
        entry = experiments[name]
        shows, title = caption(docs.get(name))
        title = title or entry.get("title", "")
        parts.append(f"\n## {name}\n\n")
        parts.append(f"**{shows or title}**  \n*Reproduces:* {title}\n\n")
        if entry.get("status") != "ok":
            parts.append(f"*Last run failed:* `{entry.get('error', 'unknown error')}`\n\n")
        for png in _pngs(entry):
            parts.append(f"![{name}: {Path(png).stem}]({png})\n\n")
        profile = entry.get("arguments", {}).get("profile", "quick")
        seed = entry.get("arguments", {}).get("seed", 0)
        parts.append(
            f"```bash\nscaling-theory reproduce {name} --profile {profile} --seed {seed} --out figures\n```\n\n"
        )
        numbers = key_numbers(entry.get("summary"))
        if numbers:
            parts.append("| key number | value |\n|---|---|\n")
            parts.extend(f"| `{k}` | {v} |\n" for k, v in numbers)
            parts.append("\n")
        parts.append(f"Run time: {entry.get('seconds', '?')} s ({profile} profile).\n")
    return "".join(parts)


_CATALOG_HEADER = """# Experiments

One script per figure or table of the papers this project reproduces. This page is written by
`scaling-theory gallery` (and after every `make reproduce`) from `figures/MANIFEST.json` and the
scripts' own metadata (docstring, `PAPER_RUNTIME`, `GPU`) — do not edit it by hand. The figures
themselves are in the [gallery](../figures/README.md).

* **Run one:** `scaling-theory reproduce NAME --profile {smoke,quick,paper} --out DIR` (or
  `python experiments/NAME.py --profile quick`). `make reproduce` runs every one at the quick profile
  into `figures/`; `make reproduce-paper` at the paper profile.
* **Quick run time** is the wall time recorded in the manifest by the last `make reproduce` (two
  experiments at a time on the machine named below). **Paper run time** is measured where the
  script says so and otherwise estimated from the quick time and the profiles' sizes on the same
  2-core CPU; experiments marked GPU are meant for an accelerator at the paper profile
  (`make gpu-check`).

"""


def _outputs(entry: dict[str, Any]) -> str:
    """``2 PNG, 2 PDF, 3 CSV`` from a manifest entry's files."""
    counts: dict[str, int] = {}
    for f in entry.get("files", []):
        ext = Path(f["path"]).suffix.lstrip(".").upper() or "file"
        counts[ext] = counts.get(ext, 0) + 1
    return ", ".join(f"{n} {ext}" for ext, n in sorted(counts.items())) or "—"


def _seconds(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "—"
    return f"{value:.0f} s" if value < 120 else f"{value / 60:.1f} min"


def render_catalog(manifest: dict[str, Any], experiments: dict[str, Any]) -> str:
    """The Markdown of ``experiments/README.md``.

    Args:
      manifest: ``figures/MANIFEST.json`` (quick-profile run times and output files).
      experiments: name → :class:`scaling_theory.reproduce.Experiment` (title, ``PAPER_RUNTIME``, ``GPU``).

    Returns:
      One table row per registered experiment: paper and figure, command, quick and paper run time,
      GPU mark and outputs.
    """
    recorded = manifest.get("experiments", {})
    env = manifest.get("environment", {})
    parts = [_CATALOG_HEADER]
    parts.append(
        f"Quick times from revision `{manifest.get('git_revision') or 'unknown'}` on {env.get('cpu_count', '?')} "
        f"CPU core(s) ({env.get('platform', '?')}), Python {env.get('python', '?')}, JAX {env.get('jax', '?')}.\n\n"
    )
    parts.append("| experiment | paper and figure | quick | paper profile | GPU | outputs (quick) |\n")
    parts.append("|---|---|---|---|---|---|\n")
    for name, exp in experiments.items():
        entry = recorded.get(name, {})
        _, title = caption(exp.doc)
        gpu = "yes" if exp.gpu else ""
        parts.append(
            f"| [`{name}`]({exp.path.name}) | {title} | {_seconds(entry.get('seconds'))} | "
            f"{exp.paper_runtime or 'not estimated'} | {gpu} | {_outputs(entry)} |\n"
        )
    quick = sum(float(recorded.get(n, {}).get("seconds") or 0.0) for n in experiments)
    parts.append(f"\nSum of the quick times: {quick / 60:.1f} min of experiment time.\n")
    return "".join(parts)


def load_manifest(figures: Path) -> dict[str, Any]:
    """``figures/MANIFEST.json`` as a dict (one-line error when missing or unreadable)."""
    path = Path(figures) / "MANIFEST.json"
    if not path.is_file():
        raise InputError(f"{path}: no manifest (run `make reproduce` first)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def experiment_docs() -> dict[str, str | None]:
    """Docstrings of every registered experiment, by name."""
    from scaling_theory import reproduce

    return {name: exp.doc for name, exp in reproduce.discover().items()}


def write(figures: Path, manifest: dict[str, Any] | None = None) -> Path:
    """Regenerate ``figures/README.md`` from the manifest; return its path.

    When ``figures`` is the checkout's own ``figures/`` folder, the experiment catalog
    ``experiments/README.md`` is rewritten too (:func:`render_catalog`).
    """
    from scaling_theory import reproduce

    figures = Path(figures)
    manifest = manifest if manifest is not None else load_manifest(figures)
    experiments = reproduce.discover()
    docs = {name: exp.doc for name, exp in experiments.items()}
    path = write_text_atomic(figures / GALLERY, render(manifest, docs))
    if figures.resolve() == (reproduce.repo_root() / "figures").resolve():
        write_text_atomic(reproduce.experiments_dir() / CATALOG, render_catalog(manifest, experiments))
    return path
