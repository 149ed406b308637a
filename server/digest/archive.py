"""The archived copy of a sent digest: served as stored, or rebuilt when sharing changed.

A run stores the HTML it rendered (`DigestRun.html`), and that copy may hold what other
organisations shared at the time. The copy records which agreements it was built under (a
fingerprint in its head, `content.shared.scope_key`); when the reader's agreements in
force now differ — one was revoked, ended or narrowed, or the reader may not read shared
items at all — the copy is rebuilt from the database under the reader's scope instead of
served, so a revoked agreement stops sharing at the next page load. A copy built without
shared items carries no fingerprint and is always served as stored.
"""

from __future__ import annotations

import re
from datetime import datetime

from server.db import phase
from server.digest.content import build_digest
from server.digest.content.shared import scope_key
from server.digest.models import DigestRun
from server.digest.render import Text, render
from server.sharing.rules import Scope

# User text is autoescaped in the document, so only the renderer can write this tag.
_SCOPE_META = re.compile(r'<meta name="lagesbild-scope" content="([0-9a-f]{32})">')


def stored_scope_key(html: str) -> str | None:
    """Return the fingerprint of the agreements a stored copy was built under, if any."""
    found = _SCOPE_META.search(html)
    return found.group(1) if found else None


def needs_rebuild(run: DigestRun, scope: Scope) -> bool:
    """Tell whether the run's stored copy holds shared items the scope now reads otherwise."""
    stored = stored_scope_key(run.html or "")
    return stored is not None and stored != scope_key(scope)


def archived_document(run: DigestRun, scope: Scope, base_url: str) -> str | None:
    """Return the run's copy for the reader: stored, or rebuilt under the scope; None if none."""
    if not run.html:
        return None
    if not needs_rebuild(run, scope):
        return run.html
    org_id, kind, day, lang = run.org_id, run.kind, run.day, run.lang
    # The moment the copy described: device states reported later are not used.
    moment: datetime = run.sent_at or run.updated_at
    with phase("read"):
        digest = build_digest(org_id, kind, day, now=moment, scope=scope)
    notice = Text(lang, digest)("digest.archive.rebuilt")
    return render(digest, lang, base_url=base_url, image_mode="url", notice=notice).html
