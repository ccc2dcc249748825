"""`paperbundle verify` on the bundle PDF alone (the main release asset), and on bundles whose
papers carry authors, affiliation and venue (CONTENTS.md keeps its title column clean)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.helpers import PAPERS, PaperServer, assert_verified, build_args, manifest_text, run


@pytest.fixture
def built(tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]) -> Path:
    m = tmp_path / "m.toml"
    m.write_text(
        manifest_text(
            PAPERS,
            alpha='authors = "Ann A, Bo B, Cy C, Di D"\naffiliation = "Lab | A"\nvenue = "NeurIPS"',
            beta='venue = "ICML 2024"',
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    return out


def test_verify_accepts_a_zip_whose_papers_have_affiliation_and_venue(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(built / "Test-Papers-v1.0.zip") as z:
        contents = z.read("CONTENTS.md").decode("utf-8")
    row = next(line for line in contents.splitlines() if "Alpha" in line and line.startswith("|"))
    # title, then who and where in a muted column of its own (the pipe escaped)
    assert f"| {PAPERS['alpha'][0]} | *Ann A, Bo B, Cy C, Di D · Lab \\| A · NeurIPS* |" in row, row
    code, out, err = run(["verify", str(built / "Test-Papers-v1.0.zip")], capsys)
    assert code == 0, err
    assert_verified(out, built / "Test-Papers-v1.0.pdf", len(PAPERS))


def test_verify_takes_the_pdf_alone_and_checks_its_checksum(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = built / "Test-Papers-v1.0.pdf"
    code, out, err = run(["verify", str(pdf)], capsys)
    assert code == 0, err
    assert "ok  Test-Papers-v1.0.pdf matches Test-Papers-v1.0.sha256" in out
    assert "--  a lone PDF: no CONTENTS.md to compare" in out
    assert_verified(out, pdf, len(PAPERS))

    # downloaded alone, without the .sha256: the PDF checks run and the report says what did not
    alone = tmp_path / "alone" / "Test-Papers-v1.0.pdf"
    alone.parent.mkdir()
    shutil.copy(pdf, alone)
    code, out, err = run(["verify", str(alone)], capsys)
    assert code == 0, err
    assert "--  no Test-Papers-v1.0.sha256 beside the PDF: checksum not checked" in out
    assert_verified(out, alone, len(PAPERS))

    # a PDF that differs from its checksum fails, naming both files
    shutil.copy(built / "Test-Papers-v1.0.sha256", alone.parent)
    alone.write_bytes(pdf.read_bytes() + b"\n% tampered\n")
    code, _, err = run(["verify", str(alone)], capsys)
    assert code == 1
    assert "Test-Papers-v1.0.pdf: sha256 does not match Test-Papers-v1.0.sha256" in err


def test_verify_of_a_lone_pdf_still_catches_a_link_into_another_paper(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, NameObject, NumberObject

    reader = PdfReader(built / "Test-Papers-v1.0.pdf")
    writer = PdfWriter(clone_from=reader)
    last = writer.pages[-1]
    moved = 0
    for page in writer.pages[2:3]:  # alpha's first page: point its first link at the last page
        for a in page.get("/Annots") or []:
            a = a.get_object()
            if a.get("/Subtype") == "/Link" and "/Dest" in a:
                zeros = (NumberObject(0) for _ in range(3))
                a[NameObject("/Dest")] = ArrayObject(
                    [last.indirect_reference, NameObject("/XYZ"), *zeros]
                )
                moved += 1
                break
    assert moved == 1
    bad = tmp_path / "bad.pdf"
    with bad.open("wb") as f:
        writer.write(f)
    code, _, err = run(["verify", str(bad)], capsys)
    assert code == 1 and "link lands in" in err, err
