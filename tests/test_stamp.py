"""No-op rebuilds: a second identical build writes nothing; any changed input rebuilds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import PAPERS, PaperServer, build_args, manifest_text, run

Change = Callable[[Path, Path, pytest.MonkeyPatch], list[str]]


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    m = tmp_path / "m.toml"
    (tmp_path / "old.toml").write_text(manifest_text(PAPERS), encoding="utf-8")
    m.write_text(
        manifest_text(PAPERS).replace(
            "date = 2024-05-01", 'date = 2024-05-01\nprevious = "old.toml"'
        ),
        encoding="utf-8",
    )
    return m, tmp_path / "out", tmp_path / "cache"


def _build(
    m: Path, out: Path, cache: Path, srv: PaperServer, cap: pytest.CaptureFixture[str], *more: str
) -> dict[str, object]:
    code, stdout, err = run(build_args(m, out, cache, srv, "--json", *more), cap)
    assert code == 0, err
    summary: dict[str, object] = json.loads(stdout)
    return summary


def _snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir() if p.is_file()}


def test_second_identical_build_writes_nothing(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m, out, cache = _setup(tmp_path)
    first = _build(m, out, cache, paper_server, capsys)
    assert first["up_to_date"] is False
    before = _snapshot(out)
    assert ".paperbundle-stamp.json" in before
    hits = len(paper_server.hits)
    second = _build(m, out, cache, paper_server, capsys)
    assert second["up_to_date"] is True
    assert len(paper_server.hits) == hits  # no request at all
    assert _snapshot(out) == before  # same bytes, same mtimes
    for key in ("papers", "pages", "volumes", "sha256", "notes", "links", "outline_items"):
        assert second[key] == first[key], key
    # The human message says so.
    code, _, err = run(
        [a for a in build_args(m, out, cache, paper_server) if a != "--quiet"], capsys
    )
    assert code == 0
    assert "up to date" in err
    assert _snapshot(out) == before


def _edit_manifest(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    m.write_text(m.read_text() + "# a comment\n", encoding="utf-8")
    return []


def _edit_previous(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    old = m.parent / "old.toml"
    old.write_text(old.read_text().replace('key = "beta"', 'key = "bet"'), encoding="utf-8")
    return []


def _add_lock(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    m.with_name("m.lock.json").write_text('{"lock_version": 1, "papers": {}}\n', encoding="utf-8")
    return []


def _set_sde(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    mp.setenv("SOURCE_DATE_EPOCH", "1714521600")
    return []


def _option(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    return ["--max-asset-size", "1G"]


def _tamper(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    z = out / "Test-Papers-v1.0.zip"
    z.write_bytes(z.read_bytes()[:-1] + b"X")
    return []


def _touch(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    p = out / "Test-Papers-v1.0.pdf"
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    return []


def _remove(m: Path, out: Path, mp: pytest.MonkeyPatch) -> list[str]:
    (out / "Test-Papers-v1.0-notes.md").unlink()
    return []


@pytest.mark.parametrize(
    "change",
    [_edit_manifest, _edit_previous, _add_lock, _set_sde, _option, _tamper, _touch, _remove],
)
def test_any_changed_input_rebuilds(
    change: Change,
    tmp_path: Path,
    paper_server: PaperServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m, out, cache = _setup(tmp_path)
    _build(m, out, cache, paper_server, capsys)
    pdf = out / "Test-Papers-v1.0.pdf"
    first_pdf = pdf.read_bytes()
    more = change(m, out, monkeypatch)
    again = _build(m, out, cache, paper_server, capsys, *more)
    assert again["up_to_date"] is False
    assert (out / "Test-Papers-v1.0-notes.md").is_file()
    if change in (_tamper, _touch, _remove, _option, _add_lock):
        assert pdf.read_bytes() == first_pdf  # the rebuild gives the same bytes
    # ... and the build after it has nothing to do again.
    assert _build(m, out, cache, paper_server, capsys, *more)["up_to_date"] is True


def test_refresh_always_builds(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m, out, cache = _setup(tmp_path)
    _build(m, out, cache, paper_server, capsys)
    assert _build(m, out, cache, paper_server, capsys, "--refresh")["up_to_date"] is False


def test_changed_cached_paper_rebuilds(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A paper whose cache entry now names another file (re-downloaded elsewhere) rebuilds."""
    m, out, cache = _setup(tmp_path)
    _build(m, out, cache, paper_server, capsys)
    # Drop every object: the build cannot know the files without the network.
    for obj in (cache / "objects").rglob("*.pdf"):
        obj.unlink()
    assert _build(m, out, cache, paper_server, capsys)["up_to_date"] is False


def test_zip_stores_the_pdf_and_deflates_the_text(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m, out, cache = _setup(tmp_path)
    _build(m, out, cache, paper_server, capsys)
    with zipfile.ZipFile(out / "Test-Papers-v1.0.zip") as zf:
        kinds = {i.filename: i.compress_type for i in zf.infolist()}
        assert zf.read("Test-Papers-v1.0.pdf") == (out / "Test-Papers-v1.0.pdf").read_bytes()
    assert kinds == {
        "Test-Papers-v1.0.pdf": zipfile.ZIP_STORED,
        "CONTENTS.md": zipfile.ZIP_DEFLATED,
    }


def test_console_script_exits_with_the_code_after_writing_everything(
    tmp_path: Path, paper_server: PaperServer
) -> None:
    """``python -m paperbundle`` ends with os._exit: its outputs and stdout are complete."""
    m, out, cache = _setup(tmp_path)
    args = build_args(m, out, cache, paper_server, "--json")
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    proc = subprocess.run(
        [sys.executable, "-m", "paperbundle", *args], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["up_to_date"] is False
    code = subprocess.run(
        [sys.executable, "-m", "paperbundle", "verify", summary["volumes"][0]["zip"]],
        capture_output=True,
        text=True,
    )
    assert code.returncode == 0, code.stderr
    bad = subprocess.run([sys.executable, "-m", "paperbundle", "build"], capture_output=True)
    assert bad.returncode == 2
