"""Tests for sync.cursor: opaque pull cursors that detect when a full resync is needed."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.cursor import MAX_CURSOR_LENGTH, Cursor, decode_cursor, encode_cursor

EPOCH = "3f2a9c1e"
ORG = 7
NOW = 100


def raw(payload: object) -> str:
    """Return a cursor text for any payload, bypassing encode_cursor's checks."""
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def decode(text: str | None, current_seq: int = NOW) -> Cursor | None:
    """Return decode_cursor's answer in the standard test context."""
    return decode_cursor(text, epoch=EPOCH, org_id=ORG, current_seq=current_seq)


def good(**overrides: object) -> dict[str, object]:
    """Return a valid payload with some keys overridden."""
    payload: dict[str, object] = {"v": 1, "e": EPOCH, "o": ORG, "s": 42}
    payload.update(overrides)
    return payload


def test_round_trip():
    cursor = Cursor(EPOCH, ORG, 42)
    text = encode_cursor(cursor)
    assert decode(text) == cursor
    assert "=" not in text
    assert json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))) == good()
    assert decode(raw(good())) == cursor


@given(
    epoch=st.text(min_size=1, max_size=40),
    org_id=st.integers(-(2**63), 2**63),
    seq=st.integers(0, 2**63),
    ahead=st.integers(0, 10),
)
def test_any_valid_cursor_round_trips(epoch, org_id, seq, ahead):
    cursor = Cursor(epoch, org_id, seq)
    text = encode_cursor(cursor)
    assert len(text) <= MAX_CURSOR_LENGTH
    assert decode_cursor(text, epoch=epoch, org_id=org_id, current_seq=seq + ahead) == cursor


def test_seq_equal_to_current_is_accepted():
    assert decode(raw(good(s=NOW))) == Cursor(EPOCH, ORG, NOW)
    assert decode(raw(good(s=0)), current_seq=0) == Cursor(EPOCH, ORG, 0)


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("none", None),
        ("empty", ""),
        ("not base64 alphabet", "!!!not-base64"),
        ("padded", raw(good()) + "="),
        ("impossible length", "a"),
        ("whitespace", " " + raw(good())),
        ("not utf-8", base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("=")),
        ("not json", base64.urlsafe_b64encode(b"hello").decode().rstrip("=")),
        ("not an object", raw([1, EPOCH, ORG, 42])),
        ("missing key", raw({"v": 1, "e": EPOCH, "o": ORG})),
        ("extra key", raw(good(x=1))),
        ("version 2", raw(good(v=2))),
        ("version 0", raw(good(v=0))),
        ("version as bool", raw(good(v=True))),
        ("version as str", raw(good(v="1"))),
        ("epoch not str", raw(good(e=123))),
        ("epoch empty", raw(good(e=""))),
        ("org not int", raw(good(o="7"))),
        ("org bool", raw(good(o=True))),
        ("org float", raw(good(o=7.0))),
        ("seq float", raw(good(s=42.0))),
        ("seq str", raw(good(s="42"))),
        ("seq bool", raw(good(s=False))),
        ("seq null", raw(good(s=None))),
        ("seq negative", raw(good(s=-1))),
        ("other epoch", raw(good(e="another-db"))),
        ("other org", raw(good(o=ORG + 1))),
        ("database went backwards", raw(good(s=NOW + 1))),
    ],
)
def test_rejections_mean_full_resync(reason, text):
    assert decode(text) is None, reason


def test_texts_over_the_length_cap_are_rejected():
    # Find epochs whose valid cursors land exactly on and just over the cap.
    sizes = {len(raw(good(e="x" * n))): "x" * n for n in range(300, 400)}
    at_cap, over_cap = sizes[MAX_CURSOR_LENGTH], sizes[MAX_CURSOR_LENGTH + 2]
    assert decode_cursor(raw(good(e=at_cap)), epoch=at_cap, org_id=ORG, current_seq=NOW)
    assert decode_cursor(raw(good(e=over_cap)), epoch=over_cap, org_id=ORG, current_seq=NOW) is None
    assert decode("A" * 10_000) is None


def test_encode_refuses_cursors_that_could_not_be_decoded():
    with pytest.raises(ValueError):
        encode_cursor(Cursor("x" * 400, ORG, 1))


@pytest.mark.parametrize(
    ("epoch", "org_id", "seq"),
    [
        ("", ORG, 1),
        (None, ORG, 1),
        (EPOCH, True, 1),
        (EPOCH, "7", 1),
        (EPOCH, ORG, -1),
        (EPOCH, ORG, 1.0),
    ],
)
def test_invalid_cursors_cannot_be_built(epoch, org_id, seq):
    with pytest.raises(ValueError):
        Cursor(epoch, org_id, seq)


@given(st.text(max_size=600))
def test_decode_never_raises_on_text(text):
    assert decode(text) is None or isinstance(decode(text), Cursor)


@given(st.binary(max_size=400), st.booleans())
def test_decode_never_raises_on_base64_bytes(data, strip):
    text = base64.urlsafe_b64encode(data).decode()
    assert decode(text.rstrip("=") if strip else text) is None


# Near-miss scalars (the right values with the wrong types) make valid payloads common.
near_misses = st.sampled_from([1, ORG, 42, EPOCH, True, 1.0, 7.0, -1, NOW + 1, "42"])
json_st = st.recursive(
    near_misses | st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.fixed_dictionaries(
        {key: st.just(value) | near_misses | json_st for key, value in good().items()}
    ),
    st.sets(st.sampled_from(["v", "e", "o", "s"])),
    st.dictionaries(st.sampled_from(["x", "V"]), json_st, max_size=1),
)
def test_decode_never_raises_on_json_payloads(payload, dropped, extra):
    for key in dropped:
        del payload[key]
    payload.update(extra)
    result = decode(raw(payload))
    exact = set(payload) == {"v", "e", "o", "s"}
    valid = (
        exact
        and type(payload["v"]) is int
        and payload["v"] == 1
        and payload["e"] == EPOCH
        and type(payload["o"]) is int
        and payload["o"] == ORG
        and type(payload["s"]) is int
        and 0 <= payload["s"] <= NOW
    )
    assert result == (Cursor(EPOCH, ORG, payload["s"]) if valid else None)
