"""The `lagesbild` command line: Flask's CLI plus administration commands."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from server.app import create_app


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def main() -> None:
    """Lägesbild: field reports, sync server and morning digest."""


def _register() -> None:
    """Attach the command groups of every domain."""
    from server.demo.cli import demo
    from server.devices.cli import device
    from server.orgs.cli import org, user
    from server.reports.cli import report

    for cmd in (org, user, device, demo, report):
        main.add_command(cmd)


_register()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
