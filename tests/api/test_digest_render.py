"""The digest rendered as an e-mail (HTML, plain text, inline images) and a workspace page."""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import re
from datetime import date, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from html.parser import HTMLParser
from typing import Any

import pytest
from PIL import Image

from server.digest import links as links_module
from server.digest.content import build_digest
from server.digest.render import Rendered, render
from server.incidents import areas
from server.photos.service import store
from tests.api.test_digest_content import (
    AREAS,
    DAY,
    FAR,
    HOSTILE,
    MORNING,
    NAMES,
    STATION,
    build_scene,
    incident_of,
    local,
    night_at,
    push,
    rep,
)
from tests.support import factories

BASE = "https://lagesbild.example.se"
HOSTILE_PLACE = '<img src=x onerror=alert("plats")>'
HOSTILE_AREA = "<b>Centrum</b> & <i>co</i>"
HOSTILE_NAMED = "<script>alert('namngiven')</script>"
HOSTILE_SECOND = '"><svg onload=alert(2)>'
HOSTILE_ORG = "Kommun <i>fet</i> & co"
# The tags the templates write; anything else in the output came from user text.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "table", "tr", "td", "th", "p",
    "strong", "a", "h1", "h2", "h3", "img", "ul", "li", "br", "span",
}  # fmt: skip
VOID = {"meta", "img", "br", "hr", "link", "input"}


class StrictHTML(HTMLParser):
    """Parse HTML and record every problem: unbalanced tags, bad nesting, event handlers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.doctype = False

    def handle_decl(self, decl: str) -> None:
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"duplicate attribute in <{tag}>")
        if any(name.startswith("on") for name in names):
            self.errors.append(f"event handler attribute in <{tag}>")
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.errors.append(f"end tag for void <{tag}>")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def parse(html: str) -> StrictHTML:
    """Parse a rendered document and require it to be well formed."""
    parser = StrictHTML()
    parser.feed(html)
    parser.close()
    assert parser.doctype, "the document starts with <!DOCTYPE html>"
    assert parser.errors == []
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (640, 480)) -> bytes:
    """Encode a plain JPEG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def upload(client, dev: factories.EnrolledDevice, data: bytes) -> str:
    """Upload a photo through the API and return its hash."""
    sha = hashlib.sha256(data).hexdigest()
    resp = client.put(
        f"/api/v1/photos/{sha}", data=data, content_type="image/jpeg", headers=dev.headers
    )
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    return sha


def hostile_scene(client) -> dict[str, Any]:
    """A night whose every user-written text is an attack, with two stored photos."""
    org = factories.make_org(HOSTILE_ORG)
    doc = copy.deepcopy(AREAS)
    doc["features"][0]["properties"]["name"] = HOSTILE_AREA
    areas.import_areas(org.id, doc, code_property="code")
    areas.create_place(org.id, HOSTILE_NAMED, STATION[0], STATION[1], 150, None)
    guard = factories.make_device(org, "Kalle <script>", "vaktare")
    walker = factories.make_device(org, "nattvandrare@example.se", "nattvandrare")
    red, blue = jpeg((200, 30, 30)), jpeg((30, 30, 200))
    missing = hashlib.sha256(b"never uploaded").hexdigest()
    fire = rep(
        night_at("23:10"),
        "brand",
        STATION,
        description=HOSTILE,
        place=HOSTILE_PLACE,
        photos=[hashlib.sha256(red).hexdigest(), hashlib.sha256(blue).hexdigest()],
    )
    second = rep(night_at("01:00"), "skadegorelse", FAR, description=HOSTILE_SECOND)
    third = rep(night_at("02:00"), "miljo", FAR, 3000, photos=[missing])
    # A calm round six weeks before: the organisation has history to compare with.
    history = rep(night_at("22:00", DAY - timedelta(weeks=6, days=1)), "lugnt", FAR)
    push(client, guard, history, fire, second)
    push(client, walker, third)
    shas = [upload(client, guard, red), upload(client, guard, blue)]
    return {"org": org, "fire": fire, "second": second, "third": third, "shas": shas}


@pytest.fixture
def hostile(client) -> dict[str, Any]:
    """The hostile night and its digest."""
    scene = hostile_scene(client)
    scene["digest"] = build_digest(scene["org"].id, "night", DAY, now=MORNING)
    return scene


@pytest.fixture
def scene_digest(client):
    """The rich synthetic night of the content tests, as a digest."""
    scene = build_scene(client)
    return scene, build_digest(scene.org.id, "night", DAY, now=MORNING)


def cids(html: str) -> list[str]:
    """Return the cid: references of the HTML, in order."""
    return re.findall(r'src="cid:([^"]+)"', html)


# --- parts, subject, language -----------------------------------------------------------------


