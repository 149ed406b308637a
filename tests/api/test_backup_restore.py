"""`lagesbild backup DIR` and `lagesbild restore DIR`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade
from sqlalchemy import event, select

from server.cli import main
from server.extensions import db
from server.ops import pgtools, tables
from server.reports.models import Report
from tests.support import factories
from tests.support.backups import counts_of, file_hashes, fresh_instance, photo_hashes
from tests.support.photos import STORED, jpeg, put, sha

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def invoke(app: Flask, *args: str) -> Any:
    """Run the real `lagesbild` group against an app."""
    return app.test_cli_runner().invoke(main, list(args))


def ok_json(result: Any) -> dict[str, Any]:
    """Check a --json command succeeded; return its one JSON object."""
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def refused(result: Any, *words: str) -> str:
    """Check a command failed with a clear message (no traceback); return the output."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for word in words:
        assert word.lower() in result.output.lower(), result.output
    return result.output


def push(client, device, *reports: dict[str, Any]) -> list[dict[str, Any]]:
    """Push reports and return the results."""
    resp = client.post(PUSH, json={"reports": list(reports)}, headers=device.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["results"]


def reports_of(app: Flask) -> dict[str, tuple[int, str | None]]:
    """Every stored report's version and text, by id (as another connection sees them)."""
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(select(Report.id, Report.version, Report.description))
        return {str(r.id): (r.version, r.description) for r in rows}


@pytest.fixture
def scene(app: Flask, client, device) -> dict[str, Any]:
    """Three reports of one phone, one of them with a photo."""
    photo = jpeg(seed=7)
    assert put(client, device, photo).status_code in STORED
    reports = [factories.report(photos=[sha(photo)]), factories.report(), factories.report()]
    assert [r["status"] for r in push(client, device, *reports)] == ["created"] * 3
    db.session.rollback()
    return {"photo": photo, "reports": reports}


@pytest.fixture
def fresh(request: pytest.FixtureRequest, app: Flask, tmp_path: Path):
    """A second, empty installation on the same kind of database."""
    with fresh_instance(request, app, tmp_path / "fresh") as other:
        yield other


def test_restore_into_a_fresh_instance_keeps_counts_hashes_and_photos(
    app, device, scene, fresh, tmp_path
):
    before = counts_of(app)
    made = ok_json(invoke(app, "backup", str(tmp_path / "bk"), "--json"))
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())

    assert manifest["counts"] == before and manifest["counts"]["reports"] == 3
    assert manifest["database"]["revision"] == made["database"]["revision"]
    assert {"photos/" + k: v for k, v in file_hashes(tmp_path / "bk" / "photos").items()} == (
        photo_hashes(manifest)
    )
    assert len(photo_hashes(manifest)) == 3  # the three sizes of the one photo

    done = ok_json(invoke(fresh, "restore", str(tmp_path / "bk"), "--json"))

    assert done["epoch_rotated"] is True
    assert counts_of(fresh) == manifest["counts"]
    assert reports_of(fresh) == reports_of(app)
    restored = file_hashes(Path(fresh.config["DATA_DIR"]) / "photos")
    assert {"photos/" + k: v for k, v in restored.items()} == photo_hashes(manifest)
    digest = sha(scene["photo"])
    original = app.test_client().get(f"/api/v1/photos/{digest}", headers=device.headers)
    again = fresh.test_client().get(f"/api/v1/photos/{digest}", headers=device.headers)
    assert again.status_code == 200 and again.data == original.data


def test_the_text_answer_names_the_epoch_and_the_next_steps(app, scene, fresh, tmp_path):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    result = invoke(fresh, "restore", str(tmp_path / "bk"))
    assert result.exit_code == 0, result.output
    assert "rotate-epoch" in result.output and "lagesbild purge --org" in result.output


def test_a_phone_syncs_after_the_restore_without_losing_or_duplicating(
    app, client, device, fresh, tmp_path
):
    kept = [factories.report(), factories.report()]
    push(client, device, *kept)
    cursor = client.get(PULL, headers=device.headers).get_json()["cursor"]
    db.session.rollback()
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    assert invoke(fresh, "restore", str(tmp_path / "bk")).exit_code == 0
    phone = fresh.test_client()

    pulled = phone.get(PULL, query_string={"cursor": cursor}, headers=device.headers).get_json()
    assert pulled["reset"] is True  # the old cursor is from before the restore
    assert sorted(r["id"] for r in pulled["reports"]) == sorted(r["id"] for r in kept)

    waiting = factories.report()  # saved on the phone while the server was being restored
    assert [r["status"] for r in push(phone, device, kept[0], waiting)] == ["duplicate", "created"]
    assert [r["status"] for r in push(phone, device, waiting)] == ["duplicate"]
    later = phone.get(PULL, query_string={"cursor": pulled["cursor"]}, headers=device.headers)
    assert later.get_json()["reset"] is False
    assert [r["id"] for r in later.get_json()["reports"]] == [waiting["id"]]
    assert sorted(reports_of(fresh)) == sorted([*(r["id"] for r in kept), waiting["id"]])


