"""With --keep-going, every output tells the same story about a paper left out: the notes list
it as missing and never as added, CONTENTS.md lists it, and verify reports it."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.helpers import PAPERS, PaperServer, build_args, build_papers, manifest_text, run


def test_missing_paper_is_missing_everywhere_and_added_nowhere(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "v0.toml"
    old.write_text(
        manifest_text({"alpha": PAPERS["alpha"]}).replace('version = "v1.0"', 'version = "v0"'),
        encoding="utf-8",
    )
    del paper_server.files["beta.pdf"]  # beta is new since v0, and its server answers 404
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS, extra='previous = "v0.toml"'), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server, "--keep-going"), capsys)
    assert code == 3, err

    notes = (out / "Test-Papers-v1.0-notes.md").read_text(encoding="utf-8")
    missing_part = notes.split("## Missing from this build", 1)[1].split("\n## ", 1)[0]
    assert "`beta`" in missing_part and "http-404" in missing_part
    changes = notes.split("## Changes since v0", 1)[1].split("\n## Assets", 1)[0]
    added = changes.split("### Added (1)", 1)[1].split("\n###", 1)[0]
    assert "Gamma" in added and "Beta" not in added, changes
    assert "v0 → v1.0: 1 added, 0 removed" in changes, changes
    assert "missing from this build, so not counted as added: `beta`" in changes

    with zipfile.ZipFile(out / "Test-Papers-v1.0.zip") as z:
        contents = z.read("CONTENTS.md").decode("utf-8")
    tail = contents.split("## Missing from this build", 1)[1]
    assert f"- `beta` {PAPERS['beta'][0]}" in tail, contents
    assert "`alpha`" not in tail and "`gamma`" not in tail

    code, report, err = run(["verify", str(out / "Test-Papers-v1.0.zip")], capsys)
    assert code == 0, err
    assert "--  1 missing from this build (--keep-going): beta" in report, report


def test_verify_refuses_contents_that_call_a_held_paper_missing(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = build_papers(tmp_path, paper_server, capsys)
    z = out / "Test-Papers-v1.0.zip"
    with zipfile.ZipFile(z) as zf:
        pdf, contents = zf.read("Test-Papers-v1.0.pdf"), zf.read("CONTENTS.md").decode()
    bad = tmp_path / "bad" / "Test-Papers-v1.0.zip"
    bad.parent.mkdir()
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("Test-Papers-v1.0.pdf", pdf)
        zf.writestr("CONTENTS.md", contents + "\n## Missing from this build\n\n- `alpha` A\n")
    code, _, err = run(["verify", str(bad)], capsys)
    assert code == 1 and "CONTENTS.md calls missing what the PDF holds: alpha" in err, err
