"""One build at a time into one output folder: a second build waits, saying so, and fails
clearly after $PAPERBUNDLE_LOCK_TIMEOUT."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from tests.pdfs import make_paper


def _manifest(tmp_path: Path) -> Path:
    (tmp_path / "a.pdf").write_bytes(make_paper("A", 2))
    m = tmp_path / "m.toml"
    m.write_text(
        'bundle = { name = "locked", version = "v1" }\n'
        '[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n',
        encoding="utf-8",
    )
    return m


def _build(m: Path, out: Path, timeout: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PAPERBUNDLE_LOCK_TIMEOUT": timeout}
    cmd = [sys.executable, "-m", "paperbundle", "build", str(m), "-o", str(out)]
    cmd += ["--cache-dir", str(m.parent / "cache")]
    return subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_a_second_build_waits_then_gives_up(tmp_path: Path) -> None:
    m, out = _manifest(tmp_path), tmp_path / "out"
    out.mkdir()
    with FileLock(out / ".paperbundle.lock"):  # another build holds the folder
        started = time.monotonic()
        proc = _build(m, out, "1")
        _, err = proc.communicate(timeout=60)
        waited = time.monotonic() - started
    assert proc.returncode == 1, err
    assert f"another build is writing into {out}; waiting for it (up to 1 s)" in err
    assert f"{out}: another build is still writing into this folder after 1 s" in err
    assert "Traceback" not in err and waited >= 1.0
    assert not (out / "locked-v1.pdf").exists()


def test_a_second_build_goes_on_once_the_first_is_done(tmp_path: Path) -> None:
    m, out = _manifest(tmp_path), tmp_path / "out"
    out.mkdir()
    lock = FileLock(out / ".paperbundle.lock")
    lock.acquire()
    proc = _build(m, out, "60")
    try:
        time.sleep(1.5)
        assert proc.poll() is None, "the build did not wait for the folder"
        assert not (out / "locked-v1.pdf").exists()
    finally:
        lock.release()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "waiting for it" in err
    assert (out / "locked-v1.pdf").is_file()


def test_a_bad_lock_timeout_is_a_usage_error(tmp_path: Path) -> None:
    m = _manifest(tmp_path)
    proc = _build(m, tmp_path / "out", "soon")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "PAPERBUNDLE_LOCK_TIMEOUT='soon'" in err, err
