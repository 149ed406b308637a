"""Digest delivery against a real SMTP server (STARTTLS + AUTH): structure, exactly once,
catch-up, retries, and never a password without TLS. Both database lanes.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from server.config import ConfigError, Settings, flask_config
from server.digest import delivery, scheduler
from server.digest import service as digest_settings
from server.digest.models import DigestRun
from server.extensions import db
from tests.support import factories
from tests.support.children import run_children
from tests.support.smtp import (  # noqa: F401  (fixtures)
    MAIL_FROM,
    PASSWORD,
    USERNAME,
    SmtpServer,
    plain_smtp_server_fixture,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import make_scene, push

STOCKHOLM = ZoneInfo("Europe/Stockholm")
RECIPIENTS = ["samordnare@kommun.test", "polis@kommun.test"]
TUESDAY = date(2026, 11, 24)  # a Tuesday, not the 1st: only the night digest is due


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Return a Stockholm wall-clock time as an aware UTC datetime."""
    return datetime(
        day.year, day.month, day.day, hour, minute, second, tzinfo=STOCKHOLM
    ).astimezone(UTC)


def enable(org_id: int, since: datetime, **changes: Any) -> None:
    """Switch the digest on (as of `since`) for the test recipients."""
    digest_settings.configure(org_id, recipients=RECIPIENTS, enabled=True, now=since, **changes)


def runs(org_id: int) -> list[DigestRun]:
    """Return the organisation's runs, freshly read."""
    rows = list(
        db.session.scalars(
            select(DigestRun)
            .where(DigestRun.org_id == org_id)
            .order_by(DigestRun.day, DigestRun.kind)
            .execution_options(populate_existing=True)
        )
    )
    db.session.commit()
    return rows


@pytest.fixture
def mail(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """Point the app at the test SMTP server."""
    app.config.update(smtp_server.app_config())
    return smtp_server


# --- the message ----------------------------------------------------------------------------


def _parts(msg: EmailMessage) -> tuple[EmailMessage, EmailMessage, list[EmailMessage]]:
    """Return (text/plain, text/html, images) and check the nesting on the way."""
    assert msg.get_content_type() == "multipart/alternative"
    plain, second = list(msg.iter_parts())
    assert plain.get_content_type() == "text/plain"
    if second.get_content_type() == "text/html":
        return plain, second, []
    assert second.get_content_type() == "multipart/related"
    html, *images = list(second.iter_parts())
    assert html.get_content_type() == "text/html"
    return plain, html, images


def test_the_message_has_text_html_and_inline_images_with_matching_cids(
    app: Flask, mail: SmtpServer
) -> None:
    scene = make_scene()  # reports last night (real time): the chart has bars
    today = datetime.now(UTC).astimezone(STOCKHOLM).date()
    # A calm round six weeks ago: the organisation has history to compare with.
    history = at(today - timedelta(weeks=6), 22, 0).isoformat()
    push(app.test_client(), scene.device, factories.report(created_at=history, category="lugnt"))
    # Only the night digest: on a Monday or the 1st the weekly or monthly would be due too.
    enable(scene.org.id, at(today, 0, 5), weekly=False, monthly=False)
    outcomes = scheduler.tick(at(today, 6, 0, 30))
    assert [o.status for o in outcomes] == ["sent"]

    [received] = mail.messages
    assert received.tls and received.login == USERNAME
    assert sorted(received.rcpt_tos) == sorted(RECIPIENTS)
    assert received.mail_from == "digest@lagesbild.test"
    msg = received.message
    assert msg["From"] == MAIL_FROM
    assert [a.strip() for a in str(msg["To"]).split(",")] == RECIPIENTS
    assert msg["Message-ID"] == f"<digest-{scene.org.id}-night-{today:%Y%m%d}@127.0.0.1>"
    assert msg["Auto-Submitted"] == "auto-generated"
    plain, html, images = _parts(msg)
    html_text = html.get_content()
    assert scene.org.name in html_text and scene.org.name in plain.get_content()
    assert "Krossad ruta i busskuren" in html_text
    assert images, "the chart travels as an inline image"
    cids = {str(i["Content-ID"]).strip("<>") for i in images}
    referenced = {part.split('"')[0] for part in html_text.split("cid:")[1:]}
    assert cids == referenced
    for image in images:
        assert image.get_content_maintype() == "image"
        assert image.get_content_disposition() == "inline"
        assert image.get_content()  # real bytes

    [run] = runs(scene.org.id)
    assert (run.kind, run.day, run.status, run.late, run.attempts) == (
        "night",
        today,
        "sent",
        False,
        1,
    )
    assert run.sent_at is not None and run.lease_owner is None
    assert run.subject == msg["Subject"]
    assert run.recipients == RECIPIENTS
    assert run.html and "cid:" not in run.html  # the archive copy uses workspace URLs
    assert run.text and "Krossad ruta" in run.text
    assert run.message_id == msg["Message-ID"]


def test_the_message_is_in_english_when_asked(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0), lang="en")
    scheduler.tick(at(TUESDAY, 6, 1))
    [received] = mail.messages
    msg = received.message
    _plain, html, _images = _parts(msg)
    assert 'lang="en"' in html.get_content()


