"""The outbox (pwa/store.js) and sync pass (pwa/sync.js) in a real browser against a live server.

Real IndexedDB in Chromium, the real Flask app in a thread; the modules are imported into the
page with `await import(...)`, as app.js will do.
"""

from __future__ import annotations

import base64
import io
import uuid
from typing import Any

from PIL import Image
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from server.devices import service as devices
from server.extensions import db
from server.incidents import feedback
from server.orgs import service as orgs
from server.photos.models import Photo
from server.reports.models import Report

CREATED_AT = "2026-01-10T23:10:00.000+01:00"
EXPORT_QUEUE = "async () => (await import('/outbox-export.js')).exportQueue()"


def _enrol(app, page: Page, url: str) -> dict[str, Any]:
    """Enrol a device server-side, open the app and put the token where app.js keeps it."""
    with app.app_context():
        org = orgs.create("Staffanstorps kommun")
        issued = devices.issue_code(org, "Väktarbil 1", "vaktare", 24)
    resp = app.test_client().post("/api/v1/enrol", json={"code": issued.code})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    page.goto(url + "/")
    page.evaluate("(body) => localStorage.setItem('lagesbild.device', JSON.stringify(body))", body)
    return body


def _save(page: Page, report: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate(
        "async (r) => (await import('/store.js')).saveReport(r)",
        {"created_at": CREATED_AT, **report},
    )


def _record(page: Page, report_id: str) -> dict[str, Any]:
    return page.evaluate("async (id) => (await import('/store.js')).getReport(id)", report_id)


def _sync(page: Page, base_url: str = "") -> dict[str, Any]:
    """Run one pass with the page's stored token."""
    return page.evaluate(
        """async (baseUrl) => {
            const { syncOnce } = await import('/sync.js');
            const { token } = JSON.parse(localStorage.getItem('lagesbild.device'));
            return syncOnce({ baseUrl, token });
        }""",
        base_url,
    )


def _server_reports(app, report_id: str) -> list[Report]:
    with app.app_context():
        rows = list(db.session.scalars(select(Report).where(Report.id == uuid.UUID(report_id))))
        db.session.expunge_all()
        return rows


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def test_a_saved_report_survives_a_reload_and_stays_pending(live_server, page):
    _enrol(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand", "description": "Bilbrand"})
    assert saved["state"] == "saved" and uuid.UUID(saved["id"]).version == 4
    assert saved["revision"] == 0 and saved["updated_at"] == saved["created_at"] == CREATED_AT
    # The app syncs on start; keep the network away so "still pending" is what is tested.
    page.route("**/api/v1/sync/**", lambda route: route.abort())
    page.route("**/api/v1/photos/**", lambda route: route.abort())

    page.reload()

    record = _record(page, saved["id"])
    assert record["state"] == "saved" and record["description"] == "Bilbrand"
    ids = page.evaluate(
        "async () => (await import('/store.js')).pending().then(rs => rs.map(r => r.id))"
    )
    assert ids == [saved["id"]]


def test_created_at_carries_the_local_utc_offset(browser: Browser, live_server):
    context = browser.new_context(locale="sv-SE", timezone_id="Europe/Stockholm")
    page = context.new_page()
    page.goto(live_server.url + "/")
    stamps = page.evaluate(
        """async () => {
            const { saveReport } = await import('/store.js');
            const { localIsoWithOffset } = await import('/time.js');
            const saved = await saveReport({ category: 'lugnt' });
            return [localIsoWithOffset(new Date('2026-11-21T22:10:00.005Z')),
                    localIsoWithOffset(new Date('2026-07-01T12:00:00Z')), saved.created_at];
        }"""
    )
    context.close()
    assert stamps[:2] == ["2026-11-21T23:10:00.005+01:00", "2026-07-01T14:00:00.000+02:00"]
    assert stamps[2][-6:] in ("+01:00", "+02:00")


def test_a_report_with_a_photo_reaches_the_server_exactly_once(live_server, page):
    _enrol(live_server.app, page, live_server.url)
    jpeg = _jpeg()
    sha = page.evaluate(
        """async (bytes) => (await import('/store.js'))
            .savePhoto(new Uint8Array(bytes).buffer, 'image/jpeg')""",
        list(jpeg),
    )
    saved = _save(page, {"category": "brand", "photos": [sha], "place": "Stationen"})
    exported = page.evaluate(EXPORT_QUEUE)
    assert [r["id"] for r in exported["reports"]] == [saved["id"]]
    assert base64.b64decode(exported["photos"][0]["base64"]) == jpeg

    summary = _sync(page)

    assert summary["ok"] and summary["photosUploaded"] == 1 and summary["results"] == {"created": 1}
    record = _record(page, saved["id"])
    assert record["state"] == "sent" and record["missingPhotos"] == [] and record["version"] == 1
    with live_server.app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Photo).where(Photo.sha256 == sha))
            == 1
        )
    rows = _server_reports(live_server.app, saved["id"])
    assert len(rows) == 1 and rows[0].photos == [sha] and rows[0].place == "Stationen"
    assert page.evaluate(EXPORT_QUEUE)["reports"] == []

    again = _sync(page)

    assert again["ok"] and again["pushed"] == 0
    assert len(_server_reports(live_server.app, saved["id"])) == 1
    assert _record(page, saved["id"])["state"] == "sent"


