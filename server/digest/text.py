"""The digest's words, numbers and times in one language, for rendering outside a request.

Messages come from the shared gettext catalogs (``server/translations``) for an explicit
language, since the digest is rendered by the scheduler and the CLI as well as for a page.
Numbers and full month names are formatted by Babel for that locale (Swedish groups
thousands with a no-break space and writes a decimal comma); times are 24-hour, in the
digest's own zone. The short month and weekday names ("20 nov", "fre") stay in the
catalog: CLDR's Swedish abbreviations ("nov.", "tors") are not the digest's compact style.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

from server.digest.content import Digest, KindCount, Purged
from server.translations import translations


class Text:
    """Messages and formats of one language, times in the digest's zone."""

    def __init__(self, lang: str, digest: Digest) -> None:
        """Use `lang` for the digest's labels and times."""
        self.lang = lang
        self.locale = Locale.parse(lang)
        self.messages = translations(lang)
        self.tz = ZoneInfo(digest.tz)
        self.categories = digest.categories
        self.owners = {o.id: o for o in digest.owners}
        self.months_short = self("months.short").split()
        self.weekdays = self("weekdays").split()

    def __call__(self, key: str, **values: Any) -> str:
        """Return a message with its {placeholders} filled in (plain text, escaped later)."""
        return self.messages.gettext(key).format(**values)

    def _label(self, key: str, fallback: str) -> str:
        """Return a message, or `fallback` when the catalog has no such key."""
        message = self.messages.gettext(key)
        return fallback if message == key else message

    def n(self, key: str, n: int) -> str:
        """Return a counted message ("1 händelse", "3 händelser")."""
        message = self.messages.ngettext(f"{key}.one", f"{key}.other", n)
        return message.format(n=self.integer(n))

    def integer(self, n: int) -> str:
        """Format a whole number (a no-break space groups thousands in Swedish)."""
        return format_decimal(n, locale=self.locale)

    def number(self, x: float) -> str:
        """Format a mean with at most one decimal, with the language's decimal sign."""
        return format_decimal(x, format="#,##0.#", locale=self.locale)

    def local(self, moment: datetime) -> datetime:
        """Return the moment in the digest's zone."""
        return moment.astimezone(self.tz)

    def time(self, moment: datetime | None) -> str:
        """Return "22:14" (local, 24-hour)."""
        if moment is None:
            return self("devices.never")
        return format_time(moment, "HH:mm", tzinfo=self.tz, locale=self.locale)

    def day(self, day: date, year: bool = False) -> str:
        """Return "20 nov" / "20 Nov" (with the year if asked)."""
        text = f"{day.day} {self.months_short[day.month - 1]}"
        return f"{text} {day.year}" if year else text

    def month(self, day: date) -> str:
        """Return a month and its year: "oktober 2026" / "October 2026"."""
        return format_date(day, "LLLL y", locale=self.locale)

    def day_month(self, day: date) -> str:
        """Return a short numeric day: "20/11" (a chart label)."""
        return format_date(day, "d/M", locale=self.locale)

    def day_time(self, moment: datetime | None) -> str:
        """Return "fre 20 nov 22:14" (local)."""
        if moment is None:
            return self("devices.never")
        local = self.local(moment)
        return f"{self.weekdays[local.weekday()]} {self.day(local.date())} {self.time(local)}"

    def when(self, moment: datetime | None, digest: Digest) -> str:
        """Return a time of the period: the clock for a night, weekday and date otherwise."""
        if moment is not None and digest.kind == "night":
            local = self.local(moment)
            if digest.start <= local < digest.end:
                return self.time(local)
        return self.day_time(moment)

    def span(self, first: date, last: date) -> str:
        """Return "20–21 nov", "31 okt–1 nov" or "31 dec 2026–1 jan 2027"."""
        if first.year != last.year:
            return f"{self.day(first, True)}–{self.day(last, True)}"
        if first.month != last.month:
            return f"{self.day(first)}–{self.day(last)}"
        return f"{first.day}–{self.day(last)}"

    def period(self, digest: Digest) -> str:
        """Return the period's short name: "20–21 nov", "16–23 nov", "oktober 2026"."""
        return self.period_name(digest.start, digest.end, digest.kind)

    def period_name(self, start: datetime, end: datetime, kind: str) -> str:
        """Name a period like a digest of `kind` ("13–14 nov", "september 2026")."""
        local = self.local(start)
        if kind == "month":
            return self.month(local.date())
        return self.span(local.date(), self.local(end).date())

    def category(self, code: str) -> str:
        """Return a category's label in this language."""
        info = self.categories.get(code)
        if info is None:
            return code
        return info.label_sv if self.lang == "sv" else info.label_en

    def owner(self, org_id: int) -> str:
        """Name a sharing organisation with its kind: "Väktarbolaget Syd (vaktbolag)"."""
        owner = self.owners.get(org_id)
        if owner is None:
            return "?"
        kind = self._label(f"org.kind.{owner.kind}", owner.kind)
        return self("shared.owner", name=owner.name, kind=kind)

    def kind(self, kind: str) -> str:
        """Return a reporter kind's label (never a name)."""
        return self._label(f"kind.{kind}", kind)

    def kinds(self, kinds: Iterable[str]) -> str:
        """Return several kinds' labels, comma separated."""
        return ", ".join(self.kind(k) for k in kinds)

    def kind_counts(self, counts: Iterable[KindCount]) -> str:
        """Return "väktare 2, nattvandrare 1" (reports per kind)."""
        return ", ".join(f"{self.kind(c.kind)} {self.integer(c.reports)}" for c in counts)

    def status(self, status: str) -> str:
        """Return an incident status's label."""
        return self._label(f"status.{status}", status)

    def responsible(self, responsible: str | None) -> str:
        """Return a responsible organisation's label ("ingen vald" in running text)."""
        if not responsible:
            return self("digest.responsible.none")
        return self._label(f"responsible.{responsible}", responsible)

    def direction(self, direction: str) -> str:
        """Return an arrow and a word: "▲ ökning", "▼ minskning", "= ungefär som vanligt"."""
        return self(f"direction.{direction}")

    def place_trend(self, trend: str) -> str:
        """Return the weekly trend of a recurring place in words."""
        return self(f"trend.{trend}")

    def purged(self, purged: Purged) -> str:
        """Return the line about the night's retention purge, naming only what went."""
        parts = [
            self.n(key, n)
            for key, n in (
                ("purge.texts", purged.texts),
                ("purge.reports", purged.reports),
                ("purge.photos", purged.photos),
                ("purge.comments", purged.comments),
                ("purge.audit", purged.audit),
                ("purge.digests", purged.digests),
            )
            if n
        ]
        return self("purge.line", list=", ".join(parts))