# --- exactly once ---------------------------------------------------------------------------


def test_ticks_after_the_send_send_nothing_more(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    assert scheduler.tick(at(TUESDAY, 5, 59)) == []  # not due yet
    assert len(scheduler.tick(at(TUESDAY, 6, 0))) == 1
    for minute in range(1, 6):
        assert scheduler.tick(at(TUESDAY, 6, minute)) == []
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert run.status == "sent" and not run.late


def test_racing_schedulers_in_threads_send_one_message(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    db.session.commit()
    now = at(TUESDAY, 6, 0, 5)
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[list[scheduler.Outcome]] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(scheduler.tick(now, owner=f"host-{n}:{1000 + n}"))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    sent = [o for batch in results for o in batch if o.status == "sent"]
    assert len(sent) == 1
    assert len(mail.wait_for(1)) == 1
    time.sleep(0.2)
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert run.status == "sent" and run.attempts == 1


_CHILD = """
import json, os, sys, time
from datetime import datetime
from sqlalchemy import text
from server.app import create_app
from server.digest import scheduler
from server.extensions import db

cfg = json.loads(os.environ["DIGEST_CHILD_CONFIG"])
now = datetime.fromisoformat(cfg.pop("now"))
start_at = cfg.pop("start_at")
app = create_app(cfg)
with app.app_context():
    db.session.execute(text('select 1'))  # connect before the start line
    db.session.commit()
    time.sleep(max(0.0, start_at - time.time()))
    outcomes = scheduler.tick(now, owner=f"process-{os.getpid()}")
    print(json.dumps([o.status for o in outcomes]))
"""


def test_racing_schedulers_in_processes_send_one_message(
    app: Flask, mail: SmtpServer, tmp_path: Path
) -> None:
    """Two processes (as two gunicorn workers or two hosts) tick at the same moment."""
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    db.session.commit()
    config = {
        **{k: app.config[k] for k in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "BASE_URL")},
        **mail.app_config(),
        "LAGESBILD_ENV": "testing",
        "DATA_DIR": str(tmp_path / "data"),
        "now": at(TUESDAY, 6, 0, 5).isoformat(),
        "start_at": time.time() + 4.0,
    }
    statuses = run_children(_CHILD, "DIGEST_CHILD_CONFIG", config)
    assert sorted(s for batch in statuses for s in batch) == ["sent"]
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert run.status == "sent" and run.attempts == 1


def test_an_expired_lease_is_taken_over_and_sent_once(app: Flask, mail: SmtpServer) -> None:
    """A worker that claimed the run and died: after the lease another one sends it."""
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [slot] = scheduler.due_slots(digest_settings.get(org.id), at(TUESDAY, 6, 0))
    run_id = scheduler.ensure_run(
        org.id, slot, STOCKHOLM, at(TUESDAY, 6, 0), lang="sv", recipients=RECIPIENTS
    )
    assert scheduler.claim(run_id, at(TUESDAY, 6, 0), "dead-host:1")  # then it "crashed"
    assert scheduler.tick(at(TUESDAY, 6, 4)) == []  # the lease still holds
    assert mail.messages == []
    outcomes = scheduler.tick(at(TUESDAY, 6, 5, 1))
    assert [o.status for o in outcomes] == ["sent"]
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert run.attempts == 2 and run.status == "sent"


def test_a_sender_that_lost_its_lease_does_not_send(app: Flask, mail: SmtpServer) -> None:
    """A stalled worker whose lease passed to another never sends a second copy."""
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [slot] = scheduler.due_slots(digest_settings.get(org.id), at(TUESDAY, 6, 0))
    run_id = scheduler.ensure_run(
        org.id, slot, STOCKHOLM, at(TUESDAY, 6, 0), lang="sv", recipients=RECIPIENTS
    )
    assert scheduler.claim(run_id, at(TUESDAY, 6, 0), "slow-host:1", recipients=RECIPIENTS)
    assert [o.status for o in scheduler.tick(at(TUESDAY, 6, 6))] == ["sent"]
    late = scheduler.deliver(run_id, at(TUESDAY, 6, 7), "slow-host:1")
    assert late.status == "lost"
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert run.status == "sent"


# --- catch-up -------------------------------------------------------------------------------


def test_catch_up_after_a_missed_run_sends_one_late_digest(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY - timedelta(days=3), 12, 0), weekly=False)
    # The server was down from Saturday until Tuesday 09:00: only Tuesday's night goes out.
    outcomes = scheduler.tick(at(TUESDAY, 9, 0))
    assert [(o.status, o.late, o.day) for o in outcomes] == [("sent", True, TUESDAY)]
    assert len(mail.messages) == 1
    assert scheduler.tick(at(TUESDAY, 9, 1)) == []
    assert len(mail.messages) == 1
    [run] = runs(org.id)  # Sunday's and Monday's missed nights are skipped, not queued
    assert (run.day, run.late, run.status) == (TUESDAY, True, "sent")
    assert run.scheduled_for == at(TUESDAY, 6, 0)


