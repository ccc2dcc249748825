"""What every request of one run shares: the client, per-host gates, retries, the stop flag."""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import tenacity

from paperbundle import USER_AGENT
from paperbundle.fetch.addresses import check_address, split_target
from paperbundle.fetch.http import Fail, Retry, Stopped, transport_error
from paperbundle.fetch.options import NetOptions
from paperbundle.fetch.wire import Wire
from paperbundle.progress import Reporter

MAX_THREADS = 16
LANES_PER_HOST = 4  # papers of one host in progress at once (their requests still take turns)

_T = TypeVar("_T")


# --------------------------------------------------------------------------- internals


class Budget:
    """``--retry-budget`` of one paper: its clock starts with the paper's first request."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    @property
    def end(self) -> float:
        return math.inf if self.started is None else self.started + self.seconds

    def spent(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started


class _OutOfBudget(tenacity.stop.stop_base):
    """Stop when the next wait would end past the paper's budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return time.monotonic() + (retry_state.upcoming_sleep or 0.0) >= self.budget.end


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
        self.wire = Wire()
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            limits=httpx.Limits(max_keepalive_connections=0),  # one flight, its own sockets
            follow_redirects=False,
            trust_env=True,  # an environment proxy gets its own transport: it connects
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/pdf, */*;q=0.5",
                "Accept-Encoding": "identity",
            },
        )
        # Direct connections go to the checked address (see fetch.wire).
        pool = getattr(getattr(self.client, "_transport", None), "_pool", None)
        if not hasattr(pool, "_network_backend"):
            raise RuntimeError(
                "httpx/httpcore changed: cannot pin connections to checked addresses"
            )
        pool._network_backend = self.wire  # type: ignore[union-attr]
        self._gates: dict[str, Gate] = {}
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, str]] = {}  # host:port -> (in a row, last reason)
        self.requests = 0
        self.bytes_received = 0
        self.stop = threading.Event()

    def close(self) -> None:
        self.wire.close()
        self.client.close()

    def abort(self) -> None:
        """Ctrl-C: every wait ends and every blocked read is cut, now."""
        self.stop.set()
        self.wire.cut_all()

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

    # -- one request

    @contextlib.contextmanager
    def open(
        self,
        key: str,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        trusted: str | None,
        budget: Budget,
        note: str = "",
    ) -> Iterator[httpx.Response]:
        """One request: address check and pinning, the host's gate, deadlines, error mapping,
        and the host's failure count. Raises Retry / Fail / Stopped."""
        host, port = split_target(url)
        hostport = f"{host}:{port}"
        self._refuse_if_given_up(hostport)
        outcome: bool | None = None  # True: answered, False: connection-level failure
        try:
            if hostport != trusted:
                address = check_address(url, host, port)
                if address is not None:
                    self.wire.pin(host, port, address)
            with self.gate(hostport).slot():
                if self.stop.is_set():
                    raise Stopped
                self._refuse_if_given_up(hostport)
                budget.start()
                self.count_request()
                self.reporter.log(f"{key}: {method} {url}{note}")
                with self._request(method, url, headers, budget) as resp:
                    yield resp
            outcome = True
        except (Retry, Fail) as exc:
            if exc.reason == "unreachable":  # given up while waiting: not an answer
                raise
            outcome = not exc.connection
            if exc.connection:
                self._count_failure(hostport, f"{exc.reason}: {exc.detail}")
            raise
        finally:
            if outcome:
                with self._lock:
                    self._failures.pop(hostport, None)

    @contextlib.contextmanager
    def _request(
        self, method: str, url: str, headers: dict[str, str], budget: Budget
    ) -> Iterator[httpx.Response]:
        o = self.options
        now = time.monotonic()
        # Until the answer starts, the paper's budget bounds the wait; a body that keeps
        # coming at the minimum pace may then run until --download-timeout.
        left = max(1.0, budget.end - now)
        timeout = httpx.Timeout(min(o.timeout, left))
        with self.wire.flight(now + min(o.download_timeout, left)) as flight:
            try:
                with self.client.stream(method, url, headers=headers, timeout=timeout) as resp:
                    flight.deadline = now + o.download_timeout
                    yield resp
            except httpx.HTTPError as exc:
                if self.stop.is_set():
                    raise Stopped from None
                if flight.expired:
                    spent = time.monotonic() - now
                    raise Retry(
                        "timeout",
                        f"no complete answer after {spent:.0f} s (--download-timeout "
                        f"{o.download_timeout:g} s, --retry-budget {o.retry_total:g} s)",
                        connection=True,
                    ) from None
                raise transport_error(exc) from None

    def _count_failure(self, hostport: str, reason: str) -> None:
        with self._lock:
            n = self._failures.get(hostport, (0, ""))[0] + 1
            self._failures[hostport] = (n, reason)

    def _refuse_if_given_up(self, hostport: str) -> None:
        with self._lock:
            n, last = self._failures.get(hostport, (0, ""))
        if n >= self.options.host_failures:
            raise Fail(
                "unreachable",
                f"host unreachable: {hostport} failed {n} times in a row before answering "
                f"(last: {last}); not tried again in this run",
            )

    # -- retries and threads

    def retrying(self, key: str, url: str, budget: Budget) -> tenacity.Retrying:
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
            stop=tenacity.stop_after_attempt(max(1, o.retry_attempts)) | _OutOfBudget(budget),
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
        workers = min(MAX_THREADS, len(groups))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paperbundle-net") as ex:
            futures = [ex.submit(work, g) for g in groups]
            try:
                for f in futures:
                    f.result()
            except BaseException:
                self.abort()
                raise


def lanes(by_host: dict[str, list[_T]], url_of: Callable[[_T], str]) -> list[list[_T]]:
    """Each host's items split into up to LANES_PER_HOST lanes (one worker each), so that one
    paper's retries and waits do not hold up the next on the same host; items with the same
    URL share a lane. Local files (host "") keep one lane."""
    out: list[list[_T]] = []
    for host, items in by_host.items():
        width = 1 if not host else LANES_PER_HOST
        urls = list(dict.fromkeys(url_of(i) for i in items))
        lane_of = {u: n % width for n, u in enumerate(urls)}
        split: list[list[_T]] = [[] for _ in range(min(width, len(urls)))]
        for i in items:
            split[lane_of[url_of(i)]].append(i)
        out += split
    return out
