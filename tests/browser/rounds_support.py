"""Guard rounds on the phone: a stand-in for the server's rounds (issue 16's wire contract).

Until the server's rounds are merged the pull has no `checkpoints` or `rounds`: these helpers
add them to the real pull's answer with `page.route`, and answer pushes that carry scans the
way the contract says, capturing each body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, Route, expect

from server.commands.devices import enrol_url
from server.devices import service as devices
from server.extensions import db
from server.orgs import service as orgs
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


def serve_plan(page: Page) -> None:
    """Add the checkpoints and rounds to every pull answer the real server gives."""

    def pull(route: Route) -> None:
        try:
            answer = route.fetch()
        except PlaywrightError:
            route.abort("connectionrefused")  # the server is stopped: no network
            return
        body = answer.json()
        body["checkpoints"] = CHECKPOINTS
        body["rounds"] = ROUNDS
        route.fulfill(response=answer, json=body)

    page.route("**/api/v1/sync/pull*", pull)


@dataclass
class PushStandIn:
    """Answer pushes as the contract says (every report and scan stored), keeping each body.

    `drop` answers: the first `drop` pushes with scans are cut off after being read, as an
    answer lost on the way back.
    """

    drop: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    rejected_codes: set[str] = field(default_factory=set)
    reject_runs: bool = False

    def __call__(self, route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        self.bodies.append(body)
        if self.drop and (body.get("scans") or body.get("round_runs")):
            self.drop -= 1
            route.abort("connectionreset")
            return
        route.fulfill(json=self.answer(body))

    def run_result(self, run: dict[str, Any]) -> dict[str, Any]:
        """Return the contract's answer to one round run."""
        if not self.reject_runs:
            return {"id": run["id"], "status": "created"}
        error = {"code": "unknown_round", "message": "Ronden finns inte längre."}
        return {"id": run["id"], "status": "rejected", "error": error}

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return the contract's answer to one push body."""
        by_token = {c["token"]: c for c in CHECKPOINTS}
        by_code = {c["short_code"]: c for c in CHECKPOINTS}
        scan_results = []
        for scan in body.get("scans", []):
            found = by_token.get(scan.get("token")) or by_code.get(scan.get("short_code"))
            if found is None or scan.get("short_code") in self.rejected_codes:
                scan_results.append(
                    {
                        "id": scan["id"],
                        "status": "rejected",
                        "flags": [],
                        "error": {
                            "code": "unknown_checkpoint",
                            "message": "Ingen kontrollpunkt har den koden.",
                        },
                    }
                )
                continue
            flags = ["typed_code"] if scan.get("method") == "code" else []
            scan_results.append(
                {
                    "id": scan["id"],
                    "status": "created",
                    "flags": flags,
                    "checkpoint": {"id": found["id"], "name": found["name"]},
                }
            )
        return {
            "results": [
                {"id": r["id"], "status": "created", "version": 1, "missing_photos": []}
                for r in body.get("reports", [])
            ],
            "scan_results": scan_results,
            "round_run_results": [self.run_result(run) for run in body.get("round_runs", [])],
            "server_time": "2026-12-07T10:00:00+00:00",
        }


def enrol_phone(server: LiveServer, page: Page, *, wait_for_rounds: bool = True) -> None:
    """Enrol the page as a guard's phone and wait until its service worker controls it."""
    with server.app.app_context():
        org = orgs.create("Vaktbolaget Syd AB")
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
