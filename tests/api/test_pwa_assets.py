"""The service worker's generated precache: served at /sw.js, versioned by content hashes."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import server.pwa
import server.pwa_manifest
from server.app import create_app
from server.pwa import PWA_DIR

PRECACHE_LINE = re.compile(r"const PRECACHE = (\{.*\});\n")


@pytest.fixture
def pwa_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of pwa/ the server serves from, so a test can change files safely."""
    copy = tmp_path / "pwa"
    shutil.copytree(PWA_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(server.pwa, "PWA_DIR", copy)
    return copy


@pytest.fixture
def pwa_client(tmp_path: Path) -> FlaskClient:
    """A client of an app whose database these tests never touch."""
    app: Flask = create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": "pwa-assets",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            "DATA_DIR": str(tmp_path / "data"),
        }
    )
    return app.test_client()


def _precache(client: FlaskClient) -> dict:
    resp = client.get("/sw.js")
    assert resp.status_code == 200
    match = PRECACHE_LINE.match(resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)[:200]
    return json.loads(match.group(1))


def _rewrite(path: Path, data: bytes) -> None:
    """Write `data` and move the mtime on, as a deploy would."""
    stat = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_sw_js_is_the_worker_with_its_precache_line_and_headers(pwa_client, pwa_dir):
    resp = pwa_client.get("/sw.js")

    assert resp.status_code == 200
    assert resp.mimetype == "text/javascript"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    first, rest = resp.get_data(as_text=True).split("\n", 1)
    assert PRECACHE_LINE.match(first + "\n")
    assert rest == (pwa_dir / "sw.js").read_text(encoding="utf-8")


def test_the_precache_lists_the_shell_and_not_the_worker_or_the_icon_script(pwa_client, pwa_dir):
    precache = _precache(pwa_client)

    files = precache["files"]
    assert re.fullmatch(r"[0-9a-f]{64}", precache["version"])
    assert {"/", "/app.js", "/i18n.js", "/sw-register.js", "/app.css"} <= set(files)
    assert {"/i18n/sv.json", "/i18n/en.json", "/manifest.webmanifest"} <= set(files)
    assert {"/icons/icon-192.png", "/icons/icon-512.png", "/icons/icon-maskable-512.png"} <= set(
        files
    )
    assert "/sw.js" not in files and "/index.html" not in files
    assert not [f for f in files if f.endswith(".py")]
    assert len(files) == len(set(files))
    for url in files:  # every listed file is really served, or install would fail
        assert pwa_client.get(url).status_code == 200, url


def test_the_version_follows_the_files_contents(pwa_client, pwa_dir):
    css = pwa_dir / "app.css"
    original = css.read_bytes()
    before = _precache(pwa_client)["version"]
    assert _precache(pwa_client)["version"] == before  # stable while nothing changes

    _rewrite(css, original + b"\n/* deploy */\n")
    changed = _precache(pwa_client)["version"]
    _rewrite(css, original)  # touched, same bytes as before
    restored = _precache(pwa_client)["version"]

    assert changed != before
    assert restored == before  # a content hash, not a timestamp


def test_a_new_module_is_precached_without_touching_any_list(pwa_client, pwa_dir):
    before = _precache(pwa_client)

    (pwa_dir / "outbox.js").write_text("export const outbox = [];\n", encoding="utf-8")
    after = _precache(pwa_client)

    assert "/outbox.js" in after["files"] and "/outbox.js" not in before["files"]
    assert after["version"] != before["version"]


def test_the_hashes_are_computed_once_until_a_file_changes(pwa_dir, monkeypatch):
    calls = []
    real = server.pwa_manifest.compute
    monkeypatch.setattr(server.pwa_manifest, "compute", lambda root: calls.append(1) or real(root))

    first = server.pwa_manifest.precache(pwa_dir)
    assert server.pwa_manifest.precache(pwa_dir) is first
    _rewrite(pwa_dir / "app.js", (pwa_dir / "app.js").read_bytes() + b"\n")

    assert server.pwa_manifest.precache(pwa_dir) is not first
    assert len(calls) == 2


def test_build_scripts_beside_the_app_are_not_served(client):
    assert client.get("/icons/make_icons.py").status_code == 404