@pytest.mark.parametrize("damage", ["photo", "database", "missing", "stray"])
def test_a_tampered_backup_is_refused_and_nothing_is_restored(app, scene, fresh, tmp_path, damage):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    photo = tmp_path / "bk" / next(iter(photo_hashes(manifest)))
    dump = tmp_path / "bk" / manifest["database"]["file"]
    if damage == "photo":
        photo.write_bytes(photo.read_bytes() + b"x")
    elif damage == "database":
        data = bytearray(dump.read_bytes())
        data[len(data) // 2] ^= 0xFF
        dump.write_bytes(bytes(data))
    elif damage == "missing":
        photo.unlink()
    else:
        (tmp_path / "bk" / "photos" / "extra.jpg").write_bytes(b"planted")
    empty = counts_of(fresh)

    output = refused(invoke(fresh, "restore", str(tmp_path / "bk")), "nothing was restored")

    expected = {"photo": "sha-256", "database": "sha-256", "missing": "missing"}
    assert expected.get(damage, "not in the manifest") in output.lower()
    assert counts_of(fresh) == empty
    assert not (Path(fresh.config["DATA_DIR"]) / "photos").exists()


def test_restore_refuses_an_installation_in_use(app, scene, tmp_path):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    before = counts_of(app)
    refused(invoke(app, "restore", str(tmp_path / "bk")), "not empty", "organisations")
    assert counts_of(app) == before


def test_restore_refuses_what_is_not_a_backup(fresh, tmp_path):
    (tmp_path / "bk").mkdir()
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "manifest.json is missing")
    (tmp_path / "bk" / "manifest.json").write_text("{not json")
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "cannot be read")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"dialect": "oracle"}, ("oracle", "same kind of database")),
        ({"revision": "9999"}, ("9999", "unknown")),
    ],
)
def test_restore_refuses_another_database_kind_or_a_newer_schema(
    app, scene, fresh, tmp_path, change, words
):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["database"].update(change)
    path.write_text(json.dumps(manifest))
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), *words)
    assert counts_of(fresh)["reports"] == 0


def test_backup_refuses_a_directory_that_is_not_empty(app, scene, tmp_path):
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "keep.txt").write_text("older backup")
    refused(invoke(app, "backup", str(tmp_path / "bk")), "not empty")
    assert [p.name for p in (tmp_path / "bk").iterdir()] == ["keep.txt"]


