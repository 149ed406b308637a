"""Render a `Digest` as an e-mail (HTML + plain text + inline images) or a workspace page.

HTML for mail clients (Outlook, Gmail, Apple Mail, phones): table layout, inline CSS only,
no scripts, at most 640 px wide, images as CID attachments (`image_mode="cid"`) with width
attributes and alt texts. The workspace page (`image_mode="url"`) is the same document
with thumbnails from the workspace's photo route, the chart as a data: URI and a print
style sheet, so it prints as the weekly/monthly lägesbild.

Jinja2 autoescapes every ``.html`` template: user text (descriptions, places, area and
place names, the organisation's name) is only ever output through ``{{ }}`` and is never
marked safe, so ``<script>`` arrives as the text ``&lt;script&gt;``. The plain-text part
is rendered from its own ``.txt`` template without escaping: it is sent as text/plain.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.digest.chart import HEIGHT as CHART_HEIGHT
from server.digest.chart import WIDTH as CHART_WIDTH
from server.digest.chart import bar_chart
from server.digest.content import (
    FOLLOWUP_DAYS,
    SILENT_AFTER,
    Digest,
    IncidentItem,
    KindCount,
    recurring_days,
)
from server.photos.storage import PhotoStore

HERE = Path(__file__).resolve().parent
LANGUAGES = ("sv", "en")
IMAGE_MODES = ("cid", "url")
# Photos embedded in one e-mail (about 10–30 kB each); the rest are linked.
MAX_INLINE_PHOTOS = 40
THUMB_WIDTH = 96
CHART_CID = "chart@lagesbild"

# Inline styles (mail clients drop <style> blocks or parts of them). High-contrast text;
# links are underlined, so nothing depends on colour alone.
STYLES = {
    "body": "margin:0;padding:0;background-color:#f2f2f2;",
    "outer": "padding:12px 6px;",
    "card": (
        "width:100%;max-width:640px;background-color:#ffffff;border:1px solid #c8c8c8;"
        "border-collapse:collapse;"
    ),
    "cell": (
        "padding:14px 16px;font-family:Arial,Helvetica,sans-serif;font-size:15px;"
        "line-height:1.45;color:#1a1a1a;word-wrap:break-word;overflow-wrap:anywhere;"
    ),
    "org": "margin:0 0 2px 0;font-size:13px;color:#4a4a4a;",
    "h1": "margin:0 0 4px 0;font-size:22px;line-height:1.25;font-weight:bold;color:#1a1a1a;",
    "h2": (
        "margin:0 0 8px 0;font-size:18px;line-height:1.3;font-weight:bold;color:#1a1a1a;"
        "border-bottom:2px solid #1a1a1a;padding-bottom:3px;"
    ),
    "h3": "margin:12px 0 4px 0;font-size:16px;line-height:1.3;font-weight:bold;color:#1a1a1a;",
    "p": "margin:0 0 8px 0;",
    "muted": "margin:0 0 6px 0;font-size:13px;line-height:1.4;color:#4a4a4a;",
    "a": "color:#0645ad;text-decoration:underline;",
    "calm": (
        "margin:0 0 8px 0;padding:12px;border:2px solid #1a1a1a;font-size:17px;"
        "font-weight:bold;background-color:#f4f8f4;"
    ),
    "summary": "margin:0 0 8px 0;padding:10px 12px;background-color:#f4f4f4;",
    "item": "padding:8px 0 10px 0;border-top:1px solid #ddd;",
    "urgent_item": (
        "padding:8px 10px 10px 10px;border-top:1px solid #ddd;"
        "border-left:4px solid #111;background-color:#fff6e8;"
    ),
    "item_title": "margin:0 0 2px 0;",
    "item_text": "margin:0 0 4px 0;",
    "item_meta": "margin:0 0 4px 0;font-size:13px;color:#444;",
    "table": "width:100%;border-collapse:collapse;font-size:14px;",
    "th": (
        "text-align:left;padding:4px 6px;border-bottom:2px solid #1a1a1a;"
        "font-family:Arial,Helvetica,sans-serif;font-size:13px;"
    ),
    "td": (
        "text-align:left;padding:4px 6px;border-bottom:1px solid #dddddd;"
        "font-family:Arial,Helvetica,sans-serif;font-size:14px;vertical-align:top;"
    ),
    "num": (
        "text-align:right;padding:4px 6px;border-bottom:1px solid #dddddd;"
        "font-family:Arial,Helvetica,sans-serif;font-size:14px;vertical-align:top;"
    ),
    "img": (
        "display:inline-block;border:1px solid #c8c8c8;margin:4px 4px 0 0;"
        "width:96px;max-width:96px;height:auto;"
    ),
    "chart": "display:block;border:0;width:100%;max-width:600px;height:auto;",
    "footer": "margin:0 0 4px 0;font-size:12px;line-height:1.4;color:#4a4a4a;",
}
# The workspace page's print style (the page is the printable weekly/monthly lägesbild).
PRINT_CSS = (
    "@media print{body{background:#fff!important}"
    "table{max-width:none!important;border:0!important}"
    "a{color:#000!important}.noprint{display:none!important}"
    "tr,p,img{page-break-inside:avoid}h2,h3{page-break-after:avoid}}"
)


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML refers to as ``cid:<cid>`` (a related MIME part)."""

    cid: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Rendered:
    """A rendered digest: subject, HTML and plain-text parts, and the inline images."""

    subject: str
    html: str
    text: str
    images: list[InlineImage] = field(default_factory=list)


