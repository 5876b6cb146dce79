"""The figures: human units on the axes, the memory figure's merged thread lines, tall
figures' scale and legend at the top, and overlays that say which run has no data.

Figures are caught at `_save` (monkeypatched) and inspected as matplotlib objects."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from bench.analysis import comparison
from bench.render import compare, compare_figures, counters, memory
from bench.render.axes import bytes_label, count_label, human_axis, ns_label, ratio_label
from bench.results import read
from tests.conftest import REFERENCE, copy_reference


def _catch(monkeypatch: pytest.MonkeyPatch, module: object) -> dict[str, plt.Figure]:
    """Figures by stem, laid out as plot.save would, instead of written."""
    caught: dict[str, plt.Figure] = {}

    def fake_save(fig: plt.Figure, _out: Path, stem: str, *_a: object, **_k: object) -> list:
        fig.tight_layout()
        fig.canvas.draw()
        caught[stem] = fig
        return []

    monkeypatch.setattr(module, "save_figure", fake_save)
    return caught


def _labels(axis: matplotlib.axis.Axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def _legend(fig: plt.Figure) -> list[str]:
    legend = fig.axes[0].get_legend()
    return [t.get_text() for t in legend.get_texts()]


def _notes(fig: plt.Figure) -> str:
    return " ".join(t.get_text() for t in fig.axes[0].texts)


# ---- the formatters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(512, "512 B"), (2048, "2 KiB"), (1536, "1.5 KiB"), (2**17, "128 KiB"), (8388608, "8 MiB")],
)
def test_bytes_are_labelled_in_binary_units(value: float, text: str) -> None:
    assert bytes_label(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.25, "0.25×"), (0.5, "0.5×"), (1, "1×"), (2, "2×"), (4, "4×")]
)
def test_ratios_are_labelled_as_multiples(value: float, text: str) -> None:
    assert ratio_label(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(20, "20 ns"), (100, "100 ns"), (1000, "1 µs"), (10_000, "10 µs"), (2.5e6, "2.5 ms")],
)
def test_durations_are_labelled_in_ns_us_ms(value: float, text: str) -> None:
    assert ns_label(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1, "1"),
        (10, "10"),
        (100, "100"),
        (1000, "1k"),
        (10_000, "10k"),
        (100_000, "100k"),
        (1_000_000, "1M"),
        (1024, "1,024"),  # a power of two on a pairs axis, not "1.02k"
    ],
)
def test_counts_are_labelled_as_plain_numbers(value: float, text: str) -> None:
    assert count_label(value) == text


@pytest.mark.parametrize(
    ("scale", "base", "low", "high", "label", "units"),
    [
        ("log", 2, 2**11, 2**23, bytes_label, ("B", "KiB", "MiB")),
        ("log", 10, 20, 40_000, ns_label, ("ns", "µs")),
        ("log", 2, 0.2, 5, ratio_label, ("×",)),
        ("log", 10, 1, 2e6, count_label, ("", "k", "M")),
        ("symlog", 10, 0, 3e5, count_label, ("", "k")),
    ],
)
def test_a_drawn_axis_shows_human_labels_not_powers(
    scale: str, base: int, low: float, high: float, label: object, units: tuple[str, ...]
) -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 2], [low, high])
    if scale == "log":
        ax.set_yscale("log", base=base)
    else:
        ax.set_yscale("symlog", linthresh=1000)
    human_axis(ax.yaxis, label)  # type: ignore[arg-type]
    fig.canvas.draw()
    shown = _labels(ax.yaxis) + [
        t.get_text() for t in ax.yaxis.get_ticklabels(minor=True) if t.get_text()
    ]
    plt.close(fig)
    assert len(shown) >= 2
    for text in shown:
        assert "^" not in text and "$" not in text and "e+" not in text, text
        assert text == "0" or text.lstrip("0123456789.,").strip() in units, text


# ---- the memory figure ----------------------------------------------------------


def _memory_folder(tmp_path: Path, name: str, scale_1mib: float) -> Path:
    """The reference memory.csv, the ulimit -s 1MiB threads' resident bytes times scale."""
    out = tmp_path / name
    out.mkdir()
    mem = pd.read_csv(REFERENCE / "memory.csv", keep_default_na=False)
    rows = (mem["kind"] == "thread") & (mem["ulimit_s"] == "1MiB")
    mem.loc[rows, "rss_bytes_per_unit"] *= scale_1mib
    mem.to_csv(out / "memory.csv", index=False)
    return out


