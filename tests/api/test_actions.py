"""The åtgärdsplan's rules through the workspace: create, transitions, refusals, photos."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.actions.models import Action, ActionIncident, ActionReport
from server.audit.models import AuditEntry
from server.extensions import db
from tests.support.actions import (
    PLAN,
    action_id,
    days,
    events,
    move,
    move_with_file,
    propose,
    stored,
)
from tests.support.photos import jpeg, sha
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
    session_token,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")


@pytest.fixture
def scene(app: Flask) -> Scene:
    """An organisation with a coordinator and two incidents of last night."""
    return make_scene("coordinator")


@pytest.fixture
def coordinator(app: Flask, scene: Scene) -> FlaskClient:
    """A logged-in coordinator of the scene's organisation."""
    client = app.test_client()
    assert login(client, scene.who).status_code == 302
    return client


def _count() -> int:
    """Count every action."""
    db.session.expire_all()
    n = db.session.scalar(select(func.count()).select_from(Action)) or 0
    db.session.commit()
    return n


def test_an_action_is_proposed_from_an_incident_and_a_report(
    coordinator: FlaskClient, scene: Scene
) -> None:
    number = action_id(
        propose(
            coordinator,
            incident_id=str(scene.first),
            report_id=scene.second_report,
            owner_kind="fastighetsagare",
            owner_name="Bostadsbolaget, fastighetsskötsel",
            priority="hog",
            due_date=days(14),
        )
    )
    action = stored(number)
    assert (action.status, action.owner_kind, action.priority) == (
        "foreslagen",
        "fastighetsagare",
        "hog",
    )
    assert action.owner_name == "Bostadsbolaget, fastighetsskötsel"
    links = db.session.scalars(select(ActionIncident.incident_id)).all()
    assert links == [scene.first]
    assert [str(r) for r in db.session.scalars(select(ActionReport.report_id))] == [
        scene.second_report
    ]
    assert events(number)[0]["new"] == "foreslagen"
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "action.create"))
    page = coordinator.get(f"{PLAN}/{number}").get_data(as_text=True)
    assert "Bostadsbolaget, fastighetsskötsel" in page and "föreslagen" in page
    # The incident's page lists it.
    incident = coordinator.get(f"/workspace/incidents/{scene.first}").get_data(as_text=True)
    assert f"{PLAN}/{number}" in incident and "Föreslå åtgärd" in incident


def test_an_action_without_a_source_is_made_on_the_plan_page(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator, text="Ny belysning i parken"))
    assert stored(number).text == "Ny belysning i parken"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "x" * 2001}, "högst 2000 tecken"),
        ({"text": "   "}, "Beskriv åtgärden"),
        ({"owner_name": "y" * 201}, "högst 200 tecken"),
        ({"owner_kind": "granne"}, "Välj vem som äger"),
        ({"priority": "akut"}, "Välj en prioritet"),
        ({"due_date": "7 december"}, "ÅÅÅÅ-MM-DD"),
        ({"incident_id": "00000000-0000-0000-0000-000000000001"}, "finns inte"),
        ({"report_id": "inte-ett-id"}, "finns inte"),
    ],
)
def test_a_refused_action_shows_the_form_again_with_the_reason(
    coordinator: FlaskClient, fields: dict[str, str], message: str
) -> None:
    resp = propose(coordinator, **fields)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert message in body and 'id="action-error"' in body
    assert _count() == 0


def test_another_organisations_report_or_incident_is_refused_as_unknown(
    app: Flask, coordinator: FlaskClient
) -> None:
    other = make_scene("coordinator")
    for fields in ({"incident_id": str(other.first)}, {"report_id": other.second_report}):
        resp = propose(coordinator, **fields)
        assert resp.status_code == 400
        assert "finns inte" in resp.get_data(as_text=True)
    assert _count() == 0


def test_the_workflow_goes_forward_one_step_at_a_time(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator, due_date=days(-3)))
    # Skipping a step is refused, and nothing changes.
    resp = move(coordinator, number, "pagar")
    assert resp.status_code == 302
    assert stored(number).status == "foreslagen"
    assert "kan inte gå till den statusen" in coordinator.get(resp.location).get_data(as_text=True)
    for status in ("beslutad", "pagar"):
        assert move(coordinator, number, status).status_code == 302
        assert stored(number).status == status
    assert stored(number).decided_at is not None
    # klar wants its date.
    move(coordinator, number, "klar")
    assert stored(number).status == "pagar"
    move(coordinator, number, "klar", done_date=days(0))
    action = stored(number)
    assert (action.status, action.done_date.isoformat()) == ("klar", days(0))
    changes = [(e.get("old"), e["new"]) for e in events(number)]
    assert changes == [
        (None, "foreslagen"),
        ("foreslagen", "beslutad"),
        ("beslutad", "pagar"),
        ("pagar", "klar"),
    ]
    assert all(e["actor"] is not None for e in events(number))
    # klar is final.
    move(coordinator, number, "avslagen", reason="Ångrat")
    assert stored(number).status == "klar"


def test_avslagen_needs_a_reason_and_is_final(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator))
    resp = move(coordinator, number, "avslagen")
    assert resp.status_code == 302
    assert stored(number).status == "foreslagen"
    page = coordinator.get(resp.location).get_data(as_text=True)
    assert "Ange varför åtgärden avslås" in page
    move(coordinator, number, "avslagen", reason="Fastigheten rivs i vår.")
    action = stored(number)
    assert (action.status, action.reason) == ("avslagen", "Fastigheten rivs i vår.")
    move(coordinator, number, "beslutad")
    assert stored(number).status == "avslagen"
    assert events(number)[-1]["reason"] == "Fastigheten rivs i vår."


