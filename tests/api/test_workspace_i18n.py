"""The gettext catalogs: every key used exists in Swedish and English, every .po compiles,
placeholders match, and language choice.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask

from server import translations
from server.actions.models import ACTION_STATUSES, OWNER_KINDS, PRIORITIES
from server.devices.models import DEVICE_KINDS
from server.incidents.models import INCIDENT_STATUSES, RESPONSIBLE
from server.incidents.queries import SORTS
from server.privacy.erasure import ERASE_REASONS
from server.workspace import i18n
from server.workspace.i18n import LANGUAGES, current_lang, t
from sync.rounds import FLAGS as ROUND_FLAGS
from sync.rounds import STATUSES as ROUND_STATUSES

WORKSPACE = Path(i18n.__file__).resolve().parent
DIGEST = WORKSPACE.parent / "digest"
# t("key") / t('key', …) in templates and Python; message("key"), render_error(…, "key") and
# messages.append("key") in Python. A key ending in "." is a prefix completed at run time
# (t("trends.window." ~ period)): those are listed in DYNAMIC instead.
_KEY_RE = re.compile(
    r"""\b(?:t|message|append|render_error\(\d+,)\s*\(?\s*["']([a-z_][\w.\-]*[\w\-])["'](?!\s*~)"""
)
# Every ActionError code (server.actions) and the åtgärdsplan views' own refusals.
ACTION_ERRORS = ("bad_date", "bad_owner_kind", "bad_priority", "bad_transition",
                 "done_date_required", "empty_photo", "owner_too_long", "photo_too_large",
                 "reason_required", "reason_too_long", "text_required", "text_too_long",
                 "unknown_source", "unknown_status", "bad_photo", "bad_week")  # fmt: skip
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
    "erase.reason": ERASE_REASONS,
    "action.status": ACTION_STATUSES,
    "action.owner": OWNER_KINDS,
    "action.priority": PRIORITIES,
    "action.source": ("incidents", "reports", "none"),
    "action.source_kind": ("report", "incident"),
    "action.error": ACTION_ERRORS,
    "rounds.flag": ROUND_FLAGS,
    "rounds.status": ROUND_STATUSES,
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


def po_catalog(lang: str) -> Catalog:
    """Read a language's .po source."""
    with translations.po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=translations.DOMAIN)


def catalogs() -> dict[str, dict[str, str]]:
    """Map every message id of each language to its text (plural forms: one id per form)."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        out[lang] = {}
        for message in po_catalog(lang):
            if not message.id:
                continue  # the header
            if message.pluralizable:
                out[lang].update(zip(message.id, message.string, strict=True))
            else:
                out[lang][message.id] = message.string
    return out


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


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_po_compiles_and_every_message_is_translated(lang: str) -> None:
    catalog = po_catalog(lang)
    assert str(catalog.locale) == lang and catalog.num_plurals == 2
    assert list(catalog.check()) == []  # no format errors
    ids = [m.id for m in catalog if m.id]
    assert len(ids) == len(set(ids)), "a message id is defined twice"
    for message in catalog:
        if message.id:
            texts = message.string if message.pluralizable else (message.string,)
            assert all(texts) and not message.fuzzy, message.id
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    assert len(read_mo(compiled)) == len(catalog)


def test_the_app_loads_compiled_catalogs(app: Flask) -> None:
    folder = translations.compiled_directory()
    for lang in LANGUAGES:
        assert translations.po_path(lang, folder).with_suffix(".mo").is_file()
        assert translations.translations(lang).gettext("nav.night") != "nav.night"
    with app.test_request_context("/workspace/?lang=en"):
        assert t("nav.night") == "Night"
    with app.test_request_context("/workspace/"):
        assert t("nav.night") == "Natten"


def test_a_stale_catalog_is_compiled(tmp_path: Path) -> None:
    assert translations._stale("sv", tmp_path)
    mo = translations.compile_catalog("sv", tmp_path)
    assert mo == tmp_path / "sv" / "LC_MESSAGES" / "messages.mo"
    assert not translations._stale("sv", tmp_path)
    assert [p.name for p in mo.parent.iterdir()] == ["messages.mo"]  # no temporary left


def test_a_read_only_install_compiles_into_a_private_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = translations.compile_catalog

    def read_only_package(lang: str, target: Path) -> Path:
        if target == translations.SOURCE_DIR:
            raise PermissionError(13, "Permission denied")
        return real(lang, target)

    monkeypatch.setattr(translations, "compile_catalog", read_only_package)
    monkeypatch.setattr(translations, "_stale", lambda lang, root: True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    translations.compiled_directory.cache_clear()
    try:
        folder = translations.compiled_directory()
        assert folder.parent == tmp_path
        for lang in LANGUAGES:
            assert translations.po_path(lang, folder).with_suffix(".mo").is_file()
    finally:
        translations.compiled_directory.cache_clear()


def test_the_digest_uses_keys_of_the_catalog() -> None:
    """The digest's templates and renderer ask only for keys the catalog has."""
    sv = catalogs()["sv"]
    digest_key = re.compile(r"""\bt(?:\.n)?\(\s*["']([a-z_][\w.\-]*[\w\-])["']""")
    files = [*DIGEST.rglob("*.html"), *DIGEST.rglob("*.txt"), *DIGEST.rglob("*.py")]
    used = {k for path in files for k in digest_key.findall(path.read_text(encoding="utf-8"))}
    assert "digest.trends.total" in used and "count.incidents" in used
    missing = [k for k in used if k not in sv and f"{k}.one" not in sv]
    assert missing == []


def test_placeholders_match_between_languages(app: Flask) -> None:
    sv, en = catalogs()["sv"], catalogs()["en"]
    # Both placeholder styles: {name} (str.format) and %(name)s (gettext's own).
    fields = re.compile(r"\{(\w+)\}|%\((\w+)\)[sd]")
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