# --- language --------------------------------------------------------------------------------


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """Return the messages of a language (flat JSON in ``i18n/<lang>.json``)."""
    data = json.loads((HERE / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"i18n/{lang}.json: a catalog is a flat JSON object of strings")
    return data


class Text:
    """Messages and formats of one language, times in the digest's zone."""

    def __init__(self, lang: str, digest: Digest) -> None:
        """Use `lang` for the digest's labels and times."""
        self.lang = lang
        self.messages = catalog(lang)
        self.tz = ZoneInfo(digest.tz)
        self.categories = digest.categories
        self.months = self.messages["months"].split()
        self.months_short = self.messages["months.short"].split()
        self.weekdays = self.messages["weekdays"].split()

    def __call__(self, key: str, **values: Any) -> str:
        """Return a message with its {placeholders} filled in (plain text, escaped later)."""
        return self.messages[key].format(**values)

    def n(self, key: str, n: int) -> str:
        """Return a counted message ("1 händelse", "3 händelser")."""
        form = "one" if n == 1 else "other"
        return self.messages[f"{key}.{form}"].format(n=self.integer(n))

    def integer(self, n: int) -> str:
        """Format a whole number (thin space for thousands in Swedish)."""
        text = f"{n:,}"
        return text.replace(",", "\u00a0") if self.lang == "sv" else text

    def number(self, x: float) -> str:
        """Format a mean with one decimal, with the language's decimal sign."""
        text = f"{x:.1f}".removesuffix(".0")
        return text.replace(".", self.messages["decimal"])

    def local(self, moment: datetime) -> datetime:
        """Return the moment in the digest's zone."""
        return moment.astimezone(self.tz)

    def time(self, moment: datetime | None) -> str:
        """Return "22:14" (local)."""
        return self.local(moment).strftime("%H:%M") if moment else self("devices.never")

    def day(self, day: date, year: bool = False) -> str:
        """Return "20 nov" / "20 Nov" (with the year if asked)."""
        text = f"{day.day} {self.months_short[day.month - 1]}"
        return f"{text} {day.year}" if year else text

    def day_time(self, moment: datetime | None) -> str:
        """Return "fre 20 nov 22:14" (local)."""
        if moment is None:
            return self("devices.never")
        local = self.local(moment)
        return f"{self.weekdays[local.weekday()]} {self.day(local.date())} {local:%H:%M}"

    def when(self, moment: datetime | None, digest: Digest) -> str:
        """Return a time of the period: the clock for a night, weekday and date otherwise."""
        if moment is not None and digest.kind == "night":
            local = self.local(moment)
            if digest.start <= local < digest.end:
                return local.strftime("%H:%M")
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
        start, end = self.local(digest.start), self.local(digest.end)
        if digest.kind == "month":
            return f"{self.months[start.month - 1]} {start.year}"
        return self.span(start.date(), end.date())

    def category(self, code: str) -> str:
        """Return a category's label in this language."""
        info = self.categories.get(code)
        if info is None:
            return code
        return info.label_sv if self.lang == "sv" else info.label_en

    def kind(self, kind: str) -> str:
        """Return a reporter kind's label (never a name)."""
        return self.messages.get(f"kind.{kind}", kind)

    def kinds(self, kinds: Iterable[str]) -> str:
        """Return several kinds' labels, comma separated."""
        return ", ".join(self.kind(k) for k in kinds)

    def kind_counts(self, counts: Iterable[KindCount]) -> str:
        """Return "väktare 2, nattvandrare 1" (reports per kind)."""
        return ", ".join(f"{self.kind(c.kind)} {self.integer(c.reports)}" for c in counts)

    def status(self, status: str) -> str:
        """Return an incident status's label."""
        return self.messages.get(f"status.{status}", status)

    def responsible(self, responsible: str | None) -> str:
        """Return a responsible organisation's label."""
        return self.messages.get(f"responsible.{responsible or 'none'}", responsible or "")

    def direction(self, direction: str) -> str:
        """Return an arrow and a word: "▲ ökning", "▼ minskning", "= ungefär som vanligt"."""
        return self(f"direction.{direction}")

    def place_trend(self, trend: str) -> str:
        """Return the weekly trend of a recurring place in words."""
        return self(f"trend.{trend}")


# --- links and images ------------------------------------------------------------------------


class Links:
    """Addresses in the workspace."""

    def __init__(self, base_url: str, digest: Digest) -> None:
        """Build links under `base_url` (the installation's public address)."""
        self.base = base_url.rstrip("/")
        self.digest = digest

    def incident(self, incident_id: str) -> str:
        """Return the workspace page of an incident."""
        return f"{self.base}/workspace/incidents/{quote(incident_id, safe='')}"

    def workspace(self) -> str:
        """Return the workspace's start page."""
        return f"{self.base}/workspace/"

    def places(self) -> str:
        """Return the workspace's recurring places page."""
        return f"{self.base}/workspace/places"

    def photo(self, sha256: str) -> str:
        """Return the workspace address of a photo's thumbnail."""
        return f"{self.base}/workspace/photos/{quote(sha256, safe='')}?size=thumb"

    def period_list(self) -> str:
        """Return the workspace list of the period's incidents."""
        d = self.digest
        if d.kind == "night":
            return f"{self.base}/workspace/?{urlencode({'night': d.day.isoformat()})}"
        tz = ZoneInfo(d.tz)
        query = {
            "from": d.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "to": d.end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "sort": "severity",
        }
        return f"{self.base}/workspace/incidents?{urlencode(query)}"


class Images:
    """Image sources for the HTML; in "cid" mode it collects the inline images."""

    def __init__(self, digest: Digest, mode: str, links: Links) -> None:
        """Serve the digest's thumbnails as CID parts or workspace URLs."""
        self.digest = digest
        self.mode = mode
        self.links = links
        self.images: list[InlineImage] = []
        self._cids: dict[str, str | None] = {}
        self._store = PhotoStore(Path(digest.data_dir)) if digest.data_dir else None

    def thumb(self, sha256: str) -> str | None:
        """Return the src of a photo's 320 px thumbnail, or None when it cannot be shown."""
        if self.mode == "url":
            return self.links.photo(sha256)
        if sha256 in self._cids:
            return self._cids[sha256]
        src = None
        photos = sum(1 for i in self.images if i.cid != CHART_CID)
        if self._store is not None and photos < MAX_INLINE_PHOTOS:
            try:
                data = self._store.path(self.digest.org_id, sha256, "thumb").read_bytes()
            except (OSError, ValueError):
                data = b""
            if data:
                cid = f"photo-{sha256[:24]}@lagesbild"
                self.images.append(InlineImage(cid, "image/jpeg", data))
                src = f"cid:{cid}"
        self._cids[sha256] = src
        return src

    def chart(self, png: bytes) -> str:
        """Return the src of the chart image."""
        if self.mode == "url":
            return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        self.images.append(InlineImage(CHART_CID, "image/png", png))
        return f"cid:{CHART_CID}"


# --- the render ------------------------------------------------------------------------------


@functools.cache
def environment() -> Environment:
    """Return the Jinja2 environment: autoescape for .html, none for .txt."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def subject(digest: Digest, t: Text) -> str:
    """Return the subject line, e.g. "Lägesbild natten 20–21 nov: 3 händelser, 1 kräver åtgärd"."""
    period = t.period(digest)
    if digest.is_calm:
        text = t(f"subject.calm.{digest.kind}", period=period)
        if digest.calm.state == "no_reports":
            return f"{text} – {t('subject.no_reports')}"
        return f"{text} ({t('subject.calm_rounds', n=t.integer(digest.calm.calm_reports))})"
    counts = t.n("count.incidents", digest.incidents)
    if digest.action_total:
        counts += ", " + t.n("count.action", digest.action_total)
    # Subjects are one line: nothing user-written is in them, but never let a newline in.
    return " ".join(t(f"subject.{digest.kind}", period=period, counts=counts).split())


def _chart(digest: Digest, t: Text, images: Images) -> dict[str, Any] | None:
    """Draw the chart of reports per period (oldest first) with its alt text and caption."""
    trends = digest.trends
    if not any(trends.totals):
        return None
    periods = list(reversed(trends.periods))
    values = list(reversed(trends.totals))
    labels = []
    for p in periods:
        local = p.start.astimezone(t.tz)
        if digest.kind == "month":
            labels.append(t.months_short[local.month - 1])
        else:
            labels.append(f"{local.day}/{local.month}")
    current = t(f"trends.current.{digest.kind}")
    mean = sum(values[:-1]) / max(1, len(values) - 1)
    png = bar_chart(
        values,
        labels,
        current_label=current,
        mean_label=f"{t('trends.mean_short')} {t.number(mean)}",
    )
    described = "; ".join(
        f"{_period_name(p.start, p.end, digest, t)}: {t.integer(v)}"
        for p, v in zip(periods, values, strict=True)
    )
    return {
        "src": images.chart(png),
        "alt": t("chart.alt", values=described),
        "caption": t("chart.caption", current=current),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


def _period_name(start: datetime, end: datetime, digest: Digest, t: Text) -> str:
    """Name a comparison period like the digest's own ("13–14 nov", "september 2026")."""
    local = start.astimezone(t.tz)
    if digest.kind == "month":
        return f"{t.months[local.month - 1]} {local.year}"
    return t.span(local.date(), end.astimezone(t.tz).date())


def render(digest: Digest, lang: str = "sv", *, base_url: str, image_mode: str = "cid") -> Rendered:
    """Render the digest in Swedish (default) or English.

    image_mode "cid": for e-mail, thumbnails (320 px) and the chart are returned as
    `images` and referred to as ``cid:…``; "url": for the workspace page, thumbnails come
    from ``/workspace/photos/<sha>?size=thumb``, the chart is a data: URI, and the page has
    a print style sheet.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    if image_mode not in IMAGE_MODES:
        raise ValueError(f"unknown image mode {image_mode!r}; use one of {', '.join(IMAGE_MODES)}")
    t = Text(lang, digest)
    links = Links(base_url, digest)
    images = Images(digest, image_mode, links)
    title = t(f"title.{digest.kind}", period=t.period(digest))
    context: dict[str, Any] = {
        "d": digest,
        "t": t,
        "links": links,
        "subject": subject(digest, t),
        "title": title,
        "window": t("period.window", start=t.day_time(digest.start), end=t.day_time(digest.end)),
        "lang": lang,
        "S": STYLES,
        "print_css": PRINT_CSS if image_mode == "url" else "",
        "thumb_width": THUMB_WIDTH,
        "silent_cutoff": digest.end - SILENT_AFTER,
        "period_names": lambda periods: ", ".join(
            _period_name(p.start, p.end, digest, t) for p in periods
        ),
        "item_where": lambda item: _where(item, t),
        "previous_list": lambda previous: ", ".join(t.integer(n) for n in previous),
        "responsible_list": lambda pairs: ", ".join(
            f"{t.responsible(r)} {t.integer(n)}" for r, n in pairs
        ),
        "category_counts": lambda pairs: ", ".join(
            f"{t.category(code)} {t.integer(n)}" for code, n in pairs
        ),
        "reports_of": lambda item: (
            t.n("count.reports", item.report_count)
            if item.reports_in_period == item.report_count
            else t(
                "item.reports_part",
                n=t.integer(item.reports_in_period),
                total=t.integer(item.report_count),
            )
        ),
        "places_days": recurring_days(digest.start, digest.end),
        "followup_days": FOLLOWUP_DAYS,
    }
    chart = _chart(digest, t, images)
    env = environment()
    html = env.get_template("digest/digest.html").render(chart=chart, thumb=images.thumb, **context)
    text = env.get_template("digest/digest.txt").render(
        chart=chart, thumb=lambda _sha: None, **context
    )
    # At most one blank line in a row: the template's sections may end in one each.
    text = re.sub(r"\n{3,}", "\n\n", text)
    return Rendered(subject=context["subject"], html=html, text=text, images=images.images)


def _where(item: IncidentItem, t: Text) -> str:
    """Return where an incident happened: named place, the reporter's place text, area."""
    parts = [p for p in (item.named_place, item.place) if p]
    if len(parts) == 2 and parts[0].casefold() == parts[1].casefold():
        parts = parts[:1]
    if item.area:
        parts.append(item.area)
    return ", ".join(parts) if parts else t("area.none")
