"""Server-side workspace sessions and the failed-login counts kept in the database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.auth import sessions, throttle
from server.auth.models import LoginFailures, WorkspaceSession
from server.cli import main
from server.extensions import db
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    Clock,
    Scene,
    audit_actions,
    cheap_hashing,
    login,
    make_scene,
    post,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")
HOME = "/workspace/"


@pytest.fixture
def scene(app: Flask) -> Scene:
    """A scene with a coordinator."""
    return make_scene()


def logged_in(client: FlaskClient) -> bool:
    """Tell whether the client's session still opens the workspace."""
    resp = client.get(HOME)
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def from_address(app: Flask, address: str) -> FlaskClient:
    """Return a client whose requests come from this address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


# --- the brake: growing waits, expiry, invented names, addresses ----------------------------


def test_the_lock_doubles_with_each_further_failure_up_to_an_hour() -> None:
    limit = throttle.ACCOUNT_LIMIT
    assert throttle.lock_for(limit - 1, limit) is None
    waits = [throttle.lock_for(limit + i, limit) for i in range(9)]
    assert [w.total_seconds() / 60 for w in waits if w] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert throttle.lock_for(10_000, limit) == throttle.MAX_LOCK


def test_waits_grow_and_each_lock_expires_by_itself(client, scene: Scene, clock: Clock) -> None:
    for _ in range(4):
        assert login(client, scene.who, password="fel").status_code == 200
    assert login(client, scene.who, password="fel").status_code == 429  # 1 minute
    clock.advance(timedelta(seconds=61))
    assert login(client, scene.who, password="fel").status_code == 429  # now 2 minutes
    clock.advance(timedelta(seconds=119))
    assert login(client, scene.who).status_code == 429  # still locked, even when right
    clock.advance(timedelta(seconds=2))
    assert login(client, scene.who, password="fel").status_code == 429  # now 4 minutes
    clock.advance(timedelta(minutes=4, seconds=1))
    # No restart needed: the lock has run out, and the good login clears the count.
    assert login(client, scene.who).status_code == 302
    db.session.expire_all()
    assert db.session.get(LoginFailures, f"account:{scene.who.email}") is None


def test_a_flood_of_invented_names_cannot_reset_a_real_count(
    app: Flask, scene: Scene, clock: Clock
) -> None:
    client = from_address(app, "192.0.2.10")
    for _ in range(4):
        assert login(client, scene.who, password="fel").status_code == 200
    for i in range(300):  # from many addresses, so none of them locks
        throttle.record_failure(f"ghost{i}@example.se", f"198.51.100.{i % 250}", clock())
    assert login(client, scene.who, password="fel").status_code == 429


def test_old_rows_are_deleted_once_they_no_longer_matter(app: Flask, clock: Clock) -> None:
    for i in range(50):
        throttle.record_failure(f"ghost{i}@example.se", "198.51.100.1", clock())
    clock.advance(throttle.WINDOW + throttle.MAX_LOCK + timedelta(seconds=1))
    throttle.record_failure("new@example.se", "198.51.100.2", clock())
    keys = set(db.session.scalars(select(LoginFailures.key)))
    assert keys == {"account:new@example.se", "address:198.51.100.2"}


def test_invented_and_real_accounts_get_the_same_answers(app: Flask, scene: Scene) -> None:
    ghost = factories.Login(None, "ingen@example.se", "vad-som-helst-123")
    real = factories.Login(scene.who.person, scene.who.email, "fel-lösenord-123")
    answers = []
    for who, address in ((ghost, "192.0.2.1"), (real, "192.0.2.2")):
        client = from_address(app, address)
        answers.append(
            [login(client, who).get_data(as_text=True).count("Fel e-post") for _ in range(5)]
        )
    assert answers[0] == answers[1] == [1, 1, 1, 1, 0]
    # Only the real account's failures go to the audit log.
    assert audit_actions(scene.who.person.id).count(("login_failed", "")) == 5


def test_one_address_guessing_many_accounts_is_locked(
    app: Flask, scene: Scene, clock: Clock
) -> None:
    for i in range(throttle.ADDRESS_LIMIT):
        throttle.record_failure(f"guess{i}@example.se", "203.0.113.9", clock())
    assert login(from_address(app, "203.0.113.9"), scene.who).status_code == 429
    assert login(from_address(app, "203.0.113.10"), scene.who).status_code == 302


@pytest.mark.parametrize("hops", [0, 1])
def test_behind_a_trusted_proxy_the_brake_counts_the_forwarded_address(
    app: Flask, scene: Scene, clock: Clock, hops: int
) -> None:
    from server.app import create_app

    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "DATA_DIR", "SECRET_KEY", "LAGESBILD_ENV")
    proxied = create_app({**{k: app.config[k] for k in keys}, "PROXY_HOPS": hops})
    for i in range(throttle.ADDRESS_LIMIT):
        throttle.record_failure(f"guess{i}@example.se", "203.0.113.9", clock())

    def via_proxy(forwarded_for: str) -> int:
        client = proxied.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.0.1"  # the proxy
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
        return login(client, scene.who).status_code

    if hops:
        assert via_proxy("203.0.113.9") == 429  # the locked client, seen through the proxy
        assert via_proxy("203.0.113.10") == 302  # another client is not locked with it
    else:
        # Untrusted, the header changes nothing: the proxy's own address is counted.
        assert via_proxy("203.0.113.9") == 302


# --- the session on the server --------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_worthless_after_it(app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, scene.who)
    copied = client.get_cookie("session").value
    assert post(client, "/workspace/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not logged_in(thief)


def test_logout_everywhere_ends_every_session_of_the_person(app: Flask, scene: Scene) -> None:
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, scene.who)
    login(phone, scene.who)
    colleague = factories.make_person(scene.org)
    other = app.test_client()
    login(other, colleague)
    resp = post(phone, "/workspace/logout-everywhere")
    assert resp.status_code == 302 and resp.location.endswith("/workspace/login")
    assert not logged_in(laptop) and not logged_in(phone)
    assert logged_in(other)
    assert ("person.logout_everywhere", scene.who.email) in audit_actions(scene.who.person.id)


def test_a_partner_may_log_out_everywhere(app: Flask) -> None:
    s = make_scene("viewer")
    client = app.test_client()
    login(client, s.who)
    assert post(client, "/workspace/logout-everywhere").status_code == 302
    assert not logged_in(client)


def _cli(app: Flask, *args: str) -> dict:
    result = app.test_cli_runner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_cli_logout_everywhere(app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, scene.who)
    out = _cli(app, "user", "logout-everywhere", "--email", scene.who.email.upper())
    assert out["sessions_ended"] == 1 and out["email"] == scene.who.email
    assert not logged_in(client)


def test_cli_deactivate_ends_the_sessions_and_the_logins(app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, scene.who)
    out = _cli(app, "user", "deactivate", "--email", scene.who.email)
    assert out == {**out, "active": False, "sessions_ended": 1}
    assert not logged_in(client)
    assert login(app.test_client(), scene.who).status_code == 200  # refused, generic answer


def test_cli_set_role_ends_the_sessions(app: Flask, scene: Scene) -> None:
    client = app.test_client()
    login(client, scene.who)
    out = _cli(app, "user", "set-role", "--email", scene.who.email, "--role", "viewer")
    assert out["role"] == "viewer" and out["sessions_ended"] == 1
    assert not logged_in(client)
    again = app.test_client()
    login(again, scene.who)
    assert logged_in(again)  # a new login, with the new role
    same = _cli(app, "user", "set-role", "--email", scene.who.email, "--role", "viewer")
    assert same["sessions_ended"] == 0 and logged_in(again)  # nothing changed


def test_cli_refuses_an_unknown_person(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        main, ["user", "deactivate", "--email", "ingen@example.se", "--json"]
    )
    assert result.exit_code != 0 and "no person" in result.output


def test_a_session_ends_after_an_idle_hour(client, scene: Scene, clock: Clock) -> None:
    login(client, scene.who)
    clock.advance(timedelta(minutes=59))
    assert logged_in(client)  # used: the idle hour starts again
    clock.advance(timedelta(minutes=59))
    assert logged_in(client)
    clock.advance(timedelta(minutes=60, seconds=1))
    assert not logged_in(client)


def test_the_idle_limit_is_a_setting(app: Flask, client, scene: Scene, clock: Clock) -> None:
    app.config["SESSION_IDLE_MINUTES"] = 5
    login(client, scene.who)
    clock.advance(timedelta(minutes=5, seconds=1))
    assert not logged_in(client)


def test_last_seen_is_written_at_most_once_a_minute(client, scene: Scene, clock: Clock) -> None:
    login(client, scene.who)

    def last_seen() -> object:
        db.session.expire_all()
        return db.session.scalar(
            select(func.max(WorkspaceSession.last_seen_at)).where(
                WorkspaceSession.person_id == scene.who.person.id
            )
        )

    first = last_seen()
    clock.advance(timedelta(seconds=30))
    assert logged_in(client) and last_seen() == first
    clock.advance(sessions.TOUCH_EVERY)
    assert logged_in(client) and last_seen() == clock()


def test_the_session_table_keeps_no_usable_id(client, scene: Scene) -> None:
    login(client, scene.who)
    with client.session_transaction() as sess:
        sid = sess["sid"]
    stored = db.session.scalars(select(WorkspaceSession.id_hash)).all()
    assert len(stored) == 1 and sid not in stored
