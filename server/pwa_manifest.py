"""The service worker's precache list and cache version, derived from the files under pwa/.

Nothing is kept by hand: every shell file (index.html as "/", scripts, styles, catalogs, the
manifest and the icons) is listed, and the version is a hash of their contents, so a deploy
that changes any byte gives the phones a new cache and a deploy that changes none does not.
The few npm files the app needs offline (VENDOR_PRECACHE) are listed and hashed the same way.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

# What the shell is made of; anything else under pwa/ (the icon script, notes) stays out.
PRECACHE_SUFFIXES = frozenset({".js", ".css", ".json", ".webmanifest", ".png", ".svg"})
EXCLUDED = frozenset({"sw.js"})
INDEX = "index.html"
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# npm files served under /vendor/ (server/pwa.py) that the shell needs offline: the QR decoder
# of the guard rounds' scanner (pwa/qr-decode.js) where the browser has no BarcodeDetector.
# Listed only when installed (`make install`): a listed file that 404s would fail the install.
VENDOR_PRECACHE: dict[str, Path] = {
    "/vendor/jsqr/dist/jsQR.js": NODE_MODULES / "jsqr" / "dist" / "jsQR.js",
}

# (relative path, mtime_ns, size) of every candidate file: the cheap key of the cache below.
_Signature: TypeAlias = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Precache:
    """The URLs the service worker caches on install, and the version that names the cache."""

    version: str
    files: tuple[str, ...]

    def js_line(self) -> str:
        """Return the line prepended to sw.js."""
        payload = json.dumps({"version": self.version, "files": list(self.files)})
        return f"const PRECACHE = {payload};\n"


_lock = threading.Lock()
_cached: dict[Path, tuple[_Signature, Precache]] = {}


def _candidates(root: Path) -> list[Path]:
    """Return the shell files under `root`, in a stable order."""
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith((".", "_")) for part in rel.parts) or not path.is_file():
            continue
        if rel.as_posix() == INDEX or (
            path.suffix in PRECACHE_SUFFIXES and rel.as_posix() not in EXCLUDED
        ):
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _url(root: Path, path: Path) -> str:
    """Return the URL the server serves `path` at."""
    rel = path.relative_to(root).as_posix()
    return "/" if rel == INDEX else "/" + rel


def _vendor() -> list[tuple[str, Path]]:
    """Return the installed npm files of the precache, by URL."""
    return sorted((url, path) for url, path in VENDOR_PRECACHE.items() if path.is_file())


def compute(root: Path) -> Precache:
    """Hash every shell file under `root` and return the precache list and its version."""
    overall = hashlib.sha256()
    files = []
    shell = [(_url(root, path), path) for path in _candidates(root)]
    for url, path in sorted(shell) + _vendor():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        overall.update(f"{url}\0{digest}\n".encode())
        files.append(url)
    return Precache(version=overall.hexdigest(), files=tuple(files))


def precache(root: Path) -> Precache:
    """Return the precache for `root`, rehashing only when a file's mtime or size changed."""
    signature: _Signature = tuple(
        (p.relative_to(root).as_posix(), (st := p.stat()).st_mtime_ns, st.st_size)
        for p in _candidates(root)
    ) + tuple((url, (st := p.stat()).st_mtime_ns, st.st_size) for url, p in _vendor())
    with _lock:
        hit = _cached.get(root)
        if hit is not None and hit[0] == signature:
            return hit[1]
        result = compute(root)
        _cached[root] = (signature, result)
        return result
