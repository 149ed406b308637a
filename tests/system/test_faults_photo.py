"""The server SIGKILLed (the whole gunicorn group) during a photo upload.

A photo is stored files first (each variant written to a temp file, fsynced and renamed)
and its row after, so after a kill it is either absent (no row: 404) or whole. Three kills:
in the middle of a slowly sent body, while the server decodes the arrived body, and the
moment its first file of the photo appears (inside the writes). After each, the served photo must be
absent or byte for byte what the server makes of the upload, never a partial file; the
phone's retry stores it, once.
"""

from __future__ import annotations

import hashlib
import io
import random
import socket
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from PIL import Image

from server.photos.imaging import process_image
from tests.system.conftest import HTTP_TIMEOUT, Device, SystemEnv

pytestmark = pytest.mark.slow

SIZE = (2400, 1800)  # noise: about 3 MB as JPEG, 0.5 s of server work on this machine
DECODING = 0.05  # seconds after the whole body: the server is still reading or decoding
WRITE_WATCH = 10.0  # seconds to wait for the server's first photo file to appear


def noisy_jpeg(seed: int, size: tuple[int, int] = SIZE) -> bytes:
    """Return a valid JPEG of random pixels (big: noise does not compress)."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def sha(data: bytes) -> str:
    """Return the hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def expected_full(data: bytes) -> bytes:
    """Return the full-size variant the server makes of an upload (deterministic)."""
    return process_image(data).variants["full"]


def open_upload(url: str, device: Device, digest: str, length: int) -> socket.socket:
    """Open a raw PUT of a photo and send its head; the body follows by hand."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=HTTP_TIMEOUT)
    head = (
        f"PUT /api/v1/photos/{digest} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {device.token}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock


def put_photo(url: str, device: Device, data: bytes) -> requests.Response:
    """Upload a photo in one go."""
    return requests.put(
        f"{url}/api/v1/photos/{sha(data)}",
        data=data,
        headers={**device.headers, "Content-Type": "image/jpeg"},
        timeout=HTTP_TIMEOUT * 3,
    )


def get_full(url: str, device: Device, digest: str) -> requests.Response:
    """Download the full-size variant."""
    return requests.get(
        f"{url}/api/v1/photos/{digest}",
        params={"size": "full"},
        headers=device.headers,
        timeout=HTTP_TIMEOUT,
    )


def push_report_naming(url: str, device: Device, make_report, when, digest: str) -> str:
    """Push one report that names the photo (before the photo arrives, as the phone may)."""
    body = make_report(str(uuid.uuid4()), "foto", when)
    body["photos"] = [digest]
    with requests.Session() as session:
        resp = device.push(session, url, [body])
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"][0]["status"] == "created"
    return body["id"]


def photo_rows(system: SystemEnv, digest: str) -> int:
    """Count the photo's rows."""
    engine = system.engine()
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT COUNT(*) FROM photos WHERE sha256 = :d")
            return int(conn.execute(query, {"d": digest}).scalar_one())
    finally:
        engine.dispose()


def files_of(data_dir: Path, digest: str) -> list[Path]:
    """Return every file under the photo directory whose name mentions the hash."""
    return sorted(p for p in (data_dir / "photos").rglob("*") if p.is_file() and digest in p.name)


def assert_absent_or_whole(url: str, device: Device, data: bytes) -> str:
    """Fetch the photo: 404, or exactly what the server makes of it; return which."""
    resp = get_full(url, device, sha(data))
    if resp.status_code == 404:
        return "absent"
    assert resp.status_code == 200, resp.text[:300]
    assert sha(resp.content) == sha(expected_full(data)), (
        f"served {len(resp.content)} bytes that are not the whole photo"
    )
    Image.open(io.BytesIO(resp.content)).load()  # a truncated JPEG would raise here
    return "whole"


def test_kill_mid_body_leaves_no_photo_and_the_retry_stores_it_once(
    system, make_report, device_time
) -> None:
    server = system.gunicorn(workers=1).start()
    org = system.create_org("Fotokrasch kommun")
    device = system.enrol(server, org, "Telefon 1")
    data = noisy_jpeg(1)
    digest = sha(data)
    report_id = push_report_naming(server.url, device, make_report, device_time, digest)

    sock = open_upload(server.url, device, digest, len(data))
    half = len(data) // 2
    for start in range(0, half, 64 * 1024):  # a slow phone: the first half, bit by bit
        sock.sendall(data[start : min(half, start + 64 * 1024)])
        time.sleep(0.01)
    server.kill()
    sock.close()
    server.start()

    assert assert_absent_or_whole(server.url, device, data) == "absent"
    assert photo_rows(system, digest) == 0
    assert files_of(system.data_dir, digest) == [], "the cut upload left files behind"

    first = put_photo(server.url, device, data)
    assert first.status_code == 201, first.text
    again = put_photo(server.url, device, data)
    assert again.status_code == 200 and again.json()["created"] is False
    assert assert_absent_or_whole(server.url, device, data) == "whole"
    assert photo_rows(system, digest) == 1
    assert report_id in system.stored_reports().by_id
    assert not server.problems(), server.log_tail()


def test_kill_while_the_server_stores_a_photo_never_serves_a_partial_one(
    system, make_report, device_time
) -> None:
    server = system.gunicorn(workers=1).start()
    org = system.create_org("Fotoskrivning kommun")
    device = system.enrol(server, org, "Telefon 1")
    outcomes = []
    for round_no, moment in enumerate(("decoding", "writing"), start=2):
        data = noisy_jpeg(round_no)
        digest = sha(data)
        push_report_naming(server.url, device, make_report, device_time, digest)
        sock = open_upload(server.url, device, digest, len(data))
        sock.sendall(data)
        if moment == "decoding":
            time.sleep(DECODING)
            assert files_of(system.data_dir, digest) == [], "killed too late: files exist"
        else:
            deadline = time.monotonic() + WRITE_WATCH
            while not files_of(system.data_dir, digest):
                assert time.monotonic() < deadline, "the server never wrote the photo"
                time.sleep(0.001)
        server.kill()
        sock.close()
        left = [p.name for p in files_of(system.data_dir, digest)]
        # Under the names the server serves there is nothing half-written: a variant file
        # is whole (renamed after fsync), anything else is a temp file no request reaches.
        variants = process_image(data).variants
        for path in files_of(system.data_dir, digest):
            if path.name.endswith(".tmp"):
                assert path.name.startswith("."), path.name
                continue
            variant = path.name.removesuffix(".jpg").rsplit("-", 1)[1]
            assert sha(path.read_bytes()) == sha(variants[variant]), f"partial {path.name}"
        server.start()
        outcome = assert_absent_or_whole(server.url, device, data)
        rows = photo_rows(system, digest)
        assert rows == (1 if outcome == "whole" else 0)
        # A kill inside a write leaves its temp file: a name no request can reach.
        outcomes.append(f"killed {moment}: {outcome}, files left {left}")
        retry = put_photo(server.url, device, data)
        assert retry.status_code == (200 if outcome == "whole" else 201), retry.text
        assert assert_absent_or_whole(server.url, device, data) == "whole"
        assert photo_rows(system, digest) == 1
    print("\n" + "; ".join(outcomes))
    assert not server.problems(), server.log_tail()