def _thread_rows(folder: Path) -> pd.DataFrame:
    mem = pd.read_csv(folder / "memory.csv", keep_default_na=False, na_values=[""])
    return mem[(mem["kind"] == "thread") & mem["status"].isin(["ok", "ceiling"])]


def test_coinciding_thread_lines_are_found_from_the_data(tmp_path: Path) -> None:
    same = _thread_rows(_memory_folder(tmp_path, "same", 1.05))
    merged = memory.coinciding_resident(same)
    assert merged is not None
    # One point per count measured, the 8MiB ceiling count included.
    assert sorted(merged.index) == sorted(set(same["created"]))
    differ = _thread_rows(_memory_folder(tmp_path, "differ", 1.5))
    assert memory.coinciding_resident(differ) is None
    # One setting alone, or two that share no count, are not called coinciding.
    assert memory.coinciding_resident(same[same["ulimit_s"] == "8MiB"]) is None
    apart = same[same["ulimit_s"].isin(["8MiB", "1MiB"])].copy()
    apart.loc[apart["ulimit_s"] == "1MiB", "created"] += 1
    assert memory.coinciding_resident(apart) is None


def _memory_figure(monkeypatch: pytest.MonkeyPatch, folder: Path) -> plt.Figure:
    caught = _catch(monkeypatch, memory)
    memory.plot_memory(folder, read.load_memory(folder))
    return caught["memory"]


def test_memory_figure_merges_thread_lines_only_when_they_coincide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged = _memory_figure(monkeypatch, _memory_folder(tmp_path, "same", 1.0))
    apart = _memory_figure(monkeypatch, _memory_folder(tmp_path, "differ", 1.5))
    merged_legend, apart_legend = _legend(merged), _legend(apart)
    limits = {"8MiB", "1MiB", "256KiB", "unlimited"}

    assert "thread, resident (any ulimit -s)" in merged_legend
    assert not any("resident, ulimit -s" in t for t in merged_legend)
    assert "merged" in _notes(merged) and "coincide" in _notes(merged)
    assert {f"reserved, ulimit -s {s}" for s in limits} <= set(merged_legend)

    assert "thread, resident (any ulimit -s)" not in apart_legend
    assert {f"thread, resident, ulimit -s {s}" for s in limits} <= set(apart_legend)
    assert "merged" not in _notes(apart)
    assert len(merged_legend) == len(apart_legend) - 3

    for fig in (merged, apart):
        y = _labels(fig.axes[0].yaxis)
        assert "8 MiB" in y and "2 KiB" in y
        assert all("^" not in t for t in y + _labels(fig.axes[0].xaxis))
        plt.close(fig)


# ---- the compare figures ---------------------------------------------------------


def _without_sweeps_or_memory(folder: Path) -> Path:
    """The folder as a quick run leaves it: no sweep points, no memory step."""
    summary = pd.read_csv(folder / "summary.csv", keep_default_na=False)
    sweeps = set(summary.loc[summary["sweep"] != "", "case"])
    summary[summary["sweep"] == ""].to_csv(folder / "summary.csv", index=False)
    samples = pd.read_csv(folder / "samples.csv", keep_default_na=False)
    samples[~samples["case"].isin(sweeps)].to_csv(folder / "samples.csv", index=False)
    run = json.loads((folder / "run.json").read_text())
    run["selected"] = [c for c in run["selected"] if c not in sweeps]
    run["cases"] = {c: span for c, span in run["cases"].items() if c not in sweeps}
    (folder / "run.json").write_text(json.dumps(run) + "\n")
    (folder / "memory.csv").unlink()
    return folder


