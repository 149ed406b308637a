"""Web Push subscriptions: the workspace endpoints, VAPID keys, `lagesbild vapid generate`,
and `lagesbild check` asking for a key once a rota exists."""

from __future__ import annotations

import stat

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.alerts import vapid
from server.alerts.models import PushSubscription
from server.cli import main
from server.extensions import db
from tests.support import factories
from tests.support.alerts import SUBJECT, configure_vapid, make_rota, vapid_pem
from tests.support.pushservice import make_subscriber
from tests.support.workspace import (  # noqa: F401  (cheap_hashing is a fixture)
    cheap_hashing,
    login,
    session_token,
)

pytestmark = pytest.mark.usefixtures("cheap_hashing")
SUBSCRIBE = "/workspace/push-subscriptions"
REMOVE = "/workspace/push-subscriptions/remove"


def logged_in(app: Flask, org, role: str = "viewer") -> tuple[FlaskClient, factories.Login]:
    client = app.test_client()
    who = factories.make_person(org, role=role)
    assert login(client, who).status_code == 302
    return client, who


def send(client: FlaskClient, url: str, body, token: bool = True):
    headers = {"X-CSRFToken": session_token(client)} if token else {}
    return client.post(url, json=body, headers=headers)


def browser(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict:
    return make_subscriber("b", endpoint).subscription_json()


def live(person_id: int) -> list[PushSubscription]:
    db.session.expire_all()
    return db.session.query(PushSubscription).filter_by(person_id=person_id, retired_at=None).all()


def test_any_role_saves_and_removes_its_browser(app: Flask, org):
    configure_vapid(app)
    client, who = logged_in(app, org, "viewer")
    body = browser()
    resp = send(client, SUBSCRIBE, body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    [row] = live(who.person.id)
    assert row.endpoint == body["endpoint"] and row.auth == body["keys"]["auth"]
    # The same browser again renews the one row.
    assert send(client, SUBSCRIBE, body).status_code == 201
    assert len(live(who.person.id)) == 1
    page = client.get("/workspace/notifications").get_data(as_text=True)
    assert "Aktivera notiser på den här enheten" in page and "1 av dina enheter" in page
    assert f'data-vapid-key="{vapid.public_key(app.config)}"' in page
    assert send(client, REMOVE, {"endpoint": body["endpoint"]}).status_code == 204
    assert live(who.person.id) == []
    assert send(client, REMOVE, {"endpoint": body["endpoint"]}).status_code == 204


def test_a_browser_another_person_logs_in_on_moves_to_them(app: Flask, org):
    configure_vapid(app)
    first, one = logged_in(app, org)
    second, two = logged_in(app, org)
    body = browser()
    assert send(first, SUBSCRIBE, body).status_code == 201
    assert send(second, SUBSCRIBE, body).status_code == 201
    assert live(one.person.id) == [] and len(live(two.person.id)) == 1
    # The first person cannot retire what is now the second's.
    assert send(first, REMOVE, {"endpoint": body["endpoint"]}).status_code == 204
    assert len(live(two.person.id)) == 1


@pytest.mark.parametrize(
    "body",
    [
        "not an object",
        [],
        {"endpoint": "https://push.example.net/x"},
        {"endpoint": "https://push.example.net/x", "keys": "k"},
        {"endpoint": 5, "keys": {"p256dh": "a", "auth": "b"}},
        {"endpoint": "http://push.example.net/x", "keys": "VALID"},
        {"endpoint": "ftp://push.example.net/x", "keys": "VALID"},
        {"endpoint": "https://", "keys": "VALID"},
        {"endpoint": "https://u:p@push.example.net/x", "keys": "VALID"},
        {"endpoint": "https://push.example.net:port/x", "keys": "VALID"},
        {"endpoint": "https://push.example.net/" + "x" * 2001, "keys": "VALID"},
        {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "!!", "auth": "AAAA"}},
        {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
        {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "A" * 87, "auth": "x"}},
        # Characters the decoder would skip: the text must be the key and nothing else.
        {"endpoint": "https://push.example.net/x", "keys": "PADDED"},
        {"endpoint": "https://push.example.net/x", "keys": {"p256dh": "é", "auth": "ü"}},
    ],
)
def test_a_bad_subscription_is_a_400(app: Flask, org, body):
    configure_vapid(app)
    client, who = logged_in(app, org)
    if isinstance(body, dict) and body.get("keys") == "VALID":
        body = {**body, "keys": browser()["keys"]}
    if isinstance(body, dict) and body.get("keys") == "PADDED":
        keys = browser()["keys"]
        body = {**body, "keys": {"p256dh": keys["p256dh"] + "!" * 300, "auth": keys["auth"]}}
    resp = send(client, SUBSCRIBE, body)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert live(who.person.id) == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://push.example.net/\ud800",
        "https://push.example.net/\x00x",
        "https://push.example.net/a b",
    ],
)
def test_an_endpoint_that_is_not_printable_ascii_is_a_400(app: Flask, org, endpoint: str):
    """A lone surrogate cannot be hashed and PostgreSQL stores no NUL: refused, not a 500."""
    configure_vapid(app)
    client, who = logged_in(app, org)
    resp = send(client, SUBSCRIBE, browser(endpoint))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] == "invalid_subscription"
    resp = send(client, REMOVE, {"endpoint": endpoint})
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert live(who.person.id) == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1:8443/admin",
        "https://192.168.1.1/x",
        "https://172.16.0.1/x",
        "https://100.64.0.1/x",
        "https://127.0.0.1/x",
        "https://127.1/x",
        "https://2130706433/x",
        "https://0x7f.1/x",
        "https://0.0.0.0/x",
        "https://240.0.0.1/x",
        "https://224.0.0.1/x",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[fd00::1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://localhost/x",
        "https://LocalHost./x",
        "https://push.localhost/x",
        "https://printer.local/x",
        "https://metadata.google.internal/x",
    ],
)
def test_an_endpoint_inside_a_network_is_a_400(app: Flask, org, endpoint: str):
    """The server must not be made to post to its own network (SSRF)."""
    configure_vapid(app)
    client, who = logged_in(app, org)
    resp = send(client, SUBSCRIBE, browser(endpoint))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert live(who.person.id) == []


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/abc",
        "https://8.8.8.8/x",
        "https://[2001:4860:4860::8888]/x",
        "https://local.example.net/x",
    ],
)
def test_a_public_push_service_is_accepted(app: Flask, org, endpoint: str):
    configure_vapid(app)
    client, who = logged_in(app, org)
    assert send(client, SUBSCRIBE, browser(endpoint)).status_code == 201
    assert [s.endpoint for s in live(who.person.id)] == [endpoint]


