"""Drawn objects copied as bytes (assemble/rawcopy.py): the syntax it reads, what sends a paper
to pypdf's path instead, and that either way every page of the bundle draws as in its source
and the bundle passes our verify and qpdf --check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from paperbundle.assemble import rawcopy
from paperbundle.cli import main
from paperbundle.pdfio import read_pdf
from tests import measure, rawpdf, readers

FIRST = 1000  # local numbers given to copied objects in these tests

# Everything a tokenizer can trip on, in one /Resources dictionary: a reference split over
# lines, a comment holding a reference, a literal string with nested and escaped parentheses,
# an octal escape and a reference-like text, a hex string.
ODD_RESOURCES = (
    "<< /Font <</F1 7 0 R>> /ExtGState << /G1 8\n0\nR >> % a comment 9 0 R\n"
    "/Properties << /P1 << /Name (a (nested) \\) \\101 1 0 R) /Hex <41 42> >> >> >>"
)


CONTENT = b"/G1 gs BT /F1 24 Tf 72 700 Td (drawn as bytes) Tj ET 0 0 m 300 300 l S"


def _paper(
    tmp: Path,
    name: str,
    resources: str,
    root_extra: str = "",
    page_extra: str = "",
    **more: str | tuple[str, bytes],
) -> Path:
    objs: dict[int, str | tuple[str, bytes]] = {
        1: f"<< /Type /Catalog /Pages 2 0 R {root_extra}>>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>",
        3: f"<< /Type /Page /Parent 2 0 R /Resources {resources} /Contents 5 0 R {page_extra}>>",
        5: ("", CONTENT),
        7: rawpdf.FONT,
        8: "<< /Type /ExtGState /LW 12 >>",
    }
    for num, body in more.items():
        objs[int(num[1:])] = body
    return rawpdf.write(tmp / f"{name}.pdf", objs)


def _plan(pdf: Path) -> rawcopy.DrawnCopy:
    return rawcopy.plan(read_pdf(pdf), [0], FIRST)


def _build(tmp: Path, pdf: Path) -> Path:
    """Build a bundle of ``pdf`` alone; check it with verify and qpdf, and that its one paper
    page draws as the source page does. Returns the bundle."""
    m = measure.manifest(tmp, "raw", [("paper", pdf)])
    out = tmp / "out"
    code = main(["build", str(m), "-o", str(out), "--cache-dir", str(tmp / "c"), "--quiet"])
    assert code == 0
    assert main(["verify", str(out / "h-v1.zip")]) == 0
    bundle = out / "h-v1.pdf"
    readers.require("qpdf")
    assert readers.qpdf_errors(bundle) == []
    readers.require("poppler")
    assert readers.render(bundle, 3, 3, dpi=30) == readers.render(pdf, 1, 1, dpi=30)
    return bundle


def test_odd_syntax_is_copied_exactly(tmp_path: Path) -> None:
    pdf = _paper(tmp_path, "odd", "10 0 R", o10=ODD_RESOURCES)
    copy = _plan(pdf)
    heads = {o.local: o.head for o in copy.objects}
    resources = heads[copy.roots[0]]
    font, gstate = _refs(resources)
    assert b"/Type /Font" in heads[font] and b"/ExtGState" in heads[gstate]
    assert b"%" not in resources and b"9 0 R" not in resources  # the comment is gone
    want = b"a (nested) ) A 1 0 R".hex().encode()
    assert b"/Name <" + want + b">" in resources  # the string, as hex, escapes decoded
    assert b"/Hex <41 42>" in resources
    content = heads[copy.roots[1]]
    assert re.fullmatch(rb"\s*<<\s*/Length %d\s*>>" % len(CONTENT), content)
    assert {o.local for o in copy.objects} == set(range(FIRST, FIRST + len(copy.objects)))
    _build(tmp_path, pdf)


def _refs(head: bytes) -> tuple[int, int]:
    font = re.search(rb"/F1 +(\d+) 0 R", head)
    gstate = re.search(rb"/G1 +(\d+) 0 R", head)
    assert font is not None and gstate is not None
    return int(font.group(1)), int(gstate.group(1))


WRONG_LENGTH = "<< /Length 10 >>\nstream\nBT /F1 24 Tf 72 700 Td (wrong length) Tj ET\nendstream"
FALLBACKS = {
    # A name spelled with # escapes that reads /JS: pypdf's path strips it.
    "escaped-active-name": {
        "resources": "<< /Font << /F1 7 0 R >> /Properties << /P << /#4A#53 (x) >> >> >>"
    },
    # /Length that does not end at endstream: pypdf's path recovers.
    "wrong-length": {"resources": "<< /Font << /F1 7 0 R >> >>", "o5": WRONG_LENGTH},
    # A drawn object that reaches back to its page.
    "reaches-the-page": {"resources": "<< /Font << /F1 7 0 R >> /Properties << /P 3 0 R >> >>"},
    # Layers: their groups are shared with the catalog's /OCProperties.
    "layers": {
        "resources": "<< /Font << /F1 7 0 R >> /Properties << /L 9 0 R >> >>",
        "root_extra": "/OCProperties << /OCGs [9 0 R] /D << /Order [9 0 R] >> >> ",
        "o9": "<< /Type /OCG /Name (layer) >>",
    },
    # A lone R, and an R glued to what follows: references this copier would not read.
    "odd-reference": {"resources": "9 0 R", "o9": "<< /Font << /F1 7 0 R >> /X [1 R] >>"},
    "glued-reference": {"resources": "9 0 R", "o9": "<< /Font << /F1 7 0 R >> /X [8 0 R!] >>"},
    # A reference to an object the file does not have.
    "missing-object": {"resources": "9 0 R", "o9": "<< /Font << /F1 7 0 R >> /X 12 0 R >>"},
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_what_the_copier_does_not_read_takes_pypdfs_path(tmp_path: Path, case: str) -> None:
    args = dict(FALLBACKS[case])
    pdf = _paper(tmp_path, case, args.pop("resources"), args.pop("root_extra", ""), **args)
    with pytest.raises(rawcopy.Unsupported):
        _plan(pdf)
    bundle = _build(tmp_path, pdf)
    if case == "escaped-active-name":
        assert b"/JS" not in bundle.read_bytes()


def test_a_damaged_drawn_stream_refuses_the_paper(tmp_path: Path) -> None:
    garbage = bytes((i * 37 + 11) % 256 for i in range(400))
    pdf = _paper(tmp_path, "damaged", "<< >>", o5=("/Filter /FlateDecode", b"x\x9c" + garbage))
    with pytest.raises(rawcopy.DamagedStream, match="object 5: damaged stream"):
        _plan(pdf)


def _image_paper(tmp: Path, name: str, palette: str, packed: bool) -> Path:
    """A page drawing a 6x1 image whose indexed palette is a literal string of raw bytes."""
    objs: dict[int, str | tuple[str, bytes]] = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>",
        3: "<< /Type /Page /Parent 2 0 R /Resources 10 0 R /Contents 5 0 R >>",
        5: ("", b"q 600 0 0 700 0 0 cm /Im1 Do Q"),
        10: "<< /XObject << /Im1 11 0 R >> >>",
        11: (
            "/Type /XObject /Subtype /Image /Width 6 /Height 1 /BitsPerComponent 8 "
            "/ColorSpace 12 0 R",
            bytes(range(6)),
        ),
    }
    space = f"[/Indexed /DeviceGray 5 ({palette})]"
    if packed:
        return rawpdf.write_packed(tmp / f"{name}.pdf", objs, [(12, space)])
    return rawpdf.write(tmp / f"{name}.pdf", {**objs, 12: space})


@pytest.mark.parametrize("packed", [False, True], ids=["file", "object-stream"])
@pytest.mark.parametrize("palette", ["\x00\r\x66\x99\xcc\xff", "\x00\r\n\x66\x99\xcc\xff\x40"])
def test_raw_line_ends_in_a_string_are_kept(tmp_path: Path, palette: str, packed: bool) -> None:
    """A CR or CRLF typed into a literal string stays those bytes, as viewers read them: the
    palette, and so the image, is unchanged."""
    pdf = _image_paper(tmp_path, "indexed", palette, packed)
    assert len(_plan(pdf).objects) == 4
    _build(tmp_path, pdf)


def test_a_name_spelled_like_a_placeholder_stays_a_name(tmp_path: Path) -> None:
    for spelling in ("/PaperbundleRaw#2E0", "/PaperbundleRaw.0", "/PaperbundleRaw#2E99"):
        tmp = tmp_path / str(len(list(tmp_path.iterdir())))
        tmp.mkdir()
        pdf = _paper(tmp, "tabs", "<< /Font << /F1 7 0 R >> >>", page_extra=f"/Tabs {spelling}")
        _plan(pdf)
        page = PdfReader(_build(tmp, pdf)).pages[2]
        assert page.raw_get("/Tabs").startswith("/PaperbundleRaw"), spelling


def test_a_filter_is_read_where_it_applies(tmp_path: Path) -> None:
    # A /Filter in a dictionary nested in the stream's is not the stream's: this one is plain.
    nested = "/PieceInfo << /X << /Private << /Filter /FlateDecode >> >> >>"
    pdf = _paper(
        tmp_path,
        "nested",
        "<< /Font << /F1 7 0 R >> /ExtGState << /G1 8 0 R >> >>",
        o5=(nested, CONTENT),
    )
    _plan(pdf)
    _build(tmp_path, pdf)
    # A filter spelled with # escapes is still Flate, and checked.
    garbage = b"x\x9c" + bytes((i * 37 + 11) % 256 for i in range(400))
    for entries in ("/Filter /Fl#61teDecode", "/Filt#65r /FlateDecode"):
        bad = _paper(tmp_path, "escaped", "<< >>", o5=(entries, garbage))
        with pytest.raises(rawcopy.DamagedStream):
            _plan(bad)


def test_object_stream_members_are_read_as_viewers_read_them(tmp_path: Path) -> None:
    objs: dict[int, str | tuple[str, bytes]] = {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 612 792] >>",
        3: "<< /Type /Page /Parent 2 0 R /Resources 10 0 R /Contents 5 0 R >>",
        5: ("", CONTENT),
        7: rawpdf.FONT,
    }
    resources = "<< /Font << /F1 7 0 R >> /ExtGState << /G1 8 0 R >> >>"
    thick, thin = "<< /Type /ExtGState /LW 12 >>", "<< /Type /ExtGState /LW 1 >>"
    # A number listed twice: the first copy counts.
    dup = rawpdf.write_packed(tmp_path / "dup.pdf", objs, [(10, resources), (8, thick), (8, thin)])
    _plan(dup)
    (tmp_path / "d").mkdir()
    _build(tmp_path / "d", dup)
    # A member followed by a second value: pypdf's path decides.
    trail = rawpdf.write_packed(tmp_path / "trail.pdf", objs, [(10, resources), (8, thick + thin)])
    with pytest.raises(rawcopy.Unsupported):
        _plan(trail)