def test_overlays_name_the_run_that_has_no_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = copy_reference(tmp_path, "full")
    quick = _without_sweeps_or_memory(copy_reference(tmp_path, "quick_run"))
    runs = comparison.load_runs([full, quick])
    for what in ("pairs", "ring", "memory"):
        assert comparison.runs_without(runs, what) == ["quick_run"], what
    both = comparison.load_runs([full, copy_reference(tmp_path, "full2")])
    assert all(comparison.runs_without(both, w) == [] for w in ("pairs", "ring", "memory"))

    caught = _catch(monkeypatch, compare_figures)
    table = comparison.compare(runs)
    compare_figures.plot_sweep(table, runs, "pairs", tmp_path)
    compare_figures.plot_sweep(table, runs, "ring", tmp_path)
    compare_figures.plot_memory(runs, tmp_path)
    for stem in ("compare_sweep_pairs", "compare_sweep_ring", "compare_memory"):
        fig = caught[stem]
        assert "no data: quick_run" in _notes(fig), stem
        assert all(t.startswith("full") for t in _legend(fig)), stem
        plt.close(fig)
    ring_x = _labels(caught["compare_sweep_ring"].axes[0].xaxis)
    assert "16 KiB" in ring_x and "256 KiB" in ring_x

    text = compare.render_markdown(runs, table, {k: [tmp_path / "x.png"] for k in _KEYS})
    sections = text.split("## ")
    for title in ("Scaling, overlaid", "Working set, overlaid", "Memory, overlaid"):
        body = next(s for s in sections if s.startswith(title))
        assert "No data for this figure in quick\\_run" in body, title  # escaped, as md does


_KEYS = ("ns", "ratio", "pairs", "ring", "memory")


def test_tall_compare_figures_have_scale_and_legend_at_the_top(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = copy_reference(tmp_path, "a"), copy_reference(tmp_path, "b")
    runs = comparison.load_runs([a, b])
    table = comparison.compare(runs)
    caught = _catch(monkeypatch, compare_figures)
    compare_figures.plot_ns(table, runs, tmp_path)
    compare_figures.plot_ratio(table, runs, tmp_path, comparison.NOISE_BAND)
    for stem, unit in (("compare_ns_per_switch", "µs"), ("compare_ratio", "×")):
        fig = caught[stem]
        ax = fig.axes[0]
        assert fig.get_size_inches()[1] > 10, "the test is about tall figures"
        top = [t.label2.get_text() for t in ax.xaxis.get_major_ticks() if t.label2.get_visible()]
        assert any(unit in t for t in top), (stem, top)
        axes_box = ax.get_window_extent()
        legend_box = ax.get_legend().get_window_extent()
        title_box = ax.title.get_window_extent()
        ticks = [t for t in ax.xaxis.get_major_ticks() if t.label2.get_text()]
        top_labels = max(t.label2.get_window_extent().y1 for t in ticks)
        assert legend_box.y0 >= top_labels >= axes_box.y1, stem  # above the top scale
        assert title_box.y0 >= legend_box.y1, stem  # and the title above the legend
        assert fig.bbox.y1 >= title_box.y1, stem  # all inside the figure
        plt.close(fig)


# ---- the counters table's note on slowdowns below 1 ------------------------------


def test_a_slowdown_below_1_is_explained_only_when_there_is_one() -> None:
    data = read.load(REFERENCE)
    summary, host = data.summary, data.host
    lines = "\n".join(counters.counter_section(summary, host))
    ok = summary[(summary["status"] == "ok") & (summary["sweep"].fillna("") == "")]
    below = ok.loc[ok["perf_overhead"] < 1, "case"]
    assert not below.empty, "the reference run has cases below 1"
    assert "not a speed-up caused by counting" in lines
    for case in below:
        assert f"`{case}`" in lines.split("below 1 in")[1].split(")")[0]

    raised = summary.assign(perf_overhead=summary["perf_overhead"].clip(lower=1.0))
    assert "not a speed-up" not in "\n".join(counters.counter_section(raised, host))
