"""A tiny fault-injecting HTTP proxy on 127.0.0.1 for the fault tests and the fault run.

It sits between the clients and gunicorn, reads one HTTP/1.1 request per connection
(head plus a Content-Length body; it asks the server to close after answering) and then
does what a policy chose for that request:

- ``pass``: forward the request and return the answer;
- ``delay``: wait, then forward (a slow network; the client may time out);
- ``drop``: close the client's connection without forwarding (the server never saw it);
- ``reset``: forward the head and part of the body, then reset both connections (the
  server sees a truncated request; the client a reset);
- ``cut``: forward the whole request, wait until the server starts answering — it has
  committed by then — and reset the client's connection without the answer;
- ``duplicate``: forward the request twice at once on two connections and return one of
  the answers (a retrying network path).

A connection the server refuses (it is down), or any while `upstream_port` is None (it is
being restarted), becomes a reset for the client. The proxy
counts the faults it applied by kind (``faults``) and the requests it saw (``requests``).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

KINDS = ("delay", "drop", "reset", "cut", "duplicate")
MAX_HEAD = 64 * 1024
IO_TIMEOUT = 30.0  # seconds on every socket operation; a test's HTTP timeout is shorter


@dataclass(frozen=True)
class Request:
    """One request the proxy read from a client."""

    method: str
    path: str
    head: bytes  # rewritten: with "Connection: close", ending in a blank line
    body: bytes


@dataclass(frozen=True)
class Fault:
    """What to do with one request: a kind of KINDS or "pass", and a delay for "delay"."""

    kind: str = "pass"
    delay: float = 0.0


PASS = Fault()
Policy = Callable[[Request], Fault]


class ProxyClosed(Exception):
    """The client closed its connection before a whole request arrived."""


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), as a dropped mobile connection looks."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def read_request(sock: socket.socket) -> Request:
    """Read one request (head and Content-Length body); raise ProxyClosed if it is cut short."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ProxyClosed("closed before the end of the head")
        data += chunk
        if len(data) > MAX_HEAD and b"\r\n\r\n" not in data:
            raise ProxyClosed("head too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    method, path = [*lines[0].split(b" "), b"", b""][:2]
    length = 0
    kept = [lines[0]]
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        if lowered in (b"connection", b"keep-alive"):
            continue  # one request per connection: the server closes after answering
        kept.append(line)
    kept.append(b"Connection: close")
    body = rest
    while len(body) < length:
        chunk = sock.recv(min(65536, length - len(body)))
        if not chunk:
            raise ProxyClosed("closed before the end of the body")
        body += chunk
    return Request(method.decode(), path.decode(), b"\r\n".join(kept) + b"\r\n\r\n", body)


class FaultProxy:
    """Forward 127.0.0.1:port to an upstream port, applying the faults a policy picks."""

    def __init__(self, upstream_port: int | None, policy: Policy | None = None) -> None:
        # None: the server is down (being restarted); every client meets a reset.
        self.upstream_port = upstream_port
        self.policy: Policy = policy or (lambda _request: PASS)
        self.faults: Counter[str] = Counter()
        self.requests = 0
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Return the port clients connect to."""
        if self._server is None:
            raise RuntimeError("proxy not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Return the proxy's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on a free port and serve in background threads."""
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 128

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="faultproxy", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections in progress end on their own)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def counts(self) -> Counter[str]:
        """Return a copy of the fault counts."""
        with self._lock:
            return Counter(self.faults)

    # -- one connection ------------------------------------------------------------------

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(IO_TIMEOUT)
        try:
            request = read_request(client)
        except (ProxyClosed, OSError, ValueError):
            _reset(client)
            return
        fault = self.policy(request)
        with self._lock:
            self.requests += 1
            if fault.kind != "pass":
                self.faults[fault.kind] += 1
        try:
            self._apply(fault, request, client)
        except OSError:
            _reset(client)  # the server went away mid-answer: the client sees a reset
        finally:
            with contextlib.suppress(OSError):
                client.close()

    def _apply(self, fault: Fault, request: Request, client: socket.socket) -> None:
        kind = fault.kind
        if kind == "drop":
            _reset(client)
            return
        if kind == "delay":
            time.sleep(fault.delay)
        if kind == "reset":
            upstream = self._connect()
            if upstream is not None:
                upstream.sendall(request.head + request.body[: len(request.body) // 2])
                _reset(upstream)
            _reset(client)
            return
        if kind == "duplicate":
            answers: list[bytes | None] = [None, None]
            twin = threading.Thread(target=self._forward_into, args=(request, answers, 1))
            twin.start()
            self._forward_into(request, answers, 0)
            twin.join(IO_TIMEOUT)
            answer = answers[0] or answers[1]
            if answer is None:
                _reset(client)
                return
            client.sendall(answer)
            return
        upstream = self._connect()
        if upstream is None:
            _reset(client)
            return
        try:
            upstream.sendall(request.head + request.body)
            if kind == "cut":
                # The first byte of the answer means the server has finished its work.
                upstream.recv(1)
                _reset(client)
                return
            self._pipe_answer(upstream, client)
        finally:
            with contextlib.suppress(OSError):
                upstream.close()

    def _connect(self) -> socket.socket | None:
        port = self.upstream_port
        if port is None:
            return None
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            return None
        upstream.settimeout(IO_TIMEOUT)
        return upstream

    @staticmethod
    def _pipe_answer(upstream: socket.socket, client: socket.socket) -> None:
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                return
            client.sendall(chunk)

    def _forward_into(self, request: Request, answers: list[bytes | None], slot: int) -> None:
        """Forward the request on its own connection and keep the whole answer."""
        upstream = self._connect()
        if upstream is None:
            return
        try:
            upstream.sendall(request.head + request.body)
            data = b""
            while chunk := upstream.recv(65536):
                data += chunk
            answers[slot] = data or None
        except OSError:
            answers[slot] = None
        finally:
            with contextlib.suppress(OSError):
                upstream.close()


@dataclass
class RandomPolicy:
    """Pick a fault per request at the given rates (the rest pass); thread-safe, seeded."""

    rates: dict[str, float]
    rng_seed: int
    delay: tuple[float, float] = (0.05, 1.5)
    enabled: bool = True
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        import random

        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; use {KINDS}")
        if sum(self.rates.values()) >= 1:
            raise ValueError("fault rates must add up to less than 1")
        self._rng = random.Random(self.rng_seed)

    def __call__(self, _request: Request) -> Fault:
        """Return the fault for one request."""
        if not self.enabled:
            return PASS
        with self._lock:
            roll = self._rng.random()
            pause = self._rng.uniform(*self.delay)
        for kind, rate in sorted(self.rates.items()):
            if roll < rate:
                return Fault(kind, pause if kind == "delay" else 0.0)
            roll -= rate
        return PASS
