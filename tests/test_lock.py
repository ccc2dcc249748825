"""The lock file: stable atomic writes, strict reads, and how fetch uses it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from paperbundle.errors import ManifestError
from paperbundle.fetch import FetchedPaper, FetchResult, NetOptions, fetch_all, parse_mirror
from paperbundle.fetch.lock import (
    Lock,
    LockEntry,
    lock_from_fetch,
    lock_problems,
    read_lock,
    write_lock,
)
from paperbundle.manifest import Manifest, load_manifest
from paperbundle.progress import NullReporter
from tests.servers import MisbehavingServer, make_pdf

HOST = "https://papers.example.org/"
SHA_A = "a" * 64
SHA_B = "b" * 64


def manifest(tmp_path: Path, body: str) -> Manifest:
    path = tmp_path / "v1.toml"
    path.write_text('[bundle]\nname = "t"\nversion = "v1"\n' + body)
    return load_manifest(path)


TWO = f"""
[[papers]]
key = "beta"
title = "B"
url = "{HOST}b.pdf"
[[papers]]
key = "alpha"
title = "A"
url = "{HOST}a.pdf"
"""


def test_write_is_stable_and_reads_back(tmp_path: Path) -> None:
    lock = Lock(
        {
            "beta": LockEntry(f"{HOST}b.pdf", SHA_B, 20, 2),
            "alpha": LockEntry(f"{HOST}a.pdf", SHA_A, 10, 1),
        }
    )
    path = tmp_path / "v1.lock.json"
    write_lock(path, lock)
    text = path.read_text()
    assert text == (
        "{\n"
        '  "lock_version": 2,\n'
        '  "papers": {\n'
        '    "alpha": {\n'
        '      "page_count": 1,\n'
        f'      "sha256": "{SHA_A}",\n'
        '      "size": 10,\n'
        f'      "url": "{HOST}a.pdf"\n'
        "    },\n"
        '    "beta": {\n'
        '      "page_count": 2,\n'
        f'      "sha256": "{SHA_B}",\n'
        '      "size": 20,\n'
        f'      "url": "{HOST}b.pdf"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )
    assert read_lock(path) == lock
    write_lock(path, read_lock(path) or lock)
    assert path.read_text() == text
    assert [p.name for p in tmp_path.iterdir()] == ["v1.lock.json"]  # no temp file left
    assert read_lock(tmp_path / "absent.lock.json") is None


BAD = [
    ("{ not json", [": not valid JSON"]),
    ("[]", [": must be a JSON object"]),
    ('{"lock_version": 3, "papers": {}}', [": lock_version: must be 1 or 2"]),
    ('{"lock_version": true, "papers": {}}', [": lock_version: must be 1 or 2"]),
    (
        '{"lock_version": 1, "papers": {"a": {"url": "u", "sha256": "'
        + "0" * 64
        + '", "size": 1, "page_count": 1, "version": 2}}}',
        [": papers.a.version: unknown key; allowed: page_count, sha256, size, url"],
    ),
    (
        '{"lock_version": 2, "papers": {"a": {"url": "u", "sha256": "'
        + "0" * 64
        + '", "size": 1, "page_count": 1, "version": 0, "arxiv": {"id": "1", "title": "",'
        ' "authors": "A", "abstract": "", "published": "2020", "updated": "2020-01-01",'
        ' "latest_version": 1, "licence": "x", "more": 1}}}}',
        [
            ": papers.a.version: must be a positive integer",
            ": papers.a.arxiv.more: unknown key",
            ": papers.a.arxiv.title: must be a non-empty string",
            ": papers.a.arxiv.authors: must be an array of names",
            ": papers.a.arxiv.published: must be a date YYYY-MM-DD",
        ],
    ),
    ('{"lock_version": 1}', [": papers: missing"]),
    (
        '{"lock_version": 1, "papers": {"a": {"url": "", "sha256": "xyz", "size": -1,'
        ' "page_count": true, "extra": 1}, "Bad Key": {}}}',
        [
            ": papers.a.extra: unknown key",
            ": papers.a.url: must be a non-empty string",
            ": papers.a.sha256: must be 64",
            ": papers.a.size: must be a non-negative integer",
            ": papers.a.page_count: must be a positive integer",
            ": papers.Bad Key: 'Bad Key' is not a valid paper key",
        ],
    ),
]


@pytest.mark.parametrize(("text", "messages"), BAD)
def test_malformed_locks_list_every_problem(tmp_path: Path, text: str, messages: list[str]) -> None:
    path = tmp_path / "v1.lock.json"
    path.write_text(text)
    with pytest.raises(ManifestError) as info:
        read_lock(path)
    lines = str(info.value).splitlines()
    assert len(lines) == len(messages)
    for line, want in zip(lines, messages, strict=True):
        assert line.startswith(str(path)) and want in line


def test_lock_problems(tmp_path: Path) -> None:
    m = manifest(
        tmp_path, TWO.replace(f'url = "{HOST}a.pdf"', f'url = "{HOST}a.pdf"\nsha256 = "{SHA_B}"')
    )
    good = Lock(
        {
            "alpha": LockEntry(f"{HOST}a.pdf", SHA_B, 10, 1),
            "beta": LockEntry(f"{HOST}b.pdf", SHA_B, 20, 2),
        }
    )
    assert lock_problems(m, good) == []
    bad = Lock(
        {
            "alpha": LockEntry(f"{HOST}a.pdf", SHA_A, 10, 1),
            "gamma": LockEntry(f"{HOST}c.pdf", SHA_A, 10, 1),
        }
    )
    probs = lock_problems(m, bad)
    assert len(probs) == 3
    assert "papers.beta: no entry" in probs[0] and f"{HOST}b.pdf" in probs[0]
    assert "papers.alpha.sha256" in probs[1] and SHA_A in probs[1] and SHA_B in probs[1]
    assert "papers.gamma: entry for a key the manifest does not have" in probs[2]
    assert all(p.startswith("papers.") for p in probs)  # the caller prefixes the lock's path
    moved = Lock({**good.entries, "beta": LockEntry(f"{HOST}old-b.pdf", SHA_B, 20, 2)})
    assert ["papers.beta.url" in p for p in lock_problems(m, moved)] == [True]


def test_lock_from_fetch_uses_relative_paths_for_local_files(tmp_path: Path) -> None:
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "m.pdf").write_bytes(b"%PDF-1.4\n")
    m = manifest(tmp_path, TWO + '[[papers]]\nkey = "mine"\ntitle = "M"\npath = "local/m.pdf"\n')
    fp = FetchedPaper(
        "mine", str(tmp_path / "local/m.pdf"), tmp_path / "local/m.pdf", SHA_A, 5, 1, False
    )
    fb = FetchedPaper("beta", f"{HOST}b.pdf", tmp_path / "x", SHA_B, 7, 3, True)
    result = FetchResult({"beta": fb, "mine": fp}, (), 0, 0)
    lock = lock_from_fetch(m, result)
    assert dict(lock.entries) == {
        "beta": LockEntry(f"{HOST}b.pdf", SHA_B, 7, 3),
        "mine": LockEntry("local/m.pdf", SHA_A, 5, 1),
    }


def test_fetch_lock_then_frozen_build_from_cache(
    tmp_path: Path, mserver: MisbehavingServer
) -> None:
    a, b = make_pdf("LA", 2), make_pdf("LB", 1)
    mserver.add("/a.pdf", a)
    mserver.add("/b.pdf", b)
    m = manifest(tmp_path, TWO)
    o = NetOptions(
        cache_dir=tmp_path / "c",
        mirrors=(parse_mirror(f"{HOST}={mserver.url}/"),),
        min_interval=0.0,
        retry_base=0.01,
    )
    result = fetch_all(m, o, NullReporter())
    write_lock(m.lock_path, lock_from_fetch(m, result))
    data = json.loads(m.lock_path.read_text())
    assert data["papers"]["alpha"] == {
        "url": f"{HOST}a.pdf",
        "sha256": hashlib.sha256(a).hexdigest(),
        "size": len(a),
        "page_count": 2,
    }
    lock = read_lock(m.lock_path)
    assert lock is not None and lock_problems(m, lock) == []
    n = len(mserver.records)
    frozen = fetch_all(
        m, NetOptions(cache_dir=tmp_path / "c", frozen=True, offline=True), NullReporter(), lock
    )
    assert not frozen.failures and frozen.requests == 0 and len(mserver.records) == n
