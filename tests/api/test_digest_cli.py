"""`lagesbild digest` (preview or send once) and `lagesbild digest-settings`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from server.digest import scheduler
from server.digest.models import DigestRun
from server.extensions import db
from tests.support import factories
from tests.support.smtp import (  # noqa: F401  (fixtures)
    SmtpServer,
    smtp_cert_fixture,
    smtp_server_fixture,
)
from tests.support.workspace import make_scene

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def today() -> date:
    """Today in Stockholm."""
    return datetime.now(UTC).astimezone(STOCKHOLM).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=STOCKHOLM).astimezone(UTC)


@pytest.fixture
def mail(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """Point the app at the test SMTP server."""
    app.config.update(smtp_server.app_config())
    return smtp_server


def configure(runner: FlaskCliRunner, slug: str, *args: str) -> dict[str, object]:
    """Run digest-settings with --json and return its answer."""
    result = runner.invoke(args=["digest-settings", "--org", slug, *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def runs(org_id: int) -> list[DigestRun]:
    """The organisation's runs, freshly read."""
    rows = list(
        db.session.scalars(
            select(DigestRun)
            .where(DigestRun.org_id == org_id)
            .execution_options(populate_existing=True)
        )
    )
    db.session.commit()
    return rows


def test_digest_settings_configure_and_show(app: Flask, runner: FlaskCliRunner) -> None:
    org = factories.make_org("Mjölby kommun")
    shown = configure(runner, "Mjölby kommun")
    assert shown["enabled"] is False and shown["send_time"] == "06:00" and shown["lang"] == "sv"
    data = configure(
        runner,
        org.slug,
        "--recipients",
        "samordnare@mjolby.test, polis@mjolby.test",
        "--time",
        "06:30",
        "--lang",
        "en",
        "--enable",
        "--no-monthly",
    )
    assert data["recipients"] == ["samordnare@mjolby.test", "polis@mjolby.test"]
    assert (data["enabled"], data["send_time"], data["lang"]) == (True, "06:30", "en")
    assert (data["weekly"], data["monthly"]) == (True, False)
    assert data["enabled_at"]
    assert configure(runner, org.slug, "--disable")["enabled"] is False

    text = runner.invoke(args=["digest-settings", "--org", org.slug])
    assert text.exit_code == 0 and "off, 06:30 Europe/Stockholm" in text.output

    for bad, needle in (
        (["--time", "05:00"], "06:00"),
        (["--time", "6"], "HH:MM"),
        (["--recipients", "inte-en-adress"], "e-mail"),
        (["--timezone", "Mars/Olympus"], "time zone"),
    ):
        result = runner.invoke(args=["digest-settings", "--org", org.slug, *bad])
        assert result.exit_code == 1 and needle in result.output, result.output
    result = runner.invoke(args=["digest-settings", "--org", "ingen-sadan"])
    assert result.exit_code == 1 and "no organisation" in result.output


def test_digest_html_writes_a_preview_and_records_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    scene = make_scene()
    out = tmp_path / "natt.html"
    result = runner.invoke(
        args=["digest", "--org", scene.org.slug, "--date", today().isoformat(), "--html", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert scene.org.name in html and "Krossad ruta i busskuren" in html
    assert "cid:" not in html  # a file on disk carries its chart inside
    assert "Wrote" in result.output
    english = tmp_path / "night.html"
    result = runner.invoke(
        args=[
            "digest",
            "--org",
            scene.org.slug,
            "--date",
            today().isoformat(),
            "--lang",
            "en",
            "--kind",
            "week",
            "--html",
            str(english),
        ]
    )
    assert result.exit_code == 0, result.output
    assert 'lang="en"' in english.read_text(encoding="utf-8")
    assert runs(scene.org.id) == []


def test_digest_send_sends_once_and_force_sends_again(
    app: Flask, runner: FlaskCliRunner, mail: SmtpServer
) -> None:
    org = factories.make_org()
    configure(runner, org.slug, "--recipients", "samordnare@kommun.test", "--enable")
    day = today() - timedelta(days=1)
    args = ["digest", "--org", org.slug, "--date", day.isoformat(), "--send"]

    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Sent the night digest")
    assert len(mail.messages) == 1
    assert mail.messages[0].rcpt_tos == ["samordnare@kommun.test"]

    again = runner.invoke(args=args)
    assert again.exit_code == 1
    assert "Already sent" in again.output and "--force" in again.output
    assert len(mail.messages) == 1

    # The scheduler's tick for that morning finds the run sent: nothing more goes out.
    assert scheduler.tick(at(day, 6, 0)) == []
    assert len(mail.messages) == 1

    forced = runner.invoke(args=[*args, "--force", "--json"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.output)["status"] == "sent"
    assert len(mail.messages) == 2
    first_id, second_id = (m.message["Message-ID"] for m in mail.messages)
    assert first_id == f"<digest-{org.id}-night-{day:%Y%m%d}@127.0.0.1>"
    assert second_id == f"<digest-{org.id}-night-{day:%Y%m%d}.r1@127.0.0.1>"
    [run] = runs(org.id)
    assert (run.status, run.manual, run.resends, run.attempts) == ("sent", True, 1, 2)


def test_digest_send_refuses_a_period_that_has_not_ended(
    app: Flask, runner: FlaskCliRunner, mail: SmtpServer
) -> None:
    org = factories.make_org()
    configure(runner, org.slug, "--recipients", "samordnare@kommun.test")
    tomorrow = today() + timedelta(days=1)
    result = runner.invoke(
        args=["digest", "--org", org.slug, "--date", tomorrow.isoformat(), "--send"]
    )
    assert result.exit_code == 1 and "--html" in result.output
    assert mail.messages == [] and runs(org.id) == []


def test_digest_send_week_goes_to_the_monday_of_that_week(
    app: Flask, runner: FlaskCliRunner, mail: SmtpServer
) -> None:
    org = factories.make_org()
    configure(runner, org.slug, "--recipients", "samordnare@kommun.test")
    some_day = today() - timedelta(days=10)
    monday = some_day - timedelta(days=some_day.weekday())
    result = runner.invoke(
        args=[
            "digest",
            "--org",
            org.slug,
            "--kind",
            "week",
            "--date",
            some_day.isoformat(),
            "--send",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["day"] == monday.isoformat()
    [message] = mail.messages
    assert message.message["Message-ID"] == f"<digest-{org.id}-week-{monday:%Y%m%d}@127.0.0.1>"


def test_digest_needs_send_or_html_and_recipients(
    app: Flask, runner: FlaskCliRunner, mail: SmtpServer, tmp_path: Path
) -> None:
    org = factories.make_org()
    day = (today() - timedelta(days=1)).isoformat()
    neither = runner.invoke(args=["digest", "--org", org.slug, "--date", day])
    assert neither.exit_code == 2 and "--send or --html" in neither.output
    both = runner.invoke(
        args=["digest", "--org", org.slug, "--date", day, "--send", "--html", str(tmp_path / "x")]
    )
    assert both.exit_code == 2
    nobody = runner.invoke(args=["digest", "--org", org.slug, "--date", day, "--send"])
    assert nobody.exit_code == 1 and "recipients" in nobody.output
    bad_date = runner.invoke(args=["digest", "--org", org.slug, "--date", "24/11", "--send"])
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.output
    assert mail.messages == []