def test_backup_without_pg_dump_says_what_to_install(app, scene, tmp_path, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    monkeypatch.setattr(pgtools, "PG_ROOT", tmp_path / "no-postgres")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    refused(invoke(app, "backup", str(tmp_path / "bk")), "pg_dump not found", "postgresql-client")
    assert not (tmp_path / "bk" / "manifest.json").exists()


def test_a_backup_taken_while_phones_push_is_one_consistent_moment(app, device, fresh, tmp_path):
    acked: list[str] = []
    stop = threading.Event()
    errors: list[str] = []

    def phone() -> None:
        client = app.test_client()
        while not stop.is_set() and len(acked) < 2000:
            batch = [factories.report() for _ in range(5)]
            resp = client.post(PUSH, json={"reports": batch}, headers=device.headers)
            if resp.status_code != 200:
                errors.append(resp.get_data(as_text=True))
                return
            acked.extend(r["id"] for r in batch)

    thread = threading.Thread(target=phone, daemon=True)
    thread.start()
    try:
        _wait(lambda: len(acked) >= 20 or errors)
        before = set(acked)
        made = ok_json(invoke(app, "backup", str(tmp_path / "bk"), "--json"))
        _wait(lambda: len(acked) >= len(before) + 20 or errors)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors[:1]

    ok_json(invoke(fresh, "restore", str(tmp_path / "bk"), "--json"))
    restored = set(reports_of(fresh))
    assert before <= restored <= set(acked)  # all acknowledged before, none invented
    assert made["counts"]["reports"] == len(restored) < len(acked)
    with fresh.app_context(), db.engine.connect() as conn:
        seqs = conn.execute(select(Report.change_seq)).scalars().all()
        top = conn.exec_driver_sql("SELECT max(value) FROM change_counters").scalar()
    assert max(seqs) <= top and len(set(seqs)) == len(seqs)  # no change half in the copy


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """Open new SQLite connections without foreign key checks for the block."""

    def off(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA foreign_keys = OFF")

    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        db.engine.dispose()
        event.listen(db.engine, "connect", off)
    try:
        yield
    finally:
        db.session.remove()
        if sqlite:
            event.remove(db.engine, "connect", off)
            db.engine.dispose()


def _wait(condition, timeout: float = 30.0) -> None:
    """Wait until condition() is true (the pushing thread makes progress)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the phone thread made no progress"
        time.sleep(0.01)


def test_restore_refuses_a_manifest_naming_files_outside_the_backup(app, scene, fresh, tmp_path):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    (tmp_path / "outside.txt").write_text("not part of the backup")
    path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"]["../outside.txt"] = "0" * 64
    path.write_text(json.dumps(manifest))
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "../outside.txt: not a path inside")
    assert counts_of(fresh)["reports"] == 0


def test_restore_refuses_a_data_directory_with_photo_files(app, scene, fresh, tmp_path):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    stray = Path(fresh.config["DATA_DIR"]) / "photos" / "9" / "ab" / "old-full.jpg"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left over")
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "already holds photo files")
    assert counts_of(fresh)["reports"] == 0


def test_backup_refuses_a_directory_inside_the_data_directory(app, scene):
    target = Path(app.config["DATA_DIR"]) / "photos" / "backup"
    refused(invoke(app, "backup", str(target)), "inside the data directory")
    assert not target.exists()


def test_a_backup_of_an_older_schema_is_upgraded_after_the_restore(
    app, client, device, fresh, tmp_path
):
    kept = factories.report()
    push(client, device, kept)
    db.session.remove()
    with _sqlite_foreign_keys_off():  # SQLite's batch downgrade rebuilds referenced tables
        downgrade(revision="0008")  # as if made by the previous version of Lägesbild
    made = ok_json(invoke(app, "backup", str(tmp_path / "bk"), "--json"))
    assert made["database"]["revision"] == "0008"

    done = ok_json(invoke(fresh, "restore", str(tmp_path / "bk"), "--json"))

    assert done["upgraded_from"] == "0008"
    with fresh.app_context(), db.engine.connect() as conn:
        assert tables.revision(conn) in tables.code_heads()
    assert list(reports_of(fresh)) == [kept["id"]]
    pulled = fresh.test_client().get(PULL, headers=device.headers).get_json()
    assert [r["id"] for r in pulled["reports"]] == [kept["id"]]


def test_a_dump_pg_restore_cannot_read_is_refused_with_the_next_step(app, scene, fresh, tmp_path):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pg_restore is for PostgreSQL")
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    dump = tmp_path / "bk" / "database.pgdump"
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])  # cut, as by a full disk
    path = tmp_path / "bk" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["files"]["database.pgdump"] = hashlib.sha256(dump.read_bytes()).hexdigest()
    path.write_text(json.dumps(manifest))

    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "pg_restore failed", "db upgrade")
    assert not (Path(fresh.config["DATA_DIR"]) / "photos").exists()


def _mode(path: Path) -> int:
    """Return the permission bits of a path."""
    return stat.S_IMODE(path.stat().st_mode)


def test_a_backup_is_readable_by_its_maker_only(app, scene, tmp_path):
    target = tmp_path / "bk"
    target.mkdir(mode=0o755)  # an empty directory made with loose modes is tightened
    old = os.umask(0o022)  # as from a shell or cron
    try:
        assert invoke(app, "backup", str(target)).exit_code == 0
    finally:
        os.umask(old)
    made = [target, *target.rglob("*")]
    assert len(made) > 2 and [str(p) for p in made if _mode(p) & 0o077] == []


def test_restored_photos_get_the_photo_stores_mode_and_links_are_refused(
    app, scene, fresh, tmp_path
):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"not in the manifest")
    link = tmp_path / "bk" / "photos" / "elsewhere"
    link.symlink_to(outside, target_is_directory=True)
    refused(invoke(fresh, "restore", str(tmp_path / "bk")), "symbolic link")
    link.unlink()
    assert invoke(fresh, "restore", str(tmp_path / "bk")).exit_code == 0
    photos = [p for p in (Path(fresh.config["DATA_DIR"]) / "photos").rglob("*") if p.is_file()]
    assert photos and {_mode(p) for p in photos} == {0o640}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to another owner")
def test_restore_as_root_gives_the_photos_to_the_data_directorys_owner(app, scene, fresh, tmp_path):
    assert invoke(app, "backup", str(tmp_path / "bk")).exit_code == 0
    data_dir = Path(fresh.config["DATA_DIR"])
    os.chown(data_dir, 65534, 65534)  # the service account (nobody here)
    assert invoke(fresh, "restore", str(tmp_path / "bk")).exit_code == 0
    made = list((data_dir / "photos").rglob("*"))
    assert made and {(p.stat().st_uid, p.stat().st_gid) for p in made} == {(65534, 65534)}
