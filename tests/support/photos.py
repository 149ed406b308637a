"""Helpers for the photo API tests: images with metadata, uploads, stored rows and files."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zlib
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from server.extensions import db
from server.photos.models import Photo
from tests.support import factories

SIZES = ("thumb", "display", "full")
SECRET_COMMENT = b"night-shift secret comment 7f3a"
CAMERA_MAKE = "AcmeNightCam"
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="FieldCam"/>'
    b"</rdf:RDF></x:xmpmeta>"
)
RED, BLUE = (220, 20, 20), (20, 20, 220)
# Where an upload is only a setup step, any success will do; whether the first upload
# says 201/created is asserted by the tests about exactly that.
STORED = (200, 201)


# --------------------------------------------------------------------------- helpers


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def night_photo(size: tuple[int, int] = (64, 48), seed: int = 0) -> Image.Image:
    """A dark, noisy image like a photo taken at night (distinct per seed)."""
    small = (max(1, size[0] // 4), max(1, size[1] // 4))
    noise = random.Random(seed).randbytes(small[0] * small[1] * 3)
    img = Image.frombytes("RGB", small, noise).resize(size, Image.Resampling.BILINEAR)
    return img.point(lambda v: v // 3)


def jpeg(size: tuple[int, int] = (64, 48), seed: int = 0, **params: Any) -> bytes:
    return encode(night_photo(size, seed), "JPEG", quality=85, **params)


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 38.0, 23.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 12.0, 30.0)
    return exif


def split_image(size: tuple[int, int] = (400, 200)) -> Image.Image:
    """Left half red, right half blue, so the direction of a rotation is observable."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def with_metadata(fmt: str, orientation: int = 1) -> bytes:
    """Encode the split image in ``fmt`` carrying EXIF with GPS, XMP and a comment."""
    img = split_image()
    exif = gps_exif(orientation)
    if fmt == "JPEG":
        return encode(img, "JPEG", exif=exif, comment=SECRET_COMMENT, xmp=XMP_PACKET)
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET_COMMENT.decode())
        info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
        return encode(img, "PNG", pnginfo=info, exif=exif)
    assert fmt == "WEBP"
    return encode(img, "WEBP", exif=exif, xmp=XMP_PACKET, quality=95)


def palette_bomb_png(width: int, height: int) -> bytes:
    """A valid 1-bit palette PNG built by hand: all-zero rows compress to almost nothing."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(tag + data))
        return struct.pack(">I", len(data)) + tag + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row * min(1000, height - y)) for y in range(0, height, 1000)]
    idat = b"".join(parts) + comp.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255]))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def put(
    client: FlaskClient,
    who: factories.EnrolledDevice,
    data: bytes,
    digest: str | None = None,
    content_type: str = "image/jpeg",
) -> TestResponse:
    return client.put(
        f"/api/v1/photos/{digest if digest is not None else sha(data)}",
        data=data,
        content_type=content_type,
        headers=who.headers,
    )


def get(
    client: FlaskClient, who: factories.EnrolledDevice, digest: str, size: str | None = None
) -> TestResponse:
    query = "" if size is None else f"?size={size}"
    return client.get(f"/api/v1/photos/{digest}{query}", headers=who.headers)


def push(client: FlaskClient, who: factories.EnrolledDevice, *reports: dict) -> TestResponse:
    resp = client.post("/api/v1/sync/push", json={"reports": list(reports)}, headers=who.headers)
    assert resp.status_code == 200, resp.data
    return resp


def release_session() -> None:
    """End the transaction a request left open in the session this test shares with it.

    The test's app context outlives each request, so the scoped session (and on SQLite
    its write lock) is not torn down as it would be after a real request.
    """
    db.session.rollback()


def committed_rows(digest: str) -> list[Any]:
    """Photo rows with this hash as another connection sees them (committed data only)."""
    release_session()
    with db.engine.connect() as conn:
        return list(conn.execute(select(Photo.__table__).where(Photo.sha256 == digest)))


def photo_count() -> int:
    release_session()
    with db.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Photo.__table__))


def stored_files(app: Flask, storage_path: str) -> list[Path]:
    """Files at the row's storage_path under DATA_DIR (the path itself or its variants)."""
    base = Path(app.config["DATA_DIR"]) / storage_path
    return sorted(p for p in base.parent.glob(base.name + "*") if p.is_file())


def files_mentioning(app: Flask, digest: str) -> list[Path] | list[str]:
    """Stored files (or, with S3 storage, object keys) whose name holds the hash."""
    if app.config.get("PHOTO_STORAGE") == "s3":
        from server.photos.backends import open_store

        return [k for k in open_store(app.config).list_keys() if digest in k]
    root = Path(app.config["DATA_DIR"])
    return [p for p in root.rglob("*") if p.is_file() and digest in p.name]


def jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """Walk every marker segment of a JPEG, including those between progressive scans."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    out: list[tuple[int, bytes]] = []
    i, n = 2, len(data)
    while i < n:
        assert data[i] == 0xFF, f"expected a marker at {i}"
        while data[i] == 0xFF:
            i += 1
        marker = data[i]
        i += 1
        if marker == 0xD9:  # EOI
            return out
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        (length,) = struct.unpack(">H", data[i : i + 2])
        out.append((marker, data[i + 2 : i + length]))
        i += length
        if marker == 0xDA:  # entropy-coded data runs until the next real marker
            while i < n - 1 and not (
                data[i] == 0xFF and data[i + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                i += 1
    raise AssertionError("JPEG without EOI")


def assert_metadata_free(data: bytes) -> Image.Image:
    """Assert a served image is a JPEG that carries pixels and nothing else."""
    for marker, payload in jpeg_markers(data):
        assert marker != 0xFE, "JPEG comment segment survived"
        if 0xE0 <= marker <= 0xEF:
            assert marker == 0xE0 and payload.startswith(b"JFIF\x00"), (
                f"APP{marker - 0xE0} segment survived: {payload[:16]!r}"
            )
    for needle in (CAMERA_MAKE.encode(), SECRET_COMMENT, b"http://ns.adobe.com/xap"):
        assert needle not in data
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    assert not img.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    for key in ("exif", "xmp", "comment", "XML:com.adobe.xmp", "Comment"):
        assert key not in img.info
    img.load()
    return img


def close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 45) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))
