"""`lagesbild user …`: persons who log in to the workspace."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from server.auth import service as persons
from server.auth.models import ROLES, Person
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


def _ended(as_json: bool, p: Person, ended: int, text: str) -> None:
    """Print the person and how many sessions ended."""
    emit(
        as_json,
        {"id": p.id, "email": p.email, "role": p.role, "active": p.active, "sessions_ended": ended},
        f"{text} {p.email}: {ended} session(s) ended.",
    )


@user.command("logout-everywhere")
@click.option("--email", required=True)
@json_option
@with_appcontext
@fail_on_value_error
def user_logout_everywhere(email: str, as_json: bool) -> None:
    """End every workspace session of a person."""
    p = persons.find(email)
    _ended(as_json, p, persons.logout_everywhere(p), "Logged out")


@user.command("deactivate")
@click.option("--email", required=True)
@json_option
@with_appcontext
@fail_on_value_error
def user_deactivate(email: str, as_json: bool) -> None:
    """Stop a person from logging in and end their sessions."""
    p = persons.find(email)
    _ended(as_json, p, persons.deactivate(p), "Deactivated")


@user.command("set-role")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@json_option
@with_appcontext
@fail_on_value_error
def user_set_role(email: str, role: str, as_json: bool) -> None:
    """Give a person another role and end their sessions (they log in again)."""
    p = persons.find(email)
    _ended(as_json, p, persons.set_role(p, role), f"Made {role}:")
