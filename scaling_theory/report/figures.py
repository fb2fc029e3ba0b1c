"""The report's figures (house style, ``plotting.save_figure``: PNG + PDF + the plotted numbers as CSV).

Each function takes the report dict of :func:`scaling_theory.report.analysis.analyse` and an output
folder, draws one figure from the numbers already computed (no analysis here) and returns its name.
Groups are drawn in the order of ``report["order"]`` (highest pass@1 first), one colour each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scaling_theory.plotting import COLORS, MARKERS, band, figure, save_figure
from scaling_theory.report.analysis import group_rows

WIDTH = 6.8  # inches: the text width of a one-column paper page


PALETTE = tuple(c for c in COLORS if c != "#F0E442")  # Okabe–Ito without yellow (too light for thin lines)


MANY = 12  # beyond this many groups: colours from a sequential map in display order, legends in columns


def _style(i: int, count: int = 0) -> dict[str, Any]:
    """Colour and marker of the i-th group: the palette, or (more than MANY groups) viridis by rank."""
    if count > MANY:
        from matplotlib import colormaps

        return {"color": colormaps["viridis"](0.92 * i / (count - 1)), "marker": MARKERS[i % len(MARKERS)]}
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[(i // len(PALETTE)) % len(MARKERS)]}


def _legend(ax: Any, count: int) -> None:
    if ax.get_legend_handles_labels()[0]:
        ncols = max(1, int(np.ceil(count / 24)))
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), ncols=ncols, fontsize=7.5 if count <= MANY else 5.5)


def _or(rows: list[dict], key: str, fallback: np.ndarray) -> np.ndarray:
    """``rows[i][key]`` as floats, ``fallback[i]`` where it is missing (None: not finite in the library's result)."""
    return np.array([fb if r.get(key) is None else r[key] for r, fb in zip(rows, fallback)], dtype=float)


def _groups(report: dict) -> list[tuple[int, dict, str]]:
    by_label = {g["label"]: g for g in report["groups"]}
    return [(i, by_label[lab]["group"], lab) for i, lab in enumerate(report["order"])]


def histogram(report: dict, out: Path) -> str:
    """Per-problem pass@1 (k/n) histograms, one small panel per group, on half-decade bins + a k = 0 bin."""
    groups = _groups(report)
    if len(groups) > MANY:
        return _histogram_heatmap(report, out, groups)
    ncols = min(len(groups), 4)
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = figure(nrows, ncols, width=WIDTH, height=1.55 * nrows + 0.3, squeeze=False, sharex=True, sharey=True)
    for ax in axes.ravel()[len(groups) :]:
        ax.set_visible(False)
    for (i, grp, lab), ax in zip(groups, axes.ravel()):
        rows = group_rows(report["histogram"], grp)
        counts = [r["problems"] for r in rows]
        pos = np.arange(len(counts)) + 0.5  # bar j spans [j, j + 1] (bin j - 1), the k = 0 bar sits apart at -0.9
        pos[0] = -0.9
        ax.bar(pos, counts, width=0.9, color=["0.55"] + [_style(i)["color"]] * (len(counts) - 1))
        ax.set_title(lab, fontsize=8)
        edges = [r["bin_lo"] for r in rows[1:]] + [rows[-1]["bin_hi"]]
        ticks = [(j + 1, e) for j, e in enumerate(edges) if abs(np.log10(e) - round(np.log10(e))) < 1e-9]
        ax.set_xticks(
            [-0.9] + [t for t, _ in ticks],
            ["0"] + [f"$10^{{{int(round(np.log10(e)))}}}$" if e < 1 else "1" for _, e in ticks],
            fontsize=7,
        )
        ax.grid(axis="x", visible=False)
    fig.supxlabel("per-problem pass@1 = k/n (grey: never solved, k = 0)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("problems")
    save_figure(fig, out, "histogram", data=report["histogram"])
    return "histogram"


def _histogram_heatmap(report: dict, out: Path, groups: list) -> str:
    """Many groups: one row per group, one column per bin (k = 0 first), shade = number of problems."""
    mat = np.array([[r["problems"] for r in group_rows(report["histogram"], grp)] for _, grp, _ in groups], dtype=float)
    rows = group_rows(report["histogram"], groups[0][1])
    fig, ax = figure(width=WIDTH * 0.8, height=0.11 * len(groups) + 1.2)
    im = ax.imshow(mat, aspect="auto", cmap="Greys", interpolation="nearest")
    ax.set_yticks(range(len(groups)), [lab for _, _, lab in groups], fontsize=5.5)
    edges = [r["bin_lo"] for r in rows[1:]] + [rows[-1]["bin_hi"]]
    ticks = [(j + 0.5, e) for j, e in enumerate(edges) if abs(np.log10(e) - round(np.log10(e))) < 1e-9]
    ax.set_xticks(
        [0] + [t for t, _ in ticks], ["0"] + [f"$10^{{{int(round(np.log10(e)))}}}$" if e < 1 else "1" for _, e in ticks]
    )
    ax.set_xlabel("per-problem pass@1 = k/n (first column: never solved, k = 0)")
    ax.grid(False)
    fig.colorbar(im, ax=ax, label="problems", shrink=0.6)
    save_figure(fig, out, "histogram", data=report["histogram"])
    return "histogram"


def passk(report: dict, out: Path) -> str:
    """All groups on one axes: pass@k within the data (band: bootstrap interval) and the extrapolation."""
    fig, ax = figure(width=WIDTH, height=3.4)
    level = int(round(100 * report["level"]))
    groups = _groups(report)
    for i, grp, lab in groups:
        st = _style(i, len(groups))
        cur = group_rows(report["passk"], grp)
        ks = [r["k"] for r in cur]
        ax.plot(ks, [r["pass_at_k"] for r in cur], color=st["color"], label=lab)
        band(ax, ks, [r["lower"] for r in cur], [r["upper"] for r in cur], st["color"])
        ext = [r for r in group_rows(report["extrapolation"]["rows"], grp) if r.get("pass_at_budget") is not None]
        if ext:
            xb = [r["budget"] for r in ext]
            yb = np.array([r["pass_at_budget"] for r in ext])
            err = np.array([yb - _or(ext, "lower", yb), _or(ext, "upper", yb) - yb])  # no bar where no interval
            ax.plot([ks[-1], *xb], [cur[-1]["pass_at_k"], *yb], color=st["color"], linestyle=":", linewidth=1.0)
            ax.errorbar(
                xb, yb, yerr=err, color=st["color"], marker=st["marker"], linestyle="none", capsize=2, markersize=4
            )
    n_max = max(r["n_max"] for r in report["glance"])
    ax.axvline(n_max, color="0.5", linewidth=0.8, linestyle="--")
    ax.text(n_max, 0.02, " logged n", color="0.4", fontsize=7, va="bottom")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.0)
    ax.set_xlabel("attempts per problem k (budget N beyond the dashed line)")
    ax.set_ylabel("pass@k")
    ax.set_title(
        f"pass@k: Chen's estimator within the data ({level}% bootstrap band), "
        f"{report['extrapolation']['method']} extrapolation beyond ({level}% intervals)"
    )
    _legend(ax, len(groups))
    rows = [{**r, "kind": "observed"} for r in report["passk"]]
    rows += [
        {
            **{k: v for k, v in r.items() if k != "pass_at_budget"},
            "k": r.get("budget"),
            "pass_at_k": r.get("pass_at_budget"),
            "kind": "extrapolated",
        }
        for r in report["extrapolation"]["rows"]
        if "pass_at_budget" in r
    ]
    save_figure(fig, out, "passk", data=rows)
    return "passk"


def comparison(report: dict, out: Path) -> str:
    """One row per group: pass@1, pass@n observed, pass@N predicted at the largest budget (with interval)."""
    groups = _groups(report)
    per_row = 0.32 if len(groups) <= MANY else 0.13
    fig, ax = figure(width=WIDTH * 0.75, height=per_row * len(groups) + 1.0)
    budget = report["budgets"][-1]
    rows = []
    for y, (_i, grp, _lab) in enumerate(groups):
        g = group_rows(report["glance"], grp)[0]
        ext = [
            r
            for r in group_rows(report["extrapolation"]["rows"], grp)
            if r.get("budget") == budget and r.get("pass_at_budget") is not None
        ]
        pt = {
            **grp,
            "pass_at_1": g["pass_at_1"],
            "pass_at_n": g["coverage_at_n"],
            "n": g["n_min"],
            "budget": budget,
            "pass_at_budget": ext[0]["pass_at_budget"] if ext else None,
            "lower": ext[0]["lower"] if ext else None,
            "upper": ext[0]["upper"] if ext else None,
        }
        rows.append(pt)
        ax.plot([pt["pass_at_1"], pt["pass_at_n"]], [y, y], color="0.75", linewidth=1.0, zorder=1)
        ax.scatter(
            [pt["pass_at_1"]], [y], color=COLORS[5], marker="o", s=16, zorder=3, label="pass@1" if y == 0 else None
        )
        ax.scatter(
            [pt["pass_at_n"]],
            [y],
            color=COLORS[2],
            marker="s",
            s=16,
            zorder=3,
            label="pass@n (logged)" if y == 0 else None,
        )
        if ext:
            y0 = np.array([pt["pass_at_budget"]])
            ax.errorbar(
                y0,
                [y],
                xerr=[y0 - _or(ext, "lower", y0), _or(ext, "upper", y0) - y0],
                color=COLORS[1],
                marker="D",
                markersize=4,
                capsize=2,
                linestyle="none",
                zorder=3,
                label=f"pass@{budget:,} predicted" if y == 0 else None,
            )
    ax.set_yticks(range(len(groups)), [lab for _, _, lab in groups], fontsize=None if len(groups) <= MANY else 5.5)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.0)
    ax.set_xlabel("pass rate")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3)
    save_figure(fig, out, "comparison", data=rows)
    return "comparison"


