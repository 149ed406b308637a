"""The workspace's two languages: Swedish (the default) and English.

Catalogs are flat JSON objects in ``server/workspace/i18n/<name>.<lang>.json``; every file
of a language is merged at load (``core.sv.json``, ``insights.sv.json`` …), so each part of
the workspace keeps its own strings. The language comes from ``?lang=`` (remembered in the
``lang`` cookie), else the cookie, else the browser's Accept-Language, else Swedish.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Response, has_request_context, request

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
I18N_DIR = Path(__file__).resolve().parent / "i18n"


@functools.cache
def catalogs() -> dict[str, dict[str, str]]:
    """Load and merge every catalog file per language (files in name order)."""
    merged: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        merged[lang] = {}
        for path in sorted(I18N_DIR.glob(f"*.{lang}.json")):
            merged[lang].update(load_file(path))
    return merged


def load_file(path: Path) -> dict[str, str]:
    """Read one catalog file: a flat object of string keys to string messages."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path.name}: a catalog is a flat JSON object of strings")
    return data


def current_lang() -> str:
    """Return the language of this request (cached on `g`)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    # Cached on the request itself (not on `g`, which outlives a request in tests).
    cached = request.environ.get("lagesbild.lang")
    if cached:
        return cached
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        lang = asked
        request.environ["lagesbild.lang_cookie"] = asked
    elif request.cookies.get(COOKIE) in LANGUAGES:
        lang = request.cookies[COOKIE]
    else:
        lang = request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
    request.environ["lagesbild.lang"] = lang
    return lang


def remember_lang(resp: Response) -> Response:
    """Store a language chosen with ?lang= in the cookie."""
    chosen = request.environ.get("lagesbild.lang_cookie")
    if chosen:
        resp.set_cookie(
            COOKIE,
            chosen,
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            path="/workspace",
        )
    return resp


def t(key: str, **params: Any) -> str:
    """Translate a key into the request's language; a missing key shows as itself."""
    message = catalogs()[current_lang()].get(key)
    if message is None:
        return key
    if params:
        try:
            return message.format_map(params)
        except (KeyError, IndexError, ValueError):
            return message
    return message


def lang_url(lang: str) -> str:
    """Return the current page's address in another language."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", lang))
    return f"{request.path}?{urlencode(args)}"


def pick(sv: str, en: str) -> str:
    """Choose between a Swedish and an English text (labels stored in the database)."""
    return en if current_lang() == "en" and en else sv
