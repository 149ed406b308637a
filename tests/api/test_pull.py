"""GET /api/v1/sync/pull: the server-side changes to a device's own reports."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from server.categories import WALK_CATEGORIES
from server.categories.models import Category
from server.devices import service as devices
from server.extensions import db
from server.incidents import feedback
from server.meta.service import database_epoch
from server.orgs.models import ChangeCounter
from server.photos.models import Photo
from sync.cursor import Cursor, encode_cursor
from tests.support import factories

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
PULL_KEYS = {
    "cursor",
    "reset",
    "more",
    "reports",
    "deleted",
    "categories",
    "server_time",
    "retention",
    "wipe",
    "walks",
    "checkpoints",
    "rounds",
    "acknowledged",  # urgent alerts: the on-call acknowledgements (server.alerts)
    "on_call",
}
REPORT_KEYS = {"id", "status", "version", "updated_at", "missing_photos", "comments"}
CATEGORY_KEYS = {"code", "label_sv", "label_en", "urgent", "walk", "order", "active"}
HASH_A = "a" * 64
HASH_B = "b" * 64


def push(client, dev, *reports: dict[str, Any]) -> list[dict[str, Any]]:
    """Push reports and return the results."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["results"]


def push_new(client, dev, n: int) -> list[str]:
    """Push n new reports and return their ids."""
    # Kilometres apart: separate incidents, so a status on one reaches only its report.
    reports = [
        factories.report(
            description=f"Rapport {i}",
            location={"lat": 55.60 + i * 0.02, "lon": 13.2083, "accuracy_m": 12.0},
        )
        for i in range(n)
    ]
    assert [r["status"] for r in push(client, dev, *reports)] == ["created"] * n
    return [r["id"] for r in reports]


def pull(client, dev, cursor: str | None = None, **params: Any) -> dict[str, Any]:
    """Pull, check the answer's shape and return it."""
    query = dict(params)
    if cursor is not None:
        query["cursor"] = cursor
    resp = client.get(PULL, query_string=query, headers=dev.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == PULL_KEYS, body
    assert isinstance(body["cursor"], str) and body["cursor"]
    assert isinstance(body["reset"], bool) and isinstance(body["more"], bool)
    assert datetime.fromisoformat(body["server_time"]).utcoffset() is not None
    for item in body["reports"]:
        assert set(item) == REPORT_KEYS, item
        assert datetime.fromisoformat(item["updated_at"]).utcoffset() is not None
        for comment in item["comments"]:
            assert set(comment) == {"id", "body", "created_at"}, comment
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["reports"]]


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in body["reports"]}


def raw_cursor(payload: Any) -> str:
    """Encode an arbitrary cursor payload the way encode_cursor lays it out."""
    text = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).rstrip(b"=").decode()


def current_seq(org_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(ChangeCounter.value).where(ChangeCounter.org_id == org_id))


def test_first_pull_is_a_full_resync_with_all_own_reports(client, device):
    mine = push_new(client, device, 3)

    body = pull(client, device)

    assert body["reset"] is True
    assert body["more"] is False
    assert sorted(ids(body)) == sorted(mine)
    for item in body["reports"]:
        assert item["status"] == "ny"
        assert item["version"] == 1
        assert item["missing_photos"] == []
        assert item["comments"] == []
    assert body["deleted"] == []


def test_first_pull_of_a_new_device_is_empty(client, device):
    body = pull(client, device)

    assert body["reset"] is True
    assert body["reports"] == [] and body["deleted"] == []
    assert body["more"] is False


def test_pull_returns_only_this_devices_reports(client, org, device):
    colleague = factories.make_device(org)
    stranger = factories.make_device(factories.make_org())
    mine = push_new(client, device, 2)
    theirs = push_new(client, colleague, 2)
    foreign = push_new(client, stranger, 1)
    feedback.delete_report(uuid.UUID(theirs[0]), "erasure")
    feedback.set_status(uuid.UUID(theirs[1]), "bedomd", comment="Inte din")

    body = pull(client, device)

    assert sorted(ids(body)) == sorted(mine)
    assert body["deleted"] == []
    assert ids(pull(client, colleague)) == [theirs[1]]
    assert ids(pull(client, stranger)) == foreign


def test_pulling_again_with_the_returned_cursor_returns_nothing_new(client, device):
    push_new(client, device, 3)
    first = pull(client, device)

    second = pull(client, device, first["cursor"])
    third = pull(client, device, second["cursor"])

    for body in (second, third):
        assert body["reset"] is False
        assert body["more"] is False
        assert body["reports"] == []
        assert body["deleted"] == []


