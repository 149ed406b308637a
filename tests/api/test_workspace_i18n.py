"""The workspace catalogs: every key used exists in Swedish and English, and language choice."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from server.devices.models import DEVICE_KINDS
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE
from server.incidents.queries import SORTS
from server.workspace import i18n
from server.workspace.i18n import LANGUAGES, catalogs, current_lang, t

WORKSPACE = Path(i18n.__file__).resolve().parent
# t("key") / t('key', …) in templates and Python; message("key"), render_error(…, "key") and
# messages.append("key") in Python. A key ending in "." is a prefix completed at run time
# (t("trends.window." ~ period)): those are listed in DYNAMIC instead.
_KEY_RE = re.compile(
    r"""\b(?:t|message|append|render_error\(\d+,)\s*\(?\s*["']([a-z_][\w.\-]*[\w\-])["'](?!\s*~)"""
)
# Keys the views pass around in variables.
VARIABLE_KEYS = ("login.failed", "login.locked")
# Keys built at run time from a code ("status." + status …), with every code they take.
DYNAMIC = {
    "status": INCIDENT_STATUSES,
    "responsible": (*RESPONSIBLE, "none"),
    "kind": DEVICE_KINDS,
    "sort": SORTS,
    "weekday": tuple(str(i) for i in range(7)),
    "month": tuple(str(i) for i in range(1, 13)),
    "error": tuple(
        f"{status}.{part}"
        for status in (400, 403, 404, 405, 413, 500)
        for part in ("title", "text")
    ),
}
# The codes of IncidentError the incident service raises: each has a message.
INCIDENT_ERROR_CODES = (
    "unknown_status",
    "unknown_responsible",
    "empty_comment",
    "comment_too_long",
    "same_incident",
    "already_alone",
)


def used_keys() -> dict[str, set[str]]:
    """Find every literal catalog key in the workspace's templates and modules."""
    found: dict[str, set[str]] = {}
    files = [*WORKSPACE.rglob("*.html"), *WORKSPACE.rglob("*.py")]
    for path in files:
        for key in _KEY_RE.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, set()).add(str(path.relative_to(WORKSPACE)))
    return found


def test_templates_and_views_use_keys(app: Flask) -> None:
    keys = used_keys()
    assert "nav.night" in keys and "incident.comment_hint" in keys and "error.csrf" in keys
    assert "filter.bad_date" in keys and "error.not_found" in keys


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_used_key_exists(app: Flask, lang: str) -> None:
    catalog = catalogs()[lang]
    missing = {k: sorted(v) for k, v in used_keys().items() if k not in catalog}
    assert not missing, f"keys missing from the {lang} catalogs: {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_dynamic_key_exists(app: Flask, lang: str) -> None:
    catalog = catalogs()[lang]
    wanted = [f"{prefix}.{code}" for prefix, codes in DYNAMIC.items() for code in codes]
    wanted += [f"error.{code}" for code in INCIDENT_ERROR_CODES]
    wanted += VARIABLE_KEYS
    assert [k for k in wanted if k not in catalog] == []


def test_both_languages_have_the_same_keys(app: Flask) -> None:
    sv, en = catalogs()["sv"], catalogs()["en"]
    assert sorted(set(sv) - set(en)) == []
    assert sorted(set(en) - set(sv)) == []


def test_catalog_files_come_in_pairs_and_never_share_keys() -> None:
    """Each part of the workspace owns its keys: a key defined twice is a conflict."""
    folder = WORKSPACE / "i18n"
    for lang in LANGUAGES:
        counts: Counter[str] = Counter()
        for path in folder.glob(f"*.{lang}.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            assert isinstance(data, dict)
            assert all(isinstance(v, str) and v for v in data.values()), path.name
            counts.update(data.keys())
            twin = folder / path.name.replace(f".{lang}.json", f".{_other(lang)}.json")
            assert twin.exists(), f"{path.name} has no {twin.name}"
        assert [k for k, n in counts.items() if n > 1] == []


def _other(lang: str) -> str:
    return "en" if lang == "sv" else "sv"


def test_placeholders_match_between_languages(app: Flask) -> None:
    sv, en = catalogs()["sv"], catalogs()["en"]
    fields = re.compile(r"\{(\w+)\}")
    for key in sv:
        if key in en:
            assert set(fields.findall(sv[key])) == set(fields.findall(en[key])), key


def test_a_missing_key_shows_as_itself(app: Flask) -> None:
    with app.test_request_context("/workspace/"):
        assert t("no.such.key") == "no.such.key"
        assert t("login.failed") == "Fel e-post eller lösenord"
        assert t("list.count", count=3) == "3 händelser"
        assert t("list.count") == "{count} händelser"  # parameters missing: shown raw


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, "sv"),
        ("?lang=en", {}, "en"),
        ("?lang=sv", {"Accept-Language": "en"}, "sv"),
        ("?lang=xx", {"Accept-Language": "en-US,en;q=0.9"}, "en"),
        ("", {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}, "sv"),
        ("", {"Accept-Language": "de-DE,fr"}, "sv"),
        ("", {"Cookie": "lang=en"}, "en"),
        ("", {"Cookie": "lang=en", "Accept-Language": "sv"}, "en"),
        ("?lang=sv", {"Cookie": "lang=en"}, "sv"),
        ("", {"Cookie": "lang=klingon", "Accept-Language": "en"}, "en"),
    ],
)
def test_language_choice(app: Flask, query: str, headers: dict[str, str], expected: str) -> None:
    with app.test_request_context(f"/workspace/{query}", headers=headers):
        assert current_lang() == expected
