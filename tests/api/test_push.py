"""POST /api/v1/sync/push: every report stored exactly once, whatever is resent and how."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from server.extensions import db
from server.incidents import feedback
from server.reports.models import Tombstone
from tests.support import factories
from tests.support.push import (
    counter,
    edit_of,
    push_ok,
    push_one,
    report_count,
    shifted_now,
    snapshot,
    stored,
)

# --- created / duplicate / updated ----------------------------------------------------------


def test_new_report_is_created_and_stored_with_its_fields(client, device):
    body = factories.report(severity=3, people_count=4, description="Brand i container.")

    res = push_one(client, device, body)

    assert res == {"id": body["id"], "status": "created", "version": 1, "missing_photos": []}
    row = stored(body["id"])
    assert row is not None
    assert row.device_id == device.device.id
    assert row.org_id == device.device.org_id
    assert row.status == "ny"
    assert row.version == 1
    assert row.category_code == "skadegorelse"
    assert row.severity == 3
    assert row.people_count == 4
    assert row.description == "Brand i container."
    assert row.place == "Busskuren Malmövägen"
    assert row.lat == pytest.approx(55.6398)
    assert row.lon == pytest.approx(13.2083)
    assert row.accuracy_m == pytest.approx(12.0)
    assert row.created_at == datetime.fromisoformat(body["created_at"])
    assert row.utc_offset_min == 60


def test_empty_optional_fields_and_values_on_the_limits_are_accepted(client, device):
    sparse = factories.report(severity=None, description=None, place=None, location=None)
    del sparse["people_count"]
    del sparse["photos"]
    full = factories.report(
        severity=1,
        description="d" * 4000,
        place="p" * 200,
        people_count=0,
        location={"lat": -90, "lon": 180, "accuracy_m": 0},
        photos=[f"{i:064x}" for i in range(20)],
    )

    early = factories.report(created_at="2000-01-01T12:00:00+00:00")
    ahead = factories.report(created_at=shifted_now(23 * 60))

    results = push_ok(client, device, sparse, full, early, ahead)

    assert [r["status"] for r in results] == ["created"] * 4, results
    row = stored(sparse["id"])
    assert row.severity is None and row.lat is None and row.people_count is None
    assert row.description == "" and row.place == "" and row.photos == []
    row = stored(full["id"])
    assert len(row.description) == 4000 and len(row.place) == 200
    assert len(row.photos) == 20 and row.people_count == 0


def test_identical_resend_is_duplicate_and_changes_nothing(client, device):
    body = factories.report()
    assert push_one(client, device, body)["status"] == "created"
    before = snapshot(body["id"])
    seq_before = counter(device.device.org_id)

    for _ in range(3):
        res = push_one(client, device, body)
        assert res["status"] == "duplicate", res
        assert res["version"] == 1

    assert snapshot(body["id"]) == before
    assert counter(device.device.org_id) == seq_before
    assert report_count() == 1


def test_result_echoes_the_id_exactly_as_sent(client, device):
    body = factories.report()
    upper = body["id"].upper()

    first = push_one(client, device, dict(body, id=upper))
    again = push_one(client, device, body)

    assert (first["id"], first["status"]) == (upper, "created")
    assert (again["id"], again["status"]) == (body["id"], "duplicate")
    assert report_count() == 1


def test_newer_edit_is_merged_as_updated_and_its_resend_is_duplicate(client, device):
    body = factories.report(description="Klotter.")
    push_one(client, device, body)
    before = snapshot(body["id"])
    edit = edit_of(body, 5, 1, description="Klotter, nu sanerat.")

    res = push_one(client, device, edit)

    assert res["status"] == "updated", res
    assert res["version"] == 2
    after = snapshot(body["id"])
    assert after["description"] == "Klotter, nu sanerat."
    assert after["version"] == 2
    assert after["change_seq"] > before["change_seq"]
    assert after["updated_at"] >= before["updated_at"]
    assert report_count() == 1

    again = push_one(client, device, edit)

    assert again["status"] == "duplicate", again
    assert again["version"] == 2
    assert snapshot(body["id"]) == after


def test_stale_edit_after_a_newer_one_is_duplicate_and_changes_nothing(client, device):
    body = factories.report(description="Original.")
    push_one(client, device, body)
    push_one(client, device, edit_of(body, 10, 2, description="Nyast."))
    before = snapshot(body["id"])
    seq_before = counter(device.device.org_id)

    res = push_one(client, device, edit_of(body, 5, 1, description="Mellan."))

    assert res["status"] == "duplicate", res
    assert snapshot(body["id"]) == before
    assert before["description"] == "Nyast."
    assert counter(device.device.org_id) == seq_before


def test_original_arriving_after_its_edit_keeps_the_edit(client, device):
    body = factories.report(description="Original.")
    edit = edit_of(body, 5, 1, description="Redigerad.")

    assert push_one(client, device, edit)["status"] == "created"
    res = push_one(client, device, body)

    assert res["status"] == "duplicate", res
    assert stored(body["id"]).description == "Redigerad."
    assert stored(body["id"]).version == 1
    assert report_count() == 1


def test_edits_converge_to_the_same_report_whatever_their_order(client, device):
    base = factories.report(description="Bas.")
    edits = [
        edit_of(base, 5, 1, description="Alfa", place="Plats A"),
        edit_of(base, 5, 2, description="Gamma", severity=3),  # same time, higher revision
        edit_of(base, 4, 9, description="Delta"),  # earlier time loses despite its revision
        base,
    ]
    orders = [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]]

    finals = []
    for n, order in enumerate(orders):
        rid = str(uuid.uuid4())
        copies = [{**edits[i], "id": rid} for i in order]
        if n % 2:
            push_ok(client, device, *copies)  # all in one batch
        else:
            for copy_ in copies:
                push_one(client, device, copy_)
        row = stored(rid)
        finals.append((row.description, row.place, row.severity, row.version))

    assert finals[0][:3] == ("Gamma", base["place"], 3)
    assert all(final[:3] == finals[0][:3] for final in finals), finals
    assert report_count() == len(orders)


def test_edits_with_equal_clocks_converge_to_the_same_value(client, device):
    base = factories.report()
    alfa = edit_of(base, 5, 1, description="Alfa", place="Plats A")
    beta = edit_of(base, 5, 1, description="Beta", place="Plats B")

    finals = []
    for order in ([alfa, beta], [beta, alfa]):
        rid = str(uuid.uuid4())
        push_one(client, device, {**base, "id": rid})
        for edit in order:
            push_one(client, device, {**edit, "id": rid})
        row = stored(rid)
        finals.append((row.description, row.place))

    assert finals[0] == finals[1], finals
    assert finals[0] in {("Alfa", "Plats A"), ("Beta", "Plats B")}


def test_resending_a_batch_in_another_order_stores_each_report_once(client, device):
    reports = [factories.report(description=f"Rapport {i}") for i in range(4)]
    first = push_ok(client, device, *reports)
    assert [r["status"] for r in first] == ["created"] * 4

    shuffled = [reports[2], reports[0], reports[3], reports[1]]
    again = push_ok(client, device, *shuffled)

    assert [r["id"] for r in again] == [r["id"] for r in shuffled]
    assert [r["status"] for r in again] == ["duplicate"] * 4
    assert report_count() == 4


def test_copies_of_one_id_in_a_batch_merge_in_order(client, device):
    twice = factories.report()
    edited = factories.report(description="Först.")

    results = push_ok(
        client, device, twice, dict(twice), edited, edit_of(edited, 3, 1, description="Sedan.")
    )

    assert [r["status"] for r in results] == ["created", "duplicate", "created", "updated"]
    assert [r["id"] for r in results] == [twice["id"], twice["id"], edited["id"], edited["id"]]
    assert stored(twice["id"]).version == 1
    assert stored(edited["id"]).description == "Sedan."
    assert report_count() == 2


def test_results_come_one_per_report_in_order(client, device):
    a, b, c = factories.report(), factories.report(), factories.report()
    push_one(client, device, b)

    results = push_ok(client, device, a, {"id": "nope"}, b, 7, c)

    assert [r["id"] for r in results] == [a["id"], "nope", b["id"], None, c["id"]]
    assert [r["status"] for r in results] == [
        "created",
        "rejected",
        "duplicate",
        "rejected",
        "created",
    ]
    assert push_ok(client, device) == []


# --- gone --------------------------------------------------------------------------------


def test_resend_of_a_deleted_report_is_gone_and_does_not_revive_it(client, device):
    body = factories.report()
    push_one(client, device, body)
    feedback.delete_report(uuid.UUID(body["id"]), "erasure")
    fresh = factories.report()

    res = push_one(client, device, body)
    newer = push_ok(client, device, edit_of(body, 5, 1, description="Försök igen."), fresh)

    assert res == {"id": body["id"], "status": "gone"}
    assert [r["status"] for r in newer] == ["gone", "created"]
    assert stored(body["id"]) is None
    assert stored(fresh["id"]) is not None
    assert report_count() == 1
    assert db.session.get(Tombstone, uuid.UUID(body["id"])) is not None
