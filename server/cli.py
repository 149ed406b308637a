"""The `lagesbild` command line: Flask's CLI plus administration commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from server.app import create_app
from server.commands.check import check_command


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main() -> None:
    """Lägesbild: field reports, sync server and morning digest.

    The commands live on the app (`app.cli`, see server.app), so `flask --app` finds them too.
    """


# Also on the group itself, so `lagesbild check` runs (and lists the problem) when a setting
# keeps the app from loading; the app's own copy serves `flask --app server.app check`.
main.add_command(check_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
