"""Helpers for the åtgärdsplan tests: propose an action, move it, read it back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from server.actions.models import Action, ActionEvent
from server.extensions import db
from tests.support.workspace import post, session_token

PLAN = "/workspace/atgardsplan"


def propose(client: FlaskClient, **fields: Any) -> TestResponse:
    """Post the new action form (a text and an owner unless given)."""
    form: dict[str, Any] = {"text": "Klipp buskarna vid gångvägen", "owner_kind": "kommun"}
    form.update(fields)
    return post(client, PLAN, form)


def action_id(resp: TestResponse) -> int:
    """Read the new action's id from the redirect to its page."""
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return int(resp.location.rstrip("/").rsplit("/", 1)[1])


def move(client: FlaskClient, number: int, status: str, **fields: Any) -> TestResponse:
    """Post a change of status."""
    return post(client, f"{PLAN}/{number}/status", {"status": status, **fields})


def move_with_file(
    client: FlaskClient, number: int, data: bytes, name: str = "efter.jpg", **fields: Any
) -> TestResponse:
    """Post klar with an after-photo (multipart)."""
    import io

    form: dict[str, Any] = {"status": "klar", "csrf_token": session_token(client), **fields}
    form["photo"] = (io.BytesIO(data), name)
    return client.post(f"{PLAN}/{number}/status", data=form, content_type="multipart/form-data")


def stored(number: int) -> Action:
    """Read an action afresh."""
    db.session.expire_all()
    found = db.session.get(Action, number)
    assert found is not None
    db.session.commit()
    return found


def events(number: int) -> list[dict[str, Any]]:
    """Read an action's timeline data, oldest first."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(ActionEvent).where(ActionEvent.action_id == number).order_by(ActionEvent.id)
    )
    out = [dict(e.data, kind=e.kind, actor=e.actor_id) for e in rows]
    db.session.commit()
    return out


def days(n: int) -> str:
    """Return the date n days from today (negative: in the past), YYYY-MM-DD."""
    return (date.today() + timedelta(days=n)).isoformat()