def test_a_rejected_report_keeps_the_reason_and_the_rest_of_the_batch_goes_through(
    live_server, page
):
    _enrol(live_server.app, page, live_server.url)
    bad = _save(page, {"category": "nope"})
    good = _save(page, {"category": "lugnt"})

    summary = _sync(page)

    assert summary["ok"] and summary["results"] == {"rejected": 1, "created": 1}
    rejected = _record(page, bad["id"])
    assert rejected["state"] == "rejected"
    assert "Unknown category" in rejected["errors"]["category"][0]
    assert _record(page, good["id"])["state"] == "sent"
    assert _server_reports(live_server.app, bad["id"]) == []
    assert page.evaluate("async () => (await import('/store.js')).pending()") == []

    fixed = _save(page, {"id": bad["id"], "category": "brand"})  # fix and resend
    assert fixed["state"] == "saved" and fixed["errors"] is None
    assert _sync(page)["results"] == {"created": 1}
    assert _record(page, bad["id"])["state"] == "sent"


def test_with_the_server_gone_nothing_is_marked_sent_and_the_next_pass_sends_once(
    stoppable_server, page
):
    app = stoppable_server.app
    _enrol(app, page, stoppable_server.url)
    page.evaluate("async () => { await import('/store.js'); await import('/sync.js'); }")
    saved = _save(page, {"category": "brand"})
    stoppable_server.stop()

    summary = _sync(page)

    assert not summary["ok"] and summary["error"]["kind"] == "network"
    assert _record(page, saved["id"])["state"] == "saved"

    stoppable_server.start()
    assert _sync(page)["results"] == {"created": 1}
    assert _record(page, saved["id"])["state"] == "sent"
    assert len(_server_reports(app, saved["id"])) == 1


