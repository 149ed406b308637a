"""The workspace's two languages: Swedish (the default) and English, on Flask-Babel.

Messages are the gettext catalogs in ``server/translations`` (shared with the digest). The
language comes from ``?lang=`` (remembered in the ``lang`` cookie), else the cookie, else
the browser's Accept-Language, else Swedish: `select_locale` is Flask-Babel's locale
selector, so Babel's number and date formats follow the same choice.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from babel.support import NullTranslations
from flask import Response, has_app_context, has_request_context, request
from flask_babel import get_locale, get_translations, refresh

from server.translations import DEFAULT_LANGUAGE, LANGUAGES, translations

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

__all__ = ["LANGUAGES", "current_lang", "lang_url", "pick", "remember_lang", "t"]


def select_locale() -> str:
    """Choose the request's language by today's rule (cached on the request)."""
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


def current_lang() -> str:
    """Return the language of this request ("sv" outside a request)."""
    return select_locale()


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


def _messages() -> NullTranslations:
    """Return Flask-Babel's translations for the request's language."""
    if not has_app_context():
        return translations(current_lang())
    # Flask-Babel caches the locale on `g`; an app context that outlives one request (the
    # CLI, tests) must not keep the language of the one before.
    if str(get_locale()) != current_lang():
        refresh()
    return get_translations()


def t(key: str, **params: Any) -> str:
    """Translate a key into the request's language; a missing key shows as itself."""
    message = _messages().gettext(key)
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
