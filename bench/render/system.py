"""system.csv and run.json → the report's system view: its figure and its section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from bench.render.axes import count_label, human_axis
from bench.render.plot import case_spans, images, plt
from bench.render.plot import save as save_figure


def system_rates(system: pd.DataFrame | None) -> pd.DataFrame:
    """system.csv as rates: context switches per second between consecutive samples."""
    if system is None or len(system) < 2:
        return pd.DataFrame()
    sys_df = system.assign(case=system["case"].fillna("")).sort_values("t_s")
    if len(sys_df) < 2:
        return pd.DataFrame()
    dt = sys_df["t_s"].diff()
    rates = pd.DataFrame(
        {
            "t_s": sys_df["t_s"],
            "case": sys_df["case"].astype(str),
            "ctxt_per_s": sys_df["ctxt"].diff() / dt,
            "forks_per_s": sys_df["processes"].diff() / dt,
        }
    )
    return rates[dt > 0]


def plot_system(folder: Path, run: dict[str, Any], system: pd.DataFrame | None) -> list[Path]:
    rates = system_rates(system)
    if rates.empty:
        return []
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.plot(rates["t_s"], rates["ctxt_per_s"], color="black", lw=1)
    ax.set_yscale("symlog", linthresh=1000)
    human_axis(ax.yaxis, count_label)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("context switches / s (whole machine)")
    ax.set_title("System context switches over the run (/proc/stat ctxt, as vmstat's cs)")
    case_spans(ax, run)
    ax.grid(alpha=0.3)
    return save_figure(fig, folder, "system_ctxt")


def system_section(system: pd.DataFrame | None, figures: dict[str, list[Path]]) -> list[str]:
    rates = system_rates(system)
    if rates.empty:
        return []
    lines = [
        "## The system view: what vmstat and pidstat would show",
        "",
        "The whole machine's context switches per second (`/proc/stat` ctxt, the `cs` "
        "column of `vmstat 1`) sampled once a second over the run; the shaded spans are "
        "the cases.",
        "",
        *images(figures.get("system", []), "system context switches"),
    ]
    during = rates[rates["case"] != ""]
    fam = during.assign(lang=during["case"].str.split(".").str[0]).groupby("lang")["ctxt_per_s"]
    medians = fam.median()
    if {"go", "c"} <= set(medians.index):
        lines += [
            f"Median while Go cases ran: **{medians['go']:,.0f}** switches/s; while C "
            f"cases ran: **{medians['c']:,.0f}** switches/s.",
            "",
        ]
    lines += [
        "Each benchmark thread's own voluntary and non-voluntary switches, as "
        "`pidstat -w` reads them from `/proc/<pid>/task/<tid>/status`, are in "
        "threads.csv, sampled at the same times (cumulative counts; a worker process "
        "often lives less than a second, so most show one sample).",
        "",
    ]
    return lines
