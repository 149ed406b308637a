"""Enrol the simulated devices and create the coordinator before the timed part.

Enrolling 300 devices through `lagesbild device enrol` would start the CLI 300 times (minutes
of set-up), so a child process calls the same services directly in one app context: issue a
code, exchange it for a token, as the enrolment endpoint does. It is a child process because
the load runner's process is patched by gevent (locust) and must not start the app's jobs.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from dataclasses import dataclass

from bench.ingestlib.common import ROOT, BenchError

# The provisioning process must not start the digest, purge or grouping jobs of the app.
QUIET_APP_ENV = {
    "LAGESBILD_DIGEST_SCHEDULER": "false",
    "LAGESBILD_PURGE_SCHEDULER": "false",
    "LAGESBILD_GROUPING": "inline",
}
ORG_NAME = "Lastkommun"
COORDINATOR_EMAIL = "samordnare@lastkommun.example"


@dataclass(frozen=True)
class Provisioned:
    """What the load needs: the organisation, device tokens and a coordinator's login."""

    org_id: int
    org_slug: str
    tokens: list[str]
    email: str
    password: str


def provision(env: dict[str, str], devices: int) -> Provisioned:
    """Create the organisation, `devices` enrolled devices and a coordinator (child process)."""
    password = secrets.token_urlsafe(18)
    cmd = [sys.executable, "-m", "bench.loadlib.provision", "--devices", str(devices)]
    out = subprocess.run(
        cmd,
        cwd=ROOT,
        env={**env, **QUIET_APP_ENV},
        input=password,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if out.returncode != 0:
        raise BenchError(f"provisioning failed:\n{out.stdout}\n{out.stderr}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return Provisioned(
        data["org_id"], data["org_slug"], data["tokens"], COORDINATOR_EMAIL, password
    )


def _main() -> None:
    """Child process: provision in one app context and print the result as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, required=True)
    args = parser.parse_args()
    password = sys.stdin.read().strip()

    from server.app import create_app
    from server.auth import service as persons
    from server.devices import service as devices
    from server.orgs import service as orgs

    app = create_app()
    with app.app_context():
        org = orgs.create(ORG_NAME)
        tokens = []
        for i in range(args.devices):
            issued = devices.issue_code(org, f"Lasttelefon {i + 1}", "vaktare", 24)
            tokens.append(devices.enrol(issued.code)[1])
        persons.create(org, COORDINATOR_EMAIL, "coordinator", password)
        print(json.dumps({"org_id": org.id, "org_slug": org.slug, "tokens": tokens}))


if __name__ == "__main__":
    _main()