def test_new_and_edited_reports_arrive_in_the_next_pull(client, device):
    push_new(client, device, 2)
    cursor = pull(client, device)["cursor"]
    report = factories.report(description="Ny efter pull.")
    push(client, device, report)

    body = pull(client, device, cursor)

    assert body["reset"] is False
    assert ids(body) == [report["id"]]
    assert body["reports"][0]["version"] == 1

    edited_at = datetime.fromisoformat(report["created_at"]) + timedelta(minutes=2)
    edit = {
        **report,
        "updated_at": edited_at.isoformat(),
        "revision": 1,
        "description": "Ändrad.",
    }
    assert push(client, device, edit)[0]["status"] == "updated"
    after_edit = pull(client, device, body["cursor"])
    assert ids(after_edit) == [report["id"]]
    assert after_edit["reports"][0]["version"] == 2


def test_coordinator_status_and_comment_reach_the_device(client, device):
    report_ids = push_new(client, device, 3)
    cursor = pull(client, device)["cursor"]
    target = report_ids[1]

    feedback.set_status(uuid.UUID(target), "bedomd", comment="Vi har sett det")
    body = pull(client, device, cursor)

    assert body["reset"] is False
    assert ids(body) == [target]
    item = body["reports"][0]
    assert item["status"] == "bedomd"
    assert item["version"] == 2
    assert [c["body"] for c in item["comments"]] == ["Vi har sett det"]
    assert isinstance(item["comments"][0]["id"], int)
    assert datetime.fromisoformat(item["comments"][0]["created_at"]).utcoffset() is not None

    feedback.add_comment(uuid.UUID(target), "Patrull skickad.")
    later = pull(client, device, body["cursor"])
    assert ids(later) == [target]
    assert [c["body"] for c in later["reports"][0]["comments"]] == [
        "Vi har sett det",
        "Patrull skickad.",
    ]
    assert later["reports"][0]["version"] == 3


def test_deleted_report_is_announced_once_in_deleted(client, device):
    keep, gone = push_new(client, device, 2)
    cursor = pull(client, device)["cursor"]

    feedback.delete_report(uuid.UUID(gone), "retention")
    body = pull(client, device, cursor)

    assert body["deleted"] == [gone]
    assert body["reports"] == []
    assert pull(client, device, body["cursor"])["deleted"] == []
    resync = pull(client, device)
    assert ids(resync) == [keep]
    assert resync["deleted"] == [gone]