def test_an_unknown_status_or_bad_date_is_a_message_not_an_error(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator))
    for fields in ({"status": "borttagen"}, {"status": "klar", "done_date": "igår"}):
        resp = coordinator.post(
            f"{PLAN}/{number}/status", data={**fields, "csrf_token": session_token(coordinator)}
        )
        assert resp.status_code == 302
    assert stored(number).status == "foreslagen"


def _to_pagar(client: FlaskClient) -> int:
    """Propose an action and move it to pågår."""
    number = action_id(propose(client))
    move(client, number, "beslutad")
    move(client, number, "pagar")
    return number


def test_klar_takes_an_after_photo_shown_as_a_thumbnail(
    app: Flask, coordinator: FlaskClient
) -> None:
    number = _to_pagar(coordinator)
    data = jpeg(seed=7)
    resp = move_with_file(coordinator, number, data, done_date=days(0))
    assert resp.status_code == 302
    action = stored(number)
    assert (action.status, action.after_photo) == ("klar", sha(data))
    page = coordinator.get(f"{PLAN}/{number}").get_data(as_text=True)
    thumb = f"/workspace/photos/{sha(data)}?size=thumb"
    assert thumb in page
    shown = coordinator.get(thumb)
    assert shown.status_code == 200 and shown.mimetype.startswith("image/")
    # Another organisation's coordinator cannot open it.
    stranger = app.test_client()
    login(stranger, make_scene("coordinator").who)
    assert stranger.get(thumb).status_code == 404


def test_an_after_photo_that_is_not_an_image_is_refused(coordinator: FlaskClient) -> None:
    number = _to_pagar(coordinator)
    resp = move_with_file(
        coordinator, number, b"%PDF-1.4 not a photo", name="efter.pdf", done_date=days(0)
    )
    assert resp.status_code == 302
    action = stored(number)
    assert (action.status, action.after_photo) == ("pagar", None)
    assert "ingen bild" in coordinator.get(resp.location).get_data(as_text=True)


def test_a_change_of_a_missing_action_is_404(coordinator: FlaskClient) -> None:
    assert move(coordinator, 999_999, "beslutad").status_code == 404
    assert coordinator.get(f"{PLAN}/999999").status_code == 404


def test_an_action_id_beyond_the_column_is_404(coordinator: FlaskClient) -> None:
    huge = 2**63
    assert coordinator.get(f"{PLAN}/{huge}").status_code == 404
    assert move(coordinator, huge, "beslutad").status_code == 404


def test_a_refused_move_stores_no_after_photo(coordinator: FlaskClient) -> None:
    from server.photos.models import Photo

    number = action_id(propose(coordinator))
    resp = move_with_file(coordinator, number, jpeg(seed=9), done_date=days(0))
    assert resp.status_code == 302
    assert stored(number).status == "foreslagen"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    db.session.commit()


@pytest.mark.parametrize("failure", ["full", "unreachable"])
def test_an_after_photo_the_storage_cannot_take_now_changes_nothing_and_says_so(
    coordinator: FlaskClient, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    # From the review: a full disk read "not an image", an unreachable bucket a JSON 503.
    from server.actions import service as action_service
    from server.domain_errors import StorageFull
    from server.photos.service import storage_unavailable
    from server.photos.storage import StorageUnavailable

    def refuse(org_id: int, data: bytes) -> str:
        if failure == "full":
            raise StorageFull("storage_full", "no room")
        raise storage_unavailable(StorageUnavailable("bucket down"))

    monkeypatch.setattr(action_service, "store_after_photo", refuse)
    number = _to_pagar(coordinator)
    resp = move_with_file(coordinator, number, b"\xff\xd8 any", name="efter.jpg", done_date=days(0))
    assert resp.status_code == 302
    assert stored(number).status == "pagar"
    page = coordinator.get(resp.location).get_data(as_text=True)
    assert "kunde inte sparas just nu" in page and "ingen bild" not in page


def test_erasing_a_report_keeps_an_after_photo_of_the_same_picture(
    app: Flask, coordinator: FlaskClient, scene: Scene
) -> None:
    # From the review: erasure forgot a photo no report named, though an action showed it.
    import uuid

    from server.privacy.erasure import erase_report
    from tests.support import factories
    from tests.support.photos import push, put

    data = jpeg(seed=11)
    phone = app.test_client()
    assert put(phone, scene.device, data).status_code in (200, 201)
    report = factories.report(photos=[sha(data)])
    push(phone, scene.device, report)
    number = _to_pagar(coordinator)
    assert move_with_file(coordinator, number, data, done_date=days(0)).status_code == 302
    assert stored(number).after_photo == sha(data)
    erase_report(uuid.UUID(report["id"]), "erasure")
    db.session.commit()
    shown = coordinator.get(f"/workspace/photos/{sha(data)}?size=thumb")
    assert shown.status_code == 200


def test_an_action_follows_its_incident_into_a_merge_and_freezes_it(
    coordinator: FlaskClient, scene: Scene
) -> None:
    # From the review: merging the action's incident away silently dropped the link.
    from server.incidents import service as incidents
    from server.incidents.models import Incident

    number = action_id(propose(coordinator, incident_id=str(scene.first)))
    both = action_id(
        propose(coordinator, incident_id=str(scene.first), report_id=scene.second_report)
    )
    db.session.add(ActionIncident(action_id=both, incident_id=scene.second))
    db.session.commit()
    # Made from the incident: the grouping no longer moves (and so never empties) it.
    assert db.session.get(Incident, scene.first).frozen
    incidents.merge(scene.org.id, scene.second, scene.first, None)
    links = db.session.execute(select(ActionIncident.action_id, ActionIncident.incident_id))
    assert sorted(links.all()) == sorted([(number, scene.second), (both, scene.second)])
