"""Render a `Digest` as an e-mail (HTML + plain text + inline images) or a workspace page.

HTML for mail clients (Outlook, Gmail, Apple Mail, phones): table layout, inline CSS only
(`styles`), no scripts, at most 640 px wide, images as CID attachments (`image_mode="cid"`)
with width attributes and alt texts. The workspace page (`image_mode="url"`) is the same
document with thumbnails from the workspace's photo route, the chart as a data: URI and a
print style sheet, so it prints as the weekly/monthly lägesbild. Words, numbers and times
come from `text.Text`; addresses and image sources from `links`.

Jinja2 autoescapes every ``.html`` template: user text (descriptions, places, area and
place names, the organisation's name) is only ever output through ``{{ }}`` and is never
marked safe, so ``<script>`` arrives as the text ``&lt;script&gt;``. The plain-text part
is rendered from its own ``.txt`` template without escaping: it is sent as text/plain.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from server.digest.chart import HEIGHT as CHART_HEIGHT
from server.digest.chart import WIDTH as CHART_WIDTH
from server.digest.chart import bar_chart
from server.digest.content import (
    FOLLOWUP_DAYS,
    SILENT_AFTER,
    Digest,
    IncidentItem,
    recurring_days,
)
from server.digest.links import Images, InlineImage, Links
from server.digest.styles import PRINT_CSS, STYLES
from server.digest.text import Text
from server.translations import LANGUAGES

__all__ = ["IMAGE_MODES", "LANGUAGES", "InlineImage", "Rendered", "Text", "render", "subject"]

HERE = Path(__file__).resolve().parent
IMAGE_MODES = ("cid", "url")
THUMB_WIDTH = 96


@dataclass(frozen=True)
class Rendered:
    """A rendered digest: subject, HTML and plain-text parts, and the inline images."""

    subject: str
    html: str
    text: str
    images: list[InlineImage] = field(default_factory=list)


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
    # Nothing to draw, or no period to compare with (the first weeks of a deployment).
    if not any(trends.totals) or len(trends.totals) < 2:
        return None
    periods = list(reversed(trends.periods))
    values = list(reversed(trends.totals))
    labels = []
    for p in periods:
        local = t.local(p.start).date()
        labels.append(
            t.months_short[local.month - 1] if digest.kind == "month" else t.day_month(local)
        )
    current = t(f"trends.current.{digest.kind}")
    mean = sum(values[:-1]) / max(1, len(values) - 1)
    png = bar_chart(
        values,
        labels,
        current_label=current,
        mean_label=f"{t('trends.mean_short')} {t.number(mean)}",
    )
    described = "; ".join(
        f"{t.period_name(p.start, p.end, digest.kind)}: {t.integer(v)}"
        for p, v in zip(periods, values, strict=True)
    )
    return {
        "src": images.chart(png),
        "alt": t("chart.alt", values=described),
        "caption": t("chart.caption", current=current),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
    }


def render(
    digest: Digest,
    lang: str = "sv",
    *,
    base_url: str,
    image_mode: str = "cid",
    notice: str | None = None,
) -> Rendered:
    """Render the digest in Swedish (default) or English.

    `notice` is a line shown above everything (plain text, escaped), e.g. that an archived
    copy was rebuilt.

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
            t.period_name(p.start, p.end, digest.kind) for p in periods
        ),
        "item_where": lambda item: _where(item, t),
        "previous_list": lambda previous: ", ".join(t.integer(n) for n in previous),
        "responsible_list": lambda pairs: ", ".join(
            f"{t.responsible(r)} {t.integer(n)}" for r, n in pairs
        ),
        "round_flags": lambda pairs: ", ".join(
            f"{t('rounds.flag.' + flag)} {t.integer(n)}" for flag, n in pairs
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
        "notice": notice,
        "shared_owners": "; ".join(
            f"{t.owner(o.id)}: {t(f'digest.shared.detail.{o.detail}')}" for o in digest.owners
        ),
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
