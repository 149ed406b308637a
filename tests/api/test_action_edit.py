"""Editing an action ("Ändra"): the new action's rules, the timeline, who may, what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from server.actions import service as actions
from server.actions.schemas import action_in
from server.audit.models import AuditEntry
from server.audit.service import CLI
from server.extensions import db
from tests.support import factories
from tests.support.actions import PLAN, action_id, days, events, move, propose, stored
from tests.support.sharing import SharedScene, make_shared_scene
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Scene,
    cheap_hashing,
    login,
    make_scene,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

FORM = {
    "text": "Klipp buskarna vid gångvägen",
    "owner_kind": "kommun",
    "owner_name": "",
    "priority": "normal",
    "due_date": "",
}


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


def edit(client: FlaskClient, number: int, **fields: Any) -> TestResponse:
    """Post the edit form: the proposed action's values with `fields` changed."""
    return post(client, f"{PLAN}/{number}/edit", {**FORM, **fields})


def _audits(action: str) -> list[str]:
    """Return the audit log's targets of one action kind."""
    db.session.expire_all()
    found = list(db.session.scalars(select(AuditEntry.target).where(AuditEntry.action == action)))
    db.session.commit()
    return found


def test_the_page_offers_the_edit_form_prefilled(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator, priority="hog", due_date=days(10)))
    page = coordinator.get(f"{PLAN}/{number}").get_data(as_text=True)
    assert f'action="{PLAN}/{number}/edit"' in page and "Ändra" in page
    assert 'id="action-edit-text"' in page and "Klipp buskarna vid gångvägen</textarea>" in page
    assert f'value="{days(10)}"' in page
    assert '<option value="hog" selected>' in page
    assert "Spara ändringar" in page


def test_an_edit_changes_the_action_and_goes_on_its_timeline(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator))
    resp = edit(
        coordinator,
        number,
        text="Klipp buskarna och byt lampan",
        owner_kind="fastighetsagare",
        owner_name="Bostadsbolaget",
        priority="hog",
        due_date=days(30),
    )
    assert resp.status_code == 302 and resp.location.endswith(f"{PLAN}/{number}")
    action = stored(number)
    assert (action.text, action.owner_kind, action.owner_name, action.priority) == (
        "Klipp buskarna och byt lampan",
        "fastighetsagare",
        "Bostadsbolaget",
        "hog",
    )
    assert action.due_date.isoformat() == days(30) and action.status == "foreslagen"
    edited = events(number)[-1]
    assert edited["kind"] == "edited" and edited["actor"] is not None
    assert edited["changes"] == {
        "text": ["Klipp buskarna vid gångvägen", "Klipp buskarna och byt lampan"],
        "owner_kind": ["kommun", "fastighetsagare"],
        "owner_name": ["", "Bostadsbolaget"],
        "priority": ["normal", "hog"],
        "due_date": [None, days(30)],
    }
    assert _audits("action.edit") == [f"{number} text,owner_kind,owner_name,priority,due_date"]
    page = coordinator.get(resp.location).get_data(as_text=True)
    assert "Åtgärden är ändrad." in page
    assert (
        "ändrad: texten, ägare Kommunen → Fastighetsägare, enhet eller företag – → Bostadsbolaget,"
        f" prioritet Normal → Hög, klart senast – → {days(30)}"
    ) in page


def test_an_edit_that_changes_nothing_records_nothing(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator))
    resp = edit(coordinator, number)
    assert resp.status_code == 302
    assert [e["kind"] for e in events(number)] == ["created"]
    assert _audits("action.edit") == []
    assert "Inget ändrades." in coordinator.get(resp.location).get_data(as_text=True)


def test_a_past_due_date_is_taken_as_the_new_action_form_takes_it(
    coordinator: FlaskClient,
) -> None:
    # The new action form does not refuse a date in the past; neither does the edit,
    # and the action is then overdue.
    number = action_id(propose(coordinator))
    assert edit(coordinator, number, due_date=days(-3)).status_code == 302
    assert stored(number).due_date.isoformat() == days(-3)
    assert 'id="action-overdue"' in coordinator.get(f"{PLAN}/{number}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "   "}, "Beskriv åtgärden"),
        ({"text": "x" * 2001}, "högst 2000 tecken"),
        ({"owner_name": "y" * 201}, "högst 200 tecken"),
        ({"owner_kind": "granne"}, "Välj vem som äger"),
        ({"priority": "akut"}, "Välj en prioritet"),
        ({"priority": ""}, "Välj en prioritet"),
        ({"due_date": "7 december"}, "ÅÅÅÅ-MM-DD"),
        ({"due_date": "2026-02-30"}, "ÅÅÅÅ-MM-DD"),
    ],
)
def test_a_refused_edit_shows_the_page_again_with_the_reason_and_the_input(
    coordinator: FlaskClient, fields: dict[str, str], message: str
) -> None:
    number = action_id(propose(coordinator))
    sent = {"owner_name": "Gatukontoret", **fields}
    resp = edit(coordinator, number, **sent)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert message in body and 'id="action-edit-error"' in body
    # The form is open again with what was typed.
    assert '<details class="propose action-edit" id="action-edit" open>' in body
    if "owner_name" not in fields:
        assert 'value="Gatukontoret"' in body
    action = stored(number)
    assert (action.text, action.owner_name, action.priority) == (
        "Klipp buskarna vid gångvägen",
        "",
        "normal",
    )
    assert [e["kind"] for e in events(number)] == ["created"]


