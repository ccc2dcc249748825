"""The fetch stage against real local servers that misbehave on purpose (tests/servers.py).

Retry waits are tiny (NetOptions); timing assertions are lower bounds only (spacing, Retry-After).
"""

from __future__ import annotations

import email.utils
import hashlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import paperbundle
from paperbundle.errors import FetchError, OfflineMissing, PdfError, UsageError
from paperbundle.fetch import (
    FetchResult,
    NetOptions,
    default_cache_dir,
    fetch_all,
    parse_mirror,
    parse_retry_after,
    probe_links,
)
from paperbundle.fetch.cache import cache_info
from paperbundle.fetch.lock import Lock, LockEntry
from paperbundle.manifest import Manifest, load_manifest
from tests.servers import (
    MisbehavingServer,
    empty,
    html,
    ignore_range,
    make_pdf,
    no_length,
    ok,
    redirect,
    reset,
    retry_after_date,
    short,
    slow,
    stall,
    status,
)

HOST = "https://papers.example.org/"
REPO = Path(__file__).resolve().parent.parent


class Recorder:
    """A Reporter that keeps everything (thread-safe enough for appends)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.warnings: list[str] = []
        self.started: dict[str, int | None] = {}
        self.advanced: dict[str, int] = {}
        self.finished: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def download_started(self, key: str, total: int | None) -> None:
        self.started[key] = total

    def download_advanced(self, key: str, nbytes: int) -> None:
        self.advanced[key] = self.advanced.get(key, 0) + nbytes

    def download_finished(self, key: str) -> None:
        self.finished.append(key)

    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def stage_advanced(self, n: int = 1) -> None:
        pass


def write_manifest(tmp_path: Path, papers: list[dict[str, str]], name: str = "m.toml") -> Manifest:
    lines = ["[bundle]", 'name = "t"', 'version = "v1"']
    for p in papers:
        lines.append("[[papers]]")
        for k, v in {"title": p["key"].upper(), **p}.items():
            lines.append(f"{k} = {json.dumps(v)}")
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return load_manifest(path)


def paper(key: str, **kw: str) -> dict[str, str]:
    return {"key": key, "url": f"{HOST}{key}.pdf", **kw}


def options(tmp_path: Path, srv: MisbehavingServer | None = None, **kw: Any) -> NetOptions:
    base: dict[str, Any] = {
        "cache_dir": tmp_path / "cache",
        "mirrors": (parse_mirror(f"{HOST}={srv.url}/"),) if srv else (),
        "min_interval": 0.0,
        "retry_base": 0.01,
        "retry_max_wait": 0.5,
        "timeout": 5.0,
    }
    base.update(kw)
    return NetOptions(**base)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def only_failure(result: FetchResult) -> FetchError | PdfError:
    assert len(result.failures) == 1, result.failures
    f = result.failures[0]
    assert isinstance(f, FetchError | PdfError)
    return f


def no_cache_entries(cache_dir: Path) -> bool:
    info = cache_info(cache_dir)
    return not info.entries and info.object_bytes == 0


A = make_pdf("Alpha", 3, filler=120_000)
B = make_pdf("Beta", 2, filler=60_000)
C = make_pdf("Gamma", 1)


# --------------------------------------------------------------------------- basics


def test_download_then_cached_sends_nothing(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/b.pdf", B)
    m = write_manifest(tmp_path, [paper("a"), paper("b")])
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver), rep)
    assert not r.failures
    assert [p.key for p in r.papers.values()] == ["a", "b"]
    a = r.papers["a"]
    assert a.sha256 == sha(A) and a.size == len(A) and a.page_count == 3 and not a.from_cache
    assert a.source == f"{HOST}a.pdf"
    assert a.path.read_bytes() == A
    assert a.path.is_relative_to(tmp_path / "cache")
    assert r.requests == 2 and r.bytes_received == len(A) + len(B)
    assert {h.headers["user-agent"] for h in mserver.records} == {paperbundle.USER_AGENT}
    assert (
        "paperbundle/" in paperbundle.USER_AGENT and paperbundle.HOMEPAGE in paperbundle.USER_AGENT
    )
    # progress: each download started with its size, advanced to it, finished
    assert rep.started == {"a": len(A), "b": len(B)}
    assert rep.advanced == {"a": len(A), "b": len(B)}
    assert sorted(rep.finished) == ["a", "b"]

    n = len(mserver.records)
    again = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert len(mserver.records) == n and again.requests == 0  # no HEAD, no conditional GET
    assert all(p.from_cache for p in again.papers.values())
    assert again.papers["a"].sha256 == sha(A)

    refreshed = fetch_all(m, options(tmp_path, mserver, refresh=True), Recorder())
    assert refreshed.requests == 2 and not any(p.from_cache for p in refreshed.papers.values())


def test_same_url_twice_is_fetched_once(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    m = write_manifest(
        tmp_path,
        [
            {"key": "a1", "url": f"{HOST}a.pdf", "pages": "1"},
            {"key": "a2", "url": f"{HOST}a.pdf", "pages": "2-3"},
        ],
    )
    r = fetch_all(m, options(tmp_path, mserver, refresh=True), Recorder())
    assert not r.failures and r.requests == 1
    assert r.papers["a1"].sha256 == r.papers["a2"].sha256 == sha(A)


def test_one_failure_does_not_stop_the_others(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/c.pdf", C)
    m = write_manifest(tmp_path, [paper("a"), paper("missing"), paper("c"), paper("gone")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert sorted(r.papers) == ["a", "c"]
    assert [(f.key, f.reason) for f in r.failures] == [
        ("missing", "http-404"),
        ("gone", "http-404"),
    ]
    text = str(r.failures[0])
    assert "missing" in text and f"{HOST}missing.pdf" in text and "http-404" in text


# --------------------------------------------------------------------------- resume


@pytest.mark.parametrize("first", [reset, short], ids=["reset", "short"])
@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_cut_body_resumes_with_range(
    tmp_path: Path, mserver: MisbehavingServer, first: Callable[..., Any], validator: str
) -> None:
    res = mserver.add("/a.pdf", A, first(0.5), ok(), etag=validator == "etag")
    m = write_manifest(tmp_path, [paper("a")])
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver), rep)
    assert not r.failures and r.papers["a"].sha256 == sha(A)
    gets = mserver.requests("/a.pdf")
    assert len(gets) == 2
    rng = gets[1].headers.get("range", "")
    assert rng.startswith("bytes=") and rng != "bytes=0-"
    start = int(rng[len("bytes=") : -1])
    assert 0 < start <= len(A) // 2
    want = res.etag_value if validator == "etag" else res.last_modified_value
    assert gets[1].headers.get("if-range") == want
    assert gets[1].status == 206
    assert r.bytes_received == len(A)  # nothing fetched twice
    assert any("a: attempt 1 failed" in line for line in rep.lines)  # retry logged: key, reason
    assert rep.advanced["a"] == len(A)


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A, reset(0.5), ignore_range())
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert not r.failures and r.papers["a"].path.read_bytes() == A
    second = mserver.requests("/a.pdf")[1]
    assert "range" in second.headers and second.status == 200


def test_file_changed_between_attempts_restarts(tmp_path: Path, mserver: MisbehavingServer) -> None:
    new = make_pdf("Alpha v2", 4, filler=100_000)
    mserver.add("/a.pdf", A, reset(0.5, then=lambda res: res.replace(new)), ok())
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert not r.failures
    got = r.papers["a"]
    assert got.sha256 == sha(new) and got.page_count == 4 and got.path.read_bytes() == new
    second = mserver.requests("/a.pdf")[1]
    assert "if-range" in second.headers and second.status == 200  # If-Range failed: whole file


def test_slow_body_past_read_timeout_is_retried(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A, slow(0.5, delay=3.0), ok())
    m = write_manifest(tmp_path, [paper("a")])
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver, timeout=0.3), rep)
    assert not r.failures and r.papers["a"].sha256 == sha(A)
    assert mserver.requests("/a.pdf")[1].headers.get("range")
    assert any("timeout" in line.lower() for line in rep.lines)


# --------------------------------------------------------------------------- retries


def test_503_retry_after_seconds_is_honoured(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A, status(503, retry_after=1), ok())
    m = write_manifest(tmp_path, [paper("a")])
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver, retry_max_wait=5.0), rep)
    assert not r.failures
    first, second = mserver.requests("/a.pdf")
    assert second.time - first.time >= 1.0
    assert any(line.startswith("a: attempt 1 failed (http-503") for line in rep.lines)


def test_429_retry_after_http_date_is_honoured(tmp_path: Path, mserver: MisbehavingServer) -> None:
    when = retry_after_date(0.5)
    mserver.add("/a.pdf", A, status(429, retry_after=when), ok())
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver, retry_max_wait=5.0), Recorder())
    assert not r.failures
    _, second = mserver.requests("/a.pdf")
    assert second.wall >= email.utils.parsedate_to_datetime(when).timestamp()


def test_retry_after_longer_than_max_wait_is_not_cut_short(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    """Retrying before the server's Retry-After would be impolite: the paper fails instead,
    saying how long the server asked for; the other papers go on."""
    mserver.add("/a.pdf", A, status(503, retry_after=3600), ok())
    mserver.add("/b.pdf", B)
    m = write_manifest(tmp_path, [paper("a"), paper("b")])
    r = fetch_all(m, options(tmp_path, mserver, retry_max_wait=0.2), Recorder())
    f = only_failure(r)
    assert f.key == "a" and "asks to wait 3600 s" in str(f)
    assert len(mserver.requests("/a.pdf")) == 1
    assert "b" in r.papers


def test_persistent_5xx_gives_up_after_the_attempts(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    res = mserver.add("/a.pdf", A)
    res.default = status(500)
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver, retry_attempts=3), Recorder())
    f = only_failure(r)
    assert f.reason == "http-500" and "3 attempt" in str(f) and f.key == "a"
    assert len(mserver.requests("/a.pdf")) == 3


def test_total_retry_time_is_bounded(tmp_path: Path, mserver: MisbehavingServer) -> None:
    res = mserver.add("/a.pdf", A)
    res.default = status(503, retry_after=1)
    m = write_manifest(tmp_path, [paper("a")])
    o = options(tmp_path, mserver, retry_attempts=50, retry_total=0.5, retry_max_wait=5.0)
    r = fetch_all(m, o, Recorder())
    assert only_failure(r).reason == "http-503"
    assert len(mserver.requests("/a.pdf")) == 1  # the next wait would pass retry_total


@pytest.mark.parametrize("code", [403, 404, 410])
def test_no_retry_on_client_errors(tmp_path: Path, mserver: MisbehavingServer, code: int) -> None:
    mserver.add("/a.pdf", A, status(code))
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    f = only_failure(r)
    assert f.reason == f"http-{code}" and isinstance(f, FetchError)
    assert len(mserver.requests("/a.pdf")) == 1


# --------------------------------------------------------------------------- validation


def _garbage_pdf() -> bytes:
    return b"%PDF-1.7\n" + b"this is not really a pdf\n" * 200 + b"%%EOF\n"


VALIDATION = [
    # (name, content, steps, resource kwargs, option kwargs, reason, error class)
    ("html", C, [html()], {}, {}, "html", FetchError),
    ("empty", C, [empty()], {}, {}, "empty", FetchError),
    (
        "not-pdf",
        b"PK\x03\x04 a zip file" * 50,
        [],
        {"content_type": "application/zip"},
        {},
        "not-pdf",
        FetchError,
    ),
    ("truncated", A, [no_length(0.6)], {}, {}, "truncated", FetchError),
    ("too-large-header", A, [], {}, {"max_download_size": 10_000}, "too-large", FetchError),
    (
        "too-large-stream",
        A,
        [no_length(0.9)],
        {},
        {"max_download_size": 10_000},
        "too-large",
        FetchError,
    ),
    ("unreadable", _garbage_pdf(), [], {}, {}, "unreadable", PdfError),
    ("encrypted", make_pdf("Secret", 1, user_password="secret"), [], {}, {}, "encrypted", PdfError),
]


@pytest.mark.parametrize(
    ("content", "steps", "res_kw", "opt_kw", "reason", "cls"),
    [v[1:] for v in VALIDATION],
    ids=[v[0] for v in VALIDATION],
)
def test_bad_bodies_fail_clearly_and_are_never_cached(
    tmp_path: Path,
    mserver: MisbehavingServer,
    content: bytes,
    steps: list[Any],
    res_kw: dict[str, Any],
    opt_kw: dict[str, Any],
    reason: str,
    cls: type[Exception],
) -> None:
    mserver.add("/a.pdf", content, *steps, **res_kw)
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver, **opt_kw), Recorder())
    f = only_failure(r)
    assert f.reason == reason and type(f) is cls, str(f)
    assert str(f).startswith(f"a ({HOST}a.pdf): {reason}")
    assert no_cache_entries(tmp_path / "cache")
    assert not cache_info(tmp_path / "cache").partials  # nothing invalid kept for resuming


def test_too_large_stream_is_aborted_early(tmp_path: Path, mserver: MisbehavingServer) -> None:
    big = make_pdf("Big", 2, filler=400_000)
    mserver.add("/a.pdf", big, no_length(0.99))
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver, max_download_size=100_000), Recorder())
    assert only_failure(r).reason == "too-large"
    assert r.bytes_received < 200_000


def test_empty_password_pdf_is_accepted(tmp_path: Path, mserver: MisbehavingServer) -> None:
    enc = make_pdf("Open", 2, user_password="")
    mserver.add("/a.pdf", enc)
    m = write_manifest(tmp_path, [paper("a")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert not r.failures and r.papers["a"].page_count == 2


def test_manifest_sha256_is_checked(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/b.pdf", B)
    m = write_manifest(tmp_path, [paper("a", sha256=sha(A)), paper("b", sha256=sha(C))])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert list(r.papers) == ["a"]
    f = only_failure(r)
    assert f.key == "b" and f.reason == "sha256-mismatch" and sha(B) in str(f)
    assert [e.url for e in cache_info(tmp_path / "cache").entries] == [f"{HOST}a.pdf"]


# --------------------------------------------------------------------------- politeness


def test_one_request_at_a_time_min_interval_apart(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    for k in "abc":
        mserver.add(f"/{k}.pdf", C, status(503), ok())
    m = write_manifest(tmp_path, [paper("a"), paper("b"), paper("c")])
    r = fetch_all(m, options(tmp_path, mserver, min_interval=0.25, retry_base=0.0), Recorder())
    assert not r.failures
    times = sorted(rec.time for rec in mserver.records)
    assert len(times) == 6
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.25, gaps
    assert mserver.max_active == 1


def test_different_hosts_proceed_in_parallel(tmp_path: Path) -> None:
    with MisbehavingServer() as one, MisbehavingServer() as two:
        one.add("/a.pdf", A, stall(0.3), ok())
        two.add("/b.pdf", B)
        m = write_manifest(
            tmp_path, [paper("a"), {"key": "b", "url": "https://other.example.org/b.pdf"}]
        )
        o = options(
            tmp_path,
            mirrors=(
                parse_mirror(f"{HOST}={one.url}/"),
                parse_mirror(f"https://other.example.org/={two.url}/"),
            ),
        )
        out: list[FetchResult] = []
        t = threading.Thread(target=lambda: out.append(fetch_all(m, o, Recorder())))
        t.start()
        try:
            assert one.stalled.wait(20)
            # while host one holds its only connection open, host two is served
            deadline = time.monotonic() + 20
            while not two.requests("/b.pdf") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert two.requests("/b.pdf"), "host two waited for host one"
        finally:
            one.release.set()
            t.join(30)
        assert not out[0].failures


# --------------------------------------------------------------------------- safety


def test_private_addresses_are_refused_without_a_mirror(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    mserver.add("/a.pdf", A)
    m = write_manifest(
        tmp_path,
        [
            {"key": "a", "url": f"{mserver.url}/a.pdf"},
            {"key": "b", "url": f"http://localhost:{mserver.port}/a.pdf"},
            {"key": "c", "url": "http://169.254.169.254/latest/meta-data.pdf"},
            {"key": "d", "url": "http://10.11.12.13/x.pdf"},
        ],
    )
    r = fetch_all(m, options(tmp_path), Recorder())
    assert [(f.key, f.reason) for f in r.failures] == [
        ("a", "refused-address"),
        ("b", "refused-address"),
        ("c", "refused-address"),
        ("d", "refused-address"),
    ]
    assert "loopback" in str(r.failures[0]) and "link-local" in str(r.failures[2])
    assert "private" in str(r.failures[3])
    assert mserver.records == [] and r.requests == 0


def test_redirects_are_checked_at_every_hop(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A, redirect("/real/a.pdf"))
    mserver.add("/real/a.pdf", A)
    mserver.add("/b.pdf", A, redirect(f"http://localhost:{mserver.port}/real/a.pdf"))
    mserver.add("/c.pdf", A, redirect("ftp://example.org/c.pdf"))
    loop = mserver.add("/d.pdf", A)
    loop.default = redirect("/d.pdf")
    m = write_manifest(tmp_path, [paper("a"), paper("b"), paper("c"), paper("d")])
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert r.papers["a"].sha256 == sha(A)  # a redirect on the (trusted) mirror host
    assert [(f.key, f.reason) for f in r.failures] == [
        ("b", "refused-address"),  # another host, on loopback
        ("c", "bad-redirect"),
        ("d", "bad-redirect"),
    ]
    assert len(mserver.requests("/d.pdf")) == 11


# --------------------------------------------------------------------------- modes and lock


def test_offline_uses_the_cache_and_names_missing_papers(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    mserver.add("/a.pdf", A)
    fetch_all(write_manifest(tmp_path, [paper("a")]), options(tmp_path, mserver), Recorder())
    n = len(mserver.records)
    m = write_manifest(tmp_path, [paper("a"), paper("b")])
    r = fetch_all(m, options(tmp_path, mserver, offline=True), Recorder())
    assert r.papers["a"].from_cache
    f = only_failure(r)
    assert isinstance(f, OfflineMissing) and f.key == "b" and f.reason == "offline"
    assert f"{HOST}b.pdf" in str(f)
    assert len(mserver.records) == n and r.requests == 0


def test_local_path_papers(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.pdf").write_bytes(A)
    (tmp_path / "docs" / "page.pdf").write_text("<html><body>no</body></html>")
    (tmp_path / "docs" / "none.pdf").write_bytes(A)
    m = write_manifest(
        tmp_path,
        [
            {"key": "a", "path": "docs/a.pdf"},
            {"key": "h", "path": "docs/page.pdf"},
            {"key": "x", "path": "docs/none.pdf"},
        ],
    )
    (tmp_path / "docs" / "none.pdf").unlink()  # gone between validation and fetch
    r = fetch_all(m, options(tmp_path, offline=True), Recorder())
    a = r.papers["a"]
    assert a.path == tmp_path / "docs" / "a.pdf" and a.sha256 == sha(A) and a.page_count == 3
    assert a.source == str(tmp_path / "docs" / "a.pdf")
    assert [(f.key, f.reason) for f in r.failures] == [("h", "html"), ("x", "missing")]


def _lock(**entries: tuple[bytes, int]) -> Lock:
    return Lock(
        {
            k: LockEntry(f"{HOST}{k}.pdf", sha(data), len(data), pages)
            for k, (data, pages) in entries.items()
        }
    )


def test_frozen_requires_an_entry_for_every_key(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/b.pdf", B)
    m = write_manifest(tmp_path, [paper("a"), paper("b")])
    r = fetch_all(m, options(tmp_path, mserver, frozen=True), Recorder(), _lock(a=(A, 3)))
    assert list(r.papers) == ["a"]
    f = only_failure(r)
    assert f.key == "b" and f.reason == "lock" and "no entry" in str(f)
    assert not mserver.requests("/b.pdf")
    r = fetch_all(m, options(tmp_path, mserver, frozen=True), Recorder(), None)
    assert {f.reason for f in r.failures} == {"lock"} and len(r.failures) == 2


def test_frozen_turns_any_difference_into_an_error(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/b.pdf", B)
    m = write_manifest(tmp_path, [paper("a"), paper("b")])
    lock = _lock(a=(A, 3), b=(C, 1))  # b changed upstream
    r = fetch_all(m, options(tmp_path, mserver, frozen=True), Recorder(), lock)
    f = only_failure(r)
    assert f.key == "b" and f.reason == "lock" and sha(B) in str(f)
    assert [e.url for e in cache_info(tmp_path / "cache").entries] == [f"{HOST}a.pdf"]
    # page count differs (a hand-edited lock): also an error when frozen
    r = fetch_all(m, options(tmp_path, mserver, frozen=True), Recorder(), _lock(a=(A, 7), b=(B, 2)))
    assert [(f.key, f.reason) for f in r.failures] == [("a", "lock")]
    # without --frozen a difference is a warning
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver), rep, lock)
    assert not r.failures and r.papers["b"].sha256 == sha(B)
    assert any("b (" in w and "lock" in w for w in rep.warnings)


def test_locked_file_in_cache_is_preferred(tmp_path: Path, mserver: MisbehavingServer) -> None:
    res = mserver.add("/a.pdf", A)
    m = write_manifest(tmp_path, [paper("a")])
    fetch_all(m, options(tmp_path, mserver), Recorder())
    res.replace(B)
    r = fetch_all(m, options(tmp_path, mserver, refresh=True), Recorder())
    assert r.papers["a"].sha256 == sha(B)  # the index now points at the new file
    n = len(mserver.records)
    for frozen in (False, True):
        r = fetch_all(m, options(tmp_path, mserver, frozen=frozen), Recorder(), _lock(a=(A, 3)))
        assert not r.failures and r.papers["a"].sha256 == sha(A) and r.papers["a"].from_cache
    assert len(mserver.records) == n


def test_manifest_sha256_wins_over_the_lock(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    m = write_manifest(tmp_path, [paper("a", sha256=sha(A))])
    rep = Recorder()
    r = fetch_all(m, options(tmp_path, mserver), rep, _lock(a=(B, 2)))
    assert r.papers["a"].sha256 == sha(A)
    assert any("manifest wins" in w for w in rep.warnings)
    r = fetch_all(m, options(tmp_path, mserver, frozen=True), Recorder(), _lock(a=(B, 2)))
    assert only_failure(r).reason == "lock"


# --------------------------------------------------------------------------- cache damage


def test_damaged_cache_object_is_downloaded_again(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    mserver.add("/a.pdf", A)
    m = write_manifest(tmp_path, [paper("a")])
    obj = fetch_all(m, options(tmp_path, mserver), Recorder()).papers["a"].path
    os.chmod(obj, 0o644)
    data = bytearray(obj.read_bytes())
    data[5000] ^= 0xFF
    obj.write_bytes(bytes(data))
    r = fetch_all(m, options(tmp_path, mserver), Recorder())
    assert r.requests == 1 and r.papers["a"].path.read_bytes() == A


CHILD = """
import json, sys
from pathlib import Path
from paperbundle.fetch import NetOptions, fetch_all
from paperbundle.manifest import load_manifest
from paperbundle.progress import NullReporter
a = json.loads(sys.argv[1])
opts = NetOptions(cache_dir=Path(a["cache"]), mirrors=tuple(tuple(m) for m in a["mirrors"]),
                  min_interval=0.0, retry_base=0.01, timeout=20.0)
