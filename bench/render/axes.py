"""Numbers on an axis → labels in human units (bytes, counts, ns), shared by report and compare.

Axis labels in human units, shared by the report and compare: bytes in
B/KiB/MiB, durations in ns/µs/ms, counts as 1k/1M, ratios as 0.5 or 2 with a times
sign, instead of matplotlib's powers (2^11, 10^4); and the figures' notes and top legends."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.legend import Legend
from matplotlib.ticker import FuncFormatter, LogFormatter
from matplotlib.transforms import ScaledTranslation


def _short(value: float) -> str:
    """At most 3 significant digits and no exponent: 2, 2.5, 512, 0.25, 0.125."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _scaled(value: float, units: tuple[tuple[float, str], ...], sep: str = " ") -> str:
    """value in the largest unit it reaches (units largest first; the last is the base)."""
    if value == 0:
        return "0"
    for scale, name in units:
        if abs(value) >= scale or scale == units[-1][0]:
            return f"{_short(value / scale)}{sep}{name}".rstrip()
    raise AssertionError("unreachable")  # pragma: no cover


def bytes_label(value: float) -> str:
    """2048 -> "2 KiB", 8388608 -> "8 MiB", 512 -> "512 B"."""
    units = ((2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"), (1.0, "B"))
    return _scaled(value, units)


def ns_label(value: float) -> str:
    """A duration given in ns: 100 -> "100 ns", 1000 -> "1 µs", 2.5e6 -> "2.5 ms"."""
    return _scaled(value, ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns")))


def count_label(value: float) -> str:
    """A plain count: 1 -> "1", 1000 -> "1k", 100000 -> "100k", 1e6 -> "1M"; a whole
    number below a million that the short form would round is written out: 1024 -> "1,024"."""
    short = _scaled(value, ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")), sep="")
    if float(value).is_integer() and 1000 <= abs(value) < 1e6:
        exact = short.endswith("k") and float(short[:-1]) * 1000 == value
        return short if exact else f"{value:,.0f}"
    return short


def ratio_label(value: float) -> str:
    """A multiple: the number (0.25, 1, 4...) and a times sign (U+00D7) after it."""
    return f"{value:g}×"


class _HumanLogFormatter(LogFormatter):
    """matplotlib's choice of which log (or symlog) ticks get a label, with `label`'s text."""

    def __init__(self, label: Callable[[float], str], base: float, minor: bool) -> None:
        super().__init__(base=base, labelOnlyBase=not minor)
        self._label = label

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._label(x) if super().__call__(x, pos) else ""


def human_axis(axis: Axis, label: Callable[[float], str]) -> None:
    """Label `axis`'s ticks with `label` (bytes_label, ns_label...), on any scale; call
    after the axis's scale is set."""
    scale = axis.get_scale()
    if scale in ("log", "symlog"):
        base = float(getattr(axis.get_transform(), "base", 10))
        axis.set_major_formatter(_HumanLogFormatter(label, base, minor=False))
        axis.set_minor_formatter(_HumanLogFormatter(label, base, minor=True))
    else:
        axis.set_major_formatter(FuncFormatter(lambda x, _pos: label(x)))


def note_below(ax: Axes, text: str) -> None:
    """A short note in the figure, under the x axis's label."""
    ax.annotate(
        text,
        xy=(0.5, 0.0),
        xycoords=ax.xaxis.label,
        xytext=(0, -4),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=7,
        style="italic",
        color="#444444",
    )


def legend_above(ax: Axes, title: str, ncol: int, fontsize: float = 8) -> Legend:
    """The legend above the axes (and above x tick labels at the top), the title above it:
    for tall figures, whose bottom is far from where a reader starts."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg, as both modules set
    axes_top = ax.get_window_extent(renderer).y1
    top = axes_top
    for axis in (ax.xaxis, *(child.xaxis for child in ax.child_axes)):
        box = axis.get_tightbbox(renderer)
        if box is not None:  # tick labels at the bottom only reach no higher than the axes
            top = max(top, box.y1)
    points = 72 / fig.dpi
    lift = (top - axes_top) * points + 4
    legend = ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        bbox_transform=ax.transAxes + ScaledTranslation(0, lift / 72, fig.dpi_scale_trans),
        borderaxespad=0,  # `lift` is the whole gap
        ncol=max(ncol, 1),
        fontsize=fontsize,
    )
    height = legend.get_window_extent(renderer).height * points
    # The pad counts from the axes' top: clear the top tick labels and the legend.
    ax.set_title(title, pad=lift + height + 6)
    return legend


def sweep_axes(ax: Axes, sweep: str) -> None:
    """The axes of a sweep's figure (report and compare): time per switch on a log
    scale against the pairs running at once, or the working set each context touches."""
    ax.set_yscale("log")
    human_axis(ax.yaxis, ns_label)
    if sweep == "pairs":
        ax.set_xscale("log", base=2)
        human_axis(ax.xaxis, count_label)
        ax.set_xlabel("independent ping-pong pairs running at once")
    else:
        ax.set_xscale("symlog", base=2, linthresh=16)
        human_axis(ax.xaxis, lambda kib: bytes_label(kib * 1024))
        ax.set_xlabel("working set each context touches per turn")
    ax.grid(which="both", alpha=0.3)


def memory_axes(ax: Axes, ylabel: str) -> None:
    """The axes of a memory figure (report and compare): bytes per unit against the
    units parked at once, both on log scales."""
    ax.set_xscale("log")
    human_axis(ax.xaxis, count_label)
    ax.set_yscale("log", base=2)
    human_axis(ax.yaxis, bytes_label)
    ax.set_xlabel("units parked at once")
    ax.set_ylabel(ylabel)
    ax.grid(which="both", alpha=0.3)
