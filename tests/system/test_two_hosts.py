"""Two hosts behind one nginx on one PostgreSQL and one S3 bucket: nothing lost, once each.

Each host is a gunicorn server (deploy/gunicorn.conf.py, two workers) with its OWN data
directory; the hosts share nothing but the database and the bucket (moto's S3 server on
loopback, tests/support/s3server.py). nginx (deploy/nginx/lagesbild.conf) lists both in
its upstream. Devices push through nginx and straight at each host while every device
pulls again and again; the digest, the purge and the grouping, which every worker of both
hosts runs, must each happen exactly once; a photo put through one host is served by the other.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.support.gunicorn import GunicornServer
from tests.support.hosts import TIMEOUT, Phone, Setup, set_up
from tests.support.nginx import NGINX, NginxServer
from tests.support.pgserver import PostgresServer
from tests.support.photos import jpeg
from tests.support.s3server import (  # noqa: F401  (fixtures)
    S3Bucket,
    s3_bucket_fixture,
    s3_endpoint_fixture,
)
from tests.support.smtp import SmtpServer, smtp_cert_fixture, smtp_server_fixture  # noqa: F401
from tests.system.conftest import STOCKHOLM_WINTER, normalise_id, report_payload

pytestmark = pytest.mark.slow

DEVICES = 20
BATCHES = 3
BATCH = 5
# Each worker's first tick of the digest and the purge comes 2–20 s after it starts
# (server.jobs); both hosts' four workers have ticked at least once this long after both
# servers answered (a worker boots in well under the 2 s margin).
FIRST_TICKS_WITHIN = 22.0
JOBS_TIMEOUT = 45.0  # seconds from the start until the digest and the purge are done


@dataclass
class Hosts:
    """The two hosts, nginx in front of them, the database, the bucket and the mail server."""

    database_url: str
    a: GunicornServer
    b: GunicornServer
    nginx: NginxServer
    bucket: S3Bucket
    smtp: SmtpServer
    started: float
    setup: Setup

    @property
    def orgs(self) -> list[dict[str, Any]]:
        """Return the organisations (id and slug)."""
        return self.setup.orgs

    def read(self, query: str) -> list[sa.Row]:
        """Run a query on the shared database."""
        engine = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(query)))
        finally:
            engine.dispose()


def _require_nginx() -> None:
    """Skip (fail under CI) when Debian's nginx is not installed."""
    if NGINX.is_file() and shutil.which("openssl"):
        return
    reason = "no /usr/sbin/nginx or openssl: run `make install-test` (apt-get install nginx)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip("SKIPPING THE TWO-HOSTS TEST: " + reason)