def test_pages_of_two_hold_each_report_exactly_once(client, device):
    report_ids = push_new(client, device, 5)

    pages = []
    cursor = None
    for _ in range(10):
        page = pull(client, device, cursor, limit=2)
        pages.append(page)
        cursor = page["cursor"]
        if not page["more"]:
            break

    seen = [rid for page in pages for rid in ids(page)]
    assert sorted(seen) == sorted(report_ids)
    assert len(seen) == len(set(seen)) == 5
    assert all(len(page["reports"]) <= 2 for page in pages)
    assert [page["more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert len(pages) >= 3
    assert pages[0]["reset"] is True
    assert all(page["reset"] is False for page in pages[1:])
    final = pull(client, device, cursor, limit=2)
    assert final["reports"] == [] and final["more"] is False


def test_pages_carry_changes_and_deletions_exactly_once(client, device):
    report_ids = push_new(client, device, 6)
    feedback.delete_report(uuid.UUID(report_ids[0]), "erasure")
    feedback.set_status(uuid.UUID(report_ids[1]), "atgardad", comment="Klart")
    feedback.delete_report(uuid.UUID(report_ids[4]), "erasure")

    seen: list[str] = []
    deleted: list[str] = []
    states: dict[str, dict[str, Any]] = {}
    cursor = None
    for _ in range(10):
        page = pull(client, device, cursor, limit=2)
        seen += ids(page)
        deleted += page["deleted"]
        states.update(by_id(page))
        cursor = page["cursor"]
        if not page["more"]:
            break

    alive = [rid for i, rid in enumerate(report_ids) if i not in (0, 4)]
    assert sorted(seen) == sorted(alive)
    assert len(seen) == len(set(seen))
    assert sorted(deleted) == sorted([report_ids[0], report_ids[4]])
    assert states[report_ids[1]]["status"] == "atgardad"
    assert [c["body"] for c in states[report_ids[1]]["comments"]] == ["Klart"]


def test_unusable_cursors_give_a_full_resync_not_an_error(client, org, device):
    mine = push_new(client, device, 2)
    stranger = factories.make_device(factories.make_org())
    push_new(client, stranger, 3)
    foreign_cursor = pull(client, stranger)["cursor"]
    epoch = database_epoch()
    seq = current_seq(org.id)
    cursors = {
        "garbage": "garbage!!",
        "empty": "",
        "base64 of plain text": base64.urlsafe_b64encode(b"hello").decode(),
        "too long": "A" * 4000,
        "another organisation's device": foreign_cursor,
        "seq beyond the counter": encode_cursor(Cursor(epoch=epoch, org_id=org.id, seq=seq + 50)),
        "another epoch": encode_cursor(Cursor(epoch=uuid.uuid4().hex, org_id=org.id, seq=seq)),
        "another version": raw_cursor({"v": 99, "e": epoch, "o": org.id, "s": seq}),
        "negative seq": raw_cursor({"v": 1, "e": epoch, "o": org.id, "s": -1}),
        "seq as text": raw_cursor({"v": 1, "e": epoch, "o": org.id, "s": str(seq)}),
        "JSON list": raw_cursor([1, epoch, org.id, seq]),
        "unicode": "åäö💥",
    }

    problems = []
    for name, cursor in cursors.items():
        resp = client.get(PULL, query_string={"cursor": cursor}, headers=device.headers)
        if resp.status_code != 200:
            problems.append(f"{name}: HTTP {resp.status_code}")
            continue
        body = resp.get_json()
        if body["reset"] is not True or sorted(ids(body)) != sorted(mine):
            problems.append(f"{name}: reset={body['reset']} reports={ids(body)}")
    assert problems == []


def test_cursor_at_the_current_counter_is_valid(client, org, device):
    push_new(client, device, 2)
    cursor = encode_cursor(Cursor(epoch=database_epoch(), org_id=org.id, seq=current_seq(org.id)))

    body = pull(client, device, cursor)

    assert body["reset"] is False
    assert body["reports"] == []


def test_odd_limits_never_give_a_server_error(client, device):
    push_new(client, device, 3)

    for limit in ["0", "-1", "-99999", "1", "abc", "1.5", "", "10000000", "9" * 40]:
        resp = client.get(PULL, query_string={"limit": limit}, headers=device.headers)
        assert resp.status_code == 200, (limit, resp.status_code)
        body = resp.get_json()
        assert 1 <= len(body["reports"]) <= 3, limit
        assert body["more"] is (len(body["reports"]) < 3), limit


def test_pull_lists_all_twelve_categories_with_their_attributes(client, device):
    db.session.execute(update(Category).where(Category.code == "rykten").values(active=False))
    db.session.commit()

    every = pull(client, device)["categories"]
    # The eight safety-walk categories come after, flagged for the phone's walk mode.
    walk = [c for c in every if c["walk"]]
    assert {c["code"] for c in walk} == WALK_CATEGORIES
    assert min(c["order"] for c in walk) > max(c["order"] for c in every if not c["walk"])
    cats = [c for c in every if not c["walk"]]

    assert len(cats) == 12
    for cat in cats:
        assert set(cat) == CATEGORY_KEYS, cat
        assert isinstance(cat["urgent"], bool) and isinstance(cat["active"], bool)
        assert cat["label_sv"] and cat["label_en"]
    assert len({c["code"] for c in cats}) == 12
    orders = [c["order"] for c in cats]
    assert orders == sorted(orders)
    active = {c["code"]: c["active"] for c in cats}
    assert active["rykten"] is False
    assert sum(active.values()) == 11


def test_pull_shows_photos_still_missing(client, device):
    report = factories.report(photos=[HASH_A, HASH_B])
    push(client, device, report)
    assert by_id(pull(client, device))[report["id"]]["missing_photos"] == [HASH_A, HASH_B]

    db.session.add(
        Photo(
            org_id=device.device.org_id,
            sha256=HASH_A,
            source_format="jpeg",
            width=1,
            height=1,
            bytes=1,
            storage_path="x",
        )
    )
    db.session.commit()

    assert by_id(pull(client, device))[report["id"]]["missing_photos"] == [HASH_B]


def test_pull_requires_an_enrolled_not_revoked_device(client, device):
    missing = client.get(PULL)
    unknown = client.get(PULL, headers={"Authorization": "Bearer nonsense"})
    devices.revoke(device.device.id)
    revoked = client.get(PULL, headers=device.headers)

    for resp, code in [
        (missing, "missing_token"),
        (unknown, "invalid_token"),
        (revoked, "device_revoked"),
    ]:
        assert resp.status_code == 401
        assert resp.get_json()["error"]["code"] == code
        assert "Bearer" in resp.headers.get("WWW-Authenticate", "")


def test_the_outbox_count_sent_with_a_pull_is_kept_for_the_digest(client, device):
    pull(client, device, pending="3")
    db.session.expire_all()
    stored = db.session.get(type(device.device), device.device.id)
    assert stored.outbox_pending == 3
    assert stored.outbox_reported_at is not None


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", "1000001", ""])
def test_a_bad_outbox_count_is_refused_with_a_reason(client, device, bad):
    resp = client.get(PULL, query_string={"pending": bad}, headers=device.headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"]["code"] == "invalid_pending"
