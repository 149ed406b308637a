"""Distinct JPEGs for the simulated phones, made before the timed part and kept on disk."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

# pwa/photos.js re-encodes every photo at quality 0.8 before it is stored and sent.
PHONE_QUALITY = 80
NOISE_MARGIN = 256  # pixels of extra noise around a photo, for per-photo offsets


@dataclass(frozen=True)
class PhotoFile:
    """One generated photo on disk: its SHA-256 (the upload address) and its path."""

    sha256: str
    path: Path
    size: int


def make_jpeg(seed: int, width: int, height: int, quality: int = PHONE_QUALITY) -> bytes:
    """Return a JPEG that no other seed produces: a sky, shapes and sensor-like noise.

    A flat or purely random picture would compress far better or far worse than a photo of
    a street; soft shapes on a gradient with a little noise land near a real photo's bytes.
    The scene is drawn at a quarter of the size and scaled up (soft edges, and cheap: 1,500
    photos are made before a run).
    """
    rnd = random.Random(seed)
    small = (max(1, width // 4), max(1, height // 4))
    top = Image.new("RGB", small, tuple(rnd.randrange(40, 200) for _ in range(3)))
    bottom = Image.new("RGB", small, tuple(rnd.randrange(0, 120) for _ in range(3)))
    img = Image.composite(bottom, top, Image.linear_gradient("L").resize(small))
    draw = ImageDraw.Draw(img)
    sw, sh = small
    for _ in range(rnd.randrange(12, 30)):
        x0, y0 = rnd.randrange(sw), rnd.randrange(sh)
        x1 = min(sw, x0 + rnd.randrange(sw // 20 + 1, sw // 3 + 2))
        y1 = min(sh, y0 + rnd.randrange(sh // 20 + 1, sh // 3 + 2))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        shape = draw.ellipse if rnd.random() < 0.4 else draw.rectangle
        shape((x0, y0, x1, y1), fill=colour)
    img = img.resize((width, height), Image.Resampling.BICUBIC)
    # Each photo takes the shared noise from its own offset, so no two share their grain.
    dx, dy = rnd.randrange(NOISE_MARGIN), rnd.randrange(NOISE_MARGIN)
    noise = _noise(width, height).crop((dx, dy, dx + width, dy + height))
    img = Image.blend(img, noise, 0.12)
    out = BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


@cache
def _noise(width: int, height: int) -> Image.Image:
    """Return grey sensor-like noise a margin larger than the photo (made once per size)."""
    return Image.effect_noise((width + NOISE_MARGIN, height + NOISE_MARGIN), 24).convert("RGB")


def generate(
    folder: Path, count: int, width: int, height: int, first_seed: int = 1
) -> list[PhotoFile]:
    """Write `count` distinct JPEGs into `folder`; return them in seed order."""
    folder.mkdir(parents=True, exist_ok=True)
    photos: list[PhotoFile] = []
    seen: set[str] = set()
    for seed in range(first_seed, first_seed + count):
        data = make_jpeg(seed, width, height)
        sha = hashlib.sha256(data).hexdigest()
        if sha in seen:  # pragma: no cover - the seed is in the noise and the shapes
            raise RuntimeError(f"photo seed {seed} repeats an earlier photo")
        seen.add(sha)
        path = folder / f"{sha}.jpg"
        path.write_bytes(data)
        photos.append(PhotoFile(sha, path, len(data)))
    return photos
