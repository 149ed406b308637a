"""The gettext catalogs of the workspace and the digest: one domain, Swedish and English.

The sources are ``<lang>/LC_MESSAGES/messages.po`` in this folder. Message ids are stable
keys ("nav.night", "status.ny"), not source sentences: ids are built from codes at run time
("status." + status), a missing id shows as itself, and a text can change without touching
every template that uses it. Messages carry ``{name}`` placeholders filled in with
``str.format``; counted messages ("count.incidents") are gettext plural entries.

The compiled ``.mo`` files are not kept in git: `compiled_directory` compiles a ``.po``
when its ``.mo`` is missing or older, at start-up, so a fresh clone and an installed
package both run. When this folder cannot be written (a read-only install), the catalogs
are compiled into a private temporary folder instead.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
DOMAIN = "messages"
SOURCE_DIR = Path(__file__).resolve().parent

log = logging.getLogger(__name__)


def po_path(lang: str, root: Path = SOURCE_DIR) -> Path:
    """Return where a language's catalog (``.po``) lives under `root`."""
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalog(lang: str, target: Path) -> Path:
    """Compile a language's ``.po`` into ``<target>/<lang>/LC_MESSAGES/messages.mo``."""
    source = po_path(lang)
    with source.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    mo = po_path(lang, target).with_suffix(".mo")
    mo.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed: workers starting at once never read half a file.
    fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(tmp, mo)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return mo


def _stale(lang: str, root: Path) -> bool:
    """Tell whether a language's ``.mo`` under `root` is missing or older than its ``.po``."""
    mo = po_path(lang, root).with_suffix(".mo")
    try:
        return mo.stat().st_mtime < po_path(lang).stat().st_mtime
    except FileNotFoundError:
        return True


@functools.cache
def compiled_directory() -> Path:
    """Return a folder of up-to-date ``.mo`` files, compiling the stale ones once."""
    stale = [lang for lang in LANGUAGES if _stale(lang, SOURCE_DIR)]
    try:
        for lang in stale:
            compile_catalog(lang, SOURCE_DIR)
        return SOURCE_DIR
    except OSError:
        # A read-only install (EACCES, EROFS): compile every language to a private folder.
        target = Path(tempfile.mkdtemp(prefix="lagesbild-translations-"))
        log.warning("translations folder is read-only; catalogs compiled into %s", target)
        for lang in LANGUAGES:
            compile_catalog(lang, target)
        return target


@functools.cache
def translations(lang: str) -> Translations:
    """Return a language's messages, for rendering outside a request (the digest)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    found = Translations.load(str(compiled_directory()), [lang], DOMAIN)
    if not isinstance(found, Translations):
        raise FileNotFoundError(f"no compiled {DOMAIN} catalog for {lang!r}")
    return found
