"""A small threaded HTTP server on 127.0.0.1 that misbehaves on purpose, and a PDF maker.

Each served path is a :class:`Resource` with a script of :class:`Step` s, one consumed per request
(then ``default`` forever). Steps: ``ok()``, ``reset(at)`` (TCP RST mid-body), ``short(at)``
(Content-Length promised, body cut, clean close), ``status(503, retry_after=...)``, ``html()``
(200 text/html), ``slow(at, delay)`` (stall past the client's read timeout), ``stall(at)`` (send
``at`` bytes, set ``server.stalled``, wait for ``server.release``), ``ignore_range()``,
``no_length(at)`` (close-delimited body, cut), ``redirect(location)``, ``empty()``.

Ranges (``bytes=N-``/``N-M``) and ``If-Range`` (strong ETag or Last-Modified) are honoured by
``ok``. Every request is recorded with its arrival time (monotonic and wall clock), headers, the
status sent and the body bytes sent.

pytest-httpserver cannot reset a connection mid-body; this can.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import io
import random
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

# --------------------------------------------------------------------------- PDFs


def make_pdf(
    title: str = "Test paper",
    pages: int = 2,
    *,
    filler: int = 0,
    user_password: str | None = None,
    owner_password: str = "owner",
) -> bytes:
    """A small valid PDF (deterministic for the same arguments), with an outline.

    ``filler`` adds about that many bytes of (uncompressed, seeded) text so a file can be made
    big enough to cut mid-body. ``user_password`` encrypts it ("" = empty user password).
    """
    from reportlab.lib import pdfencrypt

    buf = io.BytesIO()
    encrypt: Any = None
    if user_password is not None:
        encrypt = pdfencrypt.StandardEncryption(
            user_password, ownerPassword=owner_password, strength=128
        )
    c = canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=0, encrypt=encrypt)
    c.setTitle(title)
    rng = random.Random(title)
    per_page = filler // max(pages, 1)
    for n in range(1, pages + 1):
        c.bookmarkPage(f"p{n}")
        c.addOutlineEntry(f"Page {n}", f"p{n}", level=0)
        c.setFont("Helvetica", 14)
        c.drawString(72, 800, f"{title} - page {n}")
        c.setFont("Helvetica", 4)
        written = 0
        y = 780.0
        while written < per_page:
            line = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(120))
            c.drawString(20, y, line)
            written += len(line) + 40
            y = 780.0 if y < 20 else y - 5
        c.showPage()
    c.save()
    return buf.getvalue()


# --------------------------------------------------------------------------- behaviour


@dataclass
class Step:
    kind: str = "ok"
    at: float = 0.5  # where to cut: a fraction of the body (< 1) or a byte count (>= 1)
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    location: str = ""
    then: Callable[[Resource], None] | None = None  # run after the response (e.g. change file)


def ok(**kw: Any) -> Step:
    return Step("ok", **kw)


def reset(at: float = 0.5, **kw: Any) -> Step:
    return Step("reset", at=at, **kw)


def short(at: float = 0.5, **kw: Any) -> Step:
    return Step("short", at=at, **kw)


def status(code: int, retry_after: str | float | None = None, **kw: Any) -> Step:
    ra = None if retry_after is None else str(retry_after)
    return Step("status", status=code, retry_after=ra, **kw)


def retry_after_date(seconds: float) -> str:
    """An HTTP-date ``seconds`` from now (rounded up to a whole second, as HTTP dates are)."""
    when = int(time.time() + seconds) + 1
    return email.utils.formatdate(when, usegmt=True)


def html(**kw: Any) -> Step:
    return Step("html", **kw)


def slow(at: float = 0.5, delay: float = 2.0, **kw: Any) -> Step:
    return Step("slow", at=at, delay=delay, **kw)


def stall(at: float = 0.5, **kw: Any) -> Step:
    return Step("stall", at=at, **kw)


def ignore_range(**kw: Any) -> Step:
    return Step("ignore-range", **kw)


def no_length(at: float = 0.5, **kw: Any) -> Step:
    return Step("no-length", at=at, **kw)


def redirect(location: str, code: int = 302, **kw: Any) -> Step:
    return Step("redirect", status=code, location=location, **kw)


def empty(**kw: Any) -> Step:
    return Step("empty", **kw)


HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head>"
    b"<body><p>Checking your browser before accessing arxiv.org.</p></body></html>\n"
)


@dataclass
class Resource:
    content: bytes
    steps: deque[Step] = field(default_factory=deque)
    default: Step = field(default_factory=Step)
    content_type: str = "application/pdf"
    etag: bool = True
    last_modified: bool = True
    head_allowed: bool = True
    version: int = 0

    def next_step(self) -> Step:
        return self.steps.popleft() if self.steps else self.default

    def replace(self, content: bytes) -> None:
        """The file changed on the server: new bytes, new validators."""
        self.content = content
        self.version += 1

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha256(self.content).hexdigest()[:16] + '"'

    @property
    def last_modified_value(self) -> str:
        return email.utils.formatdate(1_600_000_000 + self.version * 3600, usegmt=True)


@dataclass
class Record:
    time: float  # time.monotonic() at arrival
    wall: float  # time.time() at arrival
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    status: int = 0
    sent: int = 0  # body bytes sent
    kind: str = ""
    done: float = 0.0  # time.monotonic() when the handler finished


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    # -- helpers

    def _serve(self, head: bool) -> None:
        owner = self.server.owner
        rec = Record(
            time.monotonic(),
            time.time(),
            self.command,
            self.path.split("?", 1)[0],
            {k.lower(): v for k, v in self.headers.items()},
        )
        with owner.lock:
            owner.records.append(rec)
            res = owner.resources.get(rec.path)
            owner.active += 1
            owner.max_active = max(owner.max_active, owner.active)
        self.close_connection = True
        try:
            self._dispatch(rec, res, head)
        finally:
            rec.done = time.monotonic()
            with owner.lock:
                owner.active -= 1

    def _dispatch(self, rec: Record, res: Resource | None, head: bool) -> None:
        if res is None:
            self._simple(rec, 404, b"not found\n", "text/plain", head)
            return
        if head and not res.head_allowed:
            self._simple(rec, 405, b"", "text/plain", head)
            return
        step = res.next_step()
        rec.kind = step.kind
        with contextlib.suppress(OSError):  # the client went away, or we reset on purpose
            self._run(rec, res, step, head)
        if step.then is not None:
            step.then(res)

    def _simple(
        self,
        rec: Record,
        code: int,
        body: bytes,
        ctype: str,
        head: bool,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        rec.status = code
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)
            rec.sent = len(body)

    def _run(self, rec: Record, res: Resource, step: Step, head: bool) -> None:
        kind = step.kind
        if kind == "status":
            extra = [("Retry-After", step.retry_after)] if step.retry_after else []
            body = f"error {step.status}\n".encode()
            self._simple(rec, step.status, body, "text/plain", head, extra)
            return
        if kind == "html":
            self._simple(rec, 200, HTML_PAGE, "text/html; charset=utf-8", head)
            return
        if kind == "redirect":
            self._simple(rec, step.status, b"", "text/plain", head, [("Location", step.location)])
            return
        if kind == "empty":
            self._simple(rec, 200, b"", res.content_type, head)
            return

        data = res.content
        start, end = 0, len(data)
        code = 200
        rng = rec.headers.get("range")
        if rng and kind != "ignore-range" and self._if_range_ok(res, rec.headers.get("if-range")):
            parsed = _parse_range(rng, len(data))
            if parsed is None:
                self._simple(
                    rec, 416, b"", "text/plain", head, [("Content-Range", f"bytes */{len(data)}")]
                )
                return
            start, end = parsed
            code = 206
        body = data[start:end]
        rec.status = code
        self.send_response(code)
        self.send_header("Content-Type", res.content_type)
        if kind != "no-length":
            self.send_header("Content-Length", str(len(body)))
        if code == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.send_header("Accept-Ranges", "bytes")
        if res.etag:
            self.send_header("ETag", res.etag_value)
        if res.last_modified:
            self.send_header("Last-Modified", res.last_modified_value)
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        cut = len(body) if kind in ("ok", "ignore-range") else _cut(step.at, len(body))
        self._send(rec, body[:cut])
        if kind in ("ok", "ignore-range"):
            return
        owner = self.server.owner
        if kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif kind in ("short", "no-length"):
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "slow":
            owner.release.wait(step.delay)
            self._send(rec, body[cut:])
        elif kind == "stall":
            owner.stalled.set()
            owner.release.wait(60)
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, rec: Record, data: bytes) -> None:
        for i in range(0, len(data), 32 * 1024):
            part = data[i : i + 32 * 1024]
            self.wfile.write(part)
            rec.sent += len(part)
        self.wfile.flush()

    @staticmethod
    def _if_range_ok(res: Resource, if_range: str | None) -> bool:
        if if_range is None:
            return True
        if res.etag and if_range == res.etag_value:
            return True
        return bool(res.last_modified and if_range == res.last_modified_value)


def _cut(at: float, n: int) -> int:
    return max(0, min(n, int(n * at) if at < 1 else int(at)))


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    if not value.startswith("bytes=") or "," in value:
        return None
    first, _, last = value[len("bytes=") :].partition("-")
    try:
        start = int(first)
        end = int(last) + 1 if last.strip() else size
    except ValueError:
        return None
    if start >= size:
        return None
    return start, min(end, size)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: MisbehavingServer


class MisbehavingServer:
    """``with MisbehavingServer() as srv: srv.add("/a.pdf", data, reset(), ok())``"""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.records: list[Record] = []
        self.lock = threading.Lock()
        self.active = 0  # requests being handled right now
        self.max_active = 0  # the most handled at once
        self.stalled = threading.Event()
        self.release = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, content: bytes, *steps: Step, **kw: Any) -> Resource:
        res = Resource(content, deque(steps), **kw)
        with self.lock:
            self.resources[path] = res
        return res

    def requests(self, path: str | None = None, method: str | None = None) -> list[Record]:
        with self.lock:
            return [
                r
                for r in self.records
                if (path is None or r.path == path) and (method is None or r.method == method)
            ]

    def full_downloads(self, path: str) -> int:
        """Responses that sent the whole file from byte 0."""
        size = len(self.resources[path].content)
        return sum(1 for r in self.requests(path, "GET") if r.status == 200 and r.sent == size)

    def bytes_sent(self) -> int:
        with self.lock:
            return sum(r.sent for r in self.records)

    def close(self) -> None:
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> MisbehavingServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
