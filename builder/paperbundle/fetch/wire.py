"""The sockets under httpx: connect to the address that was checked, and cut connections.

:class:`Wire` is an httpcore network backend. ``connect_tcp`` connects to the address the
address check resolved for that host (``pin``), never asking the resolver a second time, so a
name that resolves to a public address when checked and to 127.0.0.1 a moment later (DNS
rebinding) still reaches the checked address. httpcore keeps the host name for the Host header
and for TLS (SNI and the certificate check), since only the TCP connect sees the address.

Every socket opened while a thread has a :class:`Flight` (one request) belongs to it: a watchdog
thread cuts (``shutdown``) the sockets of a flight whose deadline has passed, so no server can
hold a request past its deadline by sending a byte now and then, and ``cut_all`` lets Ctrl-C
end every blocked read at once. Connections are not kept alive (see Session), so the sockets of
a flight are exactly the ones its request used.

A proxy from the environment has its own httpx transport, not this backend: then the proxy
resolves and connects (README, "Proxies").
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import typing

from httpcore import NetworkStream, SyncBackend
from httpcore._backends.sync import SyncStream

WATCH_INTERVAL = 0.2  # seconds between two looks of the watchdog


class Flight:
    """One request in progress: its deadline (monotonic) and the sockets it opened."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.socks: list[socket.socket] = []
        self.expired = False  # the watchdog cut it

    def cut(self) -> None:
        for s in list(self.socks):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class _Stream(SyncStream):
    """A SyncStream whose TLS socket, once wrapped, belongs to the same flight."""

    def __init__(self, sock: socket.socket, wire: Wire) -> None:
        super().__init__(sock)
        self._wire = wire

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> NetworkStream:
        stream = super().start_tls(ssl_context, server_hostname, timeout)
        sock = stream.get_extra_info("socket")
        if isinstance(sock, socket.socket):
            self._wire.track(sock)
        return stream


class Wire(SyncBackend):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, int], str] = {}
        self._flights: dict[int, Flight] = {}  # by thread ident
        self._closed = threading.Event()
        self._watchdog: threading.Thread | None = None

    # -- addresses

    def pin(self, host: str, port: int, address: str) -> None:
        """Connections to ``host:port`` go to ``address`` (the one the address check saw)."""
        with self._lock:
            self._pins[(_ascii_host(host), port)] = address

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> NetworkStream:
        with self._lock:
            address = self._pins.get((host.lower(), port), host)
        stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
        sock = stream.get_extra_info("socket")
        assert isinstance(sock, socket.socket)
        self.track(sock)
        return _Stream(sock, self)

    # -- flights

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            flight = self._flights.get(threading.get_ident())
            if flight is not None:
                flight.socks.append(sock)
                if flight.expired:
                    flight.cut()

    @contextlib.contextmanager
    def flight(self, deadline: float) -> typing.Iterator[Flight]:
        f = Flight(deadline)
        me = threading.get_ident()
        with self._lock:
            self._flights[me] = f
            self._start_watchdog()
        try:
            yield f
        finally:
            with self._lock:
                self._flights.pop(me, None)

    def cut_all(self) -> None:
        with self._lock:
            for f in self._flights.values():
                f.expired = True
                f.cut()

    def close(self) -> None:
        self._closed.set()

    def _start_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name="paperbundle-watchdog", daemon=True
            )
            self._watchdog.start()

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_INTERVAL):
            now = time.monotonic()
            with self._lock:
                for f in self._flights.values():
                    if not f.expired and now >= f.deadline:
                        f.expired = True
                        f.cut()


def _ascii_host(host: str) -> str:
    """The host as httpcore hands it to ``connect_tcp``: lower-case, IDNA-encoded."""
    h = host.lower()
    try:
        h.encode("ascii")
    except UnicodeEncodeError:
        with contextlib.suppress(UnicodeError):
            h = h.encode("idna").decode("ascii")
    return h
