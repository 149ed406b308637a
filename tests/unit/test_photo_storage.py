"""Tests for server.photos.storage: atomic writes and the photo store layout."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.photos import storage
from server.photos.storage import VARIANTS, PhotoStore, atomic_write

SHA = "ab" + "0123456789abcdef" * 3 + "0123456789abcd"
assert len(SHA) == 64
VARIANT_DATA = {"full": b"FULL-BYTES", "display": b"DISPLAY", "thumb": b"T"}


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- atomic_write


def test_atomic_write_creates_file_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "a.jpg"
    atomic_write(target, b"hello")
    assert target.read_bytes() == b"hello"
    assert os.listdir(tmp_path) == ["a.jpg"]


def test_atomic_write_replaces_existing_content(tmp_path: Path) -> None:
    target = tmp_path / "a.jpg"
    target.write_bytes(b"old content that is longer")
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["a.jpg"]


def test_atomic_write_fsyncs_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "a.jpg", b"x")
    if hasattr(os, "O_DIRECTORY"):
        assert synced == ["file", "dir"]
    else:
        assert synced == ["file"]


@pytest.mark.parametrize("exc_type", [OSError, KeyboardInterrupt])
def test_atomic_write_cleans_up_when_fsync_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc_type: type[BaseException]
) -> None:
    target = tmp_path / "a.jpg"
    target.write_bytes(b"original")

    def boom(fd: int) -> None:
        raise exc_type("disk on fire")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(exc_type):
        atomic_write(target, b"replacement")
    assert os.listdir(tmp_path) == ["a.jpg"]
    assert target.read_bytes() == b"original"


def test_atomic_write_cleans_up_when_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(src: str, dst: str) -> None:
        raise PermissionError("nope")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(PermissionError):
        atomic_write(tmp_path / "a.jpg", b"data")
    assert os.listdir(tmp_path) == []


def test_atomic_write_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "a.jpg", b"data")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- PhotoStore paths


def test_relative_path_layout() -> None:
    assert PhotoStore.relative_path(7, SHA, "display") == f"photos/7/ab/{SHA}-display.jpg"
    assert PhotoStore.relative_base(7, SHA) == f"photos/7/ab/{SHA}"


def test_path_is_absolute_and_under_root(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "data")
    path = store.path(3, SHA, "thumb")
    assert path.is_absolute()
    assert path == (tmp_path / "data").resolve() / "photos" / "3" / "ab" / f"{SHA}-thumb.jpg"


@pytest.mark.parametrize(
    "sha",
    [
        "../etc",
        "../" + "a" * 61,
        SHA.upper(),
        SHA[:63],
        SHA + "0",
        SHA[:63] + "g",
        SHA + "\n",
        "",
        None,
        int(SHA, 16),
    ],
)
def test_invalid_sha256_is_rejected(sha: object) -> None:
    with pytest.raises(ValueError):
        PhotoStore.relative_path(1, sha, "full")  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", ["original", "../full", "full/../../x", "", "FULL", None])
def test_unknown_variant_is_rejected(variant: object) -> None:
    with pytest.raises(ValueError):
        PhotoStore.relative_path(1, SHA, variant)  # type: ignore[arg-type]


@pytest.mark.parametrize("org_id", [-1, "1", "../1", True, 1.0, None])
def test_invalid_org_id_is_rejected(org_id: object) -> None:
    with pytest.raises(ValueError):
        PhotoStore.relative_path(org_id, SHA, "full")  # type: ignore[arg-type]


@settings(max_examples=200)
@given(
    org_id=st.one_of(st.integers(), st.text(max_size=5)),
    sha=st.one_of(st.text(max_size=70), st.text("0123456789abcdef", min_size=64, max_size=64)),
    variant=st.one_of(st.sampled_from(VARIANTS), st.text(max_size=10)),
)
def test_paths_never_escape_root(org_id: object, sha: str, variant: str) -> None:
    root = Path("/srv/lagesbild-data")
    store = PhotoStore(root)
    try:
        path = store.path(org_id, sha, variant)  # type: ignore[arg-type]
    except ValueError:
        return
    assert os.path.normpath(path) == str(path)
    assert path.parent.parent.parent.parent == store.root
    assert path.name == f"{sha}-{variant}.jpg"


# --------------------------------------------------------------------------- PhotoStore I/O


def test_save_exists_delete_round_trip(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    assert not store.exists(5, SHA)

    base = store.save(5, SHA, VARIANT_DATA)

    assert base == f"photos/5/ab/{SHA}"
    assert store.exists(5, SHA)
    for variant, data in VARIANT_DATA.items():
        assert store.path(5, SHA, variant).read_bytes() == data
        assert (tmp_path / f"{base}-{variant}.jpg").read_bytes() == data
    assert _tree(tmp_path) == sorted(f"{base}-{v}.jpg" for v in VARIANTS)  # no temp files
    assert not store.exists(6, SHA)  # organisations are isolated

    store.delete(5, SHA)
    assert not store.exists(5, SHA)
    assert _tree(tmp_path) == []
    store.delete(5, SHA)  # deleting again is fine
    store.delete(99, SHA)  # never stored, directory missing: fine


def test_exists_requires_every_variant(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    store.save(1, SHA, VARIANT_DATA)
    store.path(1, SHA, "thumb").unlink()
    assert not store.exists(1, SHA)


def test_save_overwrites_existing_variants(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    store.save(1, SHA, VARIANT_DATA)
    store.save(1, SHA, {**VARIANT_DATA, "full": b"NEW"})
    assert store.path(1, SHA, "full").read_bytes() == b"NEW"
    assert len(_tree(tmp_path)) == 3


@pytest.mark.parametrize(
    "variants",
    [
        {"full": b"a", "display": b"b"},
        {**VARIANT_DATA, "original": b"x"},
        {},
    ],
)
def test_save_rejects_incomplete_or_unknown_variants(tmp_path: Path, variants: dict) -> None:
    store = PhotoStore(tmp_path)
    with pytest.raises(ValueError):
        store.save(1, SHA, variants)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_save_rejects_bad_sha_before_touching_disk(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    with pytest.raises(ValueError):
        store.save(1, "../../etc/passwd", VARIANT_DATA)
    assert list(tmp_path.iterdir()) == []


def test_save_fsyncs_new_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced_dirs: list[Path] = []
    real = storage.fsync_dir

    def spy(directory: Path) -> None:
        synced_dirs.append(Path(directory))
        real(directory)

    monkeypatch.setattr(storage, "fsync_dir", spy)
    store = PhotoStore(tmp_path / "root")
    store.save(2, SHA, VARIANT_DATA)
    shard = store.path(2, SHA, "full").parent
    # Each newly created level is made durable in its parent, and the shard after each write.
    for created in (tmp_path / "root", tmp_path / "root" / "photos", shard.parent, shard):
        assert created.parent.resolve() in synced_dirs
    assert synced_dirs.count(shard) >= len(VARIANTS)


def test_a_stray_file_among_the_photos_is_not_listed_for_a_backup(tmp_path: Path) -> None:
    # From the review: a non-photo file under photos/ made the backup stop part-way.
    store = PhotoStore(tmp_path)
    sha = "ab" * 32
    store.save(1, sha, {v: v.encode() for v in VARIANTS})
    stray = tmp_path / "photos" / "1" / "ab" / "notes.txt"
    stray.write_text("an admin's note", encoding="utf-8")
    keys = list(store.list_keys())
    assert len(keys) == len(VARIANTS)
    assert all(store.get_key(k) is not None for k in keys)
