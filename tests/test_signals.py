"""SIGTERM and Ctrl-C at the worst moments: each build runs as the console script does (its
signal handlers installed) in a subprocess; a few lines of Python ahead of it make the signal
land exactly where a race used to lose a staging folder or turn into a traceback."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import measure
from tests.pdfs import make_paper

ROOT = Path(__file__).resolve().parent.parent


def _papers(tmp: Path, n: int, pages: int = 4) -> Path:
    files = []
    for i in range(n):
        f = tmp / f"p{i}.pdf"
        f.write_bytes(make_paper(f"Paper {i}", pages, padding=100_000))
        files.append((f"p{i}", f))
    return measure.manifest(tmp, "m", files)


def _start(tmp: Path, manifest: Path, prelude: str = "") -> subprocess.Popen[str]:
    code = prelude + "\nfrom paperbundle.cli import main_entry\nmain_entry()\n"
    out, cache = tmp / "out", tmp / "cache"
    shutil.rmtree(cache / "work", ignore_errors=True)  # every build prepares its papers
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "build",
            str(manifest),
            "-o",
            str(out),
            "--cache-dir",
            str(cache),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _left_in(out: Path) -> list[str]:
    return sorted(f.name for f in out.iterdir()) if out.exists() else []


# Python run ahead of the build: send ourselves SIGTERM the moment FUNCTION returns or is called.
AFTER = """
import os, signal, {module}
_real = {module}.{name}
def _hook(*a, **k):
    {before}
    r = _real(*a, **k)
    {after}
    return r
{module}.{name} = _hook
"""
KILL = "os.kill(os.getpid(), signal.SIGTERM)"
FINAL = {"h-v1.pdf", "h-v1.zip", "h-v1.sha256", "h-v1-notes.md"}


@pytest.mark.parametrize(
    ("module", "name", "where"),
    [
        ("tempfile", "mkdtemp", "after"),  # the staging folder exists, its name not yet kept
        ("tempfile", "mkstemp", "after"),  # a temporary file likewise
        ("shutil", "rmtree", "before"),  # while the staging folder is being removed
    ],
)
def test_sigterm_in_a_race_window_leaves_nothing_behind(
    tmp_path: Path, module: str, name: str, where: str
) -> None:
    prelude = AFTER.format(
        module=module,
        name=name,
        before=KILL if where == "before" else "pass",
        after=KILL if where == "after" else "pass",
    )
    proc = _start(tmp_path, _papers(tmp_path, 2), prelude)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    left = set(_left_in(tmp_path / "out")) - {".paperbundle.lock"}
    # no staging folder, no temporary file; the release is there whole (the signal came while
    # the empty staging folder was removed) or not at all
    assert left in (set(), FINAL), left


def test_sigterm_while_reportlab_loads_its_fonts_is_an_interrupt_not_a_ttferror(
    tmp_path: Path,
) -> None:
    """reportlab catches everything while reading a font and raises TTFError instead."""
    prelude = (
        "import os, signal\n"
        "from reportlab.pdfbase import ttfonts\n"
        "_real = ttfonts.TTFontFile.read_tag\n"
        "def _tag(self):\n"
        f"    {KILL}\n"
        "    return _real(self)\n"
        "ttfonts.TTFontFile.read_tag = _tag\n"
    )
    proc = _start(tmp_path, _papers(tmp_path, 1), prelude)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and "TTFError" not in err, err
    assert _left_in(tmp_path / "out") in ([], [".paperbundle.lock"])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_random_moments_ends_the_build_within_a_second(
    tmp_path: Path, signum: int
) -> None:
    manifest = _papers(tmp_path, 24, pages=30)
    rng = random.Random(signum)
    interrupted = 0
    for _ in range(4):
        proc = _start(tmp_path, manifest)
        time.sleep(rng.uniform(0.2, 0.9))
        sent = time.monotonic()
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        took = time.monotonic() - sent
        assert "Traceback" not in err, err
        left = set(_left_in(tmp_path / "out")) - {".paperbundle.lock"}
        if proc.returncode == 0:  # done before the signal came
            assert left >= FINAL, left
            continue
        interrupted += 1
        assert proc.returncode == 130, (proc.returncode, err)
        assert took < 2.0, took  # a second, and some for a busy machine
        assert left in (set(), FINAL), left  # nothing half-published, no staging folder
        for f in (tmp_path / "out").iterdir():
            if f.name != ".paperbundle.lock":
                f.unlink()
    assert interrupted >= 2  # most rounds land inside the build
