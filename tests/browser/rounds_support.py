"""Guard rounds on the phone against the real server: the test company's plan, a push recorder.

The plan (checkpoints with known tokens and short codes, two rounds) is stored on the server
before the phone enrols, so its pull brings it. The recorder passes pushes through to the
server and keeps their bodies, and can lose an answer after the server stored the push.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect
from sqlalchemy import delete

from server.commands.devices import enrol_url
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
from server.rounds.models import Checkpoint, Round, RoundCheckpoint
from tests.browser.conftest import LiveServer, wait_until

TIMEOUT_MS = 15000

CHECKPOINTS: list[dict[str, Any]] = [
    {
        "id": 11,
        "name": "Port A, Storgatan 4",
        "short_code": "K7F3QX",
        "token": "tok-port-a-7d1c9e0b2f",
        "lat": 55.6412,
        "lon": 13.2091,
        "radius_m": 30,
        "instructions": "Känn på dörren.",
    },
    {
        "id": 12,
        "name": "Garaget, plan -1",
        "short_code": "M2P9WD",
        "token": "tok-garage-3b8e5a1f44",
        "lat": 55.6418,
        "lon": 13.2102,
        "radius_m": 40,
        "instructions": None,
    },
    {
        "id": 13,
        "name": "Lekplatsen",
        "short_code": "R4T6YH",
        "token": "tok-lekplats-9c2d7e6a01",
        "lat": 55.6425,
        "lon": 13.2077,
        "radius_m": 50,
        "instructions": None,
    },
]
ROUNDS: list[dict[str, Any]] = [
    {
        "id": 5,
        "name": "Kvällsrond Centrum",
        "ordered": True,
        "window": "22:00-02:00",
        "every_minutes": None,
        "grace_minutes": 15,
        "weekdays": [1, 2, 3, 4, 5, 6, 7],
        "checkpoints": [
            {"id": 11, "required": True},
            {"id": 12, "required": True},
            {"id": 13, "required": False},
        ],
    },
    {
        "id": 6,
        "name": "Helgrond Garaget",
        "ordered": False,
        "window": "18:00-06:00",
        "every_minutes": 120,
        "grace_minutes": 15,
        "weekdays": [5, 6],
        "checkpoints": [{"id": 12, "required": True}],
    },
]


def _create_plan(org_id: int) -> None:
    """Store the checkpoints and rounds above on the server, with their ids, tokens and codes."""
    for cp in CHECKPOINTS:
        db.session.add(
            Checkpoint(
                id=cp["id"],
                org_id=org_id,
                name=cp["name"],
                lat=cp["lat"],
                lon=cp["lon"],
                radius_m=cp["radius_m"],
                instructions=cp["instructions"] or "",
                token=cp["token"],
                short_code=cp["short_code"],
            )
        )
    db.session.flush()
    for r in ROUNDS:
        db.session.add(
            Round(
                id=r["id"],
                org_id=org_id,
                name=r["name"],
                ordered=r["ordered"],
                weekdays=[d - 1 for d in r["weekdays"]],
                window=r["window"],
                every_minutes=r["every_minutes"],
                grace_minutes=r["grace_minutes"],
            )
        )
        db.session.flush()
        for position, stop in enumerate(r["checkpoints"], start=1):
            db.session.add(
                RoundCheckpoint(
                    round_id=r["id"],
                    position=position,
                    checkpoint_id=stop["id"],
                    required=stop["required"],
                )
            )
    db.session.commit()


def on_server(server: LiveServer, change: Callable[[], None]) -> None:
    """Change the server's data (after the phone pulled), in the server's app."""
    with server.app.app_context():
        change()
        db.session.commit()
        db.session.remove()


def recode(checkpoint_id: int, short_code: str) -> Callable[[], None]:
    """Give a checkpoint another short code on the server: the phone's is then unknown."""

    def change() -> None:
        db.session.get(Checkpoint, checkpoint_id).short_code = short_code

    return change


def drop_round(round_id: int) -> Callable[[], None]:
    """Delete a round on the server: a run of it is then refused as unknown_round."""

    def change() -> None:
        db.session.execute(delete(RoundCheckpoint).where(RoundCheckpoint.round_id == round_id))
        db.session.execute(delete(Round).where(Round.id == round_id))

    return change


@dataclass
class PushRecorder:
    """Pass the page's pushes to the real server, keeping each body.

    `drop`: the first `drop` pushes with scans or round runs reach the server (which stores
    them) but their answer is cut off on the way back, as a connection lost after the commit.
    The app's service worker is kept out of syncing (see `page_syncs_only`), so every push
    passes here.
    """

    drop: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        self.bodies.append(body)
        try:
            answer = route.fetch()
        except PlaywrightError:
            route.abort("connectionrefused")  # the server is stopped: no network
            return
        if self.drop and (body.get("scans") or body.get("round_runs")):
            self.drop -= 1
            route.abort("connectionreset")
            return
        route.fulfill(response=answer)


# Background Sync would let the service worker push on its own, past `page.route`; without
# it the app syncs from the page (its fallback), where the recorder sees every push.
_NO_BACKGROUND_SYNC = """
Object.defineProperty(ServiceWorkerRegistration.prototype, 'sync', {get: () => undefined});
"""


def no_more_pulls(page: Page) -> None:
    """Cut the page's pulls off, so the phone keeps the plan it has while its pushes go on."""
    page.route("**/api/v1/sync/pull*", lambda route: route.abort("connectionrefused"))


def page_syncs_only(page: Page) -> None:
    """Keep the service worker's Background Sync out, so every push comes from the page."""
    page.add_init_script(_NO_BACKGROUND_SYNC)


def enrol_phone(server: LiveServer, page: Page, *, wait_for_rounds: bool = True) -> None:
    """Enrol the page as a guard's phone (its company has the rounds above unless
    `wait_for_rounds` is False) and wait until its service worker controls it."""
    with server.app.app_context():
        org = orgs.create("Vaktbolaget Syd AB")
        if wait_for_rounds:
            _create_plan(org.id)
        link = enrol_url(devices.issue_code(org, "Väktarbil 2", "vaktare", 24).code)
        db.session.remove()
    page.goto(link)
    expect(page.locator("#new-report")).to_be_visible(timeout=TIMEOUT_MS)
    wait_until(page, "navigator.serviceWorker.controller !== null")
    if wait_for_rounds:
        expect(page.locator("#round-list .round-item")).to_have_count(
            len(ROUNDS), timeout=TIMEOUT_MS
        )


def idb_all(page: Page, store: str) -> list[dict[str, Any]]:
    """Every record of one IndexedDB store of the field app."""
    return page.evaluate(
        """(name) => new Promise((resolve, reject) => {
            const open = indexedDB.open('lagesbild');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const db = open.result;
                const req = db.transaction([name]).objectStore(name).getAll();
                req.onsuccess = () => { resolve(req.result); db.close(); };
                req.onerror = () => reject(req.error);
            };
        })""",
        store,
    )
