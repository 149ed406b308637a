"""A Web Push service stand-in on loopback: checks VAPID, decrypts, answers as scripted.

It is the far side of RFC 8030 for the alert tests: every POST must carry a VAPID JWT
(RFC 8292) signed with ES256 by the key the server announced, for this service's
origin, expiring within 24 hours, with a `sub`; the body must be an aes128gcm message
(RFC 8291) that the subscriber's own private key and auth secret decrypt. The checks and
the decryption are written here from the RFCs, independently of the server's libraries.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def b64url(data: bytes) -> str:
    """Encode unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA-256 (RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


@dataclass
class Subscriber:
    """The browser's side of one subscription: its P-256 key pair and auth secret."""

    name: str
    private: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str

    @property
    def public_point(self) -> bytes:
        """The uncompressed public point (65 bytes)."""
        return self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription_json(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives the page."""
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(self.public_point), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """Decrypt an aes128gcm message (RFC 8188 header, RFC 8291 keys), one record."""
        salt, rs, idlen = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_point, ciphertext = body[21 : 21 + idlen], body[21 + idlen :]
        if idlen != 65 or len(ciphertext) > rs:
            raise ValueError("unexpected aes128gcm header")
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
        shared = self.private.exchange(ec.ECDH(), sender)
        ikm = _hkdf(self.auth, shared, b"WebPush: info\x00" + self.public_point + sender_point, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        if not padded.endswith(b"\x02"):  # the last record's delimiter
            raise ValueError("no last-record delimiter")
        return padded[:-1]


def make_subscriber(name: str, endpoint: str) -> Subscriber:
    """Make a browser's side of a subscription: a fresh P-256 key pair and auth secret."""
    return Subscriber(name, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), endpoint)


@dataclass
class Received:
    """One message the service accepted the request of (whatever it answered)."""

    name: str
    headers: dict[str, str]
    payload: dict[str, Any]
    plaintext: bytes
    status: int
    claims: dict[str, Any]
    at: float


@dataclass
class PushService:
    """The stand-in; `answers[name]` holds scripted (status, headers) answers, else 201."""

    vapid_public: str  # base64url point the server's key must match
    received: list[Received] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answers: dict[str, deque[tuple[int, dict[str, str]]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def origin(self) -> str:
        """The service's origin (what the JWT's aud must be)."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> PushService:
        """Listen on a free loopback port in a thread."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers = service.handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def subscriber(self, name: str) -> Subscriber:
        """Make a browser's key pair and auth secret with an endpoint on this service."""
        sub = make_subscriber(name, f"{self.origin}/push/{name}")
        self.subscribers[name] = sub
        return sub

    def answer(self, name: str, status: int, headers: dict[str, str] | None = None) -> None:
        """Script the next answer to `name`'s endpoint."""
        self.answers[name].append((status, headers or {}))

    def of(self, name: str, status: int | None = None) -> list[Received]:
        """The messages that reached `name` (with that answer, when given)."""
        return [r for r in self.received if r.name == name and status in (None, r.status)]

    # --- the checks ----------------------------------------------------------------------

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        """Verify and decrypt one request, record it, and answer as scripted."""
        name = path.removeprefix("/push/")
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            sub = self.subscribers[name]
            claims = self._check_vapid(lower.get("authorization", ""))
            self._check_headers(lower)
            plaintext = sub.decrypt(body)
            payload = json.loads(plaintext)
        except (KeyError, ValueError, InvalidSignature, AssertionError) as exc:
            with self._lock:
                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            return 400, {}
        with self._lock:
            queued = self.answers[name]
            status, extra = queued.popleft() if queued else (201, {})
            self.received.append(
                Received(name, lower, payload, plaintext, status, claims, time.time())
            )
        return status, extra

    def _check_vapid(self, auth: str) -> dict[str, Any]:
        """Check `vapid t=JWT, k=KEY`: ES256 by the announced key, aud, exp, sub."""
        scheme, _, params = auth.partition(" ")
        assert scheme.lower() == "vapid", f"scheme {scheme!r}"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public, "k is not the server's VAPID key"
        header_b64, claims_b64, sig_b64 = parts["t"].split(".")
        header = json.loads(unb64url(header_b64))
        assert header.get("alg") == "ES256", f"alg {header.get('alg')!r}"
        sig = unb64url(sig_b64)
        assert len(sig) == 64, "an ES256 JWS signature is r||s, 64 bytes"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(unb64url(claims_b64))
        assert claims.get("aud") == self.origin, f"aud {claims.get('aud')!r}"
        now = time.time()
        assert now < claims["exp"] <= now + 24 * 3600, "exp must be within 24 hours"
        assert str(claims.get("sub", "")).startswith(("mailto:", "https:")), "sub"
        return claims

    @staticmethod
    def _check_headers(headers: dict[str, str]) -> None:
        """Check the RFC 8030 headers the alerts must send."""
        assert int(headers.get("ttl", "0")) >= 3600, "TTL of hours"
        assert headers.get("urgency") == "high", "Urgency: high"
        assert TOPIC.match(headers.get("topic", "")), "Topic: at most 32 url-safe characters"
        assert headers.get("content-encoding") == "aes128gcm", "aes128gcm"
