"""What every request of one run shares: the client, per-host gates, retries, the stop flag."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import tenacity

from paperbundle import USER_AGENT
from paperbundle.fetch.http import Retry, Stopped
from paperbundle.fetch.options import NetOptions
from paperbundle.progress import Reporter

MAX_HOST_THREADS = 8

_T = TypeVar("_T")


# --------------------------------------------------------------------------- internals


class Gate:
    """A host:port: one request at a time, ``interval`` seconds from one's end to the next start."""

    def __init__(self, interval: float, net: Session) -> None:
        self.interval = interval
        self.net = net
        self.lock = threading.Lock()
        self.free_at = 0.0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self.lock:
            delay = self.free_at - time.monotonic()
            if delay > 0:
                self.net.sleep(delay)
            try:
                yield
            finally:
                self.free_at = time.monotonic() + self.interval


class Session:
    """What every request of one run shares: client, per-host gates, counters, stop flag."""

    def __init__(self, options: NetOptions, reporter: Reporter) -> None:
        self.options = options
        self.reporter = reporter
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            trust_env=True,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/pdf, */*;q=0.5",
                "Accept-Encoding": "identity",
            },
        )
        self._gates: dict[str, Gate] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_received = 0
        self.stop = threading.Event()

    def close(self) -> None:
        self.client.close()

    def gate(self, hostport: str) -> Gate:
        with self._lock:
            g = self._gates.get(hostport)
            if g is None:
                g = self._gates[hostport] = Gate(self.options.min_interval, self)
            return g

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def count_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_received += n

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise Stopped

    def retrying(self, key: str, url: str) -> tenacity.Retrying:
        o = self.options

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, Retry) and exc.retry_after is not None:
                return float(min(max(exc.retry_after, 0.0), o.retry_max_wait))
            backoff = min(o.retry_max_wait, o.retry_base * 2 ** (state.attempt_number - 1))
            return float(backoff * random.uniform(0.5, 1.0))  # jitter

        def log(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            pause = state.next_action.sleep if state.next_action else 0.0
            what = f"{exc.reason}: {exc.detail}" if isinstance(exc, Retry) else repr(exc)
            self.reporter.log(
                f"{key}: attempt {state.attempt_number} failed ({what}); "
                f"retrying in {pause:.2f}s ({url})"
            )

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, o.retry_attempts))
            | tenacity.stop_before_delay(o.retry_total),
            wait=wait,
            # A server that asks for a longer pause than we are willing to wait is not retried
            # early (that would be rude): the paper fails, saying how long it asked for.
            retry=tenacity.retry_if_exception(
                lambda e: (
                    isinstance(e, Retry)
                    and (e.retry_after is None or e.retry_after <= o.retry_max_wait)
                )
            ),
            before_sleep=log,
            sleep=self.sleep,
            reraise=True,
        )

    def run_parallel(self, work: Callable[[list[_T]], None], groups: list[list[_T]]) -> None:
        if not groups:
            return
        workers = min(MAX_HOST_THREADS, len(groups))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paperbundle-net") as ex:
            futures = [ex.submit(work, g) for g in groups]
            try:
                for f in futures:
                    f.result()
            except BaseException:
                self.stop.set()
                raise
