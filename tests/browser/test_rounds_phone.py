"""Guard rounds on the phone (issue 16): round list, running round, scans and their sync.

The server's rounds are stood in for (tests/browser/rounds_support.py): the real pull's
answer gains the contract's `checkpoints` and `rounds`, and pushes with scans are answered
per the contract. "Offline" is the real thing: the server stops listening and the service
worker serves the app. Playwright's bounded waits only; no sleeps.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import StoppableServer, wait_until
from tests.browser.rounds_support import (
    CHECKPOINTS,
    TIMEOUT_MS,
    PushStandIn,
    enrol_phone,
    idb_all,
    serve_plan,
)

PORT_A, GARAGE, PLAYGROUND = CHECKPOINTS


def _start_evening_round(page: Page) -> None:
    item = page.locator("#round-list .round-item", has_text="Kvällsrond Centrum")
    expect(item).to_contain_text("22:00–02:00")
    item.get_by_role("button", name="Starta rond").click()
    expect(page.locator("#round-run-heading")).to_have_text("Kvällsrond Centrum")


def _type_code(page: Page, code: str) -> None:
    page.get_by_label("Skriv koden").fill(code)
    page.get_by_role("button", name="Registrera").click()


def _row(page: Page, name: str):
    return page.locator("#round-checkpoints .checkpoint", has_text=name)


def test_a_round_runs_offline_and_survives_a_reload(stoppable_server: StoppableServer, page):
    serve_plan(page)
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()  # no network from here on

    _start_evening_round(page)
    rows = page.locator("#round-checkpoints .checkpoint")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("1. Port A, Storgatan 4")
    expect(rows.nth(0)).to_contain_text("Obligatorisk")
    expect(rows.nth(2)).not_to_contain_text("Obligatorisk")
    _type_code(page, " k7f 3qx ")  # lower case and spaces: forgiven
    expect(_row(page, PORT_A["name"])).to_contain_text(re.compile(r"Skannad \d\d:\d\d"))
    page.evaluate(f"location.hash = 'scan={GARAGE['token']}'")  # the QR link, in the app
    expect(_row(page, GARAGE["name"])).to_contain_text(re.compile(r"Skannad \d\d:\d\d"))
    expect(page.locator("#round-run-meta")).to_contain_text("2 av 3")

    page.reload()

    expect(page.locator("#round-run-heading")).to_have_text("Kvällsrond Centrum", timeout=TIMEOUT_MS)
    expect(page.locator("#round-checkpoints .checkpoint.done")).to_have_count(2)
    expect(_row(page, PLAYGROUND["name"])).to_contain_text("Inte skannad")
    scans = idb_all(page, "scans")
    assert sorted((s["method"], s.get("token"), s.get("short_code")) for s in scans) == [
        ("code", None, PORT_A["short_code"]),
        ("qr", GARAGE["token"], None),
    ]
    assert all(s["state"] == "saved" for s in scans)
