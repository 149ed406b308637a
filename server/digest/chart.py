"""A small e-mail-safe bar chart (PNG, Pillow): reports per period against the ones before.

Mail clients show a PNG everywhere (SVG and CSS charts are not safe in Outlook or Gmail),
so the chart is a bitmap. It never carries information alone: the renderer prints the same
numbers as text and gives the image an alt text. The current period is told apart by more
than colour: it is solid black with its label in bold-face words under it, the others are
hatched grey, and every bar has its number written on it.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH = 600
HEIGHT = 240
SCALE = 2  # drawn at twice the size, shown at WIDTH: sharp on phones
# Fonts with Swedish letters, where installed (Debian: fonts-dejavu-core, fonts-liberation).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
BLACK = (0, 0, 0)
GREY = (120, 120, 120)
LIGHT = (215, 215, 215)
WHITE = (255, 255, 255)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def _font(size: int) -> tuple[Font, bool]:
    """Return a font of this pixel size and whether it has non-ASCII letters."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            try:
                return ImageFont.truetype(candidate, size), True
            except OSError:
                continue
    # Pillow's built-in font covers ASCII only.
    return ImageFont.load_default(size=size), False


def _drawable(text: str, full: bool) -> str:
    """Return the text as the font can draw it (å → a with the ASCII-only fallback)."""
    if full:
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii())


def _dashes(draw: ImageDraw.ImageDraw, x_from: float, x_to: float, y: float) -> None:
    """Draw a horizontal dashed line."""
    x = x_from
    while x < x_to:
        draw.line([(x, y), (min(x + 8 * SCALE, x_to), y)], fill=BLACK, width=2 * SCALE)
        x += 14 * SCALE


def _hatch(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float) -> None:
    """Fill a rectangle with diagonal lines (the earlier periods' pattern)."""
    step = 9 * SCALE
    offset = step / 2
    height = y1 - y0
    while offset < (x1 - x0) + height:
        # The line from (x0 + offset, y1) up and to the left, clipped to the rectangle.
        ax, ay = x0 + offset, y1
        bx, by = x0 + offset - height, y0
        if ax > x1:
            ax, ay = x1, y1 - (ax - x1)
        if bx < x0:
            bx, by = x0, y0 + (x0 - bx)
        draw.line([(ax, ay), (bx, by)], fill=GREY, width=SCALE)
        offset += step


def bar_chart(
    values: Sequence[int],
    labels: Sequence[str],
    *,
    current_label: str,
    mean_label: str,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> bytes:
    """Draw one bar per value (oldest first; the last is the current period) as a PNG.

    The dashed line is the mean of every bar but the last, labelled `mean_label`.
    """
    if not values or len(values) != len(labels):
        raise ValueError("one label per value, and at least one value")
    w, h = width * SCALE, height * SCALE
    image = Image.new("RGB", (w, h), WHITE)
    draw = ImageDraw.Draw(image)
    font, full = _font(17 * SCALE)
    bold, _ = _font(20 * SCALE)
    top, bottom = 62 * SCALE, h - 52 * SCALE
    left, right = 10 * SCALE, w - 10 * SCALE
    peak = max(max(values), 1)
    slot = (right - left) / len(values)
    bar_w = slot * 0.56
    if len(values) > 1:
        # The legend of the mean line, top left: a dashed sample and the words.
        _dashes(draw, left, left + 34 * SCALE, 14 * SCALE)
        draw.text(
            (left + 42 * SCALE, 3 * SCALE), _drawable(mean_label, full), font=font, fill=BLACK
        )
    if len(values) > 1:
        # Drawn first: the bars and their numbers go on top of it.
        mean = sum(values[:-1]) / (len(values) - 1)
        _dashes(draw, left, right, bottom - (bottom - top) * mean / peak)
    draw.line([(left, bottom), (right, bottom)], fill=BLACK, width=SCALE)
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        current = index == len(values) - 1
        x0 = left + slot * index + (slot - bar_w) / 2
        x1 = x0 + bar_w
        y0 = bottom - (bottom - top) * value / peak
        if value and current:
            draw.rectangle([x0, y0, x1, bottom], fill=BLACK)
        elif value:
            draw.rectangle([x0, y0, x1, bottom], fill=LIGHT, outline=GREY, width=SCALE)
            _hatch(draw, x0, y0, x1, bottom)
        number = str(value)
        nw = draw.textlength(number, font=bold)
        nx, ny = (x0 + x1) / 2 - nw / 2, y0 - 25 * SCALE
        draw.rectangle([nx - 3 * SCALE, ny, nx + nw + 3 * SCALE, y0 - 2 * SCALE], fill=WHITE)
        draw.text((nx, ny), number, font=bold, fill=BLACK)
        text = _drawable(label, full)
        tw = draw.textlength(text, font=bold if current else font)
        draw.text(
            ((x0 + x1) / 2 - tw / 2, bottom + 5 * SCALE),
            text,
            font=bold if current else font,
            fill=BLACK,
        )
        if current:
            marker = _drawable(current_label, full)
            mw = draw.textlength(marker, font=bold)
            draw.text(((x0 + x1) / 2 - mw / 2, bottom + 27 * SCALE), marker, font=bold, fill=BLACK)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()