def test_the_parts_make_a_multipart_message(scene_digest):
    _scene, d = scene_digest
    out = render(d, base_url=BASE)
    assert isinstance(out, Rendered)
    assert out.subject == "Lägesbild natten 19–20 nov: 8 händelser, 2 kräver åtgärd"
    assert "\n" not in out.subject
    assert out.html.startswith("<!DOCTYPE html>") and 'lang="sv"' in out.html
    assert out.text.startswith("Digestkommun\nLägesbild natten 19–20 nov\n")
    # The parts assemble into multipart/alternative with a multipart/related HTML part.
    msg = EmailMessage()
    msg["Subject"] = out.subject
    msg.set_content(out.text)
    msg.add_alternative(out.html, subtype="html")
    html_part = msg.get_payload()[1]
    for image in out.images:
        maintype, subtype = image.content_type.split("/")
        html_part.add_related(image.data, maintype, subtype, cid=f"<{image.cid}>")
    raw = msg.as_bytes(policy=SMTP)
    assert b"multipart/alternative" in raw and b"multipart/related" in raw


def test_swedish_by_default_and_english_when_asked(scene_digest):
    _scene, d = scene_digest
    sv, en = render(d, base_url=BASE), render(d, "en", base_url=BASE)
    assert "Kräver åtgärd" in sv.html and "Kräver åtgärd" in sv.text
    assert "Vilka rapporterade" in sv.html and "väktare" in sv.text
    assert "Who reported" in en.html
    assert en.subject == "Night report 19–20 Nov: 8 incidents, 2 need action"
    assert 'lang="en"' in en.html
    for part in (en.html, en.text):
        assert "needs action" in part.casefold() and "security guard" in part and "Fire" in part
        assert "Kräver" not in part and "händelser" not in part
    with pytest.raises(ValueError):
        render(d, "de", base_url=BASE)
    with pytest.raises(ValueError):
        render(d, base_url=BASE, image_mode="inline")


def test_up_and_down_are_told_by_arrows_and_words(scene_digest):
    _scene, d = scene_digest
    out = render(d, base_url=BASE)
    for part in (out.html, out.text):
        assert "▲ ökning" in part and "▼ minskning" in part and "= ungefär som vanligt" in part
    en = render(d, "en", base_url=BASE)
    assert "▲ up" in en.text and "▼ down" in en.text


def test_every_section_is_rendered(scene_digest):
    _scene, d = scene_digest
    out = render(d, base_url=BASE)
    for part in (out.html, out.text):
        # Section titles are in capitals in the plain text.
        folded = part.casefold()
        for title in (
            "Kräver åtgärd",
            "Vilka rapporterade",
            "Jämfört med tidigare",
            "Återkommande platser med nya rapporter",
            "Nattens händelser per område",
            "Uppföljning: öppna sedan tidigare",
        ):
            assert title.casefold() in folded
        assert "Telefoner med osända rapporter" in part
        assert "väktare: 3 osända enligt telefonen fre 20 nov 01:10" in part
        assert "Telefoner som tystnat under natten" in part
        assert "fältare: senast hörd tor 19 nov 23:40" in part
        assert "Parkeringen" in part
        assert part.index("Centrum – 6 händelser") < part.index("Hjärup – 1 händelse")
        assert "Utanför områdena – 1 händelse" in part
        assert "Polisen" in part  # the follow-ups by who is responsible
        assert "8 rapporter) · 1 lugnt pass." in part
        assert "Lugna pass (nattvandrare 1, 03:00–03:00) visar" in part
        assert "ring 112" in part
    assert "Totalt: 8 (▲ ökning; snitt 4,2: 4, 4, 5, 4)." in out.text


def test_names_and_emails_are_never_rendered(scene_digest, hostile):
    for d in (scene_digest[1], hostile["digest"]):
        for lang in ("sv", "en"):
            out = render(d, lang, base_url=BASE)
            for part in (out.html, out.text, out.subject):
                for name in (*NAMES, "Kalle", "nattvandrare@example.se", "lånetelefon"):
                    assert name not in part


# --- links and images -------------------------------------------------------------------------


def test_every_item_links_into_the_workspace(scene_digest):
    scene, d = scene_digest
    out = render(d, base_url=BASE + "/")
    ids = {i.id for g in d.areas for i in g.incidents}
    for iid in ids:
        link = f"{BASE}/workspace/incidents/{iid}"
        assert f'href="{link}"' in out.html
        assert link in out.text
    # Follow-ups: each in the text part; the HTML (read on a phone) summarises them with a
    # link to the list of the open ones.
    for iid in {i.id for i in d.followups.items}:
        assert f"{BASE}/workspace/incidents/{iid}" in out.text
    assert f'href="{BASE}/workspace/incidents?from=' in out.html
    assert "status=ny&amp;status=bedomd&amp;status=atgard_pagar&amp;sort=severity" in out.html
    assert f"{BASE}/workspace/?night=2026-11-20" in out.text
    assert f"{BASE}/workspace/places" in out.text
    fire = str(incident_of(scene.fire))
    assert out.html.count(f"{BASE}/workspace/incidents/{fire}") == 2  # action + its area