def test_a_lost_answer_is_not_an_acknowledgement(live_server, page):
    """The push commits on the server but the answer never arrives (connection drop)."""
    _enrol(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand"})

    summary = page.evaluate(
        """async () => {
            const { syncOnce } = await import('/sync.js');
            const { token } = JSON.parse(localStorage.getItem('lagesbild.device'));
            const dropping = async (url, init) => {
                const resp = await fetch(url, init);
                if (String(url).includes('/sync/push')) throw new TypeError('Failed to fetch');
                return resp;
            };
            return syncOnce({ token, fetchImpl: dropping });
        }"""
    )

    assert not summary["ok"] and summary["error"]["kind"] == "network"
    assert _record(page, saved["id"])["state"] == "saved"
    assert len(_server_reports(live_server.app, saved["id"])) == 1
    assert _sync(page)["results"] == {"duplicate": 1}
    assert _record(page, saved["id"])["state"] == "sent"
    assert len(_server_reports(live_server.app, saved["id"])) == 1


def test_a_5xx_aborts_the_pass_and_a_401_reports_revocation(live_server, page):
    _enrol(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand"})

    result = page.evaluate(
        """async () => {
            const { syncOnce } = await import('/sync.js');
            const failing = async () => new Response('{}', { status: 503 });
            const broken = await syncOnce({ token: 'x', fetchImpl: failing });
            const revoked = await syncOnce({ token: 'lbd_not-a-token' });
            return { broken, revoked };
        }"""
    )

    assert result["broken"]["error"] == {
        "kind": "server",
        "status": 503,
        "message": "server error 503",
    }
    assert result["revoked"]["revoked"] and result["revoked"]["code"] == "invalid_token"
    assert _record(page, saved["id"])["state"] == "saved"
    assert _server_reports(live_server.app, saved["id"]) == []


def test_an_edit_is_stamped_later_and_merged_on_the_server(live_server, page):
    _enrol(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand", "description": "Rök"})
    assert _sync(page)["results"] == {"created": 1}

    edited = _save(page, {"id": saved["id"], "description": "Bilbrand, släckt"})

    assert edited["revision"] == 1 and edited["state"] == "saved"
    assert edited["created_at"] == saved["created_at"]
    later = page.evaluate(
        "([a, b]) => Date.parse(b) > Date.parse(a)", [saved["updated_at"], edited["updated_at"]]
    )
    assert later
    summary = _sync(page)
    assert summary["results"] == {"updated": 1}
    record = _record(page, saved["id"])
    assert (
        record["state"] == "sent" and record["pushStatus"] == "updated" and record["version"] == 2
    )
    rows = _server_reports(live_server.app, saved["id"])
    assert len(rows) == 1 and rows[0].description == "Bilbrand, släckt"


def test_coordinator_feedback_arrives_with_the_next_pull(live_server, page):
    _enrol(live_server.app, page, live_server.url)
    saved = _save(page, {"category": "brand"})
    assert _sync(page)["ok"]
    assert _record(page, saved["id"])["serverStatus"] == "ny"

    with live_server.app.app_context():
        feedback.set_status(uuid.UUID(saved["id"]), "bedomd", "Vi har sett det")
    summary = _sync(page)

    assert summary["ok"] and summary["pulled"] == 1
    record = _record(page, saved["id"])
    assert record["serverStatus"] == "bedomd" and record["state"] == "sent"
    assert [c["body"] for c in record["comments"]] == ["Vi har sett det"]
    categories = page.evaluate("async () => (await import('/store.js')).getMeta('categories')")
    assert "brand" in {c["code"] for c in categories}


def test_the_scheduler_backs_off_with_full_jitter_and_never_overlaps(live_server, page):
    page.goto(live_server.url + "/")

    result = page.evaluate(
        """async () => {
            const { createScheduler, backoffDelay } = await import('/sync.js');
            // Backoff: a run that fails three times, then succeeds; timers are fake.
            const timers = [];
            let calls = 0;
            const s = createScheduler({
                run: async () => { calls += 1; if (calls <= 3) throw new Error('offline'); },
                random: () => 0.5,
                setTimer: (fn, ms) => { timers.push({ fn, ms }); return timers.length; },
                clearTimer: () => {},
            });
            await s.idle();
            for (let i = 0; i < 3; i += 1) { timers[i].fn(); await s.idle(); }
            const backoff = { delays: timers.map((t) => t.ms), calls, failures: s.failures };
            const limits = { baseDelayMs: 2000, maxDelayMs: 300000 };
            const cap = backoffDelay(20, { ...limits, random: () => 0.999 });
            const zero = backoffDelay(5, { ...limits, random: () => 0 });

            // Overlap: triggers during a pass make exactly one more pass.
            let active = 0, most = 0, runs = 0, release;
            const t = createScheduler({
                run: async () => {
                    runs += 1; active += 1; most = Math.max(most, active);
                    if (runs === 1) await new Promise((r) => { release = r; });
                    active -= 1;
                },
                setTimer: () => { throw new Error('no retry expected'); },
            });
            t.trigger(); t.trigger(); t.trigger();
            release();
            await t.idle();
            t.stop();
            return { backoff, cap, zero, overlap: { runs, most } };
        }"""
    )

    assert result["backoff"] == {"delays": [1000, 2000, 4000], "calls": 4, "failures": 0}
    assert result["cap"] == 299700 and result["zero"] == 0
    assert result["overlap"] == {"runs": 2, "most": 1}
