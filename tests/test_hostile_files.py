"""The hostile corpus (tests/hostile_pdfs.py), small sizes: each file is built beside a good paper
in a subprocess, with and without --keep-going, asserting the exit code, the message, and bounds
on wall time and peak memory; every bundle written must pass our verify and qpdf --check.
The sizes the issue measured (4 GB inflation, 1,000,000 outline items) are in
bench/bench_hostile.py."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import hostile_pdfs as hp
from tests import measure, rawpdf

SECONDS = 30.0  # generous: the machine is shared; every case takes a second or two alone
PEAK_MB = 500.0

needs_qpdf = pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")


def good_paper(tmp: Path) -> Path:
    return rawpdf.write(tmp / "good.pdf", hp._one_page())


def build(tmp: Path, name: str, bad: Path, *more: str) -> measure.Run:
    m = measure.manifest(tmp, name, [("good", good_paper(tmp)), (name, bad)])
    out = tmp / f"out-{name}{'-k' if more else ''}"
    return measure.paperbundle("build", str(m), "-o", str(out), "--quiet", *more)


def assert_bundle_readable(pdf: Path, papers: int) -> None:
    """Our verify accepts it, and so does qpdf --check."""
    v = measure.paperbundle("verify", str(pdf.with_suffix(".zip")))
    assert v.code == 0, v.err
    assert f"{papers} papers" in v.out, v.out
    if shutil.which("qpdf"):
        ok, text = measure.qpdf_check(pdf)
        assert ok, text


# case -> (generator, reason word, what the message names besides the paper)
REFUSED: dict[str, tuple[Callable[[Path], Path], str, str]] = {
    "damaged": (hp.damaged_stream, "damaged", "object 5: damaged stream"),
    "bomb": (hp.inflation_bomb, "too-large", "object 5: inflates past 256 MB"),
    "hugelength": (hp.huge_declared_length, "unreadable", "pypdf cannot read it"),
    "cycles": (hp.page_tree_cycles, "unreadable", "cyclic page references"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_hostile_file_is_left_out_by_name_fast_and_in_bounded_memory(
    tmp_path: Path, case: str
) -> None:
    make, reason, detail = REFUSED[case]
    bad = make(tmp_path / f"{case}.pdf")
    for more, code in (((), 1), (("--keep-going",), 3)):
        r = build(tmp_path, case, bad, *more)
        assert r.code == code, (case, r.code, r.err)
        assert f"{case} ({bad}): {reason}: " in r.err and detail in r.err, r.err
        assert "Traceback" not in r.err, r.err
        assert r.seconds < SECONDS and r.peak_mb < PEAK_MB, (r.seconds, r.peak_mb)
    pdf = tmp_path / f"out-{case}-k" / "h-v1.pdf"
    assert len(PdfReader(pdf).pages) == 2 + 1  # cover, contents, the good paper
    assert_bundle_readable(pdf, 1)


ACCEPTED: dict[str, Callable[[Path], Path]] = {
    "xrefgarbage": hp.xref_garbage,
    "annotcycles": hp.parent_cycle_annots,
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_a_file_pypdf_can_repair_builds_into_a_bundle_we_can_read_back(
    tmp_path: Path, case: str
) -> None:
    bad = ACCEPTED[case](tmp_path / f"{case}.pdf")
    r = build(tmp_path, case, bad)
    assert r.code == 0 and "Traceback" not in r.err, r.err
    assert r.seconds < SECONDS and r.peak_mb < PEAK_MB, (r.seconds, r.peak_mb)
    assert_bundle_readable(tmp_path / f"out-{case}" / "h-v1.pdf", 2)


def _repack(tmp: Path, pdf: bytes, contents: bytes, name: str) -> Path:
    """A release zip of ``pdf`` and ``contents`` in a folder of its own (no checksums beside)."""
    import zipfile

    folder = tmp / name
    folder.mkdir()
    z = folder / "h-v1.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("h-v1.pdf", pdf, compress_type=zipfile.ZIP_STORED)
        zf.writestr("CONTENTS.md", contents, compress_type=zipfile.ZIP_DEFLATED)
    return z


@pytest.fixture
def good_bundle(tmp_path: Path) -> Path:
    m = measure.manifest(tmp_path, "g", [("good", good_paper(tmp_path))])
    r = measure.paperbundle("build", str(m), "-o", str(tmp_path / "g"), "--quiet")
    assert r.code == 0, r.err
    return tmp_path / "g" / "h-v1.zip"


def test_verify_refuses_a_stream_past_the_cap_by_paper_in_bounded_memory(
    tmp_path: Path, good_bundle: Path
) -> None:
    import io
    import zipfile

    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    with zipfile.ZipFile(good_bundle) as zf:
        contents = zf.read("CONTENTS.md")
        writer = PdfWriter(clone_from=io.BytesIO(zf.read("h-v1.pdf")))
    stream = writer.pages[-1]["/Contents"].get_object()  # the good paper's only page
    bomb = hp.inflation_bomb(tmp_path / "b.pdf")
    stream._data = PdfReader(bomb).pages[0]["/Contents"].get_object()._data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    buf = io.BytesIO()
    writer.write(buf)
    z = _repack(tmp_path, buf.getvalue(), contents, "bombed")
    v = measure.paperbundle("verify", str(z))
    assert v.code == 1 and "Traceback" not in v.err, v.err
    assert "(paper good): inflates past 256 MB" in v.err, v.err
    assert v.seconds < SECONDS and v.peak_mb < 300, (v.seconds, v.peak_mb)


def test_verify_never_reads_a_huge_contents_md_whole(tmp_path: Path, good_bundle: Path) -> None:
    import zipfile

    with zipfile.ZipFile(good_bundle) as zf:
        pdf, contents = zf.read("h-v1.pdf"), zf.read("CONTENTS.md")
    z = _repack(tmp_path, pdf, contents + b" " * 40_000_000, "bigcontents")
    v = measure.paperbundle("verify", str(z))
    assert v.code == 1 and "Traceback" not in v.err, v.err
    assert "CONTENTS.md inflates past 16 MB: not read" in v.err, v.err
    assert v.seconds < SECONDS and v.peak_mb < 100, (v.seconds, v.peak_mb)


def _word_boxes(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, word) of every word pdftotext finds on ``page`` (1-based), in
    PDF points from the top left."""
    import re
    import subprocess

    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    pattern = r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<'
    return [(*(float(v) for v in m.groups()[:4]), m.group(5)) for m in re.finditer(pattern, html)]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext is not installed")
