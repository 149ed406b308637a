"""Guard rounds on the phone (issue 16): round list, running round, scans and their sync.

The server's rounds are stood in for (tests/browser/rounds_support.py): the real pull's
answer gains the contract's `checkpoints` and `rounds`, and pushes with scans are answered
per the contract. "Offline" is the real thing: the server stops listening and the service
worker serves the app. Playwright's bounded waits only; no sleeps.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from server.extensions import db
from server.rounds.models import CheckpointScan, RoundRun
from tests.browser.conftest import StoppableServer, wait_until
from tests.browser.rounds_support import (
    CHECKPOINTS,
    TIMEOUT_MS,
    PushRecorder,
    drop_round,
    enrol_phone,
    idb_all,
    no_more_pulls,
    on_server,
    page_syncs_only,
    recode,
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


def _another_pass(page: Page) -> None:
    """Start a sync pass and wait until its pull has been answered."""
    with page.expect_response("**/api/v1/sync/pull*", timeout=TIMEOUT_MS):
        page.evaluate("window.dispatchEvent(new Event('online'))")


def _row(page: Page, name: str):
    return page.locator("#round-checkpoints .checkpoint", has_text=name)


def test_a_round_runs_offline_and_survives_a_reload(stoppable_server: StoppableServer, page):
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
    expect(page.locator("#net")).to_contain_text("3 ej skickade")  # the run and two scans

    page.reload()

    expect(page.locator("#round-run-heading")).to_have_text(
        "Kvällsrond Centrum", timeout=TIMEOUT_MS
    )
    expect(page.locator("#round-checkpoints .checkpoint.done")).to_have_count(2)
    expect(_row(page, PLAYGROUND["name"])).to_contain_text("Inte skannad")
    scans = idb_all(page, "scans")
    assert sorted((s["method"], s.get("token"), s.get("short_code")) for s in scans) == [
        ("code", None, PORT_A["short_code"]),
        ("qr", GARAGE["token"], None),
    ]
    assert all(s["state"] == "saved" for s in scans)


def test_an_unknown_code_offline_is_said_at_once_and_queued_only_if_confirmed(
    stoppable_server: StoppableServer, page
):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    _start_evening_round(page)
    panel = page.locator("#scan-panel")

    _type_code(page, "ZZ9 9ZZ")
    expect(panel).to_contain_text("Okänd kontrollpunkt — kontrollera koden")
    panel.get_by_role("button", name="Avbryt").click()
    expect(panel).to_be_hidden()
    assert idb_all(page, "scans") == []

    page.evaluate("location.hash = 'scan=tok-no-such-checkpoint'")
    expect(panel).to_contain_text("Okänd kontrollpunkt — kontrollera koden")
    panel.get_by_role("button", name="Spara ändå").click()
    expect(panel).to_be_hidden()
    wait_until(page, "(async () => true)()")
    (scan,) = idb_all(page, "scans")
    assert (scan["token"], scan["checkpoint_id"], scan["state"]) == (
        "tok-no-such-checkpoint",
        None,
        "saved",
    )
    assert scan["round_run"] == idb_all(page, "round_runs")[0]["id"]


def test_ending_a_round_with_required_checkpoints_unscanned_needs_a_reason(
    stoppable_server: StoppableServer, page
):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    _start_evening_round(page)
    _type_code(page, PORT_A["short_code"])
    expect(_row(page, PORT_A["name"])).to_contain_text("Skannad")

    page.get_by_role("button", name="Avsluta rond").click()
    form = page.locator("#round-end-form")
    expect(form).to_contain_text("1 obligatorisk kontrollpunkt är inte skannad: Garaget, plan -1.")
    form.get_by_role("button", name="Avsluta ronden").click()  # empty: refused
    expect(page.locator("#round-end-error")).to_be_visible()
    page.get_by_label("Varför avslutas ronden utan dem?").fill("   ")
    form.get_by_role("button", name="Avsluta ronden").click()  # blanks only: refused too
    expect(page.locator("#round-end-error")).to_be_visible()
    assert "ended_at" not in idb_all(page, "round_runs")[0]

    page.get_by_label("Varför avslutas ronden utan dem?").fill("Garaget låst, nyckeln saknas.")
    form.get_by_role("button", name="Avsluta ronden").click()

    expect(page.locator("#status")).to_have_text("Ronden är avslutad.")
    expect(page.locator("#round-run")).to_be_hidden()
    expect(page.locator("#round-list .round-item")).to_have_count(2)
    (run,) = idb_all(page, "round_runs")
    assert run["end_reason"] == "Garaget låst, nyckeln saknas."
    assert run["ended_at"] and run["state"] == "saved"


def test_a_round_with_every_required_checkpoint_scanned_ends_without_a_reason(
    stoppable_server: StoppableServer, page
):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    _start_evening_round(page)
    _type_code(page, PORT_A["short_code"])
    expect(_row(page, PORT_A["name"])).to_contain_text("Skannad")
    _type_code(page, GARAGE["short_code"])
    expect(_row(page, GARAGE["name"])).to_contain_text("Skannad")

    page.get_by_role("button", name="Avsluta rond").click()

    expect(page.locator("#round-run")).to_be_hidden()
    expect(page.locator("#round-end-form")).to_be_hidden()
    (run,) = idb_all(page, "round_runs")
    assert run["ended_at"] and "end_reason" not in run


def test_a_round_made_offline_travels_in_one_push_as_the_contract_says_exactly_once(
    stoppable_server: StoppableServer, page
):
    page_syncs_only(page)
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    _start_evening_round(page)
    _type_code(page, PORT_A["short_code"])
    expect(_row(page, PORT_A["name"])).to_contain_text("Skannad")
    # From the second scan on the phone has a position (the first one has none).
    page.context.set_geolocation({"latitude": 55.6418, "longitude": 13.2102, "accuracy": 12})
    page.context.grant_permissions(["geolocation"], origin=stoppable_server.url)
    page.evaluate(f"location.hash = 'scan={GARAGE['token']}'")
    expect(_row(page, GARAGE["name"])).to_contain_text("Skannad")
    page.evaluate(f"location.hash = 'scan={PLAYGROUND['token']}'")
    expect(_row(page, PLAYGROUND["name"])).to_contain_text("Skannad")
    page.get_by_role("button", name="Avsluta rond").click()
    expect(page.locator("#round-run")).to_be_hidden()
    (run,) = idb_all(page, "round_runs")
    scans = idb_all(page, "scans")
    assert len(scans) == 3

    stand_in = PushRecorder(drop=1)  # the server stores the first; its answer is lost
    page.route("**/api/v1/sync/push", stand_in)
    stoppable_server.start()

    # Each poll is an 'online' event too: the pass after the lost answer need not wait for
    # the scheduler's backoff (the page failed many passes while offline).
    wait_until(
        page,
        """(async () => {
            window.dispatchEvent(new Event('online'));
            const db = await new Promise((ok) => {
                const open = indexedDB.open('lagesbild'); open.onsuccess = () => ok(open.result);
            });
            const all = (name) => new Promise((ok) => {
                const req = db.transaction([name]).objectStore(name).getAll();
                req.onsuccess = () => ok(req.result);
            });
            const left = [...(await all('scans')), ...(await all('round_runs'))]
                .filter((item) => item.state !== 'sent');
            db.close();
            return left.length === 0;
        })()""",
        timeout_ms=TIMEOUT_MS,
        every_ms=250,
    )
    with_scans = [b for b in stand_in.bodies if b.get("scans")]
    assert len(with_scans) == 2  # the lost one, and the same again
    first, second = with_scans
    assert first["scans"] == second["scans"]
    assert first["round_runs"] == second["round_runs"]
    assert first["round_runs"] == [
        {
            "id": run["id"],
            "round_id": 5,
            "started_at": run["started_at"],
            "ended_at": run["ended_at"],
        }
    ]
    by_method = sorted(first["scans"], key=lambda s: s["scanned_at"])
    assert [sorted(s) for s in by_method] == [
        ["id", "method", "round_run", "scanned_at", "short_code"],
        ["id", "location", "method", "round_run", "scanned_at", "token"],
        ["id", "location", "method", "round_run", "scanned_at", "token"],
    ]
    assert by_method[1]["location"] == {"lat": 55.6418, "lon": 13.2102, "accuracy": 12}
    assert [(s.get("short_code"), s.get("token"), s["method"]) for s in by_method] == [
        (PORT_A["short_code"], None, "code"),
        (None, GARAGE["token"], "qr"),
        (None, PLAYGROUND["token"], "qr"),
    ]
    assert {s["id"] for s in by_method} == {s["id"] for s in scans}
    assert {s["round_run"] for s in by_method} == {run["id"]}
    offset = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d$")
    assert all(offset.match(s["scanned_at"]) for s in by_method)
    assert offset.match(run["started_at"]) and offset.match(run["ended_at"])
    expect(page.locator("#net")).to_contain_text("allt skickat", timeout=TIMEOUT_MS)
    _another_pass(page)  # the outbox is empty: later passes carry no scans
    assert len([b for b in stand_in.bodies if b.get("scans")]) == 2
    # The real server holds each scan and the run once, though the first answer was lost.
    with stoppable_server.app.app_context():
        stored = db.session.scalars(select(CheckpointScan)).all()
        runs = db.session.scalars(select(RoundRun)).all()
        assert sorted(str(s.id) for s in stored) == sorted(s["id"] for s in scans)
        assert {s.checkpoint_id for s in stored} == {c["id"] for c in CHECKPOINTS}
        assert [(str(r.id), r.round_id, r.ended_at is not None) for r in runs] == [
            (run["id"], 5, True)
        ]
        db.session.remove()


def test_a_rejected_scan_keeps_the_servers_message_on_the_round_screen(live_server, page):
    page_syncs_only(page)
    stand_in = PushRecorder()
    page.route("**/api/v1/sync/push", stand_in)
    enrol_phone(live_server, page)
    # The printed code is changed on the server; the phone, pulling no more, still has it.
    no_more_pulls(page)
    on_server(live_server, recode(GARAGE["id"], "ZZZZZZ"))
    _start_evening_round(page)

    _type_code(page, GARAGE["short_code"])

    rejected = page.locator("#round-rejected-list li")
    expect(rejected).to_have_count(1, timeout=TIMEOUT_MS)
    expect(rejected).to_contain_text("Ingen kontrollpunkt har den koden.")
    expect(_row(page, GARAGE["name"])).to_contain_text("Inte skannad")
    (scan,) = idb_all(page, "scans")
    assert scan["state"] == "rejected"
    assert scan["error"]["code"] == "unknown_checkpoint"
    sent = len([b for b in stand_in.bodies if b.get("scans")])
    # Another pass (its pull is cut off, after the push step).
    with page.expect_request("**/api/v1/sync/pull*", timeout=TIMEOUT_MS):
        page.evaluate("window.dispatchEvent(new Event('online'))")
    assert len([b for b in stand_in.bodies if b.get("scans")]) == sent  # never resent


def test_report_here_opens_the_usual_form_at_the_checkpoint(stoppable_server, page):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    _start_evening_round(page)
    _type_code(page, PORT_A["short_code"])

    _row(page, PORT_A["name"]).get_by_role("button", name="Rapport här").click()
    expect(page.locator("#report-at")).to_contain_text("Port A, Storgatan 4")
    page.locator("#tiles .tile").first.click()
    expect(page.get_by_label("Plats")).to_have_value(PORT_A["name"])
    page.get_by_role("button", name="Spara").click()

    expect(page.locator("#reports .report")).to_have_count(1, timeout=TIMEOUT_MS)
    (report,) = idb_all(page, "reports")
    assert report["place"] == PORT_A["name"]
    assert (report["location"]["lat"], report["location"]["lon"]) == (PORT_A["lat"], PORT_A["lon"])


def test_a_scan_link_with_no_round_running_offers_to_start_one(stoppable_server, page):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()

    page.evaluate(f"location.hash = 'scan={GARAGE['token']}'")

    panel = page.locator("#scan-panel")
    expect(panel).to_contain_text("Kontrollpunkt: Garaget, plan -1")
    expect(panel.get_by_role("button")).to_have_text(
        ["Starta Helgrond Garaget", "Starta Kvällsrond Centrum", "Registrera utan rond", "Avbryt"]
    )
    panel.get_by_role("button", name="Starta Helgrond Garaget").click()
    expect(page.locator("#round-run-heading")).to_have_text("Helgrond Garaget")
    expect(_row(page, GARAGE["name"])).to_contain_text("Skannad")
    assert page.evaluate("location.hash") == ""  # a reload does not record it again
    (run,) = idb_all(page, "round_runs")
    (scan,) = idb_all(page, "scans")
    assert (run["round_id"], scan["round_run"]) == (6, run["id"])


def test_a_loose_scan_has_no_round_run(stoppable_server, page):
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    page.evaluate(f"location.hash = 'scan={PORT_A['token']}'")

    page.locator("#scan-panel").get_by_role("button", name="Registrera utan rond").click()

    expect(page.locator("#status")).to_contain_text("Registrerad utan rond: Port A, Storgatan 4")
    (scan,) = idb_all(page, "scans")
    assert "round_run" not in scan and scan["token"] == PORT_A["token"]
    assert idb_all(page, "round_runs") == []


def test_without_rounds_in_the_pull_there_is_no_round_screen(live_server, page):
    enrol_phone(live_server, page, wait_for_rounds=False)
    _another_pass(page)  # a pull has come and gone

    expect(page.locator("#rounds")).to_be_hidden()
    assert idb_all(page, "rounds") == [] and idb_all(page, "checkpoints") == []


# A database as version 3 of the app left it: one report queued and a planned walk kept.
_VERSION_3 = """async () => {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    await new Promise((resolve, reject) => {
        const open = indexedDB.open('lagesbild', 3);
        open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('reports', {keyPath: 'id'});
            db.createObjectStore('photos', {keyPath: 'sha256'});
            db.createObjectStore('meta');
            db.createObjectStore('drafts');
            db.createObjectStore('walks', {keyPath: 'id'});
        };
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
            const db = open.result;
            const tx = db.transaction(['reports', 'walks'], 'readwrite');
            tx.objectStore('reports').put({
                id, category: 'skadegorelse', severity: 2, description: 'Kö från version 3',
                location: null, place: 'Torget', people_count: null, photos: [],
                created_at: now, updated_at: now, revision: 0, state: 'saved', errors: null,
                serverStatus: null, pushStatus: null, version: null, missingPhotos: [],
                comments: [], updatedAt: now,
            });
            tx.objectStore('walks').put({id: 77, area: null, date: '2026-01-01', dark: true,
                route: null, stops: []});
            tx.oncomplete = () => { db.close(); resolve(); };
            tx.onerror = () => reject(tx.error);
        };
    });
    return id;
}"""


def test_the_upgrade_to_rounds_keeps_the_queue_and_adds_the_round_stores(
    stoppable_server: StoppableServer, page
):
    page.goto(stoppable_server.url + "/manifest.webmanifest")  # the origin, without the app
    queued = page.evaluate(_VERSION_3)

    enrol_phone(stoppable_server, page)

    expect(page.locator("#reports .report")).to_have_count(1, timeout=TIMEOUT_MS)
    (report,) = idb_all(page, "reports")
    assert (report["id"], report["description"]) == (queued, "Kö från version 3")
    assert (
        page.evaluate(
            """() => new Promise((resolve) => {
            const open = indexedDB.open('lagesbild');
            open.onsuccess = () => { resolve(open.result.version); open.result.close(); };
        })"""
        )
        == 4
    )
    assert sorted(c["id"] for c in idb_all(page, "checkpoints")) == [11, 12, 13]
    assert idb_all(page, "scans") == [] and idb_all(page, "round_runs") == []


def test_a_refused_round_run_is_said_on_the_round_list_and_never_resent(live_server, page):
    page_syncs_only(page)
    stand_in = PushRecorder()
    page.route("**/api/v1/sync/push", stand_in)
    enrol_phone(live_server, page)
    on_server(live_server, drop_round(5))  # the round is gone on the server

    page.locator("#round-list .round-item", has_text="Kvällsrond").get_by_role("button").click()

    refused = page.locator("#round-runs-rejected li")
    expect(refused).to_have_text(
        [re.compile(r"^Servern godtog inte ronden Kvällsrond Centrum \(\d\d:\d\d\): Ronden finns")],
        timeout=TIMEOUT_MS,
    )
    expect(page.locator("#round-run")).to_be_hidden()
    (run,) = idb_all(page, "round_runs")
    assert (run["state"], run["error"]["code"]) == ("rejected", "unknown_round")
    sent = len([b for b in stand_in.bodies if b.get("round_runs")])
    _another_pass(page)
    assert len([b for b in stand_in.bodies if b.get("round_runs")]) == sent == 1


# Web NFC as Chrome on Android has it, standing in for a tag held to the phone: the tag
# carries the garage checkpoint's link as a URL record.
_FAKE_NFC = """
window.NDEFReader = class extends EventTarget {
    async scan() {
        setTimeout(() => {
            const reading = new Event('reading');
            reading.message = {records: [{recordType: 'url', encoding: 'utf-8',
                data: new TextEncoder().encode(location.origin + '/#scan=%s')}]};
            this.dispatchEvent(reading);
        }, 50);
    }
};
"""


def test_nfc_is_offered_only_where_the_browser_has_it(stoppable_server, page):
    enrol_phone(stoppable_server, page)
    page.locator("#round-list .round-item", has_text="Kvällsrond").get_by_role("button").click()

    expect(page.get_by_role("button", name="Skanna QR-kod")).to_be_visible()
    expect(page.locator("#scan-nfc")).to_be_hidden()  # desktop Chromium: no Web NFC


def test_an_nfc_tag_records_a_scan_with_method_nfc(stoppable_server, page):
    page.add_init_script(_FAKE_NFC % GARAGE["token"])
    enrol_phone(stoppable_server, page)
    stoppable_server.stop()
    page.locator("#round-list .round-item", has_text="Kvällsrond").get_by_role("button").click()

    page.get_by_role("button", name="Läs NFC-tagg").click()

    expect(_row(page, GARAGE["name"])).to_contain_text("Skannad", timeout=TIMEOUT_MS)
    (scan,) = idb_all(page, "scans")
    assert (scan["method"], scan["token"]) == ("nfc", GARAGE["token"])
