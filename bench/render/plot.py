"""A matplotlib figure → stem.png and stem.svg, written atomically (and Markdown to show them).

matplotlib set up for files (no display) and for untrusted text, and one way to
save a figure: PNG and SVG, each rendered in memory and written atomically.

Labels can hold strings from a stranger's result folder (case ids, folder names):
math parsing is off, so a `$` is a dollar sign, not mathtext that can fail."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False
import matplotlib.pyplot as plt  # noqa: E402

from bench.results.write import atomic_write  # noqa: E402

__all__ = ["LANG_COLOURS", "case_spans", "images", "plt", "save"]

LANG_COLOURS = {"go": "#00add8", "c": "#d1495b"}


def save(fig: plt.Figure, out_dir: Path, stem: str, dpi: int = 120) -> list[Path]:
    """stem.png and stem.svg in out_dir; the figure is closed."""
    try:
        fig.tight_layout()
        paths = []
        for suffix in ("png", "svg"):
            buffer = io.BytesIO()
            fig.savefig(buffer, format=suffix, dpi=dpi)
            paths.append(atomic_write(out_dir / f"{stem}.{suffix}", buffer.getvalue()))
    finally:
        plt.close(fig)
    return paths


def images(paths: list[Path], alt: str) -> list[str]:
    """Markdown showing the PNG of each figure saved."""
    return [f"![{alt}]({p.name})\n" for p in paths if p.suffix == ".png"]


def case_spans(ax: plt.Axes, run: dict[str, Any]) -> None:
    """Shade each case's span of the run (run.json's start_s, end_s) in its language's
    colour, with a legend of the two: the run-long figures (system, canary) show which
    case was running when."""
    from matplotlib.patches import Patch

    for case_id, span in (run.get("cases") or {}).items():
        start, end = span.get("start_s"), span.get("end_s")
        if isinstance(start, int | float) and isinstance(end, int | float) and end > start:
            colour = LANG_COLOURS.get(str(case_id).split(".")[0], "grey")
            ax.axvspan(start, end, color=colour, alpha=0.15, lw=0)
    ax.legend(
        handles=[
            Patch(color=LANG_COLOURS["go"], alpha=0.3, label="Go cases"),
            Patch(color=LANG_COLOURS["c"], alpha=0.3, label="C cases"),
        ],
        loc="upper left",
        fontsize=8,
    )