@pytest.mark.parametrize("kind", ["words", "one-word"])
def test_a_10000_character_title_stays_on_its_contents_row(tmp_path: Path, kind: str) -> None:
    from paperbundle.frontmatter import C_LEFT, C_RIGHT, PAGE_H

    unit = "Attention " if kind == "words" else "Attention"
    title = (unit * 1100)[:10_000].strip()
    m = measure.manifest(tmp_path, "long", [("long", good_paper(tmp_path))], title=title)
    r = measure.paperbundle("build", str(m), "-o", str(tmp_path / "o"), "--quiet")
    assert r.code == 0 and "Traceback" not in r.err, r.err
    pdf = tmp_path / "o" / "h-v1.pdf"
    assert len(PdfReader(pdf).pages) == 3  # cover, one contents page, the paper
    words = _word_boxes(pdf, 2)
    assert words
    for x0, y0, x1, y1, w in words:
        assert x0 >= C_LEFT - 1 and x1 <= C_RIGHT + 1, (x0, x1, w)
        assert y0 >= 0 and y1 <= PAGE_H, (y0, y1, w)
    lines = {round(y0) for x0, y0, x1, y1, w in words if "Attention" in w or w == "…"}
    assert len(lines) == 3, sorted(lines)  # three title lines, the last cut with "…"
    assert any(w.endswith("…") for *_, w in words), [w for *_, w in words][-5:]
    assert_bundle_readable(pdf, 1)
