"""Small server-side SVG charts: a pure function from data to an SVG string.

Used by the workspace's trend pages and by the morning digest e-mail, so it knows nothing
of Flask or the database and styles everything with inline presentation attributes (no
classes, no <style>, no scripts): the same string works in a page and in an e-mail.

Accessibility rules every chart follows:

- ``role="img"`` with ``aria-labelledby`` pointing at its ``<title>`` and ``<desc>``;
- every number that matters is written as text (axis ticks, bar values, legend), so a
  chart never depends on colour: series differ by dash pattern and marker shape, and a
  trend is an arrow *and* a word (``↑ upp``), never a red or green tint alone;
- every label is escaped (it may come from a coordinator-typed area name) and characters
  XML forbids are dropped, so the output always parses as XML.

Callers pass already translated, already formatted labels; this module only lays out.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

Direction = Literal["up", "down", "same", "flat", "new"]

# Arrows for the directions of analysis.trends ("same") and analysis.places ("flat"); "new"
# (too little history to compare) has no arrow: there is no change to point at.
ARROWS: dict[str, str] = {"up": "↑", "down": "↓", "same": "→", "flat": "→", "new": ""}

FONT = "Arial, Helvetica, sans-serif"
INK = "#1a1a1a"
MUTED = "#595959"  # 7:1 on white
GRID = "#d9d9d9"
# Series strokes: dark enough for text contrast; told apart by dash and marker, not hue.
STROKES = ("#1f4e79", "#7a3b00", "#3d5c1f", "#5b2a6e")
DASHES = ("", "8 4", "2 3", "10 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
BASELINE_DASH = "4 4"
BAR_FILL = "#1f4e79"
# Lines with more points than this get no point markers (they would blur into a band).
MAX_MARKED_POINTS = 31

# Characters XML 1.0 does not allow (C0 controls other than tab, newline, return).
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID_BAD = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class Series:
    """One line of a line chart; None values leave a gap."""

    label: str
    values: Sequence[float | None]
    # A baseline (e.g. the mean of the same weekday over four weeks) is drawn dashed grey.
    baseline: bool = False


@dataclass(frozen=True)
class Trend:
    """A direction and the words that say it; drawn as ``<arrow> <text>``."""

    direction: Direction
    text: str

    def label(self) -> str:
        """Return the arrow and the words, e.g. ``↑ upp: 12 mot snitt 5``."""
        return f"{arrow(self.direction)} {self.text}".strip()


def arrow(direction: str) -> str:
    """Return the arrow for a direction ("up", "down", "same"/"flat")."""
    return ARROWS.get(direction, ARROWS["same"])


def clean(text: object) -> str:
    """Return text safe for XML content and attributes: escaped, forbidden characters dropped."""
    return escape(_XML_BAD.sub("", str(text)), quote=True)


def _num(value: float) -> str:
    """Format a coordinate compactly (one decimal, no trailing zero)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _chart_id(chart_id: str | None, *parts: object) -> str:
    """Return a usable, deterministic element id prefix."""
    if chart_id:
        cleaned = _ID_BAD.sub("-", chart_id)
        return cleaned if cleaned[:1].isalpha() else f"c-{cleaned}"
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"chart-{digest}"


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Return tick values from 0 covering `top` with a 1/2/5 x 10^k step (integers when small)."""
    if not math.isfinite(top) or top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1.0)  # report counts: no fractional ticks
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _tick_label(value: float) -> str:
    """Format an axis tick (whole numbers without decimals)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 11,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = INK,
) -> str:
    """Return a <text> element with inline font attributes."""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="{FONT}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}" text-anchor="{anchor}">{clean(content)}</text>'
    )


def _marker(shape: str, x: float, y: float, stroke: str, tooltip: str) -> str:
    """Return a point marker of the given shape with a hover/speech title."""
    tip = f"<title>{clean(tooltip)}</title>"
    common = f'fill="#ffffff" stroke="{stroke}" stroke-width="1.5"'
    if shape == "square":
        return (
            f'<rect x="{_num(x - 3)}" y="{_num(y - 3)}" width="6" height="6" {common}>{tip}</rect>'
        )
    if shape == "triangle":
        pts = f"{_num(x)},{_num(y - 4)} {_num(x + 4)},{_num(y + 3)} {_num(x - 4)},{_num(y + 3)}"
        return f'<polygon points="{pts}" {common}>{tip}</polygon>'
    if shape == "diamond":
        corners = ((x, y - 4), (x + 4, y), (x, y + 4), (x - 4, y))
        pts = " ".join(f"{_num(px)},{_num(py)}" for px, py in corners)
        return f'<polygon points="{pts}" {common}>{tip}</polygon>'
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3" {common}>{tip}</circle>'