def test_cid_references_match_the_inline_images(hostile):
    d = hostile["digest"]
    out = render(d, base_url=BASE, image_mode="cid")
    refs = cids(out.html)
    assert set(refs) == {image.cid for image in out.images}
    assert len(out.images) == len({image.cid for image in out.images})
    assert sum(1 for image in out.images if image.content_type == "image/jpeg") == 2
    for image in out.images:
        decoded = Image.open(io.BytesIO(image.data))
        decoded.load()
        assert decoded.format == ("PNG" if image.content_type == "image/png" else "JPEG")
        if image.content_type == "image/jpeg":
            assert max(decoded.size) == 320  # the stored thumb size
    # The same photo is shown twice (action, area list) but attached once.
    assert len(refs) > len(set(refs))
    # The photo that never arrived is left out: no broken image.
    assert "never" not in out.html


def test_a_missing_thumbnail_file_is_left_out(hostile):
    d = hostile["digest"]
    first, second = hostile["shas"]
    store().path(d.org_id, first, "thumb").unlink()
    out = render(d, base_url=BASE)
    jpegs = [i for i in out.images if i.content_type == "image/jpeg"]
    assert [i.cid for i in jpegs] == [f"photo-{second[:24]}@lagesbild"]
    assert set(cids(out.html)) == {i.cid for i in out.images}


def test_inline_photos_are_bounded(hostile, monkeypatch):
    monkeypatch.setattr(links_module, "MAX_INLINE_PHOTOS", 1)
    out = render(hostile["digest"], base_url=BASE)
    assert sum(1 for i in out.images if i.content_type == "image/jpeg") == 1
    assert "+1 foton" in out.html  # the rest are a link to the incident


def test_the_workspace_page_uses_photo_urls_a_data_chart_and_print_css(app, hostile):
    d = hostile["digest"]
    out = render(d, base_url=BASE, image_mode="url")
    assert out.images == []
    assert "cid:" not in out.html
    first, second = hostile["shas"]
    for sha in (first, second):
        assert f'src="{BASE}/workspace/photos/{sha}?size=thumb"' in out.html
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/workspace/photos/<sha256>" in rules  # the route the page points at
    assert "@media print" in out.html
    (chart,) = re.findall(r'src="data:image/png;base64,([^"]+)"', out.html)
    assert Image.open(io.BytesIO(base64.b64decode(chart))).format == "PNG"


def test_the_chart_is_a_png_with_alt_text_and_numbers(scene_digest):
    _scene, d = scene_digest
    out = render(d, base_url=BASE)
    (chart,) = [i for i in out.images if i.content_type == "image/png"]
    image = Image.open(io.BytesIO(chart.data))
    image.load()
    assert image.format == "PNG" and image.size[0] >= 600
    tags = dict(parse(out.html).tags)
    assert "img" in tags
    chart_tag = next(a for t, a in parse(out.html).tags if t == "img" and "chart" in a["src"])
    assert chart_tag["alt"].startswith("Stapeldiagram, rapporter per period:")
    assert "19–20 nov: 8" in chart_tag["alt"] and "22–23 okt: 4" in chart_tag["alt"]
    assert chart_tag["width"] == "600"


# --- safety -----------------------------------------------------------------------------------


def test_hostile_text_is_harmless_in_html_and_verbatim_in_text(hostile):
    d = hostile["digest"]
    for lang in ("sv", "en"):
        for mode in ("cid", "url"):
            out = render(d, lang, base_url=BASE, image_mode=mode)
            html = out.html
            assert "<script" not in html.lower()
            assert "<svg" not in html.lower() and "<img src=x" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert "&lt;img src=x onerror=alert(&#34;plats&#34;)&gt;" in html
            assert "&lt;b&gt;Centrum&lt;/b&gt; &amp; &lt;i&gt;co&lt;/i&gt;" in html
            assert "&lt;script&gt;alert(&#39;namngiven&#39;)&lt;/script&gt;" in html
            assert "Kommun &lt;i&gt;fet&lt;/i&gt; &amp; co" in html
            parsed = parse(html)
            assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
            for tag, attrs in parsed.tags:
                if tag == "img":
                    assert attrs["src"].startswith(("cid:", f"{BASE}/workspace/photos/", "data:"))
                if tag == "a":
                    assert attrs["href"].startswith(BASE)
            # The plain text carries the words as written: it is text/plain.
            for raw in (HOSTILE, HOSTILE_PLACE, HOSTILE_AREA, HOSTILE_NAMED, HOSTILE_ORG):
                assert raw in out.text
            assert HOSTILE_SECOND in out.text
            assert "&lt;" not in out.text and "&amp;" not in out.text
            assert "<" not in out.subject


