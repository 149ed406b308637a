"""Phones and a set-up for the system tests with several hosts (tests/system/test_two_hosts.py).

`set_up` makes the organisations (the digest on) and enrols the phones in this process,
on the database the hosts will share; a `Phone` pushes and pulls over HTTP, keeping its
pull cursor and every id it pulled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from server.app import create_app
from server.digest import service as digests
from server.digest.models import DigestSettings
from server.extensions import db
from sync.clock import utcnow
from tests.support import factories

TIMEOUT = 20  # seconds, every HTTP call


@dataclass
class Phone:
    """One enrolled device, where it sends, and what it pulled."""

    name: str
    org_id: int
    token: str
    base: str  # the address it talks to: nginx or one host
    verify: str | bool
    cursor: str | None = None
    pulled: set[str] = field(default_factory=set)
    pushed: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        """Return the Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def pull_all(self, http: requests.Session, problems: list[str]) -> None:
        """Pull pages from its cursor until the server says there is no more."""
        for _page in range(50):
            params = {"cursor": self.cursor} if self.cursor else {}
            resp = http.get(
                self.base + "/api/v1/sync/pull",
                params={**params, "limit": 7},
                headers=self.auth,
                verify=self.verify,
                timeout=TIMEOUT,
            )
            if resp.status_code != 200:
                problems.append(f"{self.name} pull: {resp.status_code} {resp.text[:200]}")
                return
            body = resp.json()
            ids = [r["id"] for r in body["reports"]]
            if len(ids) != len(set(ids)):
                problems.append(f"{self.name}: one page repeats an id: {ids}")
            self.pulled.update(ids)
            self.cursor = body["cursor"]
            if not body["more"]:
                return
        problems.append(f"{self.name}: the pull never ended")


@dataclass(frozen=True)
class Setup:
    """The organisations and the phones' tokens, made before the hosts start."""

    orgs: list[dict[str, Any]]
    phones: list[tuple[str, int, str]]  # (name, org id, token)


def set_up(database_url: str, data_dir: Path, devices: int) -> Setup:
    """Make two organisations with the digest on and enrol the phones (in this process)."""
    app = create_app(
        {
            "TESTING": True,
            "LAGESBILD_ENV": "testing",
            "SECRET_KEY": "two-hosts-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DATA_DIR": str(data_dir),
        }
    )
    with app.app_context():
        made = [factories.make_org(n) for n in ("Mjölby kommun", "Bjuvs kommun")]
        orgs = [{"id": o.id, "slug": o.slug} for o in made]
        for org in made:
            digests.configure(
                org.id,
                recipients=[f"samordnare@{org.slug}.test"],
                enabled=True,
                weekly=False,
                monthly=False,
            )
        # Switched on two days ago: the last night's digest is due at the first tick.
        db.session.execute(
            sa.update(DigestSettings).values(enabled_at=utcnow() - timedelta(days=2))
        )
        db.session.commit()
        phones = []
        for i in range(devices):
            name = f"Telefon {i}"
            enrolled = factories.make_device(made[i % 2], name)
            phones.append((name, made[i % 2].id, enrolled.token))
        db.session.remove()
        db.engine.dispose()
    return Setup(orgs, phones)
