"""Raw TCP servers on 127.0.0.1 that misbehave below HTTP (stall, trickle, odd headers, bombs).

:class:`RawServer` runs ``handler(conn, head)`` in a thread for each connection, after reading
the request head; it records each head (``hits``). Handlers here: :func:`stall` (never answers),
:func:`trickle` (a byte every ``every`` seconds), :func:`answer` (a status, headers and body as
given, byte for byte). :func:`rebinding` runs a paperbundle command behind a resolver that
answers a public address first and loopback after. Used by tests/test_hostile_net.py and
bench/bench_hostile.py.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import textwrap
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

Handler = Callable[[socket.socket, bytes, "RawServer"], None]


class RawServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[bytes] = []
        self.closed = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed.set()
        with contextlib.suppress(OSError):
            self.sock.close()
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.close()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        head = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            self.hits.append(head)
            self.handler(conn, head, self)
        with contextlib.suppress(OSError):
            conn.close()


def stall(conn: socket.socket, head: bytes, srv: RawServer) -> None:
    """Accept the request, never answer."""
    srv.closed.wait()


def trickle(every: float = 0.5) -> Handler:
    """Promise 1 MB of PDF, then send one byte every ``every`` seconds."""

    def handler(conn: socket.socket, head: bytes, srv: RawServer) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\nContent-Length: 1000000\r\n\r\n"
        )
        body = b"%PDF-1.4\n" + b"%" * 999_991
        for i in range(len(body)):
            if srv.closed.wait(every):
                return
            conn.sendall(body[i : i + 1])

    return handler


def answer(status: str, headers: list[tuple[str, bytes | str]], body: bytes = b"") -> Handler:
    """Send exactly this status line, these headers (bytes kept as they are) and body."""

    def handler(conn: socket.socket, head: bytes, srv: RawServer) -> None:
        lines = [f"HTTP/1.1 {status}".encode()]
        for name, value in headers:
            v = value.encode("latin-1") if isinstance(value, str) else value
            lines.append(name.encode() + b": " + v)
        lines.append(f"Content-Length: {len(body)}".encode())
        lines.append(b"Connection: close")
        conn.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)

    return handler


def double_gzip_bomb(inflated: int) -> bytes:
    """``gzip(gzip(b"%PDF-1.4\\n" + zeros))``, ``inflated`` bytes once both layers are undone."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [inner.compress(b"%PDF-1.4\n")]
    block = b"\0" * (1 << 24)
    left = inflated - 9
    while left > 0:
        parts.append(inner.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(inner.flush())
    outer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return outer.compress(b"".join(parts)) + outer.flush()


def wait_for(pred: Callable[[], Any], timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


_REBIND = textwrap.dedent(
    """
    import socket, sys
    from paperbundle.cli import main
    good_port = int(sys.argv[1])
    real_gai, real_connect = socket.getaddrinfo, socket.create_connection
    asked = []

    def gai(host, port, *a, **kw):
        # the name is public when checked, loopback when asked again (a rebinding resolver)
        if host == "rebind.example.org":
            asked.append(host)
            ip = "93.184.215.14" if len(asked) == 1 else "127.0.0.1"
            return real_gai(ip, port, *a, **kw)
        return real_gai(host, port, *a, **kw)

    def connect(address, *a, **kw):
        # nothing leaves this machine: the public address is played by a second local server
        if address[0] == "93.184.215.14":
            address = ("127.0.0.1", good_port)
        return real_connect(address, *a, **kw)

    socket.getaddrinfo, socket.create_connection = gai, connect
    code = main(sys.argv[2:])
    print("LOOKUPS", len(asked), file=sys.stderr)
    sys.exit(code)
    """
)


def rebinding(tmp: Path, good_port: int, args: list[str]) -> list[str]:
    """argv of ``paperbundle ARGS`` run behind a rebinding resolver: ``rebind.example.org`` is
    93.184.215.14 (played by the local server on ``good_port``) when first asked, 127.0.0.1 when
    asked again. The command prints ``LOOKUPS n`` (how often the name was asked) on stderr."""
    script = tmp / "rebind.py"
    script.write_text(_REBIND)
    return [sys.executable, str(script), str(good_port), *args]
