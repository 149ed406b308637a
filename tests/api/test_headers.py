"""Security headers on every kind of response: the field app, the API, the workspace.

Each kind is fetched over http and over https (the test client's `base_url`): HSTS must
appear on every https answer and on no http one; the rest does not depend on the scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.headers import HSTS
from server.pwa import CSP as FIELD_CSP
from server.workspace.hooks import CSP as WORKSPACE_CSP
from tests.support import factories
from tests.support.photos import STORED, jpeg, put, sha
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

NO_STORE = "no-store"
PHOTO_CACHE = "private, max-age=3600"


@dataclass(frozen=True)
class Kind:
    """One kind of response: how to fetch it and the headers it must carry."""

    name: str
    fetch: Callable[[Callable[..., TestResponse]], TestResponse]
    status: int
    csp: str | None = None
    cache: str | None = None


def _directives(policy: str) -> set[str]:
    return {d.strip() for d in policy.split(";") if d.strip()}


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene()


def _kinds(dev: factories.EnrolledDevice, photo: str) -> list[Kind]:
    auth = dev.headers
    return [
        Kind("field app html", lambda f: f("get", "/"), 200, FIELD_CSP),
        Kind("service worker", lambda f: f("get", "/sw.js"), 200, FIELD_CSP, "no-cache"),
        Kind("field app js", lambda f: f("get", "/app.js"), 200, FIELD_CSP),
        Kind("field app css", lambda f: f("get", "/app.css"), 200, FIELD_CSP),
        Kind("manifest", lambda f: f("get", "/manifest.webmanifest"), 200, FIELD_CSP),
        Kind(
            "api json", lambda f: f("get", "/api/v1/sync/pull", headers=auth), 200, None, NO_STORE
        ),
        Kind("api spec", lambda f: f("get", "/api/openapi.json"), 200, None, NO_STORE),
        Kind(
            "api 400",
            lambda f: f("post", "/api/v1/sync/push", json={"nope": 1}, headers=auth),
            400,
            None,
            NO_STORE,
        ),
        Kind("api 401", lambda f: f("get", "/api/v1/sync/pull"), 401, None, NO_STORE),
        Kind("api 404", lambda f: f("get", "/api/v1/nothing-here"), 404, None, NO_STORE),
        Kind("api 404 bare", lambda f: f("get", "/api"), 404, None, NO_STORE),
        Kind("api 405", lambda f: f("get", "/api/v1/sync/push", headers=auth), 405, None, NO_STORE),
        Kind(
            "api 413",
            lambda f: f("post", "/api/v1/sync/push", json={"reports": ["x" * 200]}, headers=auth),
            413,
            None,
            NO_STORE,
        ),
        Kind(
            "photo download",
            lambda f: f("get", f"/api/v1/photos/{photo}", headers=auth),
            200,
            None,
            PHOTO_CACHE,
        ),
        Kind("workspace page", lambda f: f("get", "/workspace/"), 200, WORKSPACE_CSP, NO_STORE),
        Kind(
            "workspace 404", lambda f: f("get", "/workspace/nothing"), 404, WORKSPACE_CSP, NO_STORE
        ),
        Kind(
            "workspace export",
            lambda f: f("get", "/workspace/export/incidents.csv"),
            200,
            WORKSPACE_CSP,
            NO_STORE,
        ),
    ]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_every_kind_of_response_carries_its_headers(
    app: Flask, client: FlaskClient, scene: Scene, scheme: str
) -> None:
    data = jpeg(seed=3)
    assert put(client, scene.device, data).status_code in STORED
    assert login(client, scene.who).status_code == 302
    app.config["MAX_PUSH_BYTES"] = 100  # the 413 case: a small body is already too large

    def fetch(method: str, path: str, **kwargs: object) -> TestResponse:
        return client.open(path, method=method.upper(), base_url=f"{scheme}://localhost", **kwargs)

    problems = []
    for kind in _kinds(scene.device, sha(data)):
        resp = kind.fetch(fetch)
        got = resp.headers
        if resp.status_code != kind.status:
            problems.append(f"{kind.name}: status {resp.status_code}, not {kind.status}")
        if got.get("X-Content-Type-Options") != "nosniff":
            problems.append(f"{kind.name}: no nosniff")
        if kind.csp is not None and _directives(got.get("Content-Security-Policy", "")) != (
            _directives(kind.csp)
        ):
            problems.append(f"{kind.name}: CSP {got.get('Content-Security-Policy')!r}")
        if kind.cache is not None and got.get("Cache-Control") != kind.cache:
            problems.append(f"{kind.name}: Cache-Control {got.get('Cache-Control')!r}")
        hsts = got.get("Strict-Transport-Security")
        if hsts != (HSTS if scheme == "https" else None):
            problems.append(f"{kind.name}: HSTS {hsts!r} over {scheme}")
    assert problems == []


def test_the_field_app_policy_allows_nothing_inline_or_foreign() -> None:
    directives = _directives(FIELD_CSP)
    assert {
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    } == directives
    assert "unsafe" not in FIELD_CSP


def test_hsts_is_exact_and_a_year_long() -> None:
    assert HSTS == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize(("hops", "secure"), [(0, False), (1, True)])
def test_a_trusted_proxy_s_forwarded_proto_turns_hsts_on(
    app: Flask, hops: int, secure: bool
) -> None:
    from server.app import create_app

    config = {k: app.config[k] for k in ("TESTING", "SQLALCHEMY_DATABASE_URI", "DATA_DIR")}
    proxied = create_app(
        {**config, "LAGESBILD_ENV": "testing", "SECRET_KEY": "x", "PROXY_HOPS": hops}
    )
    resp = proxied.test_client().get("/api/v1/nothing", headers={"X-Forwarded-Proto": "https"})
    assert resp.status_code == 404
    assert ("Strict-Transport-Security" in resp.headers) is secure
    assert resp.headers["Cache-Control"] == "no-store"
