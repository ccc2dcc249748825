"""`make release` (scripts/release.sh): the dry run prints the exact gh commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pdfs import make_paper, write

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_release_dry_run_prints_gh_commands(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "paperbundle").exists():
        pytest.skip("paperbundle console script not installed beside this python")
    (tmp_path / "manifests").mkdir()
    write(tmp_path / "manifests" / "a.pdf", make_paper("A", 2))
    (tmp_path / "manifests" / "v9.9.toml").write_text(
        '[bundle]\nname = "Demo"\nversion = "v9.9"\ntitle = "Demo Papers"\ndate = 2024-01-01\n'
        '[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "VERSION": "v9.9",
        "DRY_RUN": "1",
        "OUT": "out",
        "BIN": str(bin_dir),
        "PAPERBUNDLE_CACHE": str(tmp_path / "cache"),
    }
    proc = subprocess.run(
        ["sh", str(ROOT / "scripts" / "release.sh")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("+ ")]
    assert lines == [
        "+ 'gh' 'release' 'create' 'v9.9' '--title' 'Demo Papers v9.9' '--notes-file' "
        "'out/Demo-v9.9-notes.md'",
        "+ 'gh' 'release' 'upload' 'v9.9' 'out/Demo-v9.9.pdf' 'out/Demo-v9.9.zip' "
        "'out/Demo-v9.9.sha256' '--clobber'",
    ]
    assert (tmp_path / "out" / "Demo-v9.9.zip").is_file()


def test_release_workflow_publishes_on_tags_with_least_privilege() -> None:
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    assert 'tags: ["v*"]' in text
    assert "permissions: {}" in text  # nothing by default
    assert text.count("contents: write") == 1  # only on the release job
    assert "uses: ./" in text  # this repository's own action (tests/test_action.py)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_release_honours_manifest_and_refuses_a_partial_build(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "paperbundle").exists():
        pytest.skip("paperbundle console script not installed beside this python")
    write(tmp_path / "a.pdf", make_paper("A", 2))
    (tmp_path / "lists.toml").write_text(
        '[bundle]\nname = "Demo"\nversion = "v9.9"\ndate = 2024-01-01\n'
        '[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n'
        '[[papers]]\nkey = "gone"\ntitle = "Gone"\nurl = "http://127.0.0.1:9/gone.pdf"\n',
        encoding="utf-8",
    )
    no_gh = tmp_path / "bin"
    no_gh.mkdir()
    for tool in ("sh", "mktemp", "rm", "mkdir", "cat"):
        found = shutil.which(tool)
        if found:
            (no_gh / tool).symlink_to(found)
    env = {
        "PATH": str(no_gh),
        "VERSION": "v9.9",
        "MANIFEST": "lists.toml",
        "DRY_RUN": "1",
        "OUT": "out",
        "BIN": str(bin_dir),
        "BUILD_ARGS": "--keep-going",
        "PAPERBUNDLE_CACHE": str(tmp_path / "cache"),
    }

    def release(**more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(ROOT / "scripts" / "release.sh")],
            cwd=tmp_path,
            env={**env, **more},
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = release()
    assert refused.returncode == 3
    assert "not publishing a partial bundle" in refused.stderr
    assert "lists.toml" in refused.stderr
    assert "+ " not in refused.stdout
    allowed = release(ALLOW_PARTIAL="1")
    assert allowed.returncode == 0, allowed.stderr
    assert "gh) is not on PATH" in allowed.stderr
    commands = [ln for ln in allowed.stdout.splitlines() if ln.startswith("+ ")]
    assert commands[0].startswith("+ 'gh' 'release' 'create' 'v9.9'")
