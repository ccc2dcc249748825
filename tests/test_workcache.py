"""The work cache: each paper prepared once, kept for the next build, and the same bundle bytes
whatever was cached and however many worker processes prepared the papers.

Builds run through the CLI against a real HTTP server on 127.0.0.1; the work cache is read from
the disk (entries and their times), never from inside the build.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from paperbundle.assemble.workcache import VERSIONS, work_dir, work_key
from paperbundle.manifest import load_manifest
from tests.helpers import PAPERS, PaperServer, build_args, manifest_text, run
from tests.pdfs import make_active_paper, make_paper

OUTPUTS = ("Test-Papers-v1.0.pdf", "Test-Papers-v1.0.zip", "Test-Papers-v1.0.sha256")


def _entries(cache: Path) -> dict[str, float]:
    """Prepared papers by file name, with their modification times."""
    root = work_dir(cache)
    return {p.name: p.stat().st_mtime_ns for p in root.glob("*/*.prep")} if root.is_dir() else {}


def _serve(srv: PaperServer) -> None:
    for key, (title, pages, _) in PAPERS.items():
        srv.files[f"{key}.pdf"] = make_paper(title, pages)
    srv.files["beta.pdf"] = make_active_paper("Beta")  # JavaScript, forms, layers, attachments


def _build(
    tmp: Path,
    srv: PaperServer,
    capsys: pytest.CaptureFixture[str],
    out: str,
    cache: str,
    *more: str,
) -> Path:
    m = tmp / "m.toml"
    if not m.exists():
        m.write_text(manifest_text(PAPERS), encoding="utf-8")
    code, _, err = run(build_args(m, tmp / out, tmp / cache, srv, *more), capsys)
    assert code == 0, err
    return tmp / out


def test_same_bytes_cold_warm_and_with_one_or_two_workers(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(paper_server)
    cold1 = _build(tmp_path, paper_server, capsys, "cold1", "cache-a", "--jobs", "1")
    made = _entries(tmp_path / "cache-a")
    assert len(made) == len(PAPERS)
    # Warm: every paper comes from the work cache (no entry is written again), two workers.
    warm2 = _build(tmp_path, paper_server, capsys, "warm2", "cache-a", "--jobs", "2")
    assert _entries(tmp_path / "cache-a") == made
    # Cold again in another cache, two workers finishing in whatever order.
    cold2 = _build(tmp_path, paper_server, capsys, "cold2", "cache-b", "--jobs", "2")
    assert sorted(_entries(tmp_path / "cache-b")) == sorted(made)
    for name in OUTPUTS:
        data = (cold1 / name).read_bytes()
        assert (warm2 / name).read_bytes() == data, name
        assert (cold2 / name).read_bytes() == data, name


def test_every_input_of_a_prepared_paper_prepares_it_again(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(paper_server)
    m = tmp_path / "m.toml"
    text = manifest_text(PAPERS)
    m.write_text(text, encoding="utf-8")
    _build(tmp_path, paper_server, capsys, "out", "c")
    seen = _entries(tmp_path / "c")
    assert len(seen) == 3

    def rebuild_adds_one(new_text: str, *more: str) -> None:
        nonlocal seen
        m.write_text(new_text, encoding="utf-8")
        _build(tmp_path, paper_server, capsys, "out", "c", *more)
        now = _entries(tmp_path / "c")
        assert {k: v for k, v in now.items() if k in seen} == seen  # the others reused as they were
        assert len(now) == len(seen) + 1, (sorted(seen), sorted(now))
        seen = now

    text = text.replace('title = "Alpha: Attention Everywhere"', 'title = "Alpha, retitled"')
    rebuild_adds_one(text)  # the title
    text = text.replace('key = "gamma"', 'key = "gamma"\npages = "1-2"')
    rebuild_adds_one(text)  # the page selection
    text = text.replace('key = "beta"', 'key = "beta2"')
    rebuild_adds_one(text)  # the key
    paper_server.files["beta.pdf"] = make_active_paper("Beta, second version")
    rebuild_adds_one(text, "--refresh")  # the input file (its sha256)

    # The versions of paperbundle and of pypdf are part of the key too.
    paper = load_manifest(m).papers[0]
    sha = "0" * 64
    keys = {
        work_key(paper, sha),
        work_key(paper, sha, (VERSIONS[0] + ".1", VERSIONS[1])),
        work_key(paper, sha, (VERSIONS[0], VERSIONS[1] + ".1")),
        work_key(paper, "1" * 64),
        work_key(dataclasses.replace(paper, title="Other"), sha),
    }
    assert len(keys) == 5


def test_a_damaged_prepared_paper_is_prepared_again(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(paper_server)
    first = _build(tmp_path, paper_server, capsys, "first", "c")
    entries = sorted(work_dir(tmp_path / "c").glob("*/*.prep"))
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # truncated
    data = bytearray(entries[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed: the CRC finds it
    entries[1].write_bytes(bytes(data))
    again = _build(tmp_path, paper_server, capsys, "again", "c")
    for name in OUTPUTS:
        assert (again / name).read_bytes() == (first / name).read_bytes(), name


def test_cache_info_and_prune_cover_the_work_cache(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    _serve(paper_server)
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    _build(tmp_path, paper_server, capsys, "out", "c")
    m.write_text(manifest_text(PAPERS).replace("Alpha: Attention", "Alpha: Retitled"), "utf-8")
    _build(tmp_path, paper_server, capsys, "out", "c")
    cache = tmp_path / "c"
    assert len(_entries(cache)) == 4
    code, out, _ = run(["cache", "info", "--cache-dir", str(cache)], capsys)
    assert code == 0
    assert "work cache: 4 prepared papers" in out
    old = time.time() - 7200  # older than the grace period a running build is given
    for p in work_dir(cache).glob("*/*.prep"):
        os.utime(p, (old, old))
    code, out, _ = run(["cache", "prune", str(m), "--cache-dir", str(cache)], capsys)
    assert code == 0, out
    assert "work cache: removed 1 prepared paper" in out
    assert len(_entries(cache)) == 3
    # What is left is what the manifest needs: a rebuild elsewhere prepares nothing.
    before = _entries(cache)
    _build(tmp_path, paper_server, capsys, "out2", "c")
    assert _entries(cache) == before
