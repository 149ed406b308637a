"""`lagesbild backup DIR` and `lagesbild restore DIR`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from server.cli_util import emit, json_option
from server.ops import backup as backups
from server.ops import restore as restores
from server.ops.manifest import BackupError
from server.ops.pgtools import PgToolError

_DIR = click.Path(file_okay=False, path_type=Path)


@click.command("backup")
@click.argument("directory", metavar="DIR", type=_DIR)
@json_option
@with_appcontext
def backup_command(directory: Path, as_json: bool) -> None:
    """Back up the database and the photos into DIR (new or empty), with a manifest."""
    try:
        made = backups.make(directory, Path(current_app.config["DATA_DIR"]))
    except (BackupError, PgToolError, OSError) as exc:
        raise click.ClickException(f"backup failed: {exc}") from exc
    counts = made["counts"]
    emit(
        as_json,
        {"directory": str(directory), **{k: v for k, v in made.items() if k != "files"}},
        f"Backup written to {directory}: {made['database']['dialect']} database at revision"
        f" {made['database']['revision']}, {counts.get('reports', 0)} reports,"
        f" {made['photo_files']} photo files; manifest.json holds every file's SHA-256.",
    )


@click.command("restore")
@click.argument("directory", metavar="DIR", type=_DIR)
@json_option
@with_appcontext
def restore_command(directory: Path, as_json: bool) -> None:
    """Restore a backup from DIR into this installation, which must be empty."""
    try:
        done = restores.restore(directory, Path(current_app.config["DATA_DIR"]))
    except (BackupError, PgToolError) as exc:
        raise click.ClickException(f"restore refused or failed: {exc}") from exc
    taken = done.manifest.get("created_at")
    lines = [
        f"Restored the backup of {taken}: {done.counts.get('reports', 0)} reports,"
        f" {done.manifest.get('photo_files', 0)} photo files; counts match the manifest.",
    ]
    if done.upgraded_from:
        lines.append(f"Upgraded the schema from revision {done.upgraded_from} to the current one.")
    lines += [
        "Ran rotate-epoch: every phone resyncs in full at its next sync (no need to run it).",
        f"Reports the server acknowledged after {taken} are not in the backup; phones keep"
        " their unsent reports and send them as usual.",
        "Next: run 'lagesbild purge --org ORG' for each organisation (the backup may hold"
        " data its retention has since removed), then start the server.",
    ]
    emit(
        as_json,
        {
            "directory": str(directory),
            "backup_created_at": taken,
            "counts": done.counts,
            "upgraded_from": done.upgraded_from,
            "epoch_rotated": True,
            "epoch": done.epoch,
        },
        "\n".join(lines),
    )
