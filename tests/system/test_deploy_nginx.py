"""The deployment: deploy/nginx/lagesbild.conf and deploy/gunicorn.conf.py on PostgreSQL.

Debian's nginx (installed by `make install-test`, like Chromium) runs the site file over
TLS with a self-signed certificate in front of gunicorn on a throwaway PostgreSQL, all on
loopback. A phone's whole path goes through it: enrolment, push, pull, photo upload and
download (served by nginx after the app's X-Accel-Redirect), the field app's files with
their cache headers, and the 413 answers of nginx and the app, which must agree.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from server.config import Settings
from server.headers import HSTS
from server.http import PHOTO_CSP
from server.pwa import CSP as PWA_CSP
from tests.support.gunicorn import REPO_ROOT, GunicornServer, server_env
from tests.support.nginx import NGINX, NginxServer
from tests.support.pgserver import PostgresServer
from tests.support.photos import jpeg

pytestmark = pytest.mark.slow

TIMEOUT = 20  # seconds, every HTTP call
ACCEL_PREFIX = "/_photos"  # the site's internal location, as deploy/lagesbild.env.example sets
DEFAULTS = Settings.from_env({})  # the limits the site file must match
_SCRIPT = Path(sys.executable).parent / "lagesbild"
LAGESBILD = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "server.cli"]


@dataclass
class Stack:
    """nginx in front of gunicorn, one database, one enrolled phone."""

    nginx: NginxServer
    app: GunicornServer
    data_dir: Path
    token: str
    org_id: int

    @property
    def auth(self) -> dict[str, str]:
        """Return the phone's Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, timeout: float = TIMEOUT, **kwargs: Any) -> requests.Response:
        """GET through nginx over https."""
        return requests.get(
            self.nginx.url + path, verify=self.nginx.cert, timeout=timeout, **kwargs
        )


def _require_nginx() -> None:
    """Skip (fail under CI) when Debian's nginx is not installed."""
    if NGINX.is_file() and shutil.which("openssl"):
        return
    reason = "no /usr/sbin/nginx or openssl: run `make install-test` (apt-get install nginx)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip("SKIPPING THE DEPLOYMENT TEST: " + reason)


