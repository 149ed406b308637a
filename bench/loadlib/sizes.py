"""What the server stores for one photo, and what processing it costs, by kind of photo.

Runs the server's own processing (server.photos.imaging.process_image, as an upload does)
on three generated JPEGs: the load run's bench photo, a phone photo as the field app sends
it (pwa/photos.js: at most 1600 px on the long side, quality 0.8), and a 12-megapixel camera
photo of about 3 MB, as it would arrive from a client that does not downscale.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.loadlib.photos import make_jpeg

# (name, width, height, JPEG quality): the quality of the 12 MP photo is chosen so that it
# lands near the ~3 MB of a phone camera's file.
KINDS = (
    ("bench JPEG (shift end)", 1024, 768, 80),
    ("phone photo (field app)", 1600, 1200, 80),
    ("12 MP camera photo", 4000, 3000, 95),
)
REPEATS = 3


def photo_sizes(tmp: Path) -> dict[str, Any]:
    """Return, per kind, the upload's bytes, each stored variant's bytes and the CPU time."""
    from server.photos.imaging import process_image

    out: dict[str, Any] = {}
    for name, width, height, quality in KINDS:
        data = make_jpeg(7, width, height, quality)
        best = float("inf")
        for _ in range(REPEATS):
            started = time.process_time()
            processed = process_image(data, max_pixels=24_000_000)
            best = min(best, time.process_time() - started)
        out[name] = {
            "size": f"{width}x{height}",
            "upload_bytes": len(data),
            "variants": {k: len(v) for k, v in processed.variants.items()},
            "stored_bytes": sum(len(v) for v in processed.variants.values()),
            "cpu_ms": best * 1000,
        }
    return out


def print_sizes(sizes: dict[str, Any]) -> None:
    """Print the table of photo sizes and processing cost."""
    print(
        f"\n=== PHOTO SIZES: the server's processing (server.photos.imaging), CPU best of {REPEATS}"
    )
    for name, s in sizes.items():
        variants = ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in s["variants"].items())
        print(
            f"  {name} {s['size']}: upload {s['upload_bytes'] / 1024:.0f} KiB -> stored "
            f"{s['stored_bytes'] / 1024:.0f} KiB ({variants}); {s['cpu_ms']:.0f} ms CPU"
        )
