"""Generate the app icons once: a map pin on the app's dark background.

Run from the repository root with `.venv/bin/python pwa/icons/make_icons.py`; the PNGs are
committed, so this only runs again when the mark changes.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
BACKGROUND = (16, 20, 24, 255)  # #101418, the app's background
PIN = (138, 180, 248, 255)  # #8ab4f8, the app's accent
SUPERSAMPLE = 4


def _pin(size: int, mark_fraction: float, *, rounded: bool) -> Image.Image:
    """Draw a map pin whose height is `mark_fraction` of the icon, centred."""
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    if rounded:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BACKGROUND)
    else:
        draw.rectangle((0, 0, big - 1, big - 1), fill=BACKGROUND)
    height = big * mark_fraction
    radius = height * 0.32
    cx = big / 2
    top = (big - height) / 2
    cy = top + radius
    tip = top + height
    # The head, then a triangle tangent-ish to it down to the tip, then the hole.
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=PIN)
    draw.polygon(
        [
            (cx - radius * 0.87, cy + radius * 0.5),
            (cx + radius * 0.87, cy + radius * 0.5),
            (cx, tip),
        ],
        fill=PIN,
    )
    hole = radius * 0.42
    draw.ellipse((cx - hole, cy - hole, cx + hole, cy + hole), fill=BACKGROUND)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def _save(image: Image.Image, path: Path) -> None:
    """Save as a 64-colour palette PNG: a flat icon looks the same at a fraction of the bytes."""
    image.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def main() -> None:
    """Write icon-192.png, icon-512.png and the maskable icon-maskable-512.png."""
    for size in (192, 512):
        _save(_pin(size, 0.72, rounded=True), HERE / f"icon-{size}.png")
    # Maskable: full-bleed background, the mark well inside the central 80 % safe zone.
    _save(_pin(512, 0.56, rounded=False), HERE / "icon-maskable-512.png")


if __name__ == "__main__":
    main()
