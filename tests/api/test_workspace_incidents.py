"""The night view, the incident list (filters, sorting) and an incident's detail and decisions."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select

from server.extensions import db
from server.incidents import areas
from server.incidents.models import AuditEntry, Incident, IncidentEvent
from server.reports.models import Report
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    PULL,
    Scene,
    audit_actions,
    cheap_hashing,
    login,
    make_scene,
    post,
    push,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

CENTRUM = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Centrum", "code": "centrum"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [13.20, 55.63],
                        [13.22, 55.63],
                        [13.22, 55.645],
                        [13.20, 55.645],
                        [13.20, 55.63],
                    ]
                ],
            },
        }
    ],
}


@pytest.fixture
def scene(app: Flask) -> Scene:
    return make_scene()


@pytest.fixture
def logged_in(client, scene: Scene):
    assert login(client, scene.who).status_code == 302
    return client


def incident_of(report_id: str) -> uuid.UUID:
    db.session.expire_all()
    found = db.session.get(Report, uuid.UUID(report_id)).incident_id
    db.session.commit()
    return found


def rows_of(html: str) -> list[str]:
    """Return the incident ids of a list page, in order."""
    return re.findall(r'data-incident="([0-9a-f-]{36})"', html)


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


# --- the night view -------------------------------------------------------------------------


def test_night_view_lists_last_nights_incidents(app: Flask, client, scene: Scene) -> None:
    # A fire on the same night from a night walker, and an older report.
    walker = factories.make_device(scene.org, kind="nattvandrare")
    fire = factories.night_report(
        23,
        15,
        category="brand",
        description="Containerbrand bakom skolan.",
        location={"lat": 55.6600, "lon": 13.2500, "accuracy_m": 5.0},
        place="Skolan",
    )
    old = factories.report(
        created_at=(datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds"),
        description="Gammal rapport.",
        place="Torget",
        location={"lat": 55.6700, "lon": 13.2600, "accuracy_m": 5.0},
    )
    push(client, walker, fire)
    push(client, scene.device, old)
    login(client, scene.who)
    html = text(client.get("/workspace/"))
    ids = rows_of(html)
    assert set(ids) == {str(scene.first), str(scene.second), str(incident_of(fire["id"]))}
    assert ids[0] == str(incident_of(fire["id"]))  # urgent first
    assert "Brådskande" in html  # the urgent marker is text, not only colour
    assert "Skadegörelse" in html and "Brister i miljön" in html and "Brand" in html
    assert "Busskuren Malmövägen" in html and "Gångvägen vid skolan" in html
    assert "väktare" in html and "nattvandrare" in html
    assert "Ny" in html
    # Reporters appear by kind only: never a device's (or a person's) name.
    assert scene.device.device.display_name not in html
    assert walker.device.display_name not in html
    assert str(incident_of(old["id"])) not in html
    # The incident list (last seven days by default) has the old one too.
    assert str(incident_of(old["id"])) in rows_of(text(client.get("/workspace/incidents")))


def test_night_view_shows_report_counts_and_area(app: Flask, client, scene: Scene) -> None:
    areas.import_areas(scene.org.id, CENTRUM, code_property="code")
    login(client, scene.who)
    html = text(client.get("/workspace/"))
    row = html[html.index(f'data-incident="{scene.first}"') :]
    row = row[: row.index("</tr>")]
    assert "Centrum" in row
    assert re.search(r'class="num">2', row)


def test_an_empty_night_says_so(client, app: Flask) -> None:
    org = factories.make_org()
    who = factories.make_person(org)
    login(client, who)
    html = text(client.get("/workspace/"))
    assert "Inga händelser rapporterades under natten" in html
    assert rows_of(html) == []


def test_other_nights_can_be_browsed(logged_in, scene: Scene) -> None:
    html = text(logged_in.get("/workspace/"))
    previous = re.search(r'href="/workspace/\?night=([0-9-]{10})" rel="prev"', html).group(1)
    older = text(logged_in.get(f"/workspace/?night={previous}"))
    assert rows_of(older) == []
    assert "Senaste natten" in older


def test_the_workspace_speaks_english_on_request(logged_in, scene: Scene) -> None:
    resp = logged_in.get("/workspace/?lang=en")
    html = text(resp)
    assert '<html lang="en">' in html
    assert "Vandalism" in html and "Night" in html and "security guard" in html
    assert any(c.startswith("lang=en") for c in resp.headers.getlist("Set-Cookie"))
    # The cookie keeps the choice.
    assert '<html lang="en">' in text(logged_in.get("/workspace/incidents"))
    assert '<html lang="sv">' in text(logged_in.get("/workspace/incidents?lang=sv"))


def test_the_browser_language_is_used_without_a_choice(logged_in, scene: Scene) -> None:
    english = text(logged_in.get("/workspace/", headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert '<html lang="en">' in english
    other = text(logged_in.get("/workspace/", headers={"Accept-Language": "fi"}))
    assert '<html lang="sv">' in other


# --- the incident list: filters and sorting --------------------------------------------------


def test_filters(app: Flask, client, scene: Scene) -> None:
    areas.import_areas(scene.org.id, CENTRUM, code_property="code")
    walker = factories.make_device(scene.org, kind="nattvandrare")
    samling = factories.night_report(
        21,
        0,
        category="samling",
        description="Tio ungdomar vid kiosken.",
        location={"lat": 55.6800, "lon": 13.3000, "accuracy_m": 5.0},
        place="Kiosken",
    )
    push(client, walker, samling)
    third = incident_of(samling["id"])
    login(client, scene.who)
    post(client, f"/workspace/incidents/{scene.second}/status", {"status": "bedomd"})
    post(client, f"/workspace/incidents/{third}/responsible", {"responsible": "polis"})

    def ids(query: str) -> set[str]:
        return set(rows_of(text(client.get(f"/workspace/incidents?{query}"))))

    everything = {str(scene.first), str(scene.second), str(third)}
    assert ids("") == everything
    assert ids("category=samling") == {str(third)}
    assert ids("category=samling&category=miljo") == {str(third), str(scene.second)}
    assert ids("status=bedomd") == {str(scene.second)}
    assert ids("status=ny") == {str(scene.first), str(third)}
    assert ids("responsible=polis") == {str(third)}
    assert ids("kind=nattvandrare") == {str(third)}
    assert ids("kind=vaktare") == {str(scene.first), str(scene.second)}
    area = db.session.scalar(select(Incident.area_id).where(Incident.id == scene.first))
    assert area is not None
    assert ids(f"area={area}") == {str(scene.first)}
    # The time window: only the report at 22:00 (local time) is after 21:30.
    night_start = factories.last_night_at(18)
    day = night_start.date().isoformat()
    assert ids(f"from={day}T21:30&to={day}T23:59") == {str(scene.second)}
    assert ids(f"from={day}&to={day}") == everything
    assert ids(f"from={day}T18:00&to={day}T20:15") == {str(scene.first)}
    # The form shows what was chosen.
    html = text(client.get("/workspace/incidents?category=samling&status=ny"))
    assert '<option value="samling" selected>' in html
    assert '<option value="ny" selected>' in html


def test_sorting(app: Flask, client, scene: Scene) -> None:
    login(client, scene.who)

    def order(sort: str) -> list[str]:
        return rows_of(text(client.get(f"/workspace/incidents?sort={sort}")))

    first, second = str(scene.first), str(scene.second)
    assert order("time") == [first, second]
    assert order("-time") == [second, first]
    assert order("reports") == [first, second]  # two reports before one
    assert order("category") == [second, first]  # miljo before skadegorelse
    post(client, f"/workspace/incidents/{scene.first}/status", {"status": "bedomd"})
    assert order("status") == [first, second]  # bedomd before ny


BAD_QUERIES = [
    "from=igår&to=idag",
    "from=2026-13-45",
    "from=9999-12-31&to=9999-12-31",
    "from=0001-01-01",
    "from=2026-11-21T25:61",
    "to=2026-01-01&from=2026-02-01",
    "from=1999-01-01&to=2099-01-01",
    "category=<script>alert(1)</script>",
    "area=x&area=-1&area=99999999999999999999",
    "status=öppen&responsible=kungen&kind=robot",
    "sort=DROP TABLE incidents",
    "sort=",
    "lang=xx",
    "night=2026-02-30",
    "night=0000-00-00",
    "night=99999-01-01",
    "from=" + "9" * 5000,
    "category=" + "x" * 5000,
    "from=2026-11-21T18:00:00%2B05:00",
    "from=%00&to=%ff",
]


@pytest.mark.parametrize(
    "page", ["/workspace/", "/workspace/incidents", "/workspace/export/incidents.csv"]
)
def test_bad_filters_never_break_a_page(logged_in, scene: Scene, page: str) -> None:
    for query in BAD_QUERIES:
        resp = logged_in.get(f"{page}?{query}")
        assert resp.status_code == 200, query
        if page == "/workspace/incidents":
            assert "<script>alert(1)</script>" not in resp.get_data(as_text=True)


def test_bad_dates_are_explained(logged_in, scene: Scene) -> None:
    html = text(logged_in.get("/workspace/incidents?from=igår"))
    assert "Datumet kunde inte läsas" in html
    html = text(logged_in.get("/workspace/incidents?from=2026-02-01&to=2026-01-01"))
    assert "Från-tiden måste vara före till-tiden" in html
    html = text(logged_in.get("/workspace/incidents?status=öppen"))
    assert "Okända filtervärden har ignorerats" in html


# --- an incident ----------------------------------------------------------------------------


def _jpeg(seed: int = 1) -> bytes:
    img = Image.new("RGB", (64, 48), (seed * 40 % 255, 30, 60))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def test_detail_shows_reports_photos_timeline_and_is_audited(app: Flask, client) -> None:
    org = factories.make_org()
    who = factories.make_person(org)
    dev = factories.make_device(org, kind="faltare")
    data = _jpeg()
    digest = hashlib.sha256(data).hexdigest()
    missing = "f" * 64
    body = factories.night_report(
        19, 0, description="Taggar på <b>väggen</b>.", photos=[digest, missing]
    )
    push(client, dev, body)
    up = client.put(
        f"/api/v1/photos/{digest}", data=data, content_type="image/jpeg", headers=dev.headers
    )
    assert up.status_code == 201
    incident_id = incident_of(body["id"])
    login(client, who)
    html = text(client.get(f"/workspace/incidents/{incident_id}"))
    assert "Taggar på &lt;b&gt;väggen&lt;/b&gt;." in html  # escaped, never markup
    assert "fältare" in html and dev.device.display_name not in html
    assert f"/workspace/photos/{digest}?size=thumb" in html
    assert f"/workspace/photos/{digest}?size=full" in html
    assert "Fotot är inte uppladdat än" in html
    assert "automatiskt" in html and "Händelsen skapades" in html
    assert "visas för de enheter som har rapporterat" in html  # said next to the comment form
    assert 'id="incident-map" class="incident-map" data-lat="55.6398"' in html
    assert ("incident.view", str(incident_id)) in audit_actions(who.person.id)
    # The photo is served to the organisation's people, with safe headers.
    for size in ("thumb", "display", "full"):
        photo = client.get(f"/workspace/photos/{digest}?size={size}")
        assert photo.status_code == 200
        assert photo.mimetype == "image/jpeg"
        assert photo.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in photo.headers["Content-Security-Policy"]
    assert client.get(f"/workspace/photos/{digest}?size=huge").status_code == 404
    assert client.get(f"/workspace/photos/{missing}").status_code == 404


def test_photos_of_another_organisation_are_not_served(app: Flask, client) -> None:
    org = factories.make_org()
    dev = factories.make_device(org)
    data = _jpeg(2)
    digest = hashlib.sha256(data).hexdigest()
    push(client, dev, factories.night_report(19, 0, photos=[digest]))
    client.put(
        f"/api/v1/photos/{digest}", data=data, content_type="image/jpeg", headers=dev.headers
    )
    stranger = factories.make_person(factories.make_org())
    login(client, stranger)
    assert client.get(f"/workspace/photos/{digest}?size=thumb").status_code == 404


def test_photos_need_a_login(client, scene: Scene) -> None:
    resp = client.get("/workspace/photos/" + "a" * 64)
    assert resp.status_code == 302 and "/workspace/login" in resp.location


def device_pull(client, dev: factories.EnrolledDevice) -> dict[str, dict]:
    resp = client.get(PULL, headers=dev.headers)
    assert resp.status_code == 200
    return {r["id"]: r for r in resp.get_json()["reports"]}


def test_status_change_reaches_the_reports_and_the_devices(logged_in, scene: Scene) -> None:
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/status", {"status": "atgard_pagar"})
    assert resp.status_code == 302 and resp.location.endswith(str(scene.first))
    html = text(logged_in.get(resp.location))
    assert "Status sparad" in html
    assert "Status ändrad från Ny till Åtgärd pågår" in html
    assert scene.who.email in html  # the actor in the timeline
    pulled = device_pull(logged_in, scene.device)
    assert {pulled[r]["status"] for r in scene.first_reports} == {"atgard_pagar"}
    assert pulled[scene.second_report]["status"] == "ny"


def test_unknown_status_is_a_message_not_an_error(logged_in, scene: Scene) -> None:
    before = snapshot(scene)
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/status", {"status": "klar"})
    assert resp.status_code == 302
    assert "Okänd status" in text(logged_in.get(resp.location))
    assert snapshot(scene) == before


def test_responsible(logged_in, scene: Scene) -> None:
    url = f"/workspace/incidents/{scene.first}/responsible"
    post(logged_in, url, {"responsible": "bostadsbolag"})
    db.session.expire_all()
    assert db.session.get(Incident, scene.first).responsible == "bostadsbolag"
    html = text(logged_in.get(f"/workspace/incidents/{scene.first}"))
    assert "Bostadsbolag/fastighetsägare" in html
    post(logged_in, url, {"responsible": ""})
    db.session.expire_all()
    assert db.session.get(Incident, scene.first).responsible is None
    resp = post(logged_in, url, {"responsible": "kungen"})
    assert "Okänd ansvarig" in text(logged_in.get(resp.location))


def test_comment_reaches_every_reporting_device(logged_in, scene: Scene) -> None:
    resp = post(
        logged_in,
        f"/workspace/incidents/{scene.first}/comment",
        {"body": "Fastighetsägaren är larmad."},
    )
    html = text(logged_in.get(resp.location))
    assert "Fastighetsägaren är larmad." in html
    assert "Kommentaren är skickad" in html
    pulled = device_pull(logged_in, scene.device)
    for rid in scene.first_reports:
        assert [c["body"] for c in pulled[rid]["comments"]] == ["Fastighetsägaren är larmad."]


@pytest.mark.parametrize(
    ("body", "expected"), [("   ", "Skriv en kommentar först"), ("x" * 4001, "för lång")]
)
def test_bad_comments_are_messages(logged_in, scene: Scene, body: str, expected: str) -> None:
    before = snapshot(scene)
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/comment", {"body": body})
    assert resp.status_code == 302
    assert expected in text(logged_in.get(resp.location))
    assert snapshot(scene) == before


@pytest.mark.parametrize("how", ["pick", "paste_id", "paste_url"])
def test_merge(logged_in, scene: Scene, how: str) -> None:
    form = {
        "pick": {"source": str(scene.second)},
        "paste_id": {"source_id": str(scene.second).upper()},
        "paste_url": {"source_id": f"http://localhost/workspace/incidents/{scene.second}"},
    }[how]
    page = text(logged_in.get(f"/workspace/incidents/{scene.first}"))
    assert f'<option value="{scene.second}">' in page  # offered as a candidate
    # The first press asks for confirmation (tests/api/test_workspace_merge.py); confirmed:
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/merge", {**form, "confirm": "yes"})
    assert resp.location.endswith(str(scene.first))
    db.session.expire_all()
    assert db.session.get(Incident, scene.second) is None
    assert db.session.get(Incident, scene.first).report_count == 3
    assert incident_of(scene.second_report) == scene.first
    html = text(logged_in.get(resp.location))
    assert "Händelserna är ihopslagna" in html
    assert "slogs ihop hit (1 rapporter)" in html
    # The merged-away incident's link (e.g. in this morning's digest) leads to where its
    # reports went.
    gone = logged_in.get(f"/workspace/incidents/{scene.second}")
    assert gone.status_code == 302 and gone.location.endswith(f"/incidents/{scene.first}")
    assert logged_in.get(f"/workspace/incidents/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("self", "Det är samma händelse"),
        ("missing", "finns inte (längre)"),
        ("garbage", "Ange ett giltigt händelse-id"),
        ("empty", "Ange ett giltigt händelse-id"),
    ],
)
def test_merge_errors_are_messages(logged_in, scene: Scene, source: str, expected: str) -> None:
    value = {
        "self": str(scene.first),
        "missing": str(uuid.uuid4()),
        "garbage": "inte ett id",
        "empty": "",
    }[source]
    before = snapshot(scene)
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/merge", {"source_id": value})
    assert resp.status_code == 302
    assert expected in text(logged_in.get(resp.location))
    assert snapshot(scene) == before


def test_split(logged_in, scene: Scene) -> None:
    moved = scene.first_reports[1]
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/reports/{moved}/split")
    assert resp.location.endswith(str(scene.first))
    new = incident_of(moved)
    assert new not in (scene.first, scene.second)
    html = text(logged_in.get(resp.location))
    assert f"egen händelse ({str(new)[:8]})" in html
    assert f"flyttades till händelse {str(new)[:8]}" in html
    db.session.expire_all()
    assert db.session.get(Incident, scene.first).report_count == 1
    # A report alone in its incident cannot be split again.
    again = post(logged_in, f"/workspace/incidents/{new}/reports/{moved}/split")
    assert "redan ensam" in text(logged_in.get(again.location))


def test_split_or_move_of_a_report_of_another_incident_is_refused(logged_in, scene: Scene) -> None:
    before = snapshot(scene)
    url = f"/workspace/incidents/{scene.first}/reports/{scene.second_report}"
    resp = post(logged_in, f"{url}/split")
    assert "hör inte längre till den här händelsen" in text(logged_in.get(resp.location))
    resp = post(logged_in, f"{url}/move", {"target": str(scene.first)})
    assert "hör inte längre till den här händelsen" in text(logged_in.get(resp.location))
    assert snapshot(scene) == before


def test_move(logged_in, scene: Scene) -> None:
    moved = scene.first_reports[1]
    resp = post(
        logged_in,
        f"/workspace/incidents/{scene.first}/reports/{moved}/move",
        {"target": str(scene.second)},
    )
    assert resp.location.endswith(str(scene.first))
    assert incident_of(moved) == scene.second
    assert "Rapporten är flyttad" in text(logged_in.get(resp.location))
    # Moving the last report away follows it to its new incident.
    last = scene.first_reports[0]
    resp = post(
        logged_in,
        f"/workspace/incidents/{scene.first}/reports/{last}/move",
        {"target_id": str(scene.second)},
    )
    assert resp.location.endswith(str(scene.second))
    db.session.expire_all()
    assert db.session.get(Incident, scene.first) is None
    assert db.session.get(Incident, scene.second).report_count == 3
    kinds = [
        e.kind
        for e in db.session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == scene.second)
        )
    ]
    assert kinds.count("moved_in") == 2


@pytest.mark.parametrize(
    "form",
    [{}, {"target": "nej"}, {"target_id": str(uuid.uuid4())}, {"target": ""}],
)
def test_bad_move_targets_are_messages(logged_in, scene: Scene, form: dict) -> None:
    before = snapshot(scene)
    resp = post(
        logged_in, f"/workspace/incidents/{scene.first}/reports/{scene.first_reports[1]}/move", form
    )
    assert resp.status_code == 302
    html = text(logged_in.get(resp.location))
    assert "giltigt händelse-id" in html or "finns inte (längre)" in html
    assert snapshot(scene) == before


def test_decisions_on_a_vanished_incident_go_back_to_the_list(logged_in, scene: Scene) -> None:
    gone = uuid.uuid4()
    resp = post(logged_in, f"/workspace/incidents/{gone}/status", {"status": "bedomd"})
    assert resp.status_code == 302 and resp.location == "/workspace/incidents"
    assert "finns inte (längre)" in text(logged_in.get(resp.location))


def test_list_views_are_audited(logged_in, scene: Scene) -> None:
    logged_in.get("/workspace/incidents?category=brand")
    logged_in.get("/workspace/")
    actions = audit_actions(scene.who.person.id)
    assert ("incidents.list", actions[-2][1]) in actions
    assert "category=brand" in actions[-2][1]
    assert actions[-1][0] == "night.view"
    db.session.expire_all()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.org_id == scene.org.id and entry.person_id == scene.who.person.id


# --- nothing a client sends gives a 500 -----------------------------------------------------


FUZZ_VALUES = [
    "",
    "x",
    "0",
    "-1",
    "null",
    "ny\x00",
    "'; DROP TABLE incidents; --",
    "<script>alert(1)</script>",
    "ö" * 300,
    "9" * 400,
    str(uuid.uuid4()),
    "../../etc/passwd",
]


def test_fuzzed_forms_never_give_a_500(logged_in, scene: Scene) -> None:
    for value in FUZZ_VALUES:
        _fuzz(logged_in, scene, value)


def _fuzz(client, scene: Scene, value: str) -> None:
    base = f"/workspace/incidents/{scene.first}"
    report = scene.first_reports[1]
    for url, field in (
        (f"{base}/status", "status"),
        (f"{base}/responsible", "responsible"),
        (f"{base}/comment", "body"),
        (f"{base}/merge", "source"),
        (f"{base}/merge", "source_id"),
        (f"{base}/reports/{report}/move", "target"),
        (f"{base}/reports/{report}/move", "target_id"),
        ("/workspace/login", "email"),
    ):
        resp = post(client, url, {field: value})
        assert resp.status_code < 500, (url, field, value, resp.status_code)
    for url in (
        f"/workspace/incidents/{value}",
        f"/workspace/photos/{value}",
        f"/workspace/?night={value}",
        f"/workspace/incidents?from={value}&to={value}&sort={value}&area={value}",
        f"/workspace/export/reports.csv?from={value}&category={value}",
        f"/workspace/export/incidents.geojson?to={value}&kind={value}",
    ):
        assert client.get(url).status_code < 500, url


def test_an_oversized_form_is_a_clear_html_error(logged_in, scene: Scene) -> None:
    """Workspace forms are small; a huge body is refused before anything is parsed."""
    resp = post(logged_in, f"/workspace/incidents/{scene.first}/comment", {"body": "x" * 2_000_000})
    assert resp.status_code == 413
    assert resp.mimetype == "text/html"