def saturation(report: dict, out: Path) -> str:
    """Marginal gain of one more attempt per problem vs N: observed (solid), Beta law (dashed), ε, and N*."""
    fig, ax = figure(width=WIDTH, height=3.2)
    eps = report["eps"]
    groups = _groups(report)
    for i, grp, lab in groups:
        st = _style(i, len(groups))
        g = group_rows(report["gain"], grp)
        if not g:
            continue
        obs = [(r["N"], r["gain_observed"]) for r in g if r["gain_observed"] is not None and r["gain_observed"] > 0]
        if obs:
            ax.plot(*zip(*obs), color=st["color"], label=lab)
        ax.plot(
            [r["N"] for r in g],
            [r["gain_beta_law"] for r in g],
            color=st["color"],
            linestyle="--",
            linewidth=0.9,
            label=None if obs else lab,
        )
        s = group_rows(report["saturation"], grp)
        if s and s[0].get("n_star_aggregate"):
            ax.plot(
                [s[0]["n_star_aggregate"]],
                [eps],
                color=st["color"],
                marker=st["marker"],
                linestyle="none",
                markersize=5,
            )
    ax.axhline(eps, color="0.3", linewidth=0.8, linestyle=":")
    ax.text(1, eps, f" ε = {eps:g}", color="0.3", fontsize=7, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("attempts per problem N")
    ax.set_ylabel("pass@(N+1) − pass@N")
    ax.set_title("Gain of one more attempt: observed (solid), Beta-binomial law (dashed); markers: N*")
    _legend(ax, len(groups))
    save_figure(fig, out, "saturation", data=report["gain"])
    return "saturation"


ALL = (histogram, passk, comparison, saturation)