def test_catch_up_takes_the_latest_missed_run_of_each_kind(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY - timedelta(days=3), 12, 0))
    outcomes = scheduler.tick(at(TUESDAY, 9, 0))
    got = sorted((o.kind, o.day, o.late, o.status) for o in outcomes)
    assert got == [
        ("night", TUESDAY, True, "sent"),
        ("week", TUESDAY - timedelta(days=1), True, "sent"),  # Monday's weekly
    ]
    assert len(mail.messages) == 2


def test_no_catch_up_for_a_run_due_before_the_digest_was_switched_on(
    app: Flask, mail: SmtpServer
) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 14, 0))  # switched on in the afternoon
    assert scheduler.tick(at(TUESDAY, 14, 1)) == []
    assert mail.messages == []
    assert [o.day for o in scheduler.tick(at(TUESDAY + timedelta(days=1), 6, 0))] == [
        TUESDAY + timedelta(days=1)
    ]


def test_weekly_and_monthly_digests_are_due_on_monday_and_the_first(
    app: Flask, mail: SmtpServer
) -> None:
    monday_first = date(2027, 2, 1)
    org = factories.make_org()
    enable(org.id, at(monday_first - timedelta(days=1), 12, 0))
    outcomes = scheduler.tick(at(monday_first, 6, 0, 30))
    assert sorted(o.kind for o in outcomes) == ["month", "night", "week"]
    assert all(o.status == "sent" for o in outcomes)
    ids = sorted(m.message["Message-ID"] for m in mail.messages)
    assert ids == sorted(
        f"<digest-{org.id}-{kind}-20270201@127.0.0.1>" for kind in ("month", "night", "week")
    )
    by_kind = {r.kind: r for r in runs(org.id)}
    assert by_kind["week"].period_start == at(monday_first - timedelta(days=7), 6, 0)
    assert by_kind["month"].period_start == at(date(2027, 1, 1), 6, 0)
    assert by_kind["month"].period_end == at(monday_first, 6, 0)
    # Tuesday: only the night.
    assert [o.kind for o in scheduler.tick(at(monday_first + timedelta(days=1), 6, 0))] == ["night"]


def test_weekly_and_monthly_can_be_switched_off(app: Flask, mail: SmtpServer) -> None:
    org = factories.make_org()
    enable(org.id, at(date(2027, 1, 31), 12, 0), weekly=False, monthly=False)
    assert [o.kind for o in scheduler.tick(at(date(2027, 2, 1), 7, 0))] == ["night"]


# --- failures and retries -------------------------------------------------------------------


