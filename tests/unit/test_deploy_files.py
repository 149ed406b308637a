"""deploy/ agrees with the app: body limits, 413 texts, headers, paths and the systemd unit.

The deployment test (tests/system/test_deploy_nginx.py) runs these files; this one reads
them, so a drift shows up even where nginx is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.config import SETTINGS, Settings
from server.devices.views import ENROL_MAX_BYTES
from server.errors import envelope
from server.headers import HSTS
from server.http import _too_large
from server.pwa import CSP as PWA_CSP
from server.workspace.hooks import MAX_BODY as WORKSPACE_MAX_BODY

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SITE = (DEPLOY / "nginx" / "lagesbild.conf").read_text(encoding="utf-8")
UNIT = (DEPLOY / "systemd" / "lagesbild.service").read_text(encoding="utf-8")
ENV_EXAMPLE = (DEPLOY / "lagesbild.env.example").read_text(encoding="utf-8")
GUNICORN_CONF = (DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8")
DEFAULTS = Settings.from_env({})
_SIZE = re.compile(r"^(\d+)([km]?)$")


def _bytes(size: str) -> int:
    """Read an nginx size (1m, 256k, 4096) as bytes."""
    number, unit = _SIZE.fullmatch(size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 1024, "m": 1024 * 1024}[unit]


def _block(header: str) -> str:
    """Return the body of the location (or named location) that opens with `header`."""
    start = SITE.index(header + " {")
    depth, i = 0, SITE.index("{", start)
    for j in range(i, len(SITE)):
        depth += {"{": 1, "}": -1}.get(SITE[j], 0)
        if depth == 0:
            return SITE[i + 1 : j]
    raise AssertionError(f"unclosed block {header}")


def _directive(text: str, name: str) -> str:
    """Return the one value of a directive in a block."""
    (value,) = re.findall(rf"^\s*{name}\s+([^;]+);", text, re.MULTILINE)
    return value.strip()


def _too_large_body(block: str) -> dict:
    """Return the JSON that a named 413 location answers."""
    (body,) = re.findall(r"return 413 '([^']+)';", block)
    return json.loads(body.removesuffix("\\n"))  # the answer ends with a newline


def _env_example() -> dict[str, str]:
    """Read the example environment file into a dict."""
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}


@pytest.mark.parametrize(
    ("location", "named", "setting", "what"),
    [
        ("location = /api/v1/sync/push", "location @push_too_large", "MAX_PUSH_BYTES", "push"),
        ("location ^~ /api/v1/photos/", "location @photo_too_large", "MAX_PHOTO_BYTES", "photo"),
    ],
)
def test_nginx_refuses_above_the_apps_limit_with_the_apps_answer(location, named, setting, what):
    limit = DEFAULTS[setting]
    block = _block(location)
    assert _bytes(_directive(block, "client_max_body_size")) == limit
    assert _directive(block, "error_page") == f"413 {named.removeprefix('location ')}"
    app = _too_large(limit, what)
    assert _too_large_body(_block(named)) == envelope(app.code, app.message, app.details)


def test_the_other_bodies_are_bounded_above_what_the_app_takes():
    server_wide = _bytes(re.search(r"\n    client_max_body_size (\w+);", SITE).group(1))  # type: ignore[union-attr]
    assert server_wide >= ENROL_MAX_BYTES  # the app answers its own 413 first
    workspace = _bytes(_directive(_block("location ^~ /workspace/"), "client_max_body_size"))
    assert workspace >= WORKSPACE_MAX_BODY  # the app's page in the user's language first
    api = _block("location ^~ /api/")
    assert _directive(api, "error_page") == "413 @too_large"
    generic = _too_large_body(_block("location @too_large"))
    assert generic == envelope("payload_too_large", "The request is too large.")


def test_every_hsts_and_csp_in_the_site_is_the_apps():
    hsts = re.findall(r'add_header Strict-Transport-Security "([^"]+)" always;', SITE)
    assert hsts and set(hsts) == {HSTS}
    # Every location with headers of its own repeats HSTS (add_header is not inherited).
    headers = re.findall(r"^\s*(location [^{]+?) \{", SITE, re.MULTILINE)
    with_headers = [h for h in headers if "add_header" in _block(h)]
    assert len(with_headers) >= 5
    for header in with_headers:
        assert "add_header Strict-Transport-Security" in _block(header), header
    (csp,) = re.findall(r'add_header Content-Security-Policy "([^"]+)" always;', SITE)
    assert csp == PWA_CSP


def test_the_env_example_the_unit_and_the_site_name_the_same_places():
    env = _env_example()
    names = {s.env for s in SETTINGS} | set(re.findall(r'environ\.get\("(\w+)"', GUNICORN_CONF))
    assert set(env) <= names, set(env) - names
    assert env["LAGESBILD_PROXY_HOPS"] == "1"
    prefix = env["LAGESBILD_PHOTO_ACCEL_PREFIX"]
    photos = _block(f"location ^~ {prefix}/")
    assert "internal;" in photos
    assert _directive(photos, "alias") == env["LAGESBILD_DATA_DIR"] + "/photos/"
    assert f"ReadWritePaths={env['LAGESBILD_DATA_DIR']}\n" in UNIT
    assert f"server {env['LAGESBILD_BIND']};" in SITE


HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "PrivateTmp=yes",
    "ProtectHome=yes",
    "PrivateDevices=yes",
    "CapabilityBoundingSet=\n",
    "RestrictSUIDSGID=yes",
    "SystemCallFilter=@system-service",
    "UMask=0027",
)


def test_the_unit_runs_gunicorn_with_the_deploy_configuration_hardened():
    assert "ExecStart=/opt/lagesbild/.venv/bin/gunicorn -c deploy/gunicorn.conf.py " in UNIT
    assert "EnvironmentFile=/etc/lagesbild/lagesbild.env\n" in UNIT
    assert "User=lagesbild\n" in UNIT and "\nEnvironment=" not in UNIT  # secrets: the file
    for line in HARDENING:
        assert line in UNIT, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_reads_every_line_of_the_unit(tmp_path):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    unit = tmp_path / "lagesbild.service"
    unit.write_text(UNIT.replace("/opt/lagesbild/.venv/bin/gunicorn", str(gunicorn)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys and bad values are only warnings: any output at all is a mistake.
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
