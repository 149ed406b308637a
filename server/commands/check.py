"""`lagesbild check`: validate the configuration before (or while) the server runs."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from server.cli_util import emit, json_option
from server.ops import checks


@click.command("check")
@json_option
@click.pass_context
def check_command(ctx: click.Context, as_json: bool) -> None:
    """Check the settings, database, data directory, photo storage, SMTP and base URL.

    Prints one line per problem and exits with status 1, or one line saying all is well.
    """
    # Not with_appcontext: a setting that stops the app from loading is a problem to list.
    app, problems = checks.load_app(ctx.ensure_object(ScriptInfo).load_app)
    results = [("config", problems)]
    if app is not None:
        results += checks.run(app)
    found = [line for _name, lines in results for line in lines]
    data = {
        "ok": not found,
        "problems": found,
        "checks": {name: ("ok" if not lines else "problem") for name, lines in results},
    }
    if found:
        emit(as_json, data, "\n".join([*found, f"{len(found)} problem(s) found."]))
        ctx.exit(1)
    passed = ", ".join(name.replace("_", " ") for name, _lines in results)
    emit(as_json, data, f"OK: no problems found ({passed}).")