def test_every_render_is_well_formed_html(scene_digest, hostile, client, org):
    quiet = build_digest(org.id, "night", DAY, now=MORNING)
    for d in (scene_digest[1], hostile["digest"], quiet):
        for lang in ("sv", "en"):
            for mode in ("cid", "url"):
                parse(render(d, lang, base_url=BASE, image_mode=mode).html)


# --- calm nights, weeks and months ------------------------------------------------------------


def test_a_night_without_reports_says_lugn_natt_and_no_reports(client, org):
    d = build_digest(org.id, "night", DAY, now=MORNING)
    out = render(d, base_url=BASE)
    assert out.subject == "Lugn natt 19–20 nov – inga rapporter"
    for part in (out.html, out.text):
        assert "Lugn natt" in part
        assert "Inga rapporter kom in i natt – inte heller några lugnt-rapporter." in part
        assert "Inget brådskande rapporterades." in part
    assert not any(i.content_type == "image/png" for i in out.images)  # nothing to chart
    en = render(d, "en", base_url=BASE)
    assert en.subject == "Quiet night 19–20 Nov – no reports"


def test_a_night_with_only_calm_rounds_says_the_patrol_was_out(client, org):
    walker = factories.make_device(org, kind="nattvandrare")
    push(client, walker, rep(night_at("22:00"), "lugnt"), rep(night_at("03:40"), "lugnt", FAR))
    out = render(build_digest(org.id, "night", DAY, now=MORNING), base_url=BASE)
    assert out.subject == "Lugn natt 19–20 nov (2 lugnt-rapporter)"
    for part in (out.html, out.text):
        assert "Lugn natt" in part
        assert (
            "Inget hände: bara lugnt-rapporter kom in (2, 22:00–03:40) från nattvandrare 2. "
            "Patrullen var ute." in part
        )


def test_week_and_month_render_with_their_own_names(client, org):
    device = factories.make_device(org)
    push(
        client,
        device,
        # A calm round in May: the organisation's history covers the four months compared.
        rep(local(date(2026, 5, 20), "23:00"), "lugnt", FAR),
        rep(local(date(2026, 10, 31), "23:00"), "brand", STATION),
        rep(local(date(2026, 11, 12), "23:00"), "skadegorelse", STATION, 500),
    )
    month = render(build_digest(org.id, "month", date(2026, 11, 1), now=MORNING), base_url=BASE)
    assert month.subject == "Månadslägesbild oktober 2026: 1 händelse, 1 kräver åtgärd"
    assert "Periodens händelser per område" in month.html
    assert "lör 31 okt 23:00" in month.text  # a month's times carry the day
    assert "september 2026, augusti 2026, juli 2026, juni 2026" in month.text
    parse(month.html)
    week = render(build_digest(org.id, "week", date(2026, 11, 16), now=MORNING), base_url=BASE)
    assert week.subject == "Veckolägesbild 9–16 nov: 1 händelse"
    assert "2026-11-09T06%3A00" in week.html  # the workspace list of the week
    en = render(build_digest(org.id, "week", date(2026, 11, 16), now=MORNING), "en", base_url=BASE)
    assert en.subject == "Weekly report 9–16 Nov: 1 incident"
    quiet_month = build_digest(org.id, "month", date(2026, 9, 1), now=MORNING)
    assert render(quiet_month, base_url=BASE).subject.startswith("Lugn månad augusti 2026")


def test_the_render_needs_no_database_session(app, scene_digest):
    from server.extensions import db

    _scene, d = scene_digest
    db.session.remove()
    out = render(d, base_url=BASE)
    assert out.subject.startswith("Lägesbild natten")


def test_a_period_across_a_year_names_both_years(client, org):
    d = build_digest(org.id, "night", date(2027, 1, 1), now=MORNING)
    assert render(d, base_url=BASE).subject == "Lugn natt 31 dec 2026–1 jan 2027 – inga rapporter"
    week = build_digest(org.id, "week", date(2026, 12, 3), now=MORNING)
    assert "26 nov–3 dec" in render(week, base_url=BASE).subject


def test_data_dir_can_be_missing(hostile):
    from dataclasses import replace

    out = render(replace(hostile["digest"], data_dir=None), base_url=BASE)
    assert [i.content_type for i in out.images] == ["image/png"]
    assert cids(out.html) == ["chart@lagesbild"]