def _open(cid: str, width: int, height: int, title: str, desc: str) -> list[str]:
    """Return the opening of an accessible SVG document, title and desc first."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{clean(title)}</title>',
        f'<desc id="{cid}-desc">{clean(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _header(title: str, trend: Trend | None, width: int) -> list[str]:
    """Return the visible heading and the trend line (arrow and words)."""
    out = [_text(8, 18, title, size=13, weight="bold")]
    if trend is not None:
        out.append(_text(8, 36, trend.label(), size=12, weight="bold"))
    return out


def _y_axis(left: float, right: float, top: float, bottom: float, ticks: list[float]) -> list[str]:
    """Return grid lines and tick labels for a y axis starting at 0."""
    out: list[str] = []
    y_at = _y_scale(top, bottom, ticks)
    for tick in ticks:
        y = y_at(tick)
        out.append(
            f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(right)}" y2="{_num(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(_text(left - 6, y + 4, _tick_label(tick), size=10, anchor="end", fill=MUTED))
    out.append(
        f'<line x1="{_num(left)}" y1="{_num(bottom)}" x2="{_num(right)}" y2="{_num(bottom)}" '
        f'stroke="{INK}" stroke-width="1"/>'
    )
    return out


def _label_step(count: int, plot_width: float, label_px: float = 44) -> int:
    """Return every how many x labels to draw so they do not overlap."""
    if count <= 0:
        return 1
    return max(1, math.ceil(count * label_px / max(plot_width, 1)))


def _y_scale(top: float, bottom: float, ticks: list[float]) -> Callable[[float], float]:
    """Return the function placing a value on the y axis (the highest tick at the top)."""
    peak = ticks[-1] or 1.0
    return lambda v: bottom - (bottom - top) * v / peak


def _frame(
    cid: str,
    width: int,
    height: int,
    title: str,
    desc: str,
    trend: Trend | None,
    box: tuple[float, float, float, float],
    ticks: list[float],
) -> list[str]:
    """Open a chart: the SVG element, its title (and trend line) and the y axis."""
    left, right, top, bottom = box
    out = _open(cid, width, height, title, desc)
    out += _header(title, trend, width)
    out += _y_axis(left, right, top, bottom, ticks)
    return out


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str = "",
    trend: Trend | None = None,
    width: int = 640,
    height: int = 240,
    chart_id: str | None = None,
) -> str:
    """Return an SVG line chart of one or more series over the same x labels.

    Series are told apart by dash pattern and marker shape (and their legend text);
    a baseline series is dashed grey without markers. Point markers (with a tooltip
    title each) are drawn for up to MAX_MARKED_POINTS points.
    """
    n = len(x_labels)
    for s in series:
        if len(s.values) != n:
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {n} labels")
    cid = _chart_id(chart_id, "line", title, tuple(x_labels), tuple(s.label for s in series))
    values = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    ticks = nice_ticks(max(values, default=0.0))
    left, right = 40.0, width - 12.0
    top = 48.0 if trend is not None else 32.0
    legend_rows = max(1, math.ceil(len(series) / 3))
    bottom = height - 26.0 - 16.0 * legend_rows

    def x_at(i: int) -> float:
        return left + (right - left) * (i + 0.5) / max(n, 1)

    y_at = _y_scale(top, bottom, ticks)
    out = _frame(cid, width, height, title, desc, trend, (left, right, top, bottom), ticks)
    step = _label_step(n, right - left)
    for i, label in enumerate(x_labels):
        if i % step == 0:
            out.append(_text(x_at(i), bottom + 14, label, size=10, anchor="middle", fill=MUTED))
    line_index = 0
    styles: list[tuple[str, str, str | None]] = []
    for s in series:
        if s.baseline:
            stroke, dash, shape = MUTED, BASELINE_DASH, None
        else:
            k = line_index % len(STROKES)
            stroke, dash, shape = STROKES[k], DASHES[k], MARKERS[k]
            line_index += 1
        styles.append((stroke, dash, shape))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(s.values):
            if v is None or not math.isfinite(v):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_num(x_at(i))},{_num(y_at(v))}")
        if segment:
            segments.append(segment)
        out.append(f"<g><title>{clean(s.label)}</title>")
        for seg in segments:
            out.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{stroke}" '
                f'stroke-width="2"{dash_attr}/>'
            )
        if shape is not None and n <= MAX_MARKED_POINTS:
            for i, v in enumerate(s.values):
                if v is not None and math.isfinite(v):
                    tip = f"{x_labels[i]}: {s.label} {_tick_label(round(v, 1))}"
                    out.append(_marker(shape, x_at(i), y_at(v), stroke, tip))
        out.append("</g>")
    out += _legend(series, styles, left, bottom + 32, width)
    out.append("</svg>")
    return "\n".join(out)


def _legend(
    series: Sequence[Series],
    styles: Sequence[tuple[str, str, str | None]],
    left: float,
    y: float,
    width: int,
) -> list[str]:
    """Return a legend: a line sample with its dash and marker, then the label as text."""
    out: list[str] = []
    column = (width - left) / 3
    for index, (s, (stroke, dash, shape)) in enumerate(zip(series, styles, strict=True)):
        x = left + column * (index % 3)
        row_y = y + 16 * (index // 3)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(row_y - 4)}" x2="{_num(x + 24)}" '
            f'y2="{_num(row_y - 4)}" stroke="{stroke}" stroke-width="2"{dash_attr}/>'
        )
        if shape is not None:
            out.append(_marker(shape, x + 12, row_y - 4, stroke, s.label))
        out.append(_text(x + 30, row_y, s.label, size=11))
    return out


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    baseline: Sequence[float | None] | None = None,
    value_label: str = "",
    baseline_label: str = "",
    desc: str = "",
    trend: Trend | None = None,
    width: int = 640,
    height: int = 240,
    chart_id: str | None = None,
) -> str:
    """Return an SVG bar chart; each bar carries its value as text.

    An optional baseline (one value per bar, e.g. the mean of the four weeks before)
    is drawn as a dashed line across the bar's slot, named in the legend.
    """
    n = len(labels)
    if len(values) != n:
        raise ValueError(f"{len(values)} values for {n} labels")
    if baseline is not None and len(baseline) != n:
        raise ValueError(f"{len(baseline)} baseline values for {n} labels")
    cid = _chart_id(chart_id, "bar", title, tuple(labels), tuple(values))
    finite = [v for v in values if math.isfinite(v)]
    if baseline is not None:
        finite += [v for v in baseline if v is not None and math.isfinite(v)]
    ticks = nice_ticks(max(finite, default=0.0))
    left, right = 40.0, width - 12.0
    top = 48.0 if trend is not None else 32.0
    bottom = height - 42.0
    slot = (right - left) / max(n, 1)
    bar = max(2.0, slot * 0.6)
    y_at = _y_scale(top, bottom, ticks)
    out = _frame(cid, width, height, title, desc, trend, (left, right, top, bottom), ticks)
    step = _label_step(n, right - left)
    show_values = slot >= 18
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        cx = left + slot * (i + 0.5)
        v = value if math.isfinite(value) else 0.0
        y = y_at(v)
        tip = f"{label}: {value_label} {_tick_label(round(v, 1))}".replace("  ", " ")
        out.append(
            f'<rect x="{_num(cx - bar / 2)}" y="{_num(y)}" width="{_num(bar)}" '
            f'height="{_num(bottom - y)}" fill="{BAR_FILL}"><title>{clean(tip)}</title></rect>'
        )
        if show_values:
            out.append(_text(cx, y - 3, _tick_label(round(v, 1)), size=10, anchor="middle"))
        if i % step == 0:
            out.append(_text(cx, bottom + 14, label, size=10, anchor="middle", fill=MUTED))
        base = baseline[i] if baseline is not None else None
        if base is not None and math.isfinite(base):
            by = y_at(base)
            tip = f"{label}: {baseline_label} {round(base, 1):g}"
            out.append(
                f'<line x1="{_num(cx - slot / 2 + 1)}" y1="{_num(by)}" '
                f'x2="{_num(cx + slot / 2 - 1)}" y2="{_num(by)}" stroke="{INK}" '
                f'stroke-width="2" stroke-dasharray="4 2"><title>{clean(tip)}</title></line>'
            )
    legend_y = bottom + 32
    x = left
    if value_label:
        out.append(
            f'<rect x="{_num(x)}" y="{_num(legend_y - 9)}" width="12" height="10" '
            f'fill="{BAR_FILL}"/>'
        )
        out.append(_text(x + 18, legend_y, value_label, size=11))
        x += 30 + 7 * len(value_label)
    if baseline is not None and baseline_label:
        out.append(
            f'<line x1="{_num(x)}" y1="{_num(legend_y - 4)}" x2="{_num(x + 24)}" '
            f'y2="{_num(legend_y - 4)}" stroke="{INK}" stroke-width="2" stroke-dasharray="4 2"/>'
        )
        out.append(_text(x + 30, legend_y, baseline_label, size=11))
    out.append("</svg>")
    return "\n".join(out)
