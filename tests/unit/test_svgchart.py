"""server.workspace.svgchart: valid, accessible, escaped, e-mail-safe SVG; never colour alone."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from server.workspace import svgchart
from server.workspace.svgchart import Series, Trend, bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & "Torget"'


def parse(svg: str) -> ET.Element:
    """Parse the chart as XML (fails the test on invalid output)."""
    return ET.fromstring(svg)  # noqa: S314  (our own output; valid XML is what is tested)


def texts(root: ET.Element) -> list[str]:
    """Return the visible text elements' contents."""
    return ["".join(t.itertext()) for t in root.iter(f"{NS}text")]


def sample_line(**kwargs) -> str:
    """Return a line chart with a count series and a baseline."""
    defaults = {
        "desc": "Rapporter per dag",
        "chart_id": "c1",
    }
    defaults.update(kwargs)
    return line_chart(
        defaults.pop("title", "Skadegörelse"),
        ["1/5", "2/5", "3/5", "4/5"],
        [Series("Rapporter", [1, 3, None, 7]), Series("Snitt 4 veckor", [2, 2, 2.5, 3], True)],
        **defaults,
    )


def test_line_chart_is_accessible_xml() -> None:
    root = parse(sample_line())
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and title.text == "Skadegörelse"
    assert desc is not None and desc.text == "Rapporter per dag"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    # The legend names both series in text and the axis has numeric tick labels.
    shown = texts(root)
    assert "Rapporter" in shown and "Snitt 4 veckor" in shown
    assert "0" in shown
    assert "1/5" in shown


def test_bar_chart_is_accessible_xml_with_values_as_text() -> None:
    svg = bar_chart(
        "Totalt per vecka",
        ["v.18", "v.19", "v.20"],
        [4, 9, 2],
        baseline=[None, 5.5, 6.25],
        value_label="Rapporter",
        baseline_label="Snitt 4 veckor",
        desc="Tre veckor",
    )
    root = parse(svg)
    assert root.find(f"{NS}title").text == "Totalt per vecka"  # type: ignore[union-attr]
    shown = texts(root)
    # Each bar's value is written out, not only drawn.
    assert {"4", "9", "2"} <= set(shown)
    assert "Snitt 4 veckor" in shown and "Rapporter" in shown
    assert len(root.findall(f".//{NS}rect")) >= 4  # background + three bars (+ legend)


@pytest.mark.parametrize("where", ["title", "desc", "label", "series", "trend"])
def test_every_label_is_escaped(where: str) -> None:
    kwargs = {
        "title": EVIL if where == "title" else "T",
        "desc": EVIL if where == "desc" else "D",
        "trend": Trend("up", EVIL if where == "trend" else "upp"),
    }
    labels = [EVIL if where == "label" else "a", "b"]
    series = [Series(EVIL if where == "series" else "s", [1, 2])]
    svg = line_chart(kwargs.pop("title"), labels, series, **kwargs)  # type: ignore[arg-type]
    assert "<script" not in svg
    root = parse(svg)
    assert not list(root.iter("script")) and not list(root.iter(f"{NS}script"))
    # The text survives, as text.
    everything = "".join(root.itertext())
    assert '<script>alert("x")</script> & "Torget"' in everything


def test_bar_labels_escaped_and_control_characters_dropped() -> None:
    svg = bar_chart("Om\x00råde <b>", [EVIL, "x\x07y"], [1, 2], desc="\x1f")
    root = parse(svg)
    assert "<script" not in svg and "<b>" not in svg
    assert "Område <b>" in "".join(root.itertext())


@pytest.mark.parametrize(
    ("direction", "arrow", "word"),
    [("up", "↑", "upp"), ("down", "↓", "ner"), ("same", "→", "oförändrat"), ("flat", "→", "lika")],
)
def test_trend_shown_with_arrow_and_word(direction: str, arrow: str, word: str) -> None:
    svg = sample_line(trend=Trend(direction, f"{word}: 7 mot snitt 3"))  # type: ignore[arg-type]
    shown = texts(parse(svg))
    assert f"{arrow} {word}: 7 mot snitt 3" in shown
    assert svgchart.arrow(direction) == arrow


def test_up_and_down_differ_in_text_not_only_in_colour() -> None:
    up = texts(parse(bar_chart("T", ["a"], [5], trend=Trend("up", "upp"))))
    down = texts(parse(bar_chart("T", ["a"], [5], trend=Trend("down", "ner"))))
    assert set(up) ^ set(down) == {"↑ upp", "↓ ner"}


def test_email_safe_no_classes_styles_or_scripts() -> None:
    for svg in (
        sample_line(trend=Trend("up", "upp")),
        bar_chart("T", ["a", "b"], [1, 2], baseline=[1, 1], baseline_label="Snitt"),
    ):
        root = parse(svg)
        for element in root.iter():
            assert "class" not in element.attrib
            assert "style" not in element.attrib
            assert element.tag not in (f"{NS}style", f"{NS}script", f"{NS}foreignObject")
            assert not any(name.startswith("on") for name in element.attrib)
        assert "url(" not in svg and "href" not in svg


def test_series_told_apart_without_colour() -> None:
    svg = line_chart(
        "T",
        ["a", "b", "c"],
        [Series("Ett", [1, 2, 3]), Series("Två", [3, 2, 1]), Series("Snitt", [2, 2, 2], True)],
    )
    root = parse(svg)
    lines = root.findall(f".//{NS}polyline")
    dashes = [line.get("stroke-dasharray") for line in lines]
    assert len(set(dashes)) == 3  # solid, dashed, baseline dashed differently
    assert root.findall(f".//{NS}circle") and root.findall(f".//{NS}rect")  # marker shapes


def test_gaps_split_the_line_and_empty_data_still_renders() -> None:
    root = parse(line_chart("T", ["a", "b", "c", "d"], [Series("s", [1, None, 2, 3])]))
    assert len(root.findall(f".//{NS}polyline")) == 2
    parse(line_chart("Tom", [], []))
    parse(bar_chart("Tom", [], []))
    parse(line_chart("Noll", ["a"], [Series("s", [0])]))


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError):
        line_chart("T", ["a", "b"], [Series("s", [1])])
    with pytest.raises(ValueError):
        bar_chart("T", ["a"], [1, 2])
    with pytest.raises(ValueError):
        bar_chart("T", ["a"], [1], baseline=[1, 2])


def test_ids_are_unique_per_chart_and_sanitised() -> None:
    a = parse(sample_line(chart_id='x" onload="evil'))
    assert all(" " not in (e.get("id") or "") for e in a.iter())
    assert "onload" not in {name for e in a.iter() for name in e.attrib}
    one = line_chart("A", ["a"], [Series("s", [1])])
    two = line_chart("B", ["a"], [Series("s", [1])])
    assert parse(one).get("aria-labelledby") != parse(two).get("aria-labelledby")


def test_nice_ticks() -> None:
    assert svgchart.nice_ticks(0) == [0.0, 1.0]
    assert svgchart.nice_ticks(3) == [0.0, 1.0, 2.0, 3.0]
    ticks = svgchart.nice_ticks(37)
    assert ticks[0] == 0 and ticks[-1] >= 37 and len(ticks) <= 6
    assert all(t == int(t) for t in svgchart.nice_ticks(2.5))
