"""Every code the server refuses a scan or round run with is said in the phone's languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# `Refused("code", …)`, also with the code on the next line.
_REFUSED = re.compile(r'Refused\(\s*"([a-z_]+)"')
_KNOWN = re.compile(r"const KNOWN_REFUSALS = new Set\(\[(.*?)\]\)", re.S)


def server_codes() -> set[str]:
    """Return the codes server/rounds can put in a scan's or run's `rejected` answer."""
    found: set[str] = set()
    for path in (ROOT / "server" / "rounds").glob("*.py"):
        found |= set(_REFUSED.findall(path.read_text(encoding="utf-8")))
    return found


def phone_codes() -> set[str]:
    """Return the codes pwa/rounds-view.js says in its own words."""
    match = _KNOWN.search((ROOT / "pwa" / "rounds-view.js").read_text(encoding="utf-8"))
    assert match, "KNOWN_REFUSALS not found in pwa/rounds-view.js"
    return set(re.findall(r'"([a-z_]+)"', match.group(1)))


def test_the_server_codes_are_found() -> None:
    # The grep must see the codes of both modules, or the next test proves nothing.
    assert {"bad_time", "invalid", "foreign_checkpoint", "run_refused", "conflict"} <= (
        server_codes()
    )


def test_the_phone_knows_every_code_the_server_refuses_with() -> None:
    assert server_codes() <= phone_codes()


def test_every_known_code_has_swedish_and_english_words() -> None:
    for lang in ("sv", "en"):
        catalog = json.loads((ROOT / "pwa" / "i18n" / f"{lang}.json").read_text("utf-8"))
        missing = {c for c in phone_codes() if not catalog.get(f"rounds.refused.{c}")}
        assert not missing, (lang, missing)
