"""Reading one response body: bounded decoding of Content-Encoding, and a minimum pace.

We ask for ``Accept-Encoding: identity``. A server that encodes anyway with gzip or deflate
(also layered: ``gzip, gzip``) is decoded here, in pieces of at most ``PIECE`` bytes, so that
the caller's size cap stops a decompression bomb after that many bytes (httpx's own decoders
would inflate each network chunk whole). Any other encoding is refused.
"""

from __future__ import annotations

import time
import zlib
from collections import deque
from collections.abc import Iterable, Iterator

from paperbundle.fetch.http import Fail, Retry

PIECE = 256 * 1024  # most bytes one decoding step may produce
MAX_LAYERS = 4
DECODABLE = {"gzip": 47, "x-gzip": 47, "deflate": 47}  # zlib wbits: a gzip or zlib header


def decoded(raw: Iterable[bytes], content_encoding: str | None) -> Iterator[bytes]:
    """The body of ``raw`` (the bytes on the wire) with its Content-Encoding undone, piecewise."""
    names = [e.strip().lower() for e in (content_encoding or "").split(",")]
    names = [e for e in names if e and e != "identity"]
    shown = (content_encoding or "").strip()[:60]
    unknown = [e for e in names if e not in DECODABLE]
    if unknown or len(names) > MAX_LAYERS:
        raise Fail(
            "encoding",
            f"the server sent Content-Encoding {shown!r}, which is not decoded here "
            "(we asked for identity)",
        )
    if not names:
        yield from raw
        return
    layers = [zlib.decompressobj(DECODABLE[e]) for e in reversed(names)]
    try:
        for chunk in raw:
            yield from _through(layers, 0, chunk)
    except zlib.error as exc:
        raise Fail("encoding", f"the {shown}-encoded body is damaged ({exc})") from None


def _through(layers: list[zlib._Decompress], i: int, data: bytes) -> Iterator[bytes]:
    if i == len(layers):
        if data:
            yield data
        return
    d = layers[i]
    while data and not d.eof:
        out = d.decompress(data, PIECE)
        rest = d.unconsumed_tail
        yield from _through(layers, i + 1, out)
        if not out and len(rest) >= len(data):
            return  # nothing consumed, nothing made: wait for more input
        data = rest


class Pace:
    """Abandon a body that stays below ``rate`` bytes/s over ``window`` seconds ("stall"), or
    that is still slow once the paper's budget has run out."""

    def __init__(self, rate: float, window: float, budget_end: float) -> None:
        self.rate = rate
        self.window = window
        self.budget_end = budget_end
        self.start = time.monotonic()
        self.total = 0
        self.samples: deque[tuple[float, int]] = deque([(self.start, 0)])

    def advance(self, n: int) -> None:
        now = time.monotonic()
        self.total += n
        self.samples.append((now, self.total))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.popleft()
        t0, b0 = self.samples[0]
        slow_window = now - t0 >= self.window and (self.total - b0) < self.rate * (now - t0)
        late = now >= self.budget_end and self.total < self.rate * (now - self.start)
        if slow_window or late:
            span = now - t0 if slow_window else now - self.start
            got = self.total - b0 if slow_window else self.total
            raise Retry(
                "stall",
                f"{got} bytes in {span:.0f} s, below the minimum of {self.rate / 1000:g} kB/s",
                connection=True,
            )
