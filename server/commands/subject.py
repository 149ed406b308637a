"""`lagesbild subject …`: subject access requests for a device or a person (GDPR art. 15, 17).

`export` prints (or writes) everything stored about the subject as one JSON document;
`delete` erases or anonymises it (server.privacy.subject). Both are recorded in the audit
log of the subject's organisation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext

from server.auth import service as persons
from server.cli_util import emit, fail_on_value_error, json_option
from server.privacy import subject as subjects
from server.privacy import subject_delete as forget

_device = click.option("--device", "device_id", type=int, help="The device's id.")
_person = click.option("--person", "email", help="The person's e-mail address.")


def _one(device_id: int | None, email: str | None) -> None:
    """Refuse anything but exactly one subject."""
    if (device_id is None) == (email is None):
        raise click.UsageError("give exactly one of --device ID or --person EMAIL")


def _write(path: Path, text: str) -> None:
    """Write the export readable by its owner only (it holds personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


@click.group()
def subject() -> None:
    """Export or delete what is stored about a device or a person."""


@subject.command("export")
@_device
@_person
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to this file (mode 600) instead of printing it.",
)
@click.option("--paths", is_flag=True, help="Add where the photo files lie on this server.")
@with_appcontext
@fail_on_value_error
def subject_export(device_id: int | None, email: str | None, out: Path | None, paths: bool) -> None:
    """Print everything stored about a device or a person as JSON."""
    _one(device_id, email)
    data: dict[str, Any] = (
        subjects.export_device(device_id, paths=paths)
        if device_id is not None
        else subjects.export_person(str(email))
    )
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if out is None:
        click.echo(text)
        return
    _write(out, text + "\n")
    click.echo(f"Wrote {out} ({data['subject']['type']} {data['subject']['id']}).")


@subject.command("delete")
@_device
@_person
@click.option("--yes", is_flag=True, help="Confirm: this cannot be undone.")
@json_option
@with_appcontext
@fail_on_value_error
def subject_delete(device_id: int | None, email: str | None, yes: bool, as_json: bool) -> None:
    """Erase a device's reports and anonymise it, or anonymise a person."""
    _one(device_id, email)
    # An unknown subject is named before the missing confirmation.
    if device_id is not None:
        subjects.get_device(device_id)
    else:
        persons.find(str(email))
    if not yes:
        raise click.UsageError("deleting cannot be undone: add --yes to confirm")
    if device_id is not None:
        done = forget.delete_device(device_id)
        text = (
            f"Deleted device {done['device']}: {len(done['reports_erased'])} report(s) erased, "
            f"{len(done['photos_deleted'])} photo(s) deleted, now named {done['name']!r}; "
            f"{len(done['digests_rebuilt'])} archived digest(s) rebuilt."
        )
    else:
        done = forget.delete_person(str(email))
        text = (
            f"Anonymised person {done['person']}: now {done['email']}, "
            f"{done['sessions_deleted']} session(s) deleted."
        )
    emit(as_json, done, text)
