"""POST /api/v1/sync/push: a bad report is rejected alone and readably; bad requests too."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from server.categories.models import Category
from server.devices import service as devices
from server.extensions import db
from server.incidents import feedback
from tests.support import factories
from tests.support.envelope import assert_error
from tests.support.push import (
    HASH_A,
    HASH_B,
    HASH_C,
    PUSH,
    add_photo,
    assert_readable,
    edit_of,
    flat_messages,
    now_local,
    push_ok,
    push_one,
    report_count,
    snapshot,
    stored,
)

# --- rejected ------------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    body = factories.report()
    del body[key]
    return body


def _naive_created_at() -> dict[str, Any]:
    naive = (now_local() - timedelta(minutes=5)).replace(tzinfo=None)
    return factories.report(created_at=naive.isoformat(timespec="seconds"))


def _in_hours(hours: int) -> str:
    return (now_local() + timedelta(hours=hours)).isoformat(timespec="seconds")


def _location(**changes: Any) -> dict[str, Any]:
    return factories.report(location={"lat": 55.6, "lon": 13.2, "accuracy_m": 5.0, **changes})


# (name, report, field paths that must carry a readable error)
REJECTIONS: list[tuple[str, Any, list[tuple[str, ...]]]] = [
    ("id not a UUID", lambda: factories.report(id="not-a-uuid"), [("id",)]),
    ("id empty", lambda: factories.report(id=""), [("id",)]),
    ("id a number", lambda: factories.report(id=12345), [("id",)]),
    ("id missing", lambda: _without("id"), [("id",)]),
    ("created_at missing", lambda: _without("created_at"), [("created_at",)]),
    ("created_at without offset", _naive_created_at, [("created_at",)]),
    ("created_at text", lambda: factories.report(created_at="igår kväll"), [("created_at",)]),
    ("created_at > 24 h ahead", lambda: factories.report(created_at=_in_hours(25)),
     [("created_at",)]),
    ("created_at before 2000", lambda: factories.report(created_at="1999-12-31T23:59:59+00:00"),
     [("created_at",)]),
    ("created_at 1970", lambda: factories.report(created_at="1970-01-01T00:00:00+01:00"),
     [("created_at",)]),
    ("updated_at > 24 h ahead", lambda: factories.report(updated_at=_in_hours(30)),
     [("updated_at",)]),
    ("category unknown", lambda: factories.report(category="ufo"), [("category",)]),
    ("category missing", lambda: _without("category"), [("category",)]),
    ("lat 91", lambda: _location(lat=91), [("location", "lat")]),
    ("lat -91", lambda: _location(lat=-91), [("location", "lat")]),
    ("lon 181", lambda: _location(lon=181), [("location", "lon")]),
    ("lon -181", lambda: _location(lon=-181), [("location", "lon")]),
    ("accuracy negative", lambda: _location(accuracy_m=-1), [("location", "accuracy_m")]),
    ("lat a 400-digit int", lambda: _location(lat=10**400), [("location", "lat")]),
    ("location a list", lambda: factories.report(location=[55.6, 13.2]), [("location",)]),
    ("severity 0", lambda: factories.report(severity=0), [("severity",)]),
    ("severity 4", lambda: factories.report(severity=4), [("severity",)]),
    ('severity "2"', lambda: factories.report(severity="2"), [("severity",)]),
    ("severity true", lambda: factories.report(severity=True), [("severity",)]),
    ("severity 2.5", lambda: factories.report(severity=2.5), [("severity",)]),
    ("people_count -1", lambda: factories.report(people_count=-1), [("people_count",)]),
    ("people_count 1.5", lambda: factories.report(people_count=1.5), [("people_count",)]),
    ("people_count true", lambda: factories.report(people_count=True), [("people_count",)]),
    ("description 4001", lambda: factories.report(description="x" * 4001), [("description",)]),
    ("description a number", lambda: factories.report(description=42), [("description",)]),
    ("place 201", lambda: factories.report(place="x" * 201), [("place",)]),
    ("photo not hex", lambda: factories.report(photos=["not-a-hash"]), [("photos",)]),
    ("photo short hex", lambda: factories.report(photos=["abc123"]), [("photos",)]),
    ("photo 64 non-hex", lambda: factories.report(photos=["g" * 64]), [("photos",)]),
    ("photo a number", lambda: factories.report(photos=[5]), [("photos",)]),
    ("photos not a list", lambda: factories.report(photos=HASH_A), [("photos",)]),
    ("photos null", lambda: factories.report(photos=None), [("photos",)]),
    ("photo listed twice", lambda: factories.report(photos=[HASH_A, HASH_B, HASH_A]),
     [("photos",)]),
    ("21 photos", lambda: factories.report(photos=[f"{i:064x}" for i in range(21)]),
     [("photos",)]),
    ("revision -1", lambda: factories.report(revision=-1), [("revision",)]),
    ("revision true", lambda: factories.report(revision=True), [("revision",)]),
    ("three errors at once",
     lambda: factories.report(severity=7, category="ufo", location={"lat": 100, "lon": 0}),
     [("severity",), ("category",), ("location", "lat")]),
]  # fmt: skip


def test_each_invalid_report_is_rejected_alone_with_readable_field_errors(client, device):
    good_before, good_after = factories.report(), factories.report()
    bad = [make() for _name, make, _paths in REJECTIONS]

    results = push_ok(client, device, good_before, *bad, good_after)

    assert results[0]["status"] == "created"
    assert results[-1]["status"] == "created"
    problems = []
    for (name, _make, paths), body, res in zip(REJECTIONS, bad, results[1:-1], strict=True):
        expected_id = body.get("id") if isinstance(body.get("id"), str) else None
        if res.get("status") != "rejected" or set(res) != {"id", "status", "errors"}:
            problems.append(f"{name}: not rejected: {res}")
            continue
        if res["id"] != expected_id:
            problems.append(f"{name}: id {res['id']!r} != {expected_id!r}")
        for path in paths:
            try:
                assert_readable(res["errors"], *path)
            except AssertionError:
                problems.append(f"{name}: no readable error at {path}: {res['errors']}")
    assert problems == []
    # Only the two valid reports were stored.
    assert report_count() == 2
    assert stored(good_before["id"]) is not None
    assert stored(good_after["id"]) is not None


def test_report_that_is_not_an_object_is_rejected_alone(client, device):
    items: list[Any] = [5, "x", None, [], True, 1.5, [factories.report()]]
    good = factories.report()

    results = push_ok(client, device, *items, good)

    for item, res in zip(items, results[:-1], strict=True):
        assert res["status"] == "rejected", (item, res)
        assert res["id"] is None
        messages = flat_messages(res["errors"])
        assert messages and all(isinstance(m, str) and m.strip() for m in messages), res
    assert results[-1]["status"] == "created"
    assert report_count() == 1


def test_non_finite_numbers_in_a_raw_body_are_rejected(client, device):
    bodies = []
    for i in range(3):
        body = factories.report()
        body["location"] = {"lat": f"@@{i}@@", "lon": 13.2}
        bodies.append(body)
    raw = json.dumps({"reports": bodies})
    for i, special in enumerate(["NaN", "Infinity", "-Infinity"]):
        raw = raw.replace(f'"@@{i}@@"', special)
    assert "NaN" in raw and "-Infinity" in raw

    resp = client.post(PUSH, data=raw, content_type="application/json", headers=device.headers)

    assert resp.status_code == 200, resp.get_data(as_text=True)
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    for res in results:
        assert_readable(res["errors"], "location", "lat")
    assert report_count() == 0


def test_inactive_category_is_rejected(client, device):
    db.session.execute(update(Category).where(Category.code == "brand").values(active=False))
    db.session.commit()
    body = factories.report(category="brand")

    results = push_ok(client, device, body, factories.report(category="miljo"))

    assert results[0]["status"] == "rejected"
    assert_readable(results[0]["errors"], "category")
    assert results[1]["status"] == "created"
    assert stored(body["id"]) is None


def test_resend_of_a_stored_report_survives_the_retirement_of_its_category(client, device):
    body = factories.report(category="brand")
    assert push_one(client, device, body)["status"] == "created"
    db.session.execute(update(Category).where(Category.code == "brand").values(active=False))
    db.session.commit()

    again = push_one(client, device, body)

    assert again["status"] == "duplicate", again
    assert report_count() == 1


def test_edit_without_updated_at_is_never_acknowledged_and_dropped(client, device):
    body = factories.report(description="Klotter")
    assert push_one(client, device, body)["status"] == "created"

    same = push_one(client, device, body)
    losing = push_one(client, device, dict(body, description="Kaffe"))  # loses the tie
    winning = push_one(client, device, dict(body, description="Klotter, nu sanerat"))

    assert same["status"] == "duplicate"
    assert losing["status"] == "rejected", losing
    assert_readable(losing["errors"], "updated_at")
    assert winning["status"] == "updated", winning
    assert stored(body["id"]).description == "Klotter, nu sanerat"


def test_chunked_push_over_the_byte_limit_is_413(app, client, device):
    app.config["MAX_PUSH_BYTES"] = 2000
    raw = json.dumps({"reports": [factories.report() for _ in range(20)]}).encode()

    resp = client.post(
        PUSH,
        input_stream=io.BytesIO(raw),
        content_type="application/json",
        headers=device.headers,
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_error(resp, 413, "payload_too_large")
    assert report_count() == 0


def test_extra_keys_in_location_are_ignored(client, device):
    loc = {"lat": 55.64, "lon": 13.2, "accuracy_m": 8, "altitude": 31.0, "heading": None}
    body = factories.report(location=loc)

    result = push_one(client, device, body)

    assert result["status"] == "created", result
    assert (stored(body["id"]).lat, stored(body["id"]).lon) == (55.64, 13.2)


def test_invalid_edit_of_a_stored_report_leaves_it_unchanged(client, device):
    body = factories.report()
    push_one(client, device, body)
    before = snapshot(body["id"])

    res = push_one(client, device, edit_of(body, 5, 1, description="x" * 5000))

    assert res["status"] == "rejected"
    assert snapshot(body["id"]) == before


# --- coordinator-owned status ---------------------------------------------------------------


def test_device_cannot_change_the_coordinator_status(client, device):
    body = factories.report()
    push_one(client, device, body)
    feedback.set_status(uuid.UUID(body["id"]), "bedomd")

    res = push_one(
        client, device, edit_of(body, 5, 1, description="Uppdaterad.", status="avslutad")
    )

    assert res["status"] == "updated", res
    row = stored(body["id"])
    assert row.status == "bedomd"
    assert row.description == "Uppdaterad."


def test_unknown_keys_in_a_new_report_are_ignored(client, device):
    body = factories.report(status="avslutad", version=99, device_id=12345, extra={"a": 1})

    res = push_one(client, device, body)

    assert res["status"] == "created"
    assert res["version"] == 1
    row = stored(body["id"])
    assert row.status == "ny"
    assert row.version == 1
    assert row.device_id == device.device.id


# --- ids owned by other devices -------------------------------------------------------------


def test_id_used_by_another_device_is_rejected_and_original_untouched(client, org, device):
    same_org = factories.make_device(org)
    other_org = factories.make_device(factories.make_org())
    body = factories.report(description="Min rapport.")
    push_one(client, device, body)
    before = snapshot(body["id"])

    for other in (same_org, other_org):
        hijack = edit_of(body, 10, 5, description="Kapad!", place="Annanstans")
        for attempt in (hijack, body):
            res = push_one(client, other, attempt)
            assert res["status"] == "rejected", res
            assert res["id"] == body["id"]
            assert_readable(res["errors"], "id")

    assert snapshot(body["id"]) == before
    assert before["device_id"] == device.device.id
    assert report_count() == 1


def test_id_of_another_devices_deleted_report_is_rejected(client, org, device):
    other = factories.make_device(org)
    body = factories.report()
    push_one(client, device, body)
    feedback.delete_report(uuid.UUID(body["id"]), "erasure")

    res = push_one(client, other, body)

    assert res["status"] == "rejected"
    assert_readable(res["errors"], "id")
    assert stored(body["id"]) is None


# --- missing photos -----------------------------------------------------------------------


def test_missing_photos_are_listed_until_uploaded_to_the_own_organisation(client, device):
    add_photo(factories.make_org().id, HASH_B)  # another organisation's copy does not count
    body = factories.report(photos=[HASH_A, HASH_B])

    first = push_one(client, device, body)
    assert first["status"] == "created"
    assert first["missing_photos"] == [HASH_A, HASH_B]

    add_photo(device.device.org_id, HASH_A)
    again = push_one(client, device, body)
    assert again["status"] == "duplicate"
    assert again["missing_photos"] == [HASH_B]

    add_photo(device.device.org_id, HASH_B)
    assert push_one(client, device, body)["missing_photos"] == []


def test_missing_photos_follow_the_merged_photo_list(client, device):
    add_photo(device.device.org_id, HASH_A)
    body = factories.report(photos=[HASH_A])
    assert push_one(client, device, body)["missing_photos"] == []

    res = push_one(client, device, edit_of(body, 5, 1, photos=[HASH_A, HASH_C]))

    assert res["status"] == "updated"
    assert res["missing_photos"] == [HASH_C]
    assert stored(body["id"]).photos == [HASH_A, HASH_C]


# --- authentication ---------------------------------------------------------------------------


def test_push_without_a_bearer_token_is_401_missing_token(client, device):
    resp = client.post(PUSH, json={"reports": [factories.report()]})
    assert_error(resp, 401, "missing_token")
    assert "Bearer" in resp.headers.get("WWW-Authenticate", "")

    for header in ["", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"]:
        resp = client.post(
            PUSH, json={"reports": [factories.report()]}, headers={"Authorization": header}
        )
        assert resp.status_code == 401, header
        assert resp.get_json()["error"]["code"] == "missing_token", header
    assert report_count() == 0


def test_push_with_an_unknown_token_is_401_invalid_token(client, device):
    resp = client.post(
        PUSH,
        json={"reports": [factories.report()]},
        headers={"Authorization": "Bearer lbd_" + "x" * 43},
    )

    assert_error(resp, 401, "invalid_token")
    assert "Bearer" in resp.headers.get("WWW-Authenticate", "")
    assert report_count() == 0


def test_push_of_a_revoked_device_is_401_device_revoked(client, device):
    body = factories.report()
    push_one(client, device, body)
    devices.revoke(device.device.id)

    resp = client.post(PUSH, json={"reports": [factories.report()]}, headers=device.headers)

    assert_error(resp, 401, "device_revoked")
    assert resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert report_count() == 1
    assert stored(body["id"]).device_id == device.device.id


# --- request-level errors ---------------------------------------------------------------------


def test_batch_over_the_report_limit_is_413_too_many_reports(app, client, device):
    app.config["MAX_BATCH_REPORTS"] = 3

    resp = client.post(
        PUSH, json={"reports": [factories.report() for _ in range(4)]}, headers=device.headers
    )

    error = assert_error(resp, 413, "too_many_reports")
    assert error.get("details", {}).get("limit") == 3
    assert report_count() == 0
    assert len(push_ok(client, device, *[factories.report() for _ in range(3)])) == 3
    assert report_count() == 3


def test_default_limits_are_500_reports_and_5_mib(app, client, device):
    assert app.config["MAX_BATCH_REPORTS"] == 500
    assert app.config["MAX_PUSH_BYTES"] == 5 * 1024 * 1024

    resp = client.post(PUSH, json={"reports": [{}] * 501}, headers=device.headers)

    assert_error(resp, 413, "too_many_reports")
    assert len(push_ok(client, device, *([{}] * 500))) == 500


def test_body_over_the_byte_limit_is_413_payload_too_large(app, client, device):
    app.config["MAX_PUSH_BYTES"] = 2048

    big = [factories.report(description="å" * 600) for _ in range(3)]
    resp = client.post(PUSH, json={"reports": big}, headers=device.headers)

    assert_error(resp, 413, "payload_too_large")
    assert report_count() == 0
    assert push_one(client, device, factories.report())["status"] == "created"


def test_invalid_json_is_400_invalid_json(client, device):
    for data in ["{not json", "", "reports=1", '{"reports": [}', b"\xff\xfe\xfd"]:
        resp = client.post(PUSH, data=data, content_type="application/json", headers=device.headers)
        assert resp.status_code == 400, data
        assert_error(resp, 400, "invalid_json")


def test_body_without_a_reports_list_is_400_invalid_request(client, device):
    bodies = [{"reports": {}}, [], {}, {"reports": None}, {"reports": "x"}, {"report": []}, 5, "x"]
    for body in bodies:
        resp = client.post(PUSH, json=body, headers=device.headers)
        assert resp.status_code == 400, body
        assert_error(resp, 400, "invalid_request")


def test_get_on_push_is_405_in_the_envelope(client, device):
    resp = client.get(PUSH, headers=device.headers)

    assert_error(resp, 405)
    assert "POST" in resp.headers.get("Allow", "")


def test_deeply_nested_json_body_is_a_client_error(client, device):
    depth = 100_000
    raw = '{"reports": [' + "[" * depth + "]" * depth + "]}"

    resp = client.post(PUSH, data=raw, content_type="application/json", headers=device.headers)

    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)[:300]
    assert_error(resp, resp.status_code)


def test_nul_character_in_text_never_gives_a_server_error(client, device):
    reports = [
        factories.report(description="Klotter\x00på busskuren"),
        factories.report(place="Busskuren\x00Malmövägen"),
    ]

    resp = client.post(PUSH, json={"reports": reports}, headers=device.headers)

    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    for res in resp.get_json()["results"]:
        assert res["status"] in {"created", "rejected"}


def test_lone_surrogate_in_text_never_gives_a_server_error(client, device):
    body = factories.report(description="@@S@@")
    raw = json.dumps({"reports": [body]}).replace("@@S@@", "\\ud800")

    resp = client.post(PUSH, data=raw, content_type="application/json", headers=device.headers)

    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["results"][0]["status"] in {"created", "rejected"}
