"""`lagesbild check`: one clear line per configuration problem, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from server.app import create_app
from server.cli import main
from server.digest import service as digests
from server.extensions import db
from tests.support import smtp
from tests.support.smtp import (  # noqa: F401  (fixtures)
    plain_smtp_server_fixture,
    smtp_cert_fixture,
    smtp_server_fixture,
)

GOOD_SECRET = secrets.token_hex(32)


def check(runner, *args: str) -> Any:
    """Run `lagesbild check` against the test app."""
    return runner.invoke(main, ["check", *args])


def problems(result: Any) -> list[str]:
    """Check the command failed cleanly; return its problem lines (without the summary)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == f"{len(lines) - 1} problem(s) found."
    return lines[:-1]


def closed_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production(app):
    """Run the app as production with a good key and an https base URL."""
    app.config.update(
        LAGESBILD_ENV="production", SECRET_KEY=GOOD_SECRET, BASE_URL="https://lagesbild.example.se"
    )
    return app


def test_a_good_configuration_passes_with_one_line(runner, production):
    result = check(runner)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: no problems found") and result.output.count("\n") == 1


def test_json_lists_every_check(runner, production):
    result = check(runner, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True and data["problems"] == []
    assert set(data["checks"]) == {
        "config", "secret_key", "base_url", "data_dir", "photos", "database",
    }  # fmt: skip


def test_json_carries_the_problems_and_a_non_zero_exit(runner, production):
    production.config["BASE_URL"] = "http://lagesbild.example.se"
    result = check(runner, "--json")
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["checks"]["base_url"] == "problem"
    assert data["problems"] == [
        "base url: LAGESBILD_BASE_URL 'http://lagesbild.example.se' must use https in production"
    ]


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        ("kort", "at least 32"),
        ("ab" * 20, "does not look random"),
        ("change-me-please-0123456789-ABCDEFGHIJ", "placeholder"),
    ],
)
def test_a_weak_secret_key_in_production_is_a_problem(runner, production, secret, words):
    production.config["SECRET_KEY"] = secret
    [line] = problems(check(runner))
    assert line.startswith("secret key:") and words in line


def test_a_short_secret_outside_production_is_fine(runner, app):
    assert app.config["SECRET_KEY"] == "test-secret-key"
    assert check(runner).exit_code == 0


@pytest.mark.parametrize(
    "url",
    ["lagesbild.example.se", "https://", "https://x.se/?a=1", "ftp://x.se", "https://x.se:99999"],
)
def test_a_malformed_base_url_is_a_problem(runner, app, url):
    app.config["BASE_URL"] = url
    [line] = problems(check(runner))
    assert line.startswith("base url:") and repr(url) in line


