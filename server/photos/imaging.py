"""Validate uploaded photos and re-encode them as metadata-free JPEG variants.

Every output image is rebuilt from pixel data only, so EXIF (including GPS),
XMP, ICC profiles, JPEG comments and PNG text chunks never survive.
This module deliberately has no Flask or SQLAlchemy dependency.
"""

from __future__ import annotations

import contextlib
import io
import struct
import warnings
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
#: Long-side limit in pixels for each variant; images are never upscaled.
VARIANT_SIZES = MappingProxyType({"full": 4096, "display": 1600, "thumb": 320})
#: Reject absurd aspect ratios even when the pixel count is acceptable.
MAX_SIDE = 30_000
JPEG_QUALITY = 82
#: Pillow's `reducing_gap` per variant: how much of a downscale a cheap box reduction may do
#: before the Lanczos filter does the rest. The large sizes keep 3.0 (indistinguishable from
#: a fair Lanczos); a 320 px thumbnail takes 1.5, which cuts its cost by half or more for a
#: mean difference of one or two levels of 255 on line art, about what a bilinear filter
#: gives (tests/unit/test_photo_imaging_cost.py).
REDUCING_GAP = MappingProxyType({"full": 3.0, "display": 3.0, "thumb": 1.5})
#: Transparent areas are composited onto white: transparent uploads are almost
#: always screenshots or graphics with dark content, which stays legible on
#: white and matches how browsers and document viewers show them.
BACKGROUND = (255, 255, 255)

_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
# Errors Pillow raises for malformed data while parsing or decoding.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)


class ImageError(Exception):
    """Base class for photo validation errors with a stable API error code."""

    code = "image_error"
    default_message = "The image could not be processed."

    def __init__(self, message: str | None = None) -> None:
        """Store a human-readable English message."""
        self.message = message or self.default_message
        super().__init__(self.message)


class UnsupportedImage(ImageError):
    """The upload is not a JPEG, PNG or WebP image."""

    code = "unsupported_media_type"
    default_message = (
        "Unsupported image format. Allowed formats are JPEG, PNG and WebP; "
        "HEIC/HEIF photos must be converted to JPEG before uploading."
    )


class ImageTooLarge(ImageError):
    """The image has too many pixels or too large dimensions."""

    code = "image_too_large"
    default_message = "The image has too many pixels to be processed safely."


class CorruptImage(ImageError):
    """The image is truncated or cannot be decoded."""

    code = "corrupt_image"
    default_message = "The image is truncated or corrupt and cannot be decoded."


@dataclass(frozen=True)
class ProcessedImage:
    """Sanitised JPEG variants plus the size of the "full" variant."""

    source_format: str
    width: int
    height: int
    variants: dict[str, bytes]


def process_image(data: bytes, *, max_pixels: int = 40_000_000) -> ProcessedImage:
    """Validate an uploaded photo and return metadata-free JPEG variants."""
    if max_pixels < 1:
        raise ValueError("max_pixels must be positive")
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; make it fatal here.
    # Note: catch_warnings mutates process-global state; our own max_pixels check
    # below is the primary guard, this is only a backstop.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        # Pillow warns about malformed EXIF in untrusted uploads; it is discarded anyway.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        img = _open(data)
        try:
            _check_size(img.width, img.height, max_pixels)
            source_format = "JPEG" if img.format == "MPO" else str(img.format)
            try:
                img.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise ImageTooLarge() from exc
            except _DECODE_ERRORS as exc:
                raise CorruptImage() from exc
            base = _sanitise(img)
        finally:
            img.close()

    sized: dict[str, Image.Image] = {}
    previous = base
    for name in ("full", "display", "thumb"):
        previous = sized[name] = _fit(previous, VARIANT_SIZES[name], REDUCING_GAP[name])
    return ProcessedImage(
        source_format=source_format,
        width=sized["full"].width,
        height=sized["full"].height,
        variants=_encode_each(sized),
    )


def _encode_each(sized: dict[str, Image.Image]) -> dict[str, bytes]:
    """Encode each variant, each distinct image only once."""
    # `_fit` hands back its input when it is small enough: a phone's 1600 px photo is its
    # own full and display size, and encoding the same pixels twice gave the same bytes.
    done: dict[int, bytes] = {}
    for img in sized.values():
        if id(img) not in done:
            done[id(img)] = _encode(img)
    return {name: done[id(img)] for name, img in sized.items()}


def _open(data: bytes) -> Image.Image:
    """Open the image lazily (header only), mapping failures to ImageError."""
    try:
        return Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge() from exc
    except (UnidentifiedImageError, *_DECODE_ERRORS) as exc:
        if _has_allowed_signature(data):
            raise CorruptImage() from exc
        raise UnsupportedImage() from exc


def _has_allowed_signature(data: bytes) -> bool:
    """Return whether the bytes start like a JPEG, PNG or WebP file."""
    head = bytes(data[:12])
    return (
        head.startswith(b"\xff\xd8\xff")
        or head.startswith(b"\x89PNG\r\n\x1a\n")
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _check_size(width: int, height: int, max_pixels: int) -> None:
    """Reject images whose header dimensions exceed the limits."""
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; at most {max_pixels:,} pixels are allowed."
        )
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(
            f"The image is {width}x{height} pixels; each side must be at most {MAX_SIDE} pixels."
        )


def _sanitise(img: Image.Image) -> Image.Image:
    """Apply orientation, normalise colours and return a fresh RGB image without metadata."""
    icc = img.info.get("icc_profile")
    # Unreadable orientation metadata: keep the pixels as stored rather than reject.
    with contextlib.suppress(*_DECODE_ERRORS):
        ImageOps.exif_transpose(img, in_place=True)

    if img.mode in _SIXTEEN_BIT_MODES:
        # Pillow clips (not scales) 16-bit values when converting to 8-bit.
        img = img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    if icc and img.mode in ("RGB", "CMYK"):
        img = _to_srgb(img, icc)

    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        clean = Image.new("RGB", rgba.size, BACKGROUND)
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = img if img.mode == "RGB" else img.convert("RGB")
    # A brand-new image carries no info dict, EXIF or encoder defaults.
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    """Return the built-in sRGB profile."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(img: Image.Image, icc: bytes) -> Image.Image:
    """Convert pixels from an embedded ICC profile to sRGB, ignoring broken profiles."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(img, source, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img
    return converted if converted is not None else img


def _fit(img: Image.Image, limit: int, reducing_gap: float = 3.0) -> Image.Image:
    """Downscale so the long side is at most ``limit`` pixels; never upscale."""
    width, height = img.size
    if max(width, height) <= limit:
        return img
    scale = limit / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=reducing_gap)


def _encode(img: Image.Image) -> bytes:
    """Encode as progressive JPEG without any metadata."""
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return buf.getvalue()