@pytest.fixture
def hosts(
    pg_server: PostgresServer,
    pg_template: str,
    s3_bucket: S3Bucket,
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> Iterator[Hosts]:
    """Start two hosts (their own data directories) and nginx in front of both."""
    _require_nginx()
    name = f"lb_hosts_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    pg_server.create_database(name, template=pg_template)
    database_url = pg_server.url(name)
    setup = set_up(database_url, tmp_path / "setup", DEVICES)
    mail = {k: str(v) for k, v in smtp_server.app_config().items()}
    shared = {
        **s3_bucket.env(),
        **mail,
        "LAGESBILD_DIGEST_SCHEDULER": "true",
        "LAGESBILD_PURGE_SCHEDULER": "true",
        "LAGESBILD_PROXY_HOPS": "1",
    }
    servers = [
        GunicornServer(
            database_url, tmp_path / f"host-{h}", tmp_path / f"host-{h}.log", workers=2,
            extra_env=shared,
        )
        for h in ("a", "b")
    ]  # fmt: skip
    # Not under pytest's 0700 tmp_path: nginx's workers must traverse to it.
    nginx_data = Path(tempfile.mkdtemp(prefix="lagesbild-hosts-"))
    nginx: NginxServer | None = None
    try:
        starters = [threading.Thread(target=s.start) for s in servers]
        for t in starters:
            t.start()
        for t in starters:
            t.join()
        started = time.monotonic()  # every worker is up: the ticks' 2–20 s count from here
        for s in servers:
            assert s.proc is not None and s.proc.poll() is None, s.log_tail()
        nginx = NginxServer([f"127.0.0.1:{s.port}" for s in servers], nginx_data)
        nginx.start()
        yield Hosts(database_url, *servers, nginx, s3_bucket, smtp_server, started, setup)
    finally:
        if nginx is not None:
            nginx.stop()
        for s in servers:
            s.stop(timeout=10)
        shutil.rmtree(nginx_data, ignore_errors=True)
        pg_server.drop_database(name)


def pushes_per_host(server: GunicornServer) -> int:
    """Count the pushes in a host's access log."""
    return server.log_text().count('"POST /api/v1/sync/push"')


def test_two_hosts_share_one_database_and_one_bucket(hosts: Hosts) -> None:
    # A third of the phones talk to each host, the rest to nginx, which takes turns.
    where = [
        (hosts.a.url, True), (hosts.b.url, True), (hosts.nginx.url, hosts.nginx.cert),
    ]  # fmt: skip
    phones = [
        Phone(name, org_id, token, *where[i % 3])
        for i, (name, org_id, token) in enumerate(hosts.setup.phones)
    ]
    when = datetime.now(STOCKHOLM_WINTER).replace(microsecond=0) - timedelta(minutes=40)
    problems: list[str] = []
    lock = threading.Lock()

    def phone_session(phone: Phone, seed: int) -> None:
        rng = random.Random(seed)
        found: list[str] = []
        with requests.Session() as http:
            for k in range(BATCHES):
                batch = [
                    report_payload(str(uuid.uuid4()), f"{phone.name}-{k}-{i}", when)
                    for i in range(BATCH)
                ]
                resp = http.post(
                    phone.base + "/api/v1/sync/push",
                    json={"reports": batch},
                    headers=phone.auth,
                    verify=phone.verify,
                    timeout=TIMEOUT,
                )
                if resp.status_code != 200:
                    found.append(f"{phone.name} push: {resp.status_code} {resp.text[:200]}")
                    break
                statuses = {r["status"] for r in resp.json()["results"]}
                if statuses != {"created"}:
                    found.append(f"{phone.name} push: {statuses}")
                phone.pushed += [r["id"] for r in batch]
                phone.pull_all(http, found)  # while the other phones push on both hosts
                time.sleep(rng.uniform(0, 0.2))
        with lock:
            problems.extend(found)

    threads = [threading.Thread(target=phone_session, args=(p, n)) for n, p in enumerate(phones)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a phone never finished"
    assert problems == []

    # Every phone's cursor chain, caught up once more, holds exactly what is stored for it.
    stored: dict[str, set[str]] = {}
    rows = hosts.read(
        "SELECT r.id, d.display_name FROM reports r JOIN devices d ON d.id = r.device_id"
    )
    for rid, device_name in rows:
        stored.setdefault(device_name, set()).add(normalise_id(rid))
    with requests.Session() as http:
        for phone in phones:
            phone.pull_all(http, problems)
            assert phone.pulled == stored[phone.name] == set(phone.pushed), phone.name
    assert problems == []
    assert len(rows) == DEVICES * BATCHES * BATCH  # each report stored once
    # Both hosts took pushes (directly, and from nginx's turns).
    direct = BATCHES * len(range(0, DEVICES, 3))
    assert pushes_per_host(hosts.a) > direct // 2 and pushes_per_host(hosts.b) > direct // 2

    # A photo put through host A is served by host B (and through nginx) from the bucket.
    photo = jpeg(size=(640, 480), seed=99)
    digest = hashlib.sha256(photo).hexdigest()
    first = phones[0]
    put = requests.put(
        f"{hosts.a.url}/api/v1/photos/{digest}", data=photo, headers={
            **first.auth, "Content-Type": "image/jpeg",
        }, timeout=TIMEOUT,
    )  # fmt: skip
    assert put.status_code == 201, put.text
    from_b = requests.get(
        f"{hosts.b.url}/api/v1/photos/{digest}?size=full", headers=first.auth, timeout=TIMEOUT
    )
    via_nginx = requests.get(
        f"{hosts.nginx.url}/api/v1/photos/{digest}?size=full",
        headers=first.auth,
        verify=hosts.nginx.cert,
        timeout=TIMEOUT,
    )
    assert from_b.status_code == 200 and from_b.headers["Content-Type"] == "image/jpeg"
    assert via_nginx.status_code == 200 and via_nginx.content == from_b.content
    key = f"photos/{first.org_id}/{digest[:2]}/{digest}-full.jpg"
    assert hosts.bucket.get(key) == from_b.content
    assert [p for s in (hosts.a, hosts.b) for p in Path(s.data_dir).rglob("*.jpg")] == []

    # The grouping: every report in exactly one incident, counted once.
    deadline = time.monotonic() + 15
    while hosts.read("SELECT id FROM reports WHERE incident_id IS NULL"):
        assert time.monotonic() < deadline, "reports still ungrouped"
        time.sleep(0.2)
    [(reports, counted)] = hosts.read(
        "SELECT (SELECT COUNT(*) FROM reports), (SELECT SUM(report_count) FROM incidents)"
    )
    assert reports == counted == DEVICES * BATCHES * BATCH

    # The digest and the purge: each organisation's once, whichever worker took it.
    org_ids = sorted(o["id"] for o in hosts.orgs)
    deadline = hosts.started + JOBS_TIMEOUT
    while time.monotonic() < deadline:
        sent = hosts.read("SELECT org_id FROM digest_runs WHERE status = 'sent'")
        purged = hosts.read("SELECT org_id FROM purge_runs WHERE status = 'done'")
        if len(sent) >= len(org_ids) and len(purged) >= len(org_ids):
            break
        time.sleep(0.5)
    # Every worker of both hosts has ticked at least once by now, whoever won.
    time.sleep(max(0.0, hosts.started + FIRST_TICKS_WITHIN - time.monotonic()))
    digests = hosts.read("SELECT org_id, kind, status FROM digest_runs")
    assert sorted((r.org_id, r.kind, r.status) for r in digests) == [
        (org_id, "night", "sent") for org_id in org_ids
    ]
    recipients = sorted(m.rcpt_tos for m in hosts.smtp.messages)
    assert recipients == sorted([f"samordnare@{o['slug']}.test"] for o in hosts.orgs)
    runs = hosts.read("SELECT org_id, status FROM purge_runs")
    assert sorted((r.org_id, r.status) for r in runs) == [(o, "done") for o in org_ids]
    audit = hosts.read("SELECT org_id FROM audit_log WHERE action = 'retention.purge'")
    assert sorted(r.org_id for r in audit) == org_ids
    owners = {r[0] for r in hosts.read("SELECT lease_owner FROM digest_runs")}
    assert owners <= {None}  # every lease given back

    for server in (hosts.a, hosts.b):
        assert server.problems() == [], server.log_tail()