r = fetch_all(load_manifest(a["manifest"]), opts, NullReporter())
print(json.dumps({"ok": {k: p.sha256 for k, p in r.papers.items()},
                  "failures": [str(f) for f in r.failures], "requests": r.requests}))
"""


def _child(m: Manifest, o: NetOptions) -> subprocess.Popen[str]:
    arg = {"cache": str(o.cache_dir), "mirrors": list(o.mirrors), "manifest": str(m.path)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(arg)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_download_leaves_no_corrupt_entry_and_resumes(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    big = make_pdf("Killed", 3, filler=300_000)
    mserver.add("/a.pdf", big, stall(0.4), ok())
    m = write_manifest(tmp_path, [paper("a")])
    o = options(tmp_path, mserver)
    proc = _child(m, o)
    try:
        assert mserver.stalled.wait(60), proc.stderr.read() if proc.stderr else ""
        part_dir = o.cache_dir / "partial"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # the bytes sent have reached the partial file
            parts = list(part_dir.glob("*.part"))
            if parts and parts[0].stat().st_size > 0:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        mserver.release.set()
    assert proc.returncode == -signal.SIGKILL
    info = cache_info(o.cache_dir)
    assert not info.entries and info.object_bytes == 0  # nothing half-written is indexed
    assert len(info.partials) == 1
    kept = info.partials[0].size
    assert 0 < kept <= int(len(big) * 0.4)

    r = fetch_all(m, o, Recorder())
    assert not r.failures and r.papers["a"].path.read_bytes() == big
    last = mserver.requests("/a.pdf")[-1]
    assert last.headers.get("range") == f"bytes={kept}-" and last.status == 206
    assert r.bytes_received == len(big) - kept
    info = cache_info(o.cache_dir)
    assert [e.sha256 for e in info.entries] == [sha(big)] and not info.partials


def test_two_processes_sharing_a_cache_download_each_file_once(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    files = {k: make_pdf(k, 2, filler=150_000) for k in ("a", "b", "c")}
    for k, data in files.items():
        mserver.add(f"/{k}.pdf", data, slow(0.5, delay=0.3))
    m = write_manifest(tmp_path, [paper(k) for k in files])
    o = options(tmp_path, mserver)
    procs = [_child(m, o), _child(m, o)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    want = {k: sha(d) for k, d in files.items()}
    assert [o_["ok"] for o_ in outs] == [want, want]
    assert sum(o_["requests"] for o_ in outs) == 3
    for k in files:
        assert len(mserver.requests(f"/{k}.pdf")) == 1 and mserver.full_downloads(f"/{k}.pdf") == 1


# --------------------------------------------------------------------------- small parts


def test_parse_mirror() -> None:
    assert parse_mirror("https://arxiv.org/=http://127.0.0.1:8000/") == (
        "https://arxiv.org/",
        "http://127.0.0.1:8000/",
    )
    assert parse_mirror("http://www.arXiv.org=http://127.0.0.1:8000") == (
        "https://arxiv.org/",
        "http://127.0.0.1:8000/",
    )
    assert parse_mirror("https://export.arxiv.org/abs/=http://m/arxiv/")[0] == (
        "https://arxiv.org/pdf/"
    )
    assert parse_mirror("HTTPS://Example.ORG/Files/=https://m.example/x/") == (
        "https://example.org/Files/",
        "https://m.example/x/",
    )
    for bad in [
        "nothing",
        "ftp://a.org/=http://m/",
        "https://a.org/=file:///tmp/",
        "=http://m/",
        "https://a.org/=",
        "https://a.org/=http://:80/",
    ]:
        with pytest.raises(UsageError, match="--mirror"):
            parse_mirror(bad)


def test_arxiv_mirror_serves_canonical_urls(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/pdf/2205.14135", A)
    m = write_manifest(tmp_path, [{"key": "fa", "url": "http://www.arxiv.org/abs/2205.14135"}])
    o = options(tmp_path, mirrors=(parse_mirror(f"https://arxiv.org/={mserver.url}/"),))
    r = fetch_all(m, o, Recorder())
    assert r.papers["fa"].source == "https://arxiv.org/pdf/2205.14135"
    assert [e.url for e in cache_info(o.cache_dir).entries] == ["https://arxiv.org/pdf/2205.14135"]


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PAPERBUNDLE_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PAPERBUNDLE_CACHE")
    assert default_cache_dir().name == "paperbundle"


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = 1_700_000_000.0
    date = "Tue, 14 Nov 2023 22:13:30 GMT"  # now + 10 s
    assert parse_retry_after(date, now=now) == pytest.approx(10.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now=now) == 0.0


def test_probe_links(tmp_path: Path, mserver: MisbehavingServer) -> None:
    mserver.add("/a.pdf", A)
    mserver.add("/b.pdf", B, head_allowed=False)  # HEAD refused: a ranged GET instead
    mserver.add("/h.pdf", C, html(), html())
    mserver.add("/s.pdf", C, status(503), ok())
    mserver.add("/code", b"<html>code</html>", content_type="text/html")
    m = write_manifest(
        tmp_path,
        [
            paper("a", code=f"{HOST}code"),
            paper("b"),
            paper("h"),
            paper("s"),
            paper("gone", code=f"{HOST}code"),
        ],
    )
    got = probe_links(m, options(tmp_path, mserver), Recorder())
    table = [(s.key, s.url.removeprefix(HOST), s.ok, s.status, s.reason, s.is_pdf) for s in got]
    assert table == [
        ("a", "a.pdf", True, 200, "ok", True),
        ("a", "code", True, 200, "ok", None),
        ("b", "b.pdf", True, 206, "ok", True),
        ("h", "h.pdf", False, 200, "not a PDF", False),
        ("s", "s.pdf", True, 200, "ok", True),
        ("gone", "gone.pdf", False, 404, "http-404", None),
        ("gone", "code", True, 200, "ok", None),
    ]
    b_reqs = mserver.requests("/b.pdf")
    assert [r.method for r in b_reqs] == ["HEAD", "GET"] and b_reqs[1].headers["range"]
    assert len(mserver.requests("/code")) == 1  # one probe for a link used twice
    with pytest.raises(UsageError):
        probe_links(m, options(tmp_path, mserver, offline=True), Recorder())


# --------------------------------------------------------------------------- real papers


def test_corpus_papers_through_a_flaky_server(
    tmp_path: Path, mserver: MisbehavingServer, corpus: Path
) -> None:
    files = sorted((corpus / "arxiv").glob("*.pdf"))
    assert files
    for i, f in enumerate(files):
        first = reset(0.5) if i % 2 == 0 else short(0.5)
        mserver.add(f"/pdf/{f.stem}", f.read_bytes(), first, status(503), ok())
    m = write_manifest(
        tmp_path,
        [{"key": f"p{i}", "url": f"https://arxiv.org/abs/{f.stem}"} for i, f in enumerate(files)],
    )
    o = options(tmp_path, mirrors=(parse_mirror(f"https://arxiv.org/={mserver.url}/"),))
    r = fetch_all(m, o, Recorder())
    assert not r.failures
    total = sum(f.stat().st_size for f in files)
    for i, f in enumerate(files):
        got = r.papers[f"p{i}"]
        assert got.sha256 == sha(f.read_bytes()) and got.size == f.stat().st_size
    assert r.requests == 3 * len(files)
    assert r.bytes_received == total  # resumed, nothing fetched twice
    assert {r.page_count for r in r.papers.values()} >= {9, 12, 15, 34}


def test_corpus_odd_files_as_local_paths(tmp_path: Path, corpus: Path) -> None:
    odd = corpus / "odd"
    m = write_manifest(
        tmp_path,
        [
            {"key": "aes", "path": str(odd / "encrypted-empty-password-aes256.pdf")},
            {"key": "rc4", "path": str(odd / "encrypted-empty-password-rc4.pdf")},
            {"key": "pw", "path": str(odd / "libreoffice-writer-password.pdf")},
        ],
    )
    r = fetch_all(m, options(tmp_path, offline=True), Recorder())
    assert r.papers["aes"].page_count == 9 and r.papers["rc4"].page_count >= 1
    f = only_failure(r)
    assert f.key == "pw" and f.reason == "encrypted" and isinstance(f, PdfError)


def test_probe_reports_unreachable_hosts(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    m = write_manifest(tmp_path, [paper("a")])
    o = options(tmp_path, mirrors=(parse_mirror(f"{HOST}=http://127.0.0.1:{port}/"),))
    (status_,) = probe_links(m, replace(o, retry_attempts=2), Recorder())
    assert (status_.ok, status_.status) == (False, None)
    assert status_.reason.startswith("network: ") and "onnect" in status_.reason  # says why
    r = fetch_all(m, replace(o, retry_attempts=2), Recorder())
    f = only_failure(r)
    assert f.reason == "network" and "2 attempt" in str(f) and f"{HOST}a.pdf" in str(f)


def test_proxy_from_the_environment_is_used_and_the_target_is_checked(
    tmp_path: Path, mserver: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A plain-HTTP proxy receives absolute URLs: the test server plays the proxy.
    for var in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HTTP_PROXY", mserver.url)
    monkeypatch.setenv("http_proxy", mserver.url)
    # the target is a public IP literal, so the address check needs no name lookup; only the
    # proxy on loopback is ever contacted
    mserver.add("http://93.184.215.14/a.pdf", A)
    m = write_manifest(
        tmp_path,
        [
            {"key": "a", "url": "http://93.184.215.14/a.pdf"},
            {"key": "b", "url": "http://127.0.0.1:9/b.pdf"},
        ],
    )
    r = fetch_all(m, options(tmp_path), Recorder())
    assert r.papers["a"].sha256 == sha(A)  # through the proxy on loopback: allowed
    assert [(f.key, f.reason) for f in r.failures] == [("b", "refused-address")]
    assert [rec.path for rec in mserver.records] == ["http://93.184.215.14/a.pdf"]
