"""The JSON error envelope under /api/, on both database lanes, plus the PWA shell at /.

Every 4xx/5xx answer under /api/ must be ``{"error": {"code", "message", "details"?}}``
with a JSON content type, and no request, however malformed, may produce a 500.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from werkzeug.test import TestResponse

from server.pwa import PWA_DIR
from tests.support import factories
from tests.support.envelope import assert_error as assert_envelope

SHA_OF_NOTHING_STORED = "ab" * 32


# --------------------------------------------------------------------------- routing errors


UNKNOWN_API_PATHS = [
    "/api/v1/nope",
    "/api/nope",
    "/api/",
    "/api/v2/sync/push",
    "/api/v1/photos/",
    "/api/v1/photos/" + SHA_OF_NOTHING_STORED + "/extra",
    "/api/v1/sync/push/extra",
    "/api/v1/Enrol",
]


def test_unknown_api_path_is_404_not_found_in_envelope(client, subtests):
    for path in UNKNOWN_API_PATHS:
        for method in ("GET", "POST", "DELETE"):
            with subtests.test(method=method, path=path):
                assert_envelope(client.open(path, method=method), 404, "not_found")


WRONG_METHODS = [
    ("GET", "/api/v1/enrol"),
    ("PUT", "/api/v1/enrol"),
    ("GET", "/api/v1/sync/push"),
    ("PATCH", "/api/v1/sync/push"),
    ("POST", "/api/v1/sync/pull"),
    ("DELETE", "/api/v1/photos/" + SHA_OF_NOTHING_STORED),
    ("POST", "/api/v1/photos/" + SHA_OF_NOTHING_STORED),
    ("POST", "/api/v1/categories"),
    ("PUT", "/api/openapi.json"),
]


def test_wrong_method_is_405_method_not_allowed_in_envelope(client, device, subtests):
    for method, path in WRONG_METHODS:
        with subtests.test(method=method, path=path):
            resp = client.open(path, method=method, headers=device.headers)

            assert_envelope(resp, 405, "method_not_allowed")
            allowed = {m.strip() for m in resp.headers.get("Allow", "").split(",")}
            assert method not in allowed
            assert allowed - {"OPTIONS", "HEAD"}, "405 must name the methods that are allowed"


def test_errors_from_each_layer_use_the_envelope(app, client, device, subtests):
    app.config["MAX_PUSH_BYTES"] = 1024
    cases: list[tuple[str, TestResponse, int]] = [
        ("no token", client.get("/api/v1/sync/pull"), 401),
        ("bad token", client.get("/api/v1/categories", headers={"Authorization": "Bearer x"}), 401),
        (
            "not json",
            client.post("/api/v1/sync/push", data=b"\xff\x00{", headers=device.headers),
            400,
        ),
        (
            "too large",
            client.post(
                "/api/v1/sync/push",
                json={"reports": [factories.report(description="x" * 2000)]},
                headers=device.headers,
            ),
            413,
        ),
        ("bad enrolment", client.post("/api/v1/enrol", json={"code": "AAAA-BBBB-CCCC"}), 400),
        (
            "bad photo hash",
            client.get("/api/v1/photos/not-a-hash", headers=device.headers),
            400,
        ),
    ]
    for name, resp, status in cases:
        with subtests.test(case=name):
            assert_envelope(resp, status)


def test_unhandled_exception_under_api_is_500_in_envelope_without_internals(app, client):
    def explode() -> None:
        raise RuntimeError("secret internal detail /srv/lagesbild/db")

    app.add_url_rule("/api/v1/_test_explode", "test_explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    resp = client.get("/api/v1/_test_explode")

    assert_envelope(resp, 500)
    assert b"secret internal detail" not in resp.data
    assert b"RuntimeError" not in resp.data


# --------------------------------------------------------------------------- fuzzing


def _image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(buf, fmt)
    return buf.getvalue()


SAMPLE_IMAGES = [_image("JPEG"), _image("PNG"), _image("GIF"), _image("JPEG")[:60]]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "BREW"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-16",
    "image/jpeg",
    "image/png",
    "application/octet-stream",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/x-www-form-urlencoded",
    "text/plain",
    "*/*",
    ";;;",
]
REPORT_KEYS = [
    "id",
    "created_at",
    "updated_at",
    "revision",
    "category",
    "severity",
    "description",
    "location",
    "place",
    "people_count",
    "photos",
    "status",
]

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=120,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from([SHA_OF_NOTHING_STORED, "2026-11-21T02:13:00+01:00", "skadegorelse"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
report_like = st.one_of(
    st.dictionaries(st.sampled_from(REPORT_KEYS), json_values, max_size=5).map(
        lambda overrides: factories.report(**overrides)
    ),
    json_values,
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=2048),
    st.sampled_from(SAMPLE_IMAGES),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(report_like, max_size=3).map(lambda r: json.dumps({"reports": r}).encode()),
    st.dictionaries(st.sampled_from(["code", "reports"]), json_values, max_size=2).map(
        lambda d: json.dumps(d).encode()
    ),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
path_values = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    st.text(alphabet="0123456789ABCDEF", min_size=64, max_size=64),
    st.just(SHA_OF_NOTHING_STORED),
    st.text(max_size=80),
)
_ARG = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def _api_rules(app: Flask) -> list[str]:
    rules = sorted({r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")})
    assert rules, "no API routes found"
    return rules


def _quote(value: str) -> str:
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_requests_never_500_and_api_errors_use_the_envelope(
    app: Flask, client: FlaskClient, device: factories.EnrolledDevice, data: Any
) -> None:
    body: bytes = data.draw(bodies, label="body")
    rule = data.draw(st.sampled_from([*_api_rules(app), "/api/<junk>"]), label="rule")
    if "<sha256>" in rule and data.draw(st.booleans(), label="hash matches body"):
        path = rule.replace("<sha256>", hashlib.sha256(body).hexdigest())
    else:
        path = _ARG.sub(lambda _m: _quote(data.draw(path_values, label="path value")), rule)
    path += data.draw(st.sampled_from(["", "", "", "/", "/x", "//"]), label="suffix")
    query = data.draw(
        st.dictionaries(
            st.sampled_from(["size", "cursor", "limit", "x"]),
            st.one_of(
                st.text(max_size=40), st.sampled_from(["thumb", "display", "full", "-1", "1e9"])
            ),
            max_size=3,
        ),
        label="query",
    )
    if query:
        path += "?" + urlencode(query)
    method = data.draw(st.sampled_from(METHODS), label="method")

    headers: dict[str, str] = {}
    auth = data.draw(
        st.one_of(
            st.none(),
            st.just(device.headers["Authorization"]),
            header_text,
            header_text.map(lambda t: "Bearer " + t),
            st.integers(1_000, 100_000).map(lambda n: "Bearer " + "A" * n),
            st.just("Bearer " + device.token + "\t"),
        ),
        label="authorization",
    )
    if auth is not None:
        headers["Authorization"] = auth
    content_type = data.draw(
        st.one_of(st.none(), st.sampled_from(CONTENT_TYPES), header_text), label="content type"
    )
    if content_type is not None:
        headers["Content-Type"] = content_type
    if data.draw(st.booleans(), label="extra headers"):
        headers["Accept"] = data.draw(header_text, label="accept")
        headers["If-None-Match"] = data.draw(header_text, label="if-none-match")
        headers["Range"] = data.draw(
            st.one_of(header_text, st.just("bytes=0-10"), st.just("bytes=-5,99999-")), label="range"
        )

    resp = client.open(path, method=method, data=body, headers=headers)

    assert resp.status_code < 500, (method, path, resp.status_code, resp.data[:300])
    if resp.request.path.startswith("/api/") and resp.status_code >= 400:
        if method == "HEAD":
            assert resp.mimetype == "application/json"
        else:
            assert_envelope(resp)


# --------------------------------------------------------------------------- PWA shell


def test_site_root_serves_the_pwa_index_as_html(client):
    if not (PWA_DIR / "index.html").is_file():
        pytest.skip(f"the PWA shell {PWA_DIR / 'index.html'} does not exist yet")

    resp = client.get("/")

    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert resp.data == (PWA_DIR / "index.html").read_bytes()
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_push_while_another_writer_holds_sqlite_is_a_503_and_nothing_is_acknowledged(
    app, tmp_path
):
    import sqlite3

    from server.app import create_app
    from tests.support import factories as _factories

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("the writer lock is SQLite's")
    short = create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": url,
            "DATA_DIR": str(tmp_path),
            "SQLITE_BUSY_TIMEOUT_MS": 200,
        }
    )
    with short.app_context():
        dev = _factories.make_device(_factories.make_org())
        report = _factories.report()
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # e.g. an area import in progress
        try:
            resp = short.test_client().post(
                "/api/v1/sync/push", json={"reports": [report]}, headers=dev.headers
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert_envelope(resp, 503, "busy")
        assert resp.headers["Retry-After"] == "30"
        again = short.test_client().post(
            "/api/v1/sync/push", json={"reports": [report]}, headers=dev.headers
        )
        assert again.status_code == 200
        assert again.get_json()["results"][0]["status"] == "created"
