"""The usage chart: questions per topic (bars) and activity per day (lines), as a PNG.

matplotlib with the Agg backend: no display, no GUI toolkit, safe in worker threads of a
server. Topics are labelled with their English names (or ids), so no CJK font is needed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display

from matplotlib.figure import Figure

from bot.services.stats import Summary

# The PNG is exactly this size: the figure size in inches times the DPI, never "tight" cropping.
WIDTH_IN, HEIGHT_IN, DPI = 12.0, 6.5, 100
WIDTH_PX, HEIGHT_PX = int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI)


def render_chart(summary: Summary, topic_names: Mapping[str, str] | None = None) -> bytes:
    """The chart as PNG bytes, WIDTH_PX × HEIGHT_PX."""
    names = topic_names or {}
    # A Figure of its own (not pyplot): no global state shared between threads.
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    bars, lines = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    figure.subplots_adjust(left=0.2, right=0.97, top=0.88, bottom=0.17, wspace=0.28)

    topics = list(summary.topics.items())[::-1]  # most asked at the top
    if topics:
        bars.barh([names.get(t, t) for t, _ in topics], [n for _, n in topics], color="#2f7ebc")
        for y, (_, n) in enumerate(topics):
            bars.annotate(str(n), (n, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    else:
        bars.text(0.5, 0.5, "no questions yet", ha="center", va="center", transform=bars.transAxes)
    bars.set_title("Questions per topic")
    bars.set_xlabel("questions")
    bars.tick_params(axis="y", labelsize=8)

    days = [d.day[5:] for d in summary.days]  # MM-DD
    series = {
        "answered questions": [d.questions for d in summary.days],
        "out of scope": [d.out_of_scope for d in summary.days],
        "messages checked": [sum(d.checks.values()) for d in summary.days],
        "quiz games": [d.quiz_plays for d in summary.days],
        "users (distinct per day)": [d.users for d in summary.days],
    }
    for label, values in series.items():
        lines.plot(days, values, marker="o", label=label)
    lines.set_title("Per day")
    lines.set_ylim(bottom=0)
    lines.tick_params(axis="x", labelrotation=45, labelsize=8)
    lines.legend(fontsize=8, loc="upper left")
    lines.grid(alpha=0.3)

    period = f"{summary.days[0].day} to {summary.days[-1].day}" if summary.days else "no data"
    figure.suptitle(f"Usage counts, {period} (no message text, no user ids)")
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def write_chart(summary: Summary, path: Path, topic_names: Mapping[str, str] | None = None) -> None:
    """Write the chart to `path` as a PNG."""
    path.write_bytes(render_chart(summary, topic_names))