def test_a_refused_send_is_retried_with_backoff_and_delivered_once(
    app: Flask, mail: SmtpServer
) -> None:
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    mail.handler.refuse_next = 1
    first = scheduler.tick(at(TUESDAY, 6, 0))
    assert [o.status for o in first] == ["failed"]
    assert "451" in (first[0].error or "")
    [run] = runs(org.id)
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.next_attempt_at is not None
    assert timedelta(seconds=59) <= run.next_attempt_at - at(TUESDAY, 6, 0) <= timedelta(seconds=65)
    assert PASSWORD not in (run.last_error or "")
    assert run.lease_owner is None

    assert scheduler.tick(at(TUESDAY, 6, 0, 30)) == []  # not due again yet
    second = scheduler.tick(at(TUESDAY, 6, 1, 10))
    assert [o.status for o in second] == ["sent"]
    assert mail.handler.refused == 1
    assert len(mail.messages) == 1
    [run] = runs(org.id)
    assert (run.status, run.attempts) == ("sent", 2)


def test_backoff_doubles_to_an_hour_and_then_gives_up(app: Flask, mail: SmtpServer) -> None:
    assert [scheduler.backoff(n).total_seconds() / 60 for n in range(1, 10)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
    ]
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    calls = []

    def refuse(*_args: Any) -> dict[str, Any]:
        calls.append(1)
        raise delivery.DeliveryError("SMTPDataError: 451 try later")

    now = at(TUESDAY, 6, 0)
    for _ in range(scheduler.MAX_ATTEMPTS):
        outcomes = scheduler.tick(now, send=refuse)
        assert [o.status for o in outcomes] == ["failed"]
        [run] = runs(org.id)
        if run.next_attempt_at is None:
            break
        now = run.next_attempt_at
    assert len(calls) == scheduler.MAX_ATTEMPTS
    [run] = runs(org.id)
    assert (run.status, run.attempts, run.next_attempt_at) == (
        "failed",
        scheduler.MAX_ATTEMPTS,
        None,
    )
    assert scheduler.tick(now + timedelta(hours=5), send=refuse) == []  # stays failed, visible
    # By hand it goes out (through the same claim).
    outcome = scheduler.send_now(org.id, "night", TUESDAY, now=now + timedelta(hours=5))
    assert outcome.status == "sent"
    assert len(mail.messages) == 1


def test_unconfigured_smtp_fails_visibly(app: Flask, mail: SmtpServer) -> None:
    app.config["SMTP_HOST"] = None
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [outcome] = scheduler.tick(at(TUESDAY, 6, 0))
    assert outcome.status == "failed" and outcome.error == "SMTP_HOST is not set"
    [run] = runs(org.id)
    assert run.last_error == "SMTP_HOST is not set" and run.next_attempt_at is not None


def test_a_wrong_password_is_a_failure_without_the_password_in_it(
    app: Flask, mail: SmtpServer
) -> None:
    app.config["SMTP_PASSWORD"] = "fel-lösenord-123"
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [outcome] = scheduler.tick(at(TUESDAY, 6, 0))
    assert outcome.status == "failed" and "535" in (outcome.error or "")
    assert "fel-lösenord" not in (outcome.error or "")
    assert mail.messages == []


# --- TLS ------------------------------------------------------------------------------------

# The plain test server would take a password in the clear (aiosmtpd warns about that):
# the point is that the client never offers one.
plain_server_warning = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"
)


@plain_server_warning
def test_credentials_are_never_sent_without_tls(app: Flask, plain_smtp_server: SmtpServer) -> None:
    """A server (or a man in the middle) that offers no STARTTLS gets no password."""
    app.config.update(plain_smtp_server.app_config())
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [outcome] = scheduler.tick(at(TUESDAY, 6, 0))
    assert outcome.status == "failed"
    assert "STARTTLS" in (outcome.error or "")
    assert plain_smtp_server.authenticator.attempts == []
    assert plain_smtp_server.messages == []


@plain_server_warning
def test_plain_smtp_only_when_starttls_is_switched_off_explicitly(
    app: Flask, plain_smtp_server: SmtpServer
) -> None:
    app.config.update(plain_smtp_server.app_config(SMTP_STARTTLS=False))
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [outcome] = scheduler.tick(at(TUESDAY, 6, 0))
    assert outcome.status == "sent"
    [attempt] = plain_smtp_server.authenticator.attempts
    assert not attempt.tls
    assert len(plain_smtp_server.messages) == 1


