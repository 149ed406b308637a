"""The `lagesbild` command line: Flask's CLI plus administration commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from server.app import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main() -> None:
    """Lägesbild: field reports, sync server and morning digest.

    The commands live on the app (`app.cli`, see server.app), so `flask --app` finds them too.
    """


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