def _cli(database_url: str, data_dir: Path, *args: str) -> dict[str, Any]:
    """Run `lagesbild ARGS --json` against the stack's database."""
    proc = subprocess.run(
        [*LAGESBILD, *args, "--json"],
        cwd=REPO_ROOT,
        env=server_env(database_url, data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"lagesbild {args} failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def stack(
    pg_server: PostgresServer, pg_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Start gunicorn (deploy configuration) and nginx (the site file); enrol one phone."""
    _require_nginx()
    name = f"lb_deploy_{os.getpid()}"
    pg_server.create_database(name, template=pg_template)
    database_url = pg_server.url(name)
    # Outside pytest's 0700 tmp_path: nginx's workers read the photos from here.
    data_dir = Path(tempfile.mkdtemp(prefix="lagesbild-deploy-data-"))
    data_dir.chmod(0o755)
    app = GunicornServer(
        database_url,
        data_dir,
        tmp_path_factory.mktemp("deploy-logs") / "gunicorn.log",
        # One worker: a slow upload that reached it would stop every other request.
        workers=1,
        extra_env={"LAGESBILD_PROXY_HOPS": "1", "LAGESBILD_PHOTO_ACCEL_PREFIX": ACCEL_PREFIX},
    )
    nginx: NginxServer | None = None
    try:
        app.start()
        nginx = NginxServer(f"127.0.0.1:{app.port}", data_dir)
        nginx.start()
        org = _cli(database_url, data_dir, "org", "create", "Driftkommun")
        issued = _cli(
            database_url, data_dir, "device", "enrol", "--org", org["slug"], "--name", "T"
        )
        resp = requests.post(
            nginx.url + "/api/v1/enrol",
            json={"code": issued["code"]},
            verify=nginx.cert,
            timeout=TIMEOUT,
        )
        assert resp.status_code == 201, resp.text
        yield Stack(nginx, app, data_dir, resp.json()["token"], org["id"])
        assert app.problems() == [], app.log_tail()
    finally:
        if nginx is not None:
            nginx.stop()
        app.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        pg_server.drop_database(name)


def _report(photos: list[str]) -> dict[str, Any]:
    """Build one valid push item made half an hour ago."""
    made = datetime.now(timezone(timedelta(hours=1))).replace(microsecond=0) - timedelta(minutes=30)
    return {
        "id": str(uuid.uuid4()),
        "created_at": made.isoformat(),
        "revision": 0,
        "category": "skadegorelse",
        "severity": 2,
        "description": "Klotter på busskuren",
        "location": {"lat": 55.6398, "lon": 13.2083, "accuracy_m": 12.0},
        "place": "Busskuren",
        "people_count": 0,
        "photos": photos,
    }


def _pull(stack: Stack) -> dict[str, Any]:
    """Pull every change of the phone through nginx."""
    resp = stack.get("/api/v1/sync/pull", headers=stack.auth)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _missing(pulled: dict[str, Any], report_id: str) -> list[str]:
    """Return the photos the server still lacks for one report."""
    (state,) = [r for r in pulled["reports"] if r["id"] == report_id]
    return state["missing_photos"]


def _hsts(resp: requests.Response) -> list[str]:
    """Return every Strict-Transport-Security header of an answer (HTTP/1.1: joined)."""
    raw = resp.raw.headers.getlist("Strict-Transport-Security") if resp.raw else []
    return list(raw)


def test_a_phone_enrols_pushes_and_sends_a_photo_through_nginx(stack: Stack) -> None:
    photo = jpeg((640, 480), seed=21)
    digest = hashlib.sha256(photo).hexdigest()
    report = _report([digest])

    pushed = requests.post(
        stack.nginx.url + "/api/v1/sync/push",
        json={"reports": [report]},
        headers=stack.auth,
        verify=stack.nginx.cert,
        timeout=TIMEOUT,
    )
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["results"][0]["status"] == "created"
    assert _hsts(pushed) == [HSTS]  # nginx's alone: the app's (it sees https) is hidden
    assert _missing(_pull(stack), report["id"]) == [digest]

    uploaded = requests.put(
        f"{stack.nginx.url}/api/v1/photos/{digest}",
        data=photo,
        headers={**stack.auth, "Content-Type": "image/jpeg"},
        verify=stack.nginx.cert,
        timeout=TIMEOUT,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert _missing(_pull(stack), report["id"]) == []

    # The app checks the token, then hands the file to nginx: no body of its own.
    direct = requests.get(
        f"{stack.app.url}/api/v1/photos/{digest}?size=full", headers=stack.auth, timeout=TIMEOUT
    )
    assert direct.status_code == 200 and direct.content == b""
    target = direct.headers["X-Accel-Redirect"]
    assert target == f"{ACCEL_PREFIX}/{stack.org_id}/{digest[:2]}/{digest}-full.jpg"

    served = stack.get(f"/api/v1/photos/{digest}?size=full", headers=stack.auth)
    assert served.status_code == 200, served.text
    on_disk = stack.data_dir / "photos" / target.removeprefix(ACCEL_PREFIX + "/")
    assert served.content == on_disk.read_bytes() and served.content[:2] == b"\xff\xd8"
    assert "X-Accel-Redirect" not in served.headers
    assert served.headers["Content-Type"] == "image/jpeg"
    assert served.headers["Content-Security-Policy"] == PHOTO_CSP
    assert served.headers["Cache-Control"] == "private, max-age=3600"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert _hsts(served) == [HSTS]
    assert "Content-Encoding" not in served.headers  # a JPEG is not gzipped again

    # Without the token nginx serves nothing, and its internal location is not an address.
    assert stack.get(f"/api/v1/photos/{digest}?size=full").status_code == 401
    assert stack.get(target).status_code == 404


def test_the_field_app_files_carry_the_intended_headers(stack: Stack) -> None:
    worker = stack.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["Cache-Control"] == "no-cache"  # never cached: how a deploy arrives
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert "javascript" in worker.headers["Content-Type"]
    assert worker.text.startswith("const PRECACHE = ")  # the app's, with its precache list

    manifest = stack.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.headers["Content-Type"] == "application/manifest+json"
    assert manifest.headers["Cache-Control"] == "no-cache"
    assert manifest.json()["start_url"] == "/"

    shell = stack.get("/")
    assert shell.status_code == 200 and shell.headers["Content-Type"].startswith("text/html")
    assert shell.headers["Cache-Control"] == "no-cache"
    assert shell.content == (REPO_ROOT / "pwa" / "index.html").read_bytes()

    script = stack.get("/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.headers["Content-Encoding"] == "gzip"
    assert script.headers["Cache-Control"] == "no-cache" and "ETag" in script.headers
    again = stack.get("/app.js", headers={"If-None-Match": script.headers["ETag"]})
    assert again.status_code == 304

    icon = stack.get("/icons/icon-192.png")
    assert icon.status_code == 200 and icon.headers["Cache-Control"] == "max-age=86400"
    assert stack.get("/icons/make_icons.py").status_code == 404
    assert stack.get("/no-such-file.js").status_code == 404  # the app's answer

    style = stack.get("/workspace/static/workspace.css")
    assert style.status_code == 200 and style.headers["Cache-Control"] == "no-cache"
    assert style.headers["X-Content-Type-Options"] == "nosniff"
    for resp in (worker, manifest, shell, script, icon, style):
        assert _hsts(resp) == [HSTS], resp.url


def test_nginx_serves_the_field_app_with_the_apps_own_headers(stack: Stack) -> None:
    for path in ("/", "/app.js", "/app.css", "/manifest.webmanifest", "/i18n/sv.json"):
        mine = requests.get(stack.app.url + path, timeout=TIMEOUT)
        theirs = stack.get(path)
        assert mine.status_code == theirs.status_code == 200, path
        assert theirs.content == mine.content, path
        for header in ("Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"):
            assert theirs.headers.get(header) == mine.headers.get(header), (path, header)
    assert stack.get("/").headers["Content-Security-Policy"] == PWA_CSP


def _declare_only(host: str, port: int, path: str, length: int, headers: dict[str, str], tls):
    """Send a request that declares `length` body bytes and none; return status and JSON.

    Both nginx and the app refuse on the declared length alone, before any body is read,
    so the test does not depend on how a server closes a connection mid-upload.
    """
    conn: http.client.HTTPConnection
    if tls is None:
        conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    else:
        conn = http.client.HTTPSConnection(host, port, timeout=TIMEOUT, context=tls)
    method = "PUT" if "/photos/" in path else "POST"
    conn.putrequest(method, path)
    for key, value in {**headers, "Content-Length": str(length)}.items():
        conn.putheader(key, value)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), json.loads(body)


def test_a_413_from_nginx_says_what_the_app_says(stack: Stack) -> None:
    tls = ssl.create_default_context(cafile=str(stack.nginx.cert))
    digest = hashlib.sha256(b"too big").hexdigest()
    for path, limit in (
        ("/api/v1/sync/push", DEFAULTS["MAX_PUSH_BYTES"]),
        (f"/api/v1/photos/{digest}", DEFAULTS["MAX_PHOTO_BYTES"]),
    ):
        headers = {**stack.auth, "Content-Type": "application/json"}
        by_nginx = _declare_only("127.0.0.1", stack.nginx.https_port, path, limit + 1, headers, tls)
        by_app = _declare_only("127.0.0.1", stack.app.port, path, limit + 1, headers, None)
        assert by_nginx[0] == by_app[0] == 413, (path, by_nginx, by_app)
        assert by_nginx[1] == by_app[1] == "application/json"
        assert by_nginx[2] == by_app[2], path
        assert by_app[2]["error"]["details"]["limit_bytes"] == limit

        # Exactly the limit passes nginx: the app reads it (bad JSON, a hash that differs).
        at_limit = requests.request(
            "PUT" if "/photos/" in path else "POST",
            stack.nginx.url + path,
            data=b"x" * limit,
            headers=headers,
            verify=stack.nginx.cert,
            timeout=TIMEOUT,
        )
        assert at_limit.status_code in (400, 415, 422), (path, at_limit.status_code)
        assert at_limit.json()["error"]["code"] != "payload_too_large"


def test_a_slow_upload_holds_no_worker(stack: Stack) -> None:
    photo = jpeg((320, 240), seed=22)
    digest = hashlib.sha256(photo).hexdigest()
    tls = ssl.create_default_context(cafile=str(stack.nginx.cert))
    slow = http.client.HTTPSConnection(
        "127.0.0.1", stack.nginx.https_port, timeout=TIMEOUT, context=tls
    )
    slow.putrequest("PUT", f"/api/v1/photos/{digest}")
    for key, value in {**stack.auth, "Content-Type": "image/jpeg"}.items():
        slow.putheader(key, value)
    slow.putheader("Content-Length", str(len(photo)))
    slow.endheaders()
    slow.send(photo[:1000])  # a phone in a stairwell: the rest comes later

    # nginx holds the partial body; the only worker still answers everyone else.
    pulled = stack.get("/api/v1/sync/pull", headers=stack.auth, timeout=5)
    assert pulled.status_code == 200

    slow.send(photo[1000:])
    answer = slow.getresponse()
    assert answer.status in (200, 201), answer.read()
    slow.close()


def test_nginx_runs_without_root(stack: Stack) -> None:
    assert stack.nginx.proc is not None
    status = Path(f"/proc/{stack.nginx.proc.pid}/status").read_text()
    (real, effective, *_) = next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[
        1:
    ]
    assert real != "0" and effective != "0"


def test_plain_http_only_redirects_and_answers_the_certificate_challenge(stack: Stack) -> None:
    resp = requests.get(stack.nginx.http_url + "/workspace/", allow_redirects=False, timeout=5)
    assert resp.status_code == 301
    assert resp.headers["Location"] == "https://127.0.0.1/workspace/"
    assert "Strict-Transport-Security" not in resp.headers  # never over plain http

    challenge = stack.nginx.dir / "acme" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True)
    (challenge / "token123").write_text("proof")
    (challenge / "token123").chmod(0o644)
    for part in (challenge, challenge.parent, challenge.parent.parent):
        part.chmod(0o755)
    proof = requests.get(stack.nginx.http_url + "/.well-known/acme-challenge/token123", timeout=5)
    assert proof.status_code == 200 and proof.text == "proof"


def test_https_offers_http2(stack: Stack) -> None:
    context = ssl.create_default_context(cafile=str(stack.nginx.cert))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", stack.nginx.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