def test_an_untrusted_certificate_is_refused(app: Flask, mail: SmtpServer) -> None:
    app.config["SMTP_CA_FILE"] = None  # the self-signed certificate is not trusted then
    org = factories.make_org()
    enable(org.id, at(TUESDAY, 0, 0))
    [outcome] = scheduler.tick(at(TUESDAY, 6, 0))
    assert outcome.status == "failed" and "CERTIFICATE" in (outcome.error or "").upper()
    assert mail.authenticator.attempts == [] and mail.messages == []


# --- configuration and start-up -------------------------------------------------------------


def test_smtp_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "SMTP_HOST": "smtp.kommun.test",
        "SMTP_PORT": "2525",
        "SMTP_USERNAME": "digest",
        "SMTP_PASSWORD": "hemligt",
        "SMTP_STARTTLS": "false",
        "SMTP_TIMEOUT": "12",
        "MAIL_FROM": "Lägesbild <noreply@kommun.test>",
        "LAGESBILD_ENV": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    config = flask_config(Settings.from_env(), str(tmp_path))
    assert config["SMTP_HOST"] == "smtp.kommun.test" and config["SMTP_PORT"] == 2525
    assert config["SMTP_STARTTLS"] is False and config["SMTP_TIMEOUT"] == 12
    assert config["DIGEST_SCHEDULER"] is False  # tests tick by hand
    monkeypatch.setenv("SMTP_STARTTLS", "kanske")
    with pytest.raises(ConfigError):
        Settings.from_env()
    for name in ("SMTP_STARTTLS", "SMTP_PASSWORD", "SMTP_PORT"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAGESBILD_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    config = flask_config(Settings.from_env(), str(tmp_path))
    assert config["SMTP_STARTTLS"] is True and config["SMTP_PORT"] == 587
    assert config["SMTP_PASSWORD"] is None  # a secret has no default
    assert config["DIGEST_SCHEDULER"] is True


def test_the_scheduler_starts_per_process_and_stops(app: Flask) -> None:
    assert app.extensions.get("digest_scheduler") is None  # off in testing
    started = scheduler.start(app)
    try:
        assert started.running
        assert scheduler.start(app) is started  # once per process
        [job] = started.get_jobs()
        assert job.id == "digest-tick"
    finally:
        scheduler.stop(app)
    assert app.extensions["digest_scheduler"] is None


def test_the_send_time_must_not_be_before_the_night_ends(app: Flask) -> None:
    org = factories.make_org()
    with pytest.raises(ValueError, match="06:00"):
        digest_settings.configure(org.id, send_time="05:30")
    with pytest.raises(ValueError, match="recipient"):
        digest_settings.configure(org.id, enabled=True)
    with pytest.raises(ValueError, match="e-mail"):
        digest_settings.configure(org.id, recipients=["inte en adress"])
    row = digest_settings.configure(org.id, send_time="07:15", recipients=["a@b.se, c@d.se"])
    assert row.send_time == "07:15" and row.recipients == ["a@b.se", "c@d.se"]


@pytest.mark.slow
def test_gunicorn_workers_each_run_the_job_and_one_sends(
    app: Flask, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """Real gunicorn, two workers, the job started after the fork: one message."""
    from tests.support.gunicorn import GunicornServer

    org = factories.make_org()
    now = datetime.now(UTC)
    enable(org.id, now - timedelta(days=2), weekly=False, monthly=False)
    db.session.commit()
    env = {
        key: str(value)
        for key, value in smtp_server.app_config().items()
        if key.startswith(("SMTP_", "MAIL_"))
    }
    env["LAGESBILD_DIGEST_SCHEDULER"] = "true"
    server = GunicornServer(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path / "gunicorn-data",
        tmp_path / "gunicorn.log",
        workers=2,
        extra_env=env,
    )
    started = time.monotonic()
    with server:
        # Each worker's first tick comes 2–20 s after it starts, then one a minute.
        assert len(smtp_server.wait_for(1, timeout=45)) == 1, server.log_tail()
        time.sleep(max(3.0, 25 - (time.monotonic() - started)))
        assert len(smtp_server.messages) == 1
    assert server.problems() == [], server.log_tail()
    [run] = runs(org.id)
    assert run.status == "sent" and run.attempts == 1