@pytest.mark.parametrize(
    ("steps", "extra"),
    [(("beslutad", "pagar", "klar"), {"done_date": days(-1)}), (("avslagen",), {"reason": "Nej"})],
)
def test_a_closed_action_is_not_edited(
    coordinator: FlaskClient, steps: tuple[str, ...], extra: dict[str, str]
) -> None:
    number = action_id(propose(coordinator))
    for status in steps:
        assert move(coordinator, number, status, **extra).status_code == 302
    assert stored(number).status == steps[-1]
    page = coordinator.get(f"{PLAN}/{number}").get_data(as_text=True)
    assert f"{PLAN}/{number}/edit" not in page
    resp = edit(coordinator, number, text="Något annat")
    assert resp.status_code == 400
    assert "kan inte längre ändras" in resp.get_data(as_text=True)
    assert stored(number).text == "Klipp buskarna vid gångvägen"
    assert "edited" not in [e["kind"] for e in events(number)]


def test_a_missing_action_or_one_beyond_the_column_is_404(coordinator: FlaskClient) -> None:
    assert edit(coordinator, 999_999).status_code == 404
    assert edit(coordinator, 2**31).status_code == 404
    # Bad values do not turn a missing action into a form error.
    assert edit(coordinator, 999_999, text="").status_code == 404


def test_an_edit_without_the_csrf_token_is_refused(coordinator: FlaskClient) -> None:
    number = action_id(propose(coordinator))
    resp = coordinator.post(f"{PLAN}/{number}/edit", data={**FORM, "text": "Utan token"})
    assert resp.status_code == 400
    assert stored(number).text == "Klipp buskarna vid gångvägen"


def test_edit_action_refuses_another_organisations_action(app: Flask, scene: Scene) -> None:
    other = factories.make_org("Annan kommun")
    number = actions.create(other.id, action_in("Annans åtgärd", "kommun"), CLI).id
    with pytest.raises(LookupError):
        actions.edit_action(scene.org.id, number, action_in("Kapad", "kommun"), CLI)
    assert stored(number).text == "Annans åtgärd"


@pytest.fixture
def shared(app: Flask) -> SharedScene:
    """Four organisations and their agreements (tests/support/sharing.py)."""
    return make_shared_scene()


@pytest.mark.parametrize(
    ("who", "sees", "changes"),
    [
        ("own-coordinator", 200, 302),
        ("own-admin", 200, 302),
        ("own-viewer", 200, 403),
        ("own-analyst", 403, 403),
        ("partner-coordinator", 200, 404),
        ("partner-viewer", 404, 403),
        ("unrelated-coordinator", 404, 404),
        ("logged-out", 302, 302),
    ],
)
def test_who_may_edit_an_action(
    app: Flask, shared: SharedScene, who: str, sees: int, changes: int
) -> None:
    # The guard company's action, shared with the municipality in full.
    number = actions.create(
        shared.vakt.org.id,
        action_in("VAKTTEXT", "kommun", incident_ids=[str(shared.vakt.incidents["skadegorelse"])]),
        CLI,
    ).id
    party, role = who.split("-") if who != "logged-out" else ("", "")
    may = party == "own" and role in ("coordinator", "admin")
    client = app.test_client()
    if party:
        name = {"own": "vakt", "partner": "kommun", "unrelated": "annan"}[party]
        assert login(client, shared.party(name).persons[role]).status_code == 302
    else:
        client.get("/workspace/login")
    page = client.get(f"{PLAN}/{number}")
    assert page.status_code == sees
    if sees == 200:
        # Only the owner's editors get the form.
        shows_form = f"{PLAN}/{number}/edit" in page.get_data(as_text=True)
        assert shows_form == may
    resp = edit(client, number, text="Ändrad av någon")
    assert resp.status_code == changes
    if who == "logged-out":
        assert resp.location.startswith("/workspace/login")
    # Bad values answer the same: nothing about the action leaks through a form error.
    assert edit(client, number, text="").status_code == (400 if may else changes)
    expected = "Ändrad av någon" if may else "VAKTTEXT"
    assert stored(number).text == expected