def test_a_data_directory_that_cannot_be_written_is_a_problem(runner, app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    app.config["DATA_DIR"] = str(blocker / "data")
    lines = problems(check(runner))
    assert [line.split(":")[0] for line in lines] == ["data directory", "photo storage"]
    assert "is not a directory" in lines[0]


def test_photo_storage_that_cannot_be_written_is_a_problem(runner, app):
    Path(app.config["DATA_DIR"], "photos").write_text("a file where the photos belong")
    [line] = problems(check(runner))
    assert line.startswith("photo storage:") and "is not a directory" in line


def test_a_database_behind_the_code_needs_an_upgrade(runner, app):
    db.session.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    db.session.commit()
    [line] = problems(check(runner))
    assert line.startswith("database: at migration 0008") and "lagesbild db upgrade" in line


def test_a_database_from_a_newer_version_is_a_problem(runner, app):
    db.session.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    db.session.commit()
    [line] = problems(check(runner))
    assert "unknown to this code" in line


def test_a_database_never_migrated_is_a_problem(runner, app):
    db.session.execute(text("DROP TABLE alembic_version"))
    db.session.commit()
    [line] = problems(check(runner))
    assert line == "database: not migrated (no schema); run 'lagesbild db upgrade'"


def test_an_unreachable_database_is_a_problem(app, tmp_path):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        url, expected = url.set(database=str(tmp_path / "gone.sqlite3")), "the SQLite file"
    else:
        url, expected = url.set(port=closed_port()), "cannot connect to PostgreSQL"
    keys = ("TESTING", "LAGESBILD_ENV", "SECRET_KEY", "DATA_DIR")
    other = create_app(
        {**{k: app.config[k] for k in keys}, "SQLALCHEMY_DATABASE_URI": url.render_as_string(False)}
    )
    [line] = problems(check(other.test_cli_runner()))
    assert line.startswith(f"database: {expected}")
    assert not (tmp_path / "gone.sqlite3").exists()  # the check creates nothing


def enable_digest(org) -> None:
    """Switch the organisation's morning digest on."""
    digests.configure(org.id, recipients=["samordnare@kommun.se"], enabled=True)


def test_smtp_is_checked_when_the_digest_is_enabled_and_passes(runner, app, org, smtp_server):
    enable_digest(org)
    app.config.update(smtp_server.app_config())
    result = check(runner, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["checks"]["smtp"] == "ok"
    assert smtp_server.messages == []  # a check sends nothing
    assert [(a.tls, a.login) for a in smtp_server.authenticator.attempts] == [(True, "lagesbild")]


def test_an_enabled_digest_without_smtp_is_a_problem(runner, app, org):
    enable_digest(org)
    [line] = problems(check(runner))
    assert line == "smtp: SMTP_HOST is not set, but the morning digest is enabled"


def test_smtp_not_set_and_no_digest_is_fine(runner, app, org):
    result = check(runner, "--json")
    assert result.exit_code == 0 and "smtp" not in json.loads(result.output)["checks"]


def test_an_smtp_server_that_does_not_answer_is_a_problem(runner, app, org, smtp_server):
    enable_digest(org)
    app.config.update(smtp_server.app_config(SMTP_PORT=closed_port()))
    [line] = problems(check(runner))
    assert line.startswith("smtp: cannot talk to 127.0.0.1:") and "refused" in line.lower()


def test_an_smtp_server_without_starttls_is_a_problem(runner, app, org, plain_smtp_server):
    enable_digest(org)
    app.config.update(plain_smtp_server.app_config())
    [line] = problems(check(runner))
    assert "does not offer STARTTLS" in line
    assert plain_smtp_server.authenticator.attempts == []  # no password in the clear


def test_a_wrong_smtp_password_is_a_problem_and_not_printed(runner, app, org, smtp_server):
    enable_digest(org)
    app.config.update(smtp_server.app_config(SMTP_PASSWORD="fel-lösenord-123"))
    [line] = problems(check(runner))
    assert "refused the login" in line
    assert "fel-lösenord" not in line and smtp.PASSWORD not in line


def test_an_untrusted_smtp_certificate_is_a_problem(runner, app, org, smtp_server):
    enable_digest(org)
    app.config.update(smtp_server.app_config(SMTP_CA_FILE=None))
    [line] = problems(check(runner))
    assert line.startswith("smtp: cannot talk") and "certificate" in line.lower()


# --- settings that keep the app from loading: the check lists them and checks the rest ---


@pytest.fixture
def env(monkeypatch, app, tmp_path):
    """A production environment for the real `lagesbild` entry point, on the test database."""
    values = {
        "LAGESBILD_ENV": "production",
        "SECRET_KEY": GOOD_SECRET,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LAGESBILD_DATA_DIR": app.config["DATA_DIR"],
        "LAGESBILD_BASE_URL": "https://lagesbild.example.se",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    for name in ("SMTP_HOST", "LAGESBILD_PULL_PAGE_SIZE"):
        monkeypatch.delenv(name, raising=False)
    db.session.remove()
    return monkeypatch


def test_the_entry_point_passes_a_good_environment(env):
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output


def test_a_missing_secret_key_is_listed_and_the_rest_still_checked(env):
    env.delenv("SECRET_KEY")
    env.setenv("LAGESBILD_PULL_PAGE_SIZE", "many")
    env.setenv("LAGESBILD_BASE_URL", "http://lagesbild.example.se")
    result = CliRunner().invoke(main, ["check"])
    lines = problems(result)
    assert lines == [
        "config: LAGESBILD_PULL_PAGE_SIZE must be an integer, got 'many'",
        "config: SECRET_KEY must be set outside development (LAGESBILD_ENV)",
        "base url: LAGESBILD_BASE_URL 'http://lagesbild.example.se' must use https in production",
    ]
    assert "SECRET_KEY" not in os.environ  # the stand-in did not leak