def test_http_on_loopback_is_only_for_testing(app: Flask, org):
    configure_vapid(app)
    client, who = logged_in(app, org)
    assert send(client, SUBSCRIBE, browser("http://127.0.0.1:9/push/a")).status_code == 201
    app.config["LAGESBILD_ENV"] = "production"
    assert send(client, SUBSCRIBE, browser("http://127.0.0.1:9/push/b")).status_code == 400
    assert [s.endpoint for s in live(who.person.id)] == ["http://127.0.0.1:9/push/a"]


def test_without_a_vapid_key_nothing_is_saved_and_the_page_says_so(app: Flask, org):
    client, who = logged_in(app, org)
    assert send(client, SUBSCRIBE, browser()).status_code == 409
    assert live(who.person.id) == []
    page = client.get("/workspace/notifications").get_data(as_text=True)
    assert 'data-vapid-key=""' in page and "inte konfigurerade" in page


def test_the_endpoints_need_the_csrf_token_and_a_login(app: Flask, org):
    configure_vapid(app)
    client, who = logged_in(app, org)
    assert send(client, SUBSCRIBE, browser(), token=False).status_code == 400
    assert live(who.person.id) == []
    anonymous = app.test_client()
    anonymous.get("/workspace/login")
    resp = send(anonymous, SUBSCRIBE, browser())
    assert resp.status_code == 302 and "/workspace/login" in resp.location


def test_the_workspace_service_worker_is_served_for_its_scope(client: FlaskClient):
    resp = client.get("/workspace/sw.js")
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    body = resp.get_data(as_text=True)
    assert "showNotification" in body and "notificationclick" in body
    assert resp.headers["Cache-Control"] == "no-cache"


# --- keys and the commands -------------------------------------------------------------------


def test_vapid_generate_writes_a_private_key_the_app_can_use(runner, app, tmp_path):
    path = tmp_path / "vapid.pem"
    result = runner.invoke(main, ["vapid", "generate", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = {"VAPID_PRIVATE_KEY": str(path), "VAPID_SUBJECT": SUBJECT}
    public = vapid.public_key(config)
    assert public in result.output and len(vapid.b64url(b"x" * 65)) == len(public)
    again = runner.invoke(main, ["vapid", "generate", str(path)])
    assert again.exit_code != 0 and "exists" in again.output and "Traceback" not in again.output


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("/nonexistent/vapid.pem", "cannot read"),
        ("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----", "not a PEM"),
    ],
)
def test_an_unusable_key_is_a_key_problem(value, words):
    with pytest.raises(vapid.KeyProblem, match=words):
        vapid.load({"VAPID_PRIVATE_KEY": value})


def test_the_subject_must_be_mailto_or_https(monkeypatch):
    from server.config import ConfigError, Settings

    monkeypatch.setenv("LAGESBILD_VAPID_SUBJECT", "drift@kommun.se")
    with pytest.raises(ConfigError, match="LAGESBILD_VAPID_SUBJECT"):
        Settings.from_env()


def test_check_asks_for_a_key_only_once_a_rota_exists(runner, app, org):
    db.session.commit()  # the check reads through its own connection
    assert runner.invoke(main, ["check"]).exit_code == 0
    make_rota(org.id, [([factories.make_person(org)], 5)])
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1 and "LAGESBILD_VAPID_PRIVATE_KEY is not set" in result.output
    pem, _public = vapid_pem()
    app.config.update(VAPID_PRIVATE_KEY=pem)
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1 and "LAGESBILD_VAPID_SUBJECT is not set" in result.output
    app.config.update(VAPID_SUBJECT=SUBJECT)
    assert runner.invoke(main, ["check"]).exit_code == 0
    app.config.update(VAPID_PRIVATE_KEY="/nonexistent/key.pem")
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_erasing_a_person_removes_their_browsers_and_rota_places(runner, app: Flask, org):
    configure_vapid(app)
    client, who = logged_in(app, org, "coordinator")
    assert send(client, SUBSCRIBE, browser()).status_code == 201
    make_rota(org.id, [([who], 5)])
    result = runner.invoke(main, ["subject", "delete", "--person", who.email, "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.query(PushSubscription).count() == 0
    from server.alerts import rota

    assert rota.load(org.id).levels[0].person_ids == []
