"""Tests for server.photos.imaging: validation, sanitising and resizing of uploads."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin

from server.photos import imaging
from server.photos.imaging import (
    ALLOWED_FORMATS,
    CorruptImage,
    ImageError,
    ImageTooLarge,
    ProcessedImage,
    UnsupportedImage,
    process_image,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_COMMENT = b"guard-7 secret comment"
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="PhoneCam"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
RED, BLUE, WHITE = (220, 20, 20), (20, 20, 220), (255, 255, 255)


# --------------------------------------------------------------------------- helpers


def _encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _gps_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "AcmePhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (18.0, 4.0, 12.0)
    return exif


def _split_image(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Left half red, right half blue, so rotation direction is observable."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def _noise(size: tuple[int, int]) -> Image.Image:
    """Return photo-like noise quickly (upscaled Gaussian noise per channel)."""
    small = (max(1, size[0] // 4), max(1, size[1] // 4))
    bands = [Image.effect_noise(small, sigma).resize(size) for sigma in (30, 45, 60)]
    return Image.merge("RGB", bands)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _bilevel_png(width: int, height: int, *, with_pixels: bool = True) -> bytes:
    """Build a 1-bit greyscale PNG by hand; an all-zero image compresses to almost nothing."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    body = b""
    if with_pixels:
        row = b"\x00" * (1 + (width + 7) // 8)
        comp = zlib.compressobj(9)
        parts = [comp.compress(row * min(1000, height - i)) for i in range(0, height, 1000)]
        body = _chunk(b"IDAT", b"".join(parts) + comp.flush())
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + body + _chunk(b"IEND", b"")


def _assert_clean_jpeg(data: bytes) -> Image.Image:
    assert data.startswith(b"\xff\xd8\xff")
    for needle in (b"Exif", b"http://ns.adobe.com/xap", SECRET_COMMENT, b"ICC_PROFILE"):
        assert needle not in data
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert img.mode == "RGB"
    assert len(img.getexif()) == 0
    for key in ("exif", "xmp", "comment", "icc_profile", "XML:com.adobe.xmp"):
        assert key not in img.info
    img.load()
    return img


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 40) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="session")
def bomb_png(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real, valid 20000x20000 (400 MP) PNG that is only a few tens of KB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(_bilevel_png(20_000, 20_000))
    return path.read_bytes()


@pytest.fixture(scope="module")
def twelve_mp_jpeg() -> bytes:
    return _encode(_noise((4000, 3000)), "JPEG", quality=90)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any pixel data gets decoded."""

    def forbidden(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)


# --------------------------------------------------------------------------- metadata


def test_jpeg_metadata_is_stripped_and_orientation_applied() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = _encode(
        _split_image(),
        "JPEG",
        exif=_gps_exif(orientation=6),
        comment=SECRET_COMMENT,
        xmp=XMP_PACKET,
        icc_profile=srgb,
    )
    # The input really carries everything we expect to be removed.
    for needle in (b"Exif", b"http://ns.adobe.com/xap", SECRET_COMMENT, b"ICC_PROFILE"):
        assert needle in data
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    result = process_image(data)

    assert isinstance(result, ProcessedImage)
    assert result.source_format == "JPEG"
    assert (result.width, result.height) == (200, 400)
    assert set(result.variants) == {"full", "display", "thumb"}
    for variant in result.variants.values():
        _assert_clean_jpeg(variant)
    full = Image.open(io.BytesIO(result.variants["full"]))
    assert full.size == (200, 400)
    # Orientation 6 = rotate 90° clockwise: the red left half ends up on top.
    assert _close(full.getpixel((100, 50)), RED)
    assert _close(full.getpixel((100, 350)), BLUE)


def test_png_text_chunks_and_alpha_are_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SECRET_COMMENT.decode())
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode(), zip=True)
    img = Image.new("RGBA", (120, 80), (*RED, 255))
    img.paste((0, 0, 0, 0), (60, 0, 120, 80))  # right half fully transparent
    data = _encode(img, "PNG", pnginfo=info, exif=_gps_exif(orientation=1))
    assert SECRET_COMMENT in data
    assert "Comment" in Image.open(io.BytesIO(data)).info

    result = process_image(data)

    assert result.source_format == "PNG"
    for variant in result.variants.values():
        out = _assert_clean_jpeg(variant)
        assert "Comment" not in out.info
    out = Image.open(io.BytesIO(result.variants["full"]))
    assert _close(out.getpixel((20, 40)), RED)
    assert _close(out.getpixel((100, 40)), WHITE, tol=3)  # alpha composited onto white


def test_palette_png_with_transparency_becomes_white() -> None:
    img = Image.new("P", (40, 40), 1)
    img.putpalette([0, 0, 0, *RED] + [0] * (256 * 3 - 6))
    img.paste(0, (0, 0, 20, 40))
    data = _encode(img, "PNG", transparency=0)

    out = Image.open(io.BytesIO(process_image(data).variants["full"]))

    assert _close(out.getpixel((5, 20)), WHITE, tol=3)
    assert _close(out.getpixel((35, 20)), RED)


def test_webp_is_accepted_and_stripped() -> None:
    data = _encode(_split_image(), "WEBP", exif=_gps_exif(orientation=3), xmp=XMP_PACKET)
    assert b"EXIF" in data and b"http://ns.adobe.com/xap" in data

    result = process_image(data)

    assert result.source_format == "WEBP"
    for variant in result.variants.values():
        _assert_clean_jpeg(variant)
    out = Image.open(io.BytesIO(result.variants["full"]))
    assert out.size == (400, 200)
    assert _close(out.getpixel((50, 100)), BLUE)  # orientation 3 = rotated 180°


def test_webp_with_alpha() -> None:
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    data = _encode(img, "WEBP", lossless=True)
    out = Image.open(io.BytesIO(process_image(data).variants["thumb"]))
    assert _close(out.getpixel((32, 32)), WHITE, tol=3)


def test_mpo_from_phone_is_reported_as_jpeg() -> None:
    img = _split_image()
    data = _encode(img, "MPO", save_all=True, append_images=[img])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = process_image(data)
    assert result.source_format == "JPEG"
    _assert_clean_jpeg(result.variants["full"])


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    data = _encode(Image.new("I;16", (16, 16), 40_000), "PNG")
    out = Image.open(io.BytesIO(process_image(data).variants["full"]))
    assert abs(out.getpixel((8, 8))[0] - 155) <= 3


def test_cmyk_jpeg_is_converted_to_rgb() -> None:
    data = _encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")
    out = _assert_clean_jpeg(process_image(data).variants["full"])
    r, g, b = out.getpixel((16, 16))
    assert r > 200 and g < 60 and b < 60


def test_output_is_deterministic() -> None:
    data = _encode(_noise((300, 200)), "PNG")
    assert process_image(data).variants == process_image(data).variants


# --------------------------------------------------------------------------- rejection


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_encode(Image.new("P", (10, 10)), "GIF"), id="gif"),
        pytest.param(_encode(Image.new("RGB", (10, 10)), "BMP"), id="bmp"),
        pytest.param(_encode(Image.new("RGB", (10, 10)), "TIFF"), id="tiff"),
        pytest.param(b"Hello, this is definitely not an image.\n", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", id="heic"),
    ],
)
def test_unsupported_formats_are_rejected(data: bytes) -> None:
    with pytest.raises(UnsupportedImage) as info:
        process_image(data)
    err = info.value
    assert err.code == "unsupported_media_type"
    for word in ("JPEG", "PNG", "WebP", "HEIC"):
        assert word in err.message
    assert str(err) == err.message


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_encode(_noise((256, 256)), "JPEG"), id="jpeg"),
        pytest.param(_encode(_noise((256, 256)), "PNG"), id="png"),
        pytest.param(_encode(_noise((256, 256)), "WEBP"), id="webp"),
    ],
)
def test_truncated_images_are_corrupt(data: bytes) -> None:
    process_image(data)  # the intact file is fine
    with pytest.raises(CorruptImage) as info:
        process_image(data[: len(data) // 2])
    assert info.value.code == "corrupt_image"


def test_garbage_after_valid_signature_is_corrupt_not_unsupported() -> None:
    with pytest.raises(CorruptImage):
        process_image(b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + b"\xff" * 5)
    with pytest.raises(CorruptImage):
        process_image(b"\x89PNG\r\n\x1a\n" + b"garbage")


def test_decompression_bomb_is_rejected_without_decoding(
    bomb_png: bytes, no_decoding: None
) -> None:
    assert len(bomb_png) < 200_000
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge) as info:
        process_image(bomb_png)
    assert time.perf_counter() - start < 1.0
    assert info.value.code == "image_too_large"


def test_bomb_fixture_is_a_real_image(bomb_png: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    img = Image.open(io.BytesIO(bomb_png))
    assert (img.format, img.size, img.mode) == ("PNG", (20_000, 20_000), "1")


def test_pixel_limit_is_checked_before_decoding(no_decoding: None) -> None:
    # 64 MP is below Pillow's own bomb threshold, so only our check can catch it.
    data = _bilevel_png(8000, 8000, with_pixels=False)
    with pytest.raises(ImageTooLarge) as info:
        process_image(data)
    assert "8000x8000" in info.value.message


def test_header_only_huge_png_is_too_large_not_corrupt() -> None:
    with pytest.raises(ImageTooLarge):
        process_image(_bilevel_png(30_000, 30_000, with_pixels=False))


def test_extreme_side_length_is_rejected() -> None:
    with pytest.raises(ImageTooLarge):
        process_image(_bilevel_png(40_000, 1))


def test_pillow_bomb_warning_becomes_error_and_state_is_restored() -> None:
    filters_before = list(warnings.filters)
    limit_before = Image.MAX_IMAGE_PIXELS
    # 100 MP: Pillow only *warns*; a generous max_pixels lets it reach that path.
    with pytest.raises(ImageTooLarge):
        process_image(_bilevel_png(10_000, 10_000, with_pixels=False), max_pixels=10**9)
    assert warnings.filters == filters_before
    assert limit_before == Image.MAX_IMAGE_PIXELS


def test_custom_max_pixels_boundary() -> None:
    data = _encode(Image.new("RGB", (100, 100), RED), "PNG")
    assert process_image(data, max_pixels=10_000).width == 100
    with pytest.raises(ImageTooLarge):
        process_image(data, max_pixels=9_999)
    with pytest.raises(ValueError):
        process_image(data, max_pixels=0)


def test_error_hierarchy_and_codes() -> None:
    codes = {cls: cls.code for cls in (UnsupportedImage, ImageTooLarge, CorruptImage)}
    assert codes == {
        UnsupportedImage: "unsupported_media_type",
        ImageTooLarge: "image_too_large",
        CorruptImage: "corrupt_image",
    }
    for cls in codes:
        assert issubclass(cls, ImageError)
        assert cls().message and cls("custom").message == "custom"
    assert ALLOWED_FORMATS == ("JPEG", "PNG", "WEBP")


# --------------------------------------------------------------------------- sizes


def test_twelve_megapixel_photo(twelve_mp_jpeg: bytes) -> None:
    start = time.perf_counter()
    result = process_image(twelve_mp_jpeg)
    elapsed = time.perf_counter() - start

    sizes = {k: Image.open(io.BytesIO(v)).size for k, v in result.variants.items()}
    assert sizes == {"full": (4000, 3000), "display": (1600, 1200), "thumb": (320, 240)}
    assert (result.width, result.height) == (4000, 3000)
    assert len(result.variants["display"]) < 1_000_000
    assert len(result.variants["thumb"]) < 60_000
    assert elapsed < 5.0  # typically ~0.5 s; generous for slow CI machines


def test_full_variant_is_capped_at_4096() -> None:
    result = process_image(_encode(_noise((5000, 100)), "PNG"))
    sizes = {k: Image.open(io.BytesIO(v)).size for k, v in result.variants.items()}
    assert sizes == {"full": (4096, 82), "display": (1600, 32), "thumb": (320, 6)}
    assert (result.width, result.height) == (4096, 82)


def test_small_images_are_never_upscaled() -> None:
    result = process_image(_encode(_noise((50, 30)), "JPEG"))
    for variant in result.variants.values():
        assert Image.open(io.BytesIO(variant)).size == (50, 30)


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 260),
    height=st.integers(1, 260),
    mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P", "1"]),
    fmt=st.sampled_from(["PNG", "WEBP", "JPEG"]),
)
def test_variant_sizes_property(width: int, height: int, mode: str, fmt: str) -> None:
    if fmt == "JPEG" and mode not in ("RGB", "L"):
        mode = "RGB"
    data = _encode(Image.new(mode, (width, height)), fmt)
    limits = {"full": 200, "display": 90, "thumb": 16}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(imaging, "VARIANT_SIZES", limits)
        result = process_image(data)
    for name, blob in result.variants.items():
        out = _assert_clean_jpeg(blob)
        expected_long = min(max(width, height), limits[name])
        assert max(out.size) == expected_long
        assert min(out.size) >= 1
        # Aspect ratio preserved up to rounding of the short side.
        scale = expected_long / max(width, height)
        assert abs(min(out.size) - max(1, round(min(width, height) * scale))) <= 1
    assert (result.width, result.height) == Image.open(io.BytesIO(result.variants["full"])).size


def test_modules_do_not_import_flask_or_sqlalchemy() -> None:
    code = (
        "import sys, server.photos.imaging, server.photos.storage; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]; "
        "sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=False)
    assert proc.returncode == 0
