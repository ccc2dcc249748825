"""The content-addressed cache: atomic objects, self-checking lookups, info and prune."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from paperbundle.fetch.cache import Cache, cache_info, cache_prune
from paperbundle.fetch.lock import Lock, LockEntry, write_lock
from paperbundle.manifest import Manifest, load_manifest
from tests.servers import make_pdf

A = make_pdf("Cache A", 1)
B = make_pdf("Cache B", 2)
C = make_pdf("Cache C", 3)
URL_A, URL_B, URL_C = (f"https://papers.example.org/{k}.pdf" for k in "abc")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(cache: Cache, url: str, data: bytes, pages: int = 1) -> Path:
    tmp = cache.new_temp(".pdf")
    tmp.write_bytes(data)
    return cache.commit(url, tmp, sha(data), len(data), pages).path


def manifest(tmp_path: Path, urls: list[str], name: str = "m.toml") -> Manifest:
    lines = ["[bundle]", 'name = "t"', 'version = "v1"']
    for i, u in enumerate(urls):
        lines += ["[[papers]]", f'key = "p{i}"', f'title = "P{i}"', f'url = "{u}"']
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    return load_manifest(tmp_path / name)


def test_commit_and_lookup(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    assert cache.lookup(URL_A) is None
    path = put(cache, URL_A, A)
    assert path == tmp_path / "c" / "objects" / sha(A)[:2] / f"{sha(A)}.pdf"
    assert path.read_bytes() == A and path.stat().st_mode & 0o222 == 0  # read-only
    e = cache.lookup(URL_A)
    assert e is not None and (e.url, e.sha256, e.size, e.page_count) == (URL_A, sha(A), len(A), 1)
    index = json.loads(cache.index_path(URL_A).read_text())
    assert index == {"url": URL_A, "sha256": sha(A), "size": len(A), "page_count": 1}
    assert not list(cache.tmp_dir.iterdir())  # temp files were renamed into place
    # the same content under a second URL shares the object
    assert put(cache, URL_B, A) == path and cache.lookup(URL_B) is not None


def test_damaged_or_missing_objects_are_never_served(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    path = put(cache, URL_A, A)
    os.chmod(path, 0o644)
    path.write_bytes(A[:-10] + b"0123456789")
    assert cache.lookup(URL_A) is None
    assert not path.exists() and not cache.index_path(URL_A).exists()

    put(cache, URL_B, B).unlink()
    assert cache.lookup(URL_B) is None

    cache.index_path(URL_C).parent.mkdir(parents=True, exist_ok=True)
    cache.index_path(URL_C).write_text("{ half a json")  # cannot happen (atomic), still harmless
    assert cache.lookup(URL_C) is None


def test_names_never_escape_the_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    with pytest.raises(ValueError):
        cache.object_path("../../etc/passwd")
    for url in ["https://e.org/../../x", "https://e.org/%2e%2e/x"]:
        assert cache.index_path(url).is_relative_to(tmp_path / "c")
        assert cache.partial(url).path.is_relative_to(tmp_path / "c")


def test_concurrent_commits_of_one_url(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                put(cache, URL_A, A)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert cache.lookup(URL_A) is not None
    assert len(list(cache.objects_dir.glob("*/*.pdf"))) == 1


def test_cache_info(tmp_path: Path) -> None:
    assert cache_info(tmp_path / "absent").entries == ()
    cache = Cache(tmp_path / "c")
    put(cache, URL_B, B, 2)
    put(cache, URL_A, A)
    part = cache.partial(URL_C)
    part.path.parent.mkdir(parents=True, exist_ok=True)
    part.path.write_bytes(C[:100])
    cache.write_json(part.meta_path, {"url": URL_C, "fetch_url": URL_C, "total": len(C)})
    orphan = cache.object_path(sha(C))  # as a build killed between rename and index leaves it
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(C)
    info = cache_info(tmp_path / "c")
    assert [(e.url, e.sha256, e.size) for e in info.entries] == [
        (URL_A, sha(A), len(A)),
        (URL_B, sha(B), len(B)),
    ]
    assert info.object_bytes == len(A) + len(B) + len(C)
    assert info.total_bytes >= info.object_bytes + 100
    assert [(p.url, p.size) for p in info.partials] == [(URL_C, 100)]
    assert info.orphan_objects == 1


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_prune_keeps_what_the_manifests_need(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    put(cache, URL_A, A)
    put(cache, URL_B, B, 2)
    put(cache, URL_C, C, 3)
    url_d = "https://papers.example.org/d.pdf"
    part = cache.partial(url_d)
    part.path.parent.mkdir(parents=True, exist_ok=True)
    part.path.write_bytes(b"%PDF-1.4 partial")
    cache.write_json(part.meta_path, {"url": url_d})
    young, old = cache.new_temp(), cache.new_temp()
    _age(old, 7200)

    m = manifest(tmp_path, [URL_A])  # needs a by URL ...
    lock = Lock({"p9": LockEntry(URL_B, sha(B), len(B), 2)})  # ... and b's file through its lock
    write_lock(m.lock_path, lock)

    result = cache_prune(tmp_path / "c", [m])
    assert set(result.removed_entries) == {URL_B, URL_C}
    assert result.kept_entries == 1 and result.removed_objects == 1  # C's object
    assert result.removed_partials == 1 and not part.path.exists()
    assert result.freed_bytes >= len(C)
    assert cache.lookup(URL_A) is not None
    assert cache.object_path(sha(B)).exists() and not cache.object_path(sha(C)).exists()
    assert young.exists() and not old.exists()

    # an unreferenced object young enough to be a running build's is kept; an old one goes
    result = cache_prune(tmp_path / "c", [manifest(tmp_path, [URL_A], "n.toml")])
    assert cache.object_path(sha(B)).exists()
    _age(cache.object_path(sha(B)), 7200)
    result = cache_prune(tmp_path / "c", [manifest(tmp_path, [URL_A], "n.toml")])
    assert result.removed_objects == 1 and not cache.object_path(sha(B)).exists()
    assert cache.lookup(URL_A) is not None


def test_prune_leaves_a_url_being_downloaded(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    put(cache, URL_A, A)
    held = cache.lock(URL_A)
    held.acquire()
    try:
        result = cache_prune(tmp_path / "c", [manifest(tmp_path, [URL_B])])
    finally:
        held.release()
    assert result.removed_entries == () and cache.lookup(URL_A) is not None
    assert cache_prune(tmp_path / "c", [manifest(tmp_path, [URL_B])]).removed_entries == (URL_A,)


def test_commit_renames_the_file_into_place(tmp_path: Path) -> None:
    """A commit moves the validated file (same inode, source gone); it never copies or rewrites it,
    so no reader, and no kill, can ever meet a half-written object under its final name."""
    cache = Cache(tmp_path / "c")
    tmp = cache.new_temp(".pdf")
    tmp.write_bytes(A)
    inode = tmp.stat().st_ino
    entry = cache.commit(URL_A, tmp, sha(A), len(A), 1)
    assert not tmp.exists(), "the temp file was copied, not renamed"
    assert entry.path.stat().st_ino == inode, "the object is a new file, not the renamed one"
    assert entry.path.read_bytes() == A
    assert entry.path.stat().st_mode & 0o222 == 0  # read-only once in place


def test_a_reader_never_sees_a_partial_object(tmp_path: Path) -> None:
    """While a large file is committed, a reader polling its final name sees none or all of it."""
    cache = Cache(tmp_path / "c")
    big = make_pdf("Big", 1) + b"%" + os.urandom(24_000_000) + b"\n%%EOF\n"
    digest = sha(big)
    final = cache.object_path(digest)
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append(final.stat().st_size)

    tmp = cache.new_temp(".pdf")
    tmp.write_bytes(big)
    t = threading.Thread(target=poll)
    t.start()
    try:
        cache.commit(URL_B, tmp, digest, len(big), 1)
        time.sleep(0.05)
    finally:
        done.set()
        t.join()
    assert seen, "the poller never saw the object"
    assert set(seen) == {len(big)}, f"partial sizes seen: {sorted(set(seen))[:5]}"
