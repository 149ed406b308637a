"""`lagesbild user …`: persons who log in to the workspace."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from server.auth import service as persons
from server.auth.models import ROLES
from server.cli_util import emit, fail_on_value_error, json_option
from server.orgs import service


@click.group()
def user() -> None:
    """Manage persons who log in (coordinators, admins)."""


@user.command("create")
@click.option("--org", "org_key", required=True, help="Organisation name or slug.")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@json_option
@with_appcontext
@fail_on_value_error
def user_create(org_key: str, email: str, role: str, as_json: bool) -> None:
    """Create a person; the password is read from stdin or asked for."""
    organisation = service.find(org_key)
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    p = persons.create(organisation, email, role, password)
    emit(
        as_json,
        {"id": p.id, "email": p.email, "role": p.role, "org": organisation.slug},
        f"Created {p.role} {p.email} in {organisation.name}.",
    )
