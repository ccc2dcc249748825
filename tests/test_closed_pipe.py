"""A reader that closes stdout early (`paperbundle diff A B | head -1`, `cache info | head -1`) ends
paperbundle quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _manifest(path: Path, n: int, prefix: str) -> Path:
    papers = "".join(
        f'\n[[papers]]\nkey = "{prefix}{i}"\ntitle = "Paper {prefix}{i}"\n'
        f'url = "https://example.com/{prefix}{i}.pdf"\n'
        for i in range(n)
    )
    path.write_text(f'[bundle]\nname = "B"\nversion = "v1"\n{papers}', encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["diff", "cache info"])
def test_a_reader_that_closes_early_ends_paperbundle_quietly(tmp_path: Path, command: str) -> None:
    old = _manifest(tmp_path / "old.toml", 300, "a")
    new = _manifest(tmp_path / "new.toml", 300, "b")
    args = [str(old), str(new)] if command == "diff" else [str(old)]
    cmd = [sys.executable, "-m", "paperbundle", *command.split(), *args]
    env = {**os.environ, "PAPERBUNDLE_CACHE": str(tmp_path / "cache")}
    for _ in range(5):  # the race (reader gone before or after the write) went wrong 4 runs in 10
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # like `head -1`
        err = proc.stderr.read().decode()
        proc.stderr.close()
        code = proc.wait(timeout=60)
        assert first.strip(), f"{command} printed nothing before the pipe closed"
        assert err == ""
        assert code == 0
