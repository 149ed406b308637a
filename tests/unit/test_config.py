"""Configuration from the environment: types, required secrets, known environments."""

import secrets

import pytest

from server.config import ConfigError, Settings, engine_options, flask_config
from server.sqlite_gate import GatedConnection


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LAGESBILD_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        flask_config(Settings.from_env(), str(tmp_path))


@pytest.mark.parametrize(
    ("secret", "why"),
    [("production-secret", "at least 32"), ("x" * 64, "random"), ("ab" * 20, "random")],
)
def test_production_refuses_a_short_or_plain_secret_key(monkeypatch, tmp_path, secret, why):
    monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.setenv("LAGESBILD_ENV", "production")
    with pytest.raises(ConfigError, match=why) as refused:
        flask_config(Settings.from_env(), str(tmp_path))
    assert "secrets.token_hex(32)" in str(refused.value)  # it says how to make a good one


def test_production_takes_a_random_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("LAGESBILD_ENV", "production")
    assert len(flask_config(Settings.from_env(), str(tmp_path))["SECRET_KEY"]) == 64


def test_the_session_idle_limit_is_a_positive_number_of_minutes(monkeypatch, tmp_path):
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    assert flask_config(Settings.from_env(), str(tmp_path))["SESSION_IDLE_MINUTES"] == 60
    monkeypatch.setenv("LAGESBILD_SESSION_IDLE_MINUTES", "0")
    with pytest.raises(ConfigError, match="LAGESBILD_SESSION_IDLE_MINUTES"):
        flask_config(Settings.from_env(), str(tmp_path))


def test_the_phone_keeps_acknowledged_reports_7_days_unless_told_otherwise(monkeypatch, tmp_path):
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    assert flask_config(Settings.from_env(), str(tmp_path))["PHONE_KEEP_DAYS"] == 7
    monkeypatch.setenv("LAGESBILD_PHONE_KEEP_DAYS", "0")  # prune at once after the ack
    assert flask_config(Settings.from_env(), str(tmp_path))["PHONE_KEEP_DAYS"] == 0
    monkeypatch.setenv("LAGESBILD_PHONE_KEEP_DAYS", "-1")
    with pytest.raises(ConfigError, match="LAGESBILD_PHONE_KEEP_DAYS"):
        flask_config(Settings.from_env(), str(tmp_path))


def test_unknown_environment_name_is_refused_not_treated_as_development(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LAGESBILD_ENV", "prod")
    with pytest.raises(ConfigError, match="LAGESBILD_ENV"):
        flask_config(Settings.from_env(), str(tmp_path))


def test_development_creates_and_reuses_a_private_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LAGESBILD_ENV", "development")
    first = flask_config(Settings.from_env(), str(tmp_path))["SECRET_KEY"]
    second = flask_config(Settings.from_env(), str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "dev-secret-key").stat().st_mode & 0o077 == 0


def test_integer_settings_reject_garbage(monkeypatch):
    monkeypatch.setenv("LAGESBILD_MAX_BATCH_REPORTS", "many")
    with pytest.raises(ConfigError, match="LAGESBILD_MAX_BATCH_REPORTS"):
        Settings.from_env()


def test_postgres_urls_get_the_psycopg_driver_and_no_server_side_prepares(monkeypatch, tmp_path):
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/lagesbild")
    config = flask_config(Settings.from_env(), str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/lagesbild"
    assert engine_options("postgresql+psycopg://x")["connect_args"] == {"prepare_threshold": None}
    assert "factory" not in engine_options("postgresql+psycopg://x")["connect_args"]


def test_sqlite_connections_queue_at_the_write_gate_unless_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    config = flask_config(Settings.from_env(), str(tmp_path))
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"factory": GatedConnection}
    monkeypatch.setenv("LAGESBILD_SQLITE_WRITE_GATE", "false")
    config = flask_config(Settings.from_env(), str(tmp_path))
    assert "connect_args" not in config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_every_setting_is_named_once_and_documented_in_the_readme():
    from pathlib import Path

    from server.config import SETTINGS

    names = [s.env for s in SETTINGS]
    keys = [s.config_key for s in SETTINGS]
    assert len(set(names)) == len(names) and len(set(keys)) == len(keys)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    missing = [n for n in names if f"`{n}`" not in readme]
    assert missing == [], f"settings missing from the README's table: {missing}"


def test_overrides_by_config_key_replace_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    monkeypatch.setenv("LAGESBILD_MAX_PUSH_BYTES", "100")
    settings = Settings.from_env().with_overrides({"MAX_PUSH_BYTES": 7, "TESTING": True})
    config = flask_config(settings, str(tmp_path))
    assert config["MAX_PUSH_BYTES"] == 7
    assert "TESTING" not in config  # not a setting: the factory applies it afterwards
