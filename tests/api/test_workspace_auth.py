"""Workspace logins: sessions, cookie flags, the login brake, CSRF and the role matrix."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from flask import Flask

from server.app import create_app
from server.auth import throttle
from server.auth.models import Person
from server.extensions import db
from server.incidents.models import Incident
from tests.support import factories
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    LOGIN,
    Clock,
    Scene,
    audit_actions,
    cheap_hashing,
    csrf_from,
    login,
    make_scene,
    post,
    session_token,
    snapshot,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")

# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def scene(app: Flask) -> Scene:
    """A scene with a coordinator."""
    return make_scene()


def post_routes(s: Scene) -> dict[str, tuple[str, dict[str, str]]]:
    """Every state-changing workspace route with a valid form for the scene."""
    base = f"/workspace/incidents/{s.first}"
    return {
        "status": (f"{base}/status", {"status": "bedomd"}),
        "responsible": (f"{base}/responsible", {"responsible": "polis"}),
        "comment": (f"{base}/comment", {"body": "Vi har sett det."}),
        "merge": (f"{base}/merge", {"source": str(s.second), "confirm": "yes"}),
        "split": (f"{base}/reports/{s.first_reports[1]}/split", {}),
        "move": (f"{base}/reports/{s.first_reports[1]}/move", {"target": str(s.second)}),
    }


ROUTES = ("status", "responsible", "comment", "merge", "split", "move")


# --- login and logout -----------------------------------------------------------------------


def test_login_page_is_swedish_html_with_a_csrf_token(client) -> None:
    resp = client.get(LOGIN)
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "Logga in" in html and 'for="email"' in html and 'for="password"' in html
    assert csrf_from(html)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_pages_redirect_to_the_login_and_back_afterwards(client, scene: Scene) -> None:
    resp = client.get("/workspace/incidents?category=brand")
    assert resp.status_code == 302
    assert resp.location.startswith("/workspace/login?next=")
    assert "category" in resp.location
    page = client.get(resp.location)
    html = page.get_data(as_text=True)
    assert 'name="next" value="/workspace/incidents?category=brand"' in html
    done = client.post(
        LOGIN,
        data={
            "email": scene.who.email,
            "password": scene.who.password,
            "next": "/workspace/incidents?category=brand",
            "csrf_token": csrf_from(html),
        },
    )
    assert done.status_code == 302
    assert done.location == "/workspace/incidents?category=brand"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/workspace",
        "/api/v1/sync/pull",
        "/\\evil.example",
        "/workspace/\r\nSet-Cookie: pid=1",
        "/workspace/\x00",
        "javascript:alert(1)",
    ],
)
def test_login_never_redirects_outside_the_workspace(client, scene: Scene, target: str) -> None:
    html = client.get(LOGIN).get_data(as_text=True)
    resp = client.post(
        LOGIN,
        data={
            "email": scene.who.email,
            "password": scene.who.password,
            "next": target,
            "csrf_token": csrf_from(html),
        },
    )
    assert resp.status_code == 302
    assert resp.location == "/workspace/"


def test_login_then_logout(client, scene: Scene) -> None:
    resp = login(client, scene.who)
    assert resp.status_code == 302 and resp.location == "/workspace/"
    page = client.get("/workspace/")
    assert page.status_code == 200
    assert scene.who.email in page.get_data(as_text=True)
    out = post(client, "/workspace/logout")
    assert out.status_code == 302 and out.location == "/workspace/login"
    assert "Du är utloggad" in client.get("/workspace/login").get_data(as_text=True)
    assert client.get("/workspace/").status_code == 302
    actions = [a for a, _ in audit_actions(scene.who.person.id)]
    assert actions[0] == "login" and actions[-1] == "logout"


def test_email_is_matched_without_case_or_spaces(client, scene: Scene) -> None:
    who = factories.Login(scene.who.person, f"  {scene.who.email.upper()} ", scene.who.password)
    assert login(client, who).status_code == 302


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "empty"])
def test_a_failed_login_says_only_wrong_email_or_password(client, scene: Scene, case: str) -> None:
    who = {
        "wrong_password": factories.Login(None, scene.who.email, "fel-lösenord-123"),
        "unknown_email": factories.Login(None, "ingen@example.se", scene.who.password),
        "empty": factories.Login(None, "", ""),
    }[case]
    resp = login(client, who)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Fel e-post eller lösenord" in html
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    assert client.get("/workspace/").status_code == 302


def test_a_failed_login_of_an_account_is_audited(client, scene: Scene) -> None:
    login(client, scene.who, password="fel-lösenord-123")
    assert audit_actions(scene.who.person.id) == [("login_failed", "")]


def test_login_rotates_the_session(client, scene: Scene) -> None:
    client.get(LOGIN)
    with client.session_transaction() as sess:
        before = sess["csrf_token"]
        sess["planted"] = "by an attacker"
    login(client, scene.who)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == str(scene.who.person.id)
        assert sess["csrf_token"] != before
        assert sess.permanent


def test_inactive_or_deleted_persons_lose_their_session(client, scene: Scene) -> None:
    login(client, scene.who)
    assert client.get("/workspace/").status_code == 200
    person = db.session.get(Person, scene.who.person.id)
    person.active = False
    db.session.commit()
    assert client.get("/workspace/").status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess


def test_a_session_ends_after_its_lifetime_even_when_used(
    client, scene: Scene, clock: Clock
) -> None:
    login(client, scene.who)
    for _ in range(12 * 2):  # a request every half hour keeps it from idling out
        clock.advance(timedelta(minutes=30))
        assert client.get("/workspace/").status_code == 200
    clock.advance(timedelta(seconds=5))
    resp = client.get("/workspace/")
    assert resp.status_code == 302 and resp.location.startswith("/workspace/login")


# --- the login brake ------------------------------------------------------------------------


def test_five_failures_lock_the_address_even_for_the_right_password(
    client, app: Flask, scene: Scene, clock: Clock
) -> None:
    for _ in range(4):
        assert "Fel e-post" in login(client, scene.who, password="fel").get_data(as_text=True)
    fifth = login(client, scene.who, password="fel")
    assert fifth.status_code == 429
    assert "För många misslyckade inloggningar" in fifth.get_data(as_text=True)
    right = login(client, scene.who)
    assert right.status_code == 429
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    # Another address is not affected.
    other = factories.make_person(scene.org)
    assert login(app.test_client(), other).status_code == 302
    # After the lock the right password works again.
    clock.advance(throttle.FIRST_LOCK + timedelta(seconds=1))
    assert login(client, scene.who).status_code == 302


def test_failures_spread_beyond_the_window_do_not_lock(client, scene: Scene, clock: Clock) -> None:
    for _ in range(8):
        login(client, scene.who, password="fel")
        clock.advance(throttle.WINDOW + timedelta(seconds=1))
    assert login(client, scene.who).status_code == 302


def test_unknown_addresses_lock_the_same_way(client, app: Flask) -> None:
    """The brake never tells an existing account from an invented one."""
    ghost = factories.Login(None, "ingen@example.se", "vad-som-helst-123")
    statuses = [login(client, ghost).status_code for _ in range(6)]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_a_good_login_forgets_earlier_failures(
    client, app: Flask, scene: Scene, clock: Clock
) -> None:
    for _ in range(4):
        assert login(client, scene.who, password="fel").status_code == 200
    assert login(client, scene.who).status_code == 302
    other = app.test_client()
    for _ in range(4):
        assert login(other, scene.who, password="fel").status_code == 200
    assert login(other, scene.who, password="fel").status_code == 429


# --- cookies --------------------------------------------------------------------------------


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(client, scene: Scene) -> None:
    cookie = _session_cookie(login(client, scene.who))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # testing runs over plain http
    assert "Expires=" in cookie  # a permanent session with a lifetime


def test_session_cookie_is_secure_in_production(
    app: Flask, scene: Scene, database_url: str, tmp_path
) -> None:
    prod = create_app(
        {
            "LAGESBILD_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "SQLALCHEMY_DATABASE_URI": database_url,
            "DATA_DIR": str(tmp_path / "prod-data"),
        }
    )
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert prod.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    try:
        with prod.test_client() as pc:
            cookie = _session_cookie(login(pc, scene.who))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        with prod.app_context():
            db.engine.dispose()


def test_development_and_testing_cookies_are_not_secure(app: Flask) -> None:
    assert app.config["SESSION_COOKIE_SECURE"] is False


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_every_change_without_the_csrf_token_is_refused(
    client, scene: Scene, route: str, token: str
) -> None:
    login(client, scene.who)
    url, form = post_routes(scene)[route]
    before = snapshot(scene)
    if token == "wrong":
        form = {**form, "csrf_token": "x" * 43}
    resp = client.post(url, data=form)
    assert resp.status_code == 400
    assert resp.mimetype == "text/html"
    assert "säkerhetstoken" in resp.get_data(as_text=True)
    assert snapshot(scene) == before


def test_login_and_logout_need_the_csrf_token_too(client, scene: Scene) -> None:
    resp = client.post(LOGIN, data={"email": scene.who.email, "password": scene.who.password})
    assert resp.status_code == 400
    with client.session_transaction() as sess:
        assert "_user_id" not in sess
    login(client, scene.who)
    assert client.post("/workspace/logout").status_code == 400
    assert client.get("/workspace/").status_code == 200  # still logged in


def test_the_csrf_token_may_come_in_a_header(client, scene: Scene) -> None:
    login(client, scene.who)
    url, form = post_routes(scene)["status"]
    resp = client.post(url, data=form, headers={"X-CSRF-Token": session_token(client)})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, scene.first).status == "bedomd"


def test_a_token_of_another_session_is_refused(client, app: Flask, scene: Scene) -> None:
    other = app.test_client()
    other.get(LOGIN)
    foreign = session_token(other)
    login(client, scene.who)
    url, form = post_routes(scene)["status"]
    assert client.post(url, data={**form, "csrf_token": foreign}).status_code == 400


# --- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "admin", "viewer"])
@pytest.mark.parametrize("route", ROUTES)
def test_permission_matrix(client, app: Flask, role: str, route: str) -> None:
    scene = make_scene(role)
    login(client, scene.who)
    url, form = post_routes(scene)[route]
    before = snapshot(scene)
    resp = post(client, url, form)
    if role == "viewer":
        assert resp.status_code == 403
        assert resp.mimetype == "text/html"
        assert "läsbehörighet" in resp.get_data(as_text=True)
        assert snapshot(scene) == before
    else:
        assert resp.status_code == 302
        assert snapshot(scene) != before


@pytest.mark.parametrize("role", ["coordinator", "admin", "viewer"])
def test_every_role_may_read(client, app: Flask, role: str) -> None:
    scene = make_scene(role)
    login(client, scene.who)
    for url in (
        "/workspace/",
        "/workspace/incidents",
        f"/workspace/incidents/{scene.first}",
    ):
        assert client.get(url).status_code == 200, url
    # A viewer reads incidents but exports nothing (server.workspace.access).
    exported = 403 if role == "viewer" else 200
    for url in (
        "/workspace/export/incidents.csv",
        "/workspace/export/reports.csv",
        "/workspace/export/incidents.geojson",
    ):
        assert client.get(url).status_code == exported, url
    page = client.get(f"/workspace/incidents/{scene.first}").get_data(as_text=True)
    if role == "viewer":
        assert "/status" not in page and "(läsare)" in page
        assert "/export/" not in page
    else:
        assert f"/workspace/incidents/{scene.first}/status" in page


def test_a_partner_may_still_log_out(client, app: Flask) -> None:
    scene = make_scene("viewer")
    login(client, scene.who)
    assert post(client, "/workspace/logout").status_code == 302
    assert client.get("/workspace/").status_code == 302


# --- error pages ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/workspace/no-such-page", 404),
        ("/workspace/incidents/not-a-uuid", 404),
        ("/workspace/incidents/3f1e0c1a-0000-4000-8000-00000000dead", 404),
        ("/workspace/photos/" + "a" * 64, 404),
        ("/workspace/photos/xyz", 404),
        ("/workspace/logout", 405),
    ],
)
def test_workspace_errors_are_html_pages(client, scene: Scene, url: str, status: int) -> None:
    login(client, scene.who)
    resp = client.get(url)
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert "<main" in html and '<html lang="sv">' in html
    assert '"error"' not in html


def test_api_errors_keep_the_json_envelope(client) -> None:
    resp = client.get("/api/v1/no-such-endpoint")
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"


def test_an_incident_of_another_organisation_is_not_found(client, scene: Scene) -> None:
    other = make_scene()
    login(client, scene.who)
    assert client.get(f"/workspace/incidents/{other.first}").status_code == 404
    before = snapshot(other)
    for route in ROUTES:
        url, form = post_routes(other)[route]
        resp = post(client, url, form)
        assert resp.status_code in (302, 404), (route, resp.status_code)
    assert snapshot(other) == before
    # Nor can another organisation's incident be merged or moved into one's own.
    post(
        client,
        f"/workspace/incidents/{scene.first}/merge",
        {"source": str(other.first), "confirm": "yes"},
    )
    post(
        client,
        f"/workspace/incidents/{scene.first}/reports/{scene.first_reports[1]}/move",
        {"target": str(other.second)},
    )
    assert snapshot(other) == before
