"""S3 photo storage for the admin: its settings, `lagesbild check`, backup and restore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from server.cli import main
from server.config import ConfigError, Settings, flask_config
from tests.support import factories
from tests.support.backups import counts_of, file_hashes, fresh_instance, photo_hashes
from tests.support.gunicorn import free_port
from tests.support.photos import STORED, get, jpeg, put, sha
from tests.support.s3server import (  # noqa: F401  (fixtures)
    S3Bucket,
    S3Endpoint,
    new_bucket,
    s3_bucket_fixture,
    s3_endpoint_fixture,
)


@pytest.fixture
def app(app: Flask, s3_bucket: S3Bucket) -> Flask:
    """The test app, its photos in the test's bucket."""
    app.config.update(s3_bucket.config())
    return app


def invoke(app: Flask, *args: str) -> Any:
    """Run the real `lagesbild` group against an app."""
    return app.test_cli_runner().invoke(main, list(args))


# --- settings ------------------------------------------------------------------------------


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Read the settings from a testing environment plus `env`."""
    monkeypatch.setenv("LAGESBILD_ENV", "testing")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


def test_s3_settings_reach_the_app_config(monkeypatch, tmp_path):
    config = flask_config(
        settings(
            monkeypatch,
            LAGESBILD_PHOTO_STORAGE="S3",
            LAGESBILD_S3_BUCKET="foton",
            LAGESBILD_S3_ENDPOINT_URL="https://s3.example.se/",
            LAGESBILD_S3_REGION="eu-north-1",
            LAGESBILD_S3_PREFIX="/kommun/prod/",
        ),
        str(tmp_path),
    )
    assert config["PHOTO_STORAGE"] == "s3" and config["S3_BUCKET"] == "foton"
    assert config["S3_ENDPOINT_URL"] == "https://s3.example.se"
    assert config["S3_REGION"] == "eu-north-1" and config["S3_PREFIX"] == "kommun/prod"


def test_the_default_is_the_filesystem(monkeypatch, tmp_path):
    monkeypatch.delenv("LAGESBILD_PHOTO_STORAGE", raising=False)
    assert flask_config(settings(monkeypatch), str(tmp_path))["PHOTO_STORAGE"] == "filesystem"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAGESBILD_PHOTO_STORAGE": "ftp"}, "LAGESBILD_PHOTO_STORAGE must be one of"),
        ({"LAGESBILD_PHOTO_STORAGE": "s3"}, "LAGESBILD_S3_BUCKET must be set"),
        (
            {
                "LAGESBILD_PHOTO_STORAGE": "s3",
                "LAGESBILD_S3_BUCKET": "foton",
                "LAGESBILD_PHOTO_ACCEL_PREFIX": "/_photos",
            },
            "LAGESBILD_PHOTO_ACCEL_PREFIX must be empty when LAGESBILD_PHOTO_STORAGE is s3",
        ),
        (
            {
                "LAGESBILD_PHOTO_STORAGE": "s3",
                "LAGESBILD_S3_BUCKET": "foton",
                "LAGESBILD_S3_ENDPOINT_URL": "s3.example.se",
            },
            "LAGESBILD_S3_ENDPOINT_URL must be an http",
        ),
        ({"LAGESBILD_S3_PREFIX": "a b"}, "LAGESBILD_S3_PREFIX must be a key prefix"),
    ],
)
def test_unusable_s3_settings_stop_the_start_with_a_clear_line(monkeypatch, tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        flask_config(settings(monkeypatch, **env), str(tmp_path))


# --- lagesbild check -------------------------------------------------------------------------


def check_json(app: Flask) -> tuple[int, dict[str, Any]]:
    """Run `lagesbild check --json`; return its exit code and answer."""
    result = invoke(app, "check", "--json")
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output)


def test_check_puts_and_deletes_a_probe_in_the_bucket(app, s3_bucket):
    code, data = check_json(app)
    assert code == 0, data
    assert data["checks"]["object_storage"] == "ok" and "photos" not in data["checks"]
    assert s3_bucket.object_keys() == []  # the probe is gone again


def test_check_names_a_missing_bucket(app):
    app.config["S3_BUCKET"] = "lagesbild-no-such-bucket"
    code, data = check_json(app)
    assert code == 1 and data["checks"]["object_storage"] == "problem"
    assert data["problems"] == ["object storage: bucket 'lagesbild-no-such-bucket' at "
                                f"{app.config['S3_ENDPOINT_URL']} does not exist"]  # fmt: skip


def test_check_names_an_endpoint_that_does_not_answer(app):
    url = f"http://127.0.0.1:{free_port()}"
    app.config["S3_ENDPOINT_URL"] = url
    code, data = check_json(app)
    assert code == 1
    [line] = data["problems"]
    assert line.startswith(f"object storage: cannot reach bucket '{app.config['S3_BUCKET']}'")
    assert url in line


def test_the_entry_point_checks_the_bucket_from_the_environment(monkeypatch, app, s3_bucket):
    for name, value in {
        **s3_bucket.env(),
        "LAGESBILD_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "LAGESBILD_DATA_DIR": app.config["DATA_DIR"],
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LAGESBILD_S3_BUCKET", "lagesbild-missing")
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1, result.output
    assert "object storage: bucket 'lagesbild-missing'" in result.output


# --- backup and restore ----------------------------------------------------------------------


@pytest.fixture
def other_bucket(s3_endpoint: S3Endpoint):
    """A second, empty place in the storage (the new installation's)."""
    bucket = new_bucket(s3_endpoint)
    yield bucket
    bucket.clear()


def test_backup_from_s3_and_restore_into_another_bucket_keeps_every_hash(
    request, app, client, device, s3_bucket, other_bucket, tmp_path
):
    photo = jpeg(seed=41)
    assert put(client, device, photo).status_code in STORED
    report = factories.report(photos=[sha(photo)])
    resp = client.post("/api/v1/sync/push", json={"reports": [report]}, headers=device.headers)
    assert resp.status_code == 200
    made = invoke(app, "backup", str(tmp_path / "bk"), "--json")
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    backed = {"photos/" + k: v for k, v in file_hashes(tmp_path / "bk" / "photos").items()}
    assert backed == photo_hashes(manifest) and len(backed) == 3
    assert {f"{k}" for k in backed} == set(s3_bucket.object_keys())

    with fresh_instance(request, app, tmp_path / "fresh") as fresh:
        fresh.config.update(other_bucket.config())
        done = invoke(fresh, "restore", str(tmp_path / "bk"), "--json")
        assert done.exit_code == 0, done.output
        assert counts_of(fresh) == manifest["counts"]
        restored = {k: sha(other_bucket.get(k)) for k in other_bucket.object_keys()}
        assert restored == photo_hashes(manifest)
        served = get(fresh.test_client(), device, sha(photo), "full")
        assert served.status_code == 200 and served.data == s3_bucket.get(
            next(k for k in backed if k.endswith("-full.jpg"))
        )
        # A second restore finds the bucket in use and changes nothing.
        again = invoke(fresh, "restore", str(tmp_path / "bk"))
        assert again.exit_code != 0 and "not empty" in again.output


def test_restore_refuses_a_bucket_that_already_holds_photos(
    request, app, client, device, s3_bucket, tmp_path
):
    assert put(client, device, jpeg(seed=42)).status_code in STORED
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    with fresh_instance(request, app, tmp_path / "fresh") as fresh:
        fresh.config.update(s3_bucket.config())  # the same, full bucket
        result = invoke(fresh, "restore", str(tmp_path / "bk"))
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert "photo storage already holds photos" in result.output
        assert counts_of(fresh)["reports"] == 0


def test_a_backup_while_s3_is_down_fails_with_a_clear_line(app, client, device, tmp_path):
    assert put(client, device, jpeg(seed=43)).status_code in STORED
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"
    result = invoke(app, "backup", str(tmp_path / "bk"))
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "cannot copy the photos" in result.output
    assert not (tmp_path / "bk" / "manifest.json").exists()


def test_a_filesystem_backup_restores_into_a_bucket(request, app, tmp_path, s3_bucket):
    """The photo layout is the same in both storages: a host can move onto S3 by a restore."""
    app.config.update(PHOTO_STORAGE="filesystem")
    client = app.test_client()
    device = factories.make_device(factories.make_org())
    photo = jpeg(seed=44)
    assert put(client, device, photo).status_code in STORED
    assert list(Path(app.config["DATA_DIR"]).rglob("*-full.jpg"))
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    with fresh_instance(request, app, tmp_path / "fresh") as fresh:
        fresh.config.update(s3_bucket.config())
        assert invoke(fresh, "restore", str(tmp_path / "bk")).exit_code == 0
        assert get(fresh.test_client(), device, sha(photo), "thumb").status_code == 200
