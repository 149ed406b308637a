"""Tests for the cheaper paths of server.photos.imaging: each size encoded once, the thumbnail."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageStat

from server.photos import imaging
from server.photos.imaging import process_image

SECRET_COMMENT = b"guard-7 secret comment"
XMP_PACKET = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def _photo(size: tuple[int, int]) -> Image.Image:
    """Return a photo-like picture: a soft gradient, shapes with sharp edges, thin lines."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(img)
    for i in range(24):
        x, y = (i * 97) % size[0], (i * 61) % size[1]
        draw.rectangle((x, y, x + size[0] // 8, y + size[1] // 10), fill=(230, 10 * i, 40))
        draw.line((0, y, size[0], y + 40), fill=(0, 0, 0), width=2)
    return img


def _phone_jpeg(size: tuple[int, int]) -> bytes:
    """Encode a photo as a phone would, with GPS EXIF, a comment, XMP and an ICC profile."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "AcmePhone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (59.0, 19.0, 48.0)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    _photo(size).save(
        buf, "JPEG", quality=80, exif=exif, comment=SECRET_COMMENT, xmp=XMP_PACKET, icc_profile=srgb
    )
    return buf.getvalue()


def _count_encodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record the size of every image `process_image` encodes."""
    sizes: list[tuple[int, int]] = []
    encode = imaging._encode

    def counting(img: Image.Image) -> bytes:
        sizes.append(img.size)
        return encode(img)

    monkeypatch.setattr(imaging, "_encode", counting)
    return sizes


@pytest.mark.parametrize("size", [(1600, 1200), (1024, 768), (1200, 1600)])
def test_a_photo_at_display_size_is_encoded_once_for_full_and_display(
    monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    encoded = _count_encodes(monkeypatch)

    result = process_image(_phone_jpeg(size))

    thumb = (320, 240) if size[0] > size[1] else (240, 320)
    assert encoded == [size, thumb]
    assert result.variants["display"] == result.variants["full"]
    for blob in result.variants.values():
        for needle in (b"Exif", b"AcmePhone", b"adobe:ns:meta", SECRET_COMMENT, b"ICC_PROFILE"):
            assert needle not in blob
        out = Image.open(io.BytesIO(blob))
        assert out.format == "JPEG" and len(out.getexif()) == 0
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(out.info)


def test_a_small_picture_is_encoded_once_for_all_three_sizes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded = _count_encodes(monkeypatch)

    result = process_image(_phone_jpeg((300, 200)))

    assert encoded == [(300, 200)]
    assert len(set(result.variants.values())) == 1


def test_a_large_photo_still_gets_three_encodings(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = _count_encodes(monkeypatch)

    result = process_image(_phone_jpeg((2400, 1800)))

    assert encoded == [(2400, 1800), (1600, 1200), (320, 240)]
    assert len(set(result.variants.values())) == 3


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    """Return the largest per-channel mean absolute difference, in levels of 255."""
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


@pytest.mark.parametrize("size", [(1600, 1200), (1024, 768)])
def test_the_thumbnail_looks_like_a_fair_lanczos_downscale(size: tuple[int, int]) -> None:
    source = _photo(size)
    fair = source.resize((320, 240), Image.Resampling.LANCZOS)

    thumb = imaging._fit(source, imaging.VARIANT_SIZES["thumb"], imaging.REDUCING_GAP["thumb"])

    assert thumb.size == (320, 240)
    # As close as a bilinear downscale of line art (about 1-2 levels); a nearest-neighbour
    # one (6-8) or one through half the resolution (5-7) is far off.
    assert _mean_difference(thumb, fair) < 2.5
    coarse = source.resize((160, 120), Image.Resampling.LANCZOS).resize((320, 240))
    assert _mean_difference(coarse, fair) > 4.0
    nearest = source.resize((320, 240), Image.Resampling.NEAREST)
    assert _mean_difference(nearest, fair) > 4.0
