"""`lagesbild rotate-epoch`: run after restoring a backup."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from server.cli_util import emit, json_option
from server.meta.service import rotate_epoch


@click.command("rotate-epoch")
@json_option
@with_appcontext
def rotate_epoch_command(as_json: bool) -> None:
    """Invalidate every pull cursor (after a restore), so devices resync in full."""
    epoch = rotate_epoch()
    emit(as_json, {"epoch": epoch}, "New database epoch set; every device will resync.")
