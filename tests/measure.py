"""Run a paperbundle command in a subprocess and measure it: exit code, output, wall time and
peak RSS (the child's own ``ru_maxrss``, read by a tiny wrapper process so that one measurement
never includes another's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# A child's ru_maxrss counts the pages of the process it was forked from, so the command is
# started by this small wrapper (forked from the test process, but its peak is not read), which
# passes SIGINT and SIGTERM on and writes the command's own peak to argv[1].
_WRAPPER = (
    "import resource, signal, subprocess, sys\n"
    "p = subprocess.Popen(sys.argv[2:])\n"
    "for s in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(s, lambda n, f: p.send_signal(n))\n"
    "code = p.wait()\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code if code >= 0 else 128 - code)\n"
)


def wrapped(rss_file: Path, argv: list[str]) -> list[str]:
    """``argv`` run by the wrapper, which writes its peak RSS (KiB) to ``rss_file``."""
    return [sys.executable, "-c", _WRAPPER, str(rss_file), *argv]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float  # peak resident set size of the command, MiB


def paperbundle(*args: str, timeout: float = 120) -> Run:
    """``python -m paperbundle ARGS`` with no proxy, measured."""
    return command([sys.executable, "-m", "paperbundle", *args], timeout=timeout)


def command(argv: list[str], timeout: float = 120) -> Run:
    """Any command (``argv``) with no proxy in its environment, measured."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        t0 = time.monotonic()
        p = subprocess.run(
            wrapped(rss_file, argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        secs = time.monotonic() - t0
        kib = int(rss_file.read_text() or 0) if rss_file.exists() else 0
    return Run(p.returncode, p.stdout, p.stderr, secs, kib / 1024)


def manifest(tmp: Path, name: str, papers: list[tuple[str, Path | str]], title: str = "T") -> Path:
    """A manifest ``name``.toml of papers (key, local path or URL string), bundle "h" version
    "v1"."""
    m = tmp / f"{name}.toml"
    lines = ['[bundle]\nname = "h"\nversion = "v1"\n']
    for key, where in papers:
        source = f"url = {json.dumps(where)}" if isinstance(where, str) else f'path = "{where}"'
        lines.append(f'[[papers]]\nkey = "{key}"\ntitle = "{title}"\n{source}\n')
    m.write_text("".join(lines), encoding="utf-8")
    return m


def qpdf_check(pdf: Path) -> tuple[bool, str]:
    """``qpdf --check`` accepts the file with no errors (warnings allowed? no: none of either)."""
    p = subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True, text=True, timeout=300)
    return p.returncode == 0, (p.stdout + p.stderr)[-2000:]
