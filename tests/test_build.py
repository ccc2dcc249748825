"""End to end: `paperbundle build` through the CLI against a real HTTP server on 127.0.0.1.

Every build is read back with pypdf: pages, outline, labels, links, metadata, zip, checksums.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import BooleanObject

from tests import linkcheck as lc
from tests.helpers import HOST, PAPERS, PaperServer, build_args, manifest_text, run
from tests.pdfs import make_active_paper, make_paper, write


@pytest.fixture
def built(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    out, cache = tmp_path / "out", tmp_path / "cache"
    code, stdout, err = run(build_args(m, out, cache, paper_server, "--json"), capsys)
    assert code == 0, err
    return {
        "manifest": m,
        "out": out,
        "cache": cache,
        "summary": json.loads(stdout),
        "server": paper_server,
    }


def test_build_end_to_end(built: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    out: Path = built["out"]
    srv: PaperServer = built["server"]
    assert sorted(p.name for p in out.iterdir()) == [
        ".paperbundle-stamp.json",  # what the next build compares with (no-op rebuilds)
        ".paperbundle.lock",  # one build at a time into this folder
        "Test-Papers-v1.0-notes.md",
        "Test-Papers-v1.0.pdf",
        "Test-Papers-v1.0.sha256",
        "Test-Papers-v1.0.zip",
    ]
    pdf = out / "Test-Papers-v1.0.pdf"
    r = PdfReader(pdf)
    paper_pages = sum(p for _, p, _ in PAPERS.values())
    front = len(r.pages) - paper_pages
    assert front == 2  # the cover and one contents page, then exactly the papers' pages
    assert built["summary"]["pages"] == paper_pages

    # bundle order: sections in order of first appearance, manifest order inside
    order = ["alpha", "gamma", "beta"]
    firsts = {}
    page = front
    for key in order:
        firsts[key] = page
        page += PAPERS[key][1]

    # outline: Cover, Contents, sections holding papers holding their own outline
    tree = lc.outline_tree(r)
    assert [(t, p) for t, p, _ in tree] == [
        ("Cover", 0),
        ("Contents", 1),
        ("Attention", firsts["alpha"]),
        ("Serving", firsts["beta"]),
    ]
    attention = tree[2][2]
    assert [(t, p) for t, p, _ in attention] == [
        (PAPERS["alpha"][0], firsts["alpha"]),
        (" ".join(PAPERS["gamma"][0].split()), firsts["gamma"]),
    ]
    alpha_children = [(t, p) for _, t, p in lc.flatten(attention[0][2])]
    assert alpha_children[:2] == [("1 Section 1", firsts["alpha"]), ("1.1 Detail", firsts["alpha"])]
    assert alpha_children[-1] == ("References", firsts["alpha"] + 3)

    # viewer settings, labels, named destinations, metadata
    root = r.trailer["/Root"]
    assert root["/PageMode"] == "/UseOutlines"
    display_title = root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert isinstance(display_title, BooleanObject) and display_title.value is True
    labels = r.page_labels
    assert labels[:2] == ["i", "ii"]
    assert labels[front : front + 3] == ["1", "2", "3"]
    assert labels[-1] == str(paper_pages)
    nd = r.named_destinations
    for key in order:
        dest = nd[f"paper.{key}"]
        assert r.get_destination_page_number(dest) == firsts[key]
    meta = r.metadata
    assert meta["/Title"] == "Test Papers v1.0"
    assert meta["/Author"] == "The Tests"
    assert "Alpha" in meta["/Keywords"]
    assert meta["/Creator"].startswith("paperbundle")
    assert meta["/CreationDate"].startswith("D:20240501")

    # the contents show the papers' page labels, which are what a viewer's "go to page" uses
    contents_text = r.pages[1].extract_text()
    for key in order:
        label = labels[firsts[key]]
        assert re.search(rf" {label}$", contents_text, re.M), (key, label)
    # every contents row links to its paper's first page
    links = lc.internal_links(r)
    front_targets = sorted(t for pg in links[:front] for _, t in pg)
    assert front_targets == sorted(firsts.values())
    # every paper link lands on the same page of the same paper
    score = lc.Score()
    for key in order:
        orig = PdfReader(io.BytesIO(srv.files[f"{key}.pdf"]))
        lc.check_links(orig, links, firsts[key], list(range(PAPERS[key][1])), score, key)
    assert score.total > 10 and score.wrong == [] and score.stray == []
    # external links survive
    uris = {u for pg in lc.uri_links(r) for u in pg}
    assert "https://example.org/Alpha:-Attention-Everywhere" in uris
    assert "https://github.com/example/alpha" in uris  # code link on the contents page

    # zip, checksums
    with zipfile.ZipFile(out / "Test-Papers-v1.0.zip") as zf:
        assert zf.namelist() == ["Test-Papers-v1.0.pdf", "CONTENTS.md"]
        assert zf.read("Test-Papers-v1.0.pdf") == pdf.read_bytes()
        contents = zf.read("CONTENTS.md").decode()
        assert "Alpha: Attention Everywhere" in contents
    check = subprocess.run(
        ["sha256sum", "-c", "Test-Papers-v1.0.sha256"], cwd=out, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Test-Papers-v1.0.zip: OK" in check.stdout
    notes = (out / "Test-Papers-v1.0-notes.md").read_text()
    assert "3 papers, 12 pages" in notes
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() in notes
    assert "paperbundle verify Test-Papers-v1.0.zip" in notes


def test_second_build_sends_no_request(
    built: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    srv: PaperServer = built["server"]
    assert len(srv.hits) == 3
    out2 = built["out"].parent / "out2"
    code, _, err = run(build_args(built["manifest"], out2, built["cache"], srv), capsys)
    assert code == 0, err
    assert len(srv.hits) == 3
    # and --offline works from the cache alone
    code, _, err = run(
        build_args(built["manifest"], out2, built["cache"], srv, "--offline"), capsys
    )
    assert code == 0, err


# Loaded by the second build's interpreter (PYTHONPATH): its clock runs three years and a bit
# ahead, so anything that reads the clock into an output would change the bytes.
CLOCK_SHIFT = """
import datetime as _dt, time as _time
_SHIFT = 3 * 365 * 86400 + 12345.678
_real_time, _real_ns = _time.time, _time.time_ns
_time.time = lambda: _real_time() + _SHIFT
_time.time_ns = lambda: _real_ns() + int(_SHIFT * 1e9)
_lt, _gt = _time.localtime, _time.gmtime
_time.localtime = lambda s=None: _lt(_time.time() if s is None else s)
_time.gmtime = lambda s=None: _gt(_time.time() if s is None else s)
class _DT(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.fromtimestamp(_time.time(), tz)
    @classmethod
    def utcnow(cls):
        return _dt.datetime.fromtimestamp(_time.time(), _dt.timezone.utc).replace(tzinfo=None)
    @classmethod
    def today(cls):
        return cls.now()
class _D(_dt.date):
    @classmethod
    def today(cls):
        return _dt.date.fromtimestamp(_time.time())
_dt.datetime, _dt.date = _DT, _D
"""


def test_reproducible(built: dict[str, Any], tmp_path: Path) -> None:
    """Another day, another folder, another time zone: the same bytes."""
    out2 = tmp_path / "elsewhere" / "out"
    shift = tmp_path / "clockshift"
    shift.mkdir()
    (shift / "sitecustomize.py").write_text(CLOCK_SHIFT)
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import datetime, time; print(datetime.date.today().year, time.gmtime().tm_year)",
        ],
        env={**os.environ, "PYTHONPATH": str(shift)},
        capture_output=True,
        text=True,
    )
    import datetime as dt

    years = [int(y) for y in check.stdout.split()]
    assert len(years) == 2 and min(years) >= dt.date.today().year + 2, check
    env = {
        **os.environ,
        "TZ": "Pacific/Kiritimati",
        "PAPERBUNDLE_MIRROR": built["server"].mirror,
        "PYTHONPATH": str(shift),
    }
    env.pop("SOURCE_DATE_EPOCH", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "paperbundle",
            "build",
            str(built["manifest"]),
            "-o",
            str(out2),
            "--cache-dir",
            str(built["cache"]),
            "--offline",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ("Test-Papers-v1.0.pdf", "Test-Papers-v1.0.zip", "Test-Papers-v1.0.sha256"):
        assert (out2 / name).read_bytes() == (built["out"] / name).read_bytes(), name
    with zipfile.ZipFile(out2 / "Test-Papers-v1.0.zip") as zf:
        for info in zf.infolist():
            assert info.date_time == (2024, 5, 1, 0, 0, 0)
            assert (info.external_attr >> 16) & 0o777 == 0o644


def test_verify(built: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    z = built["out"] / "Test-Papers-v1.0.zip"
    code, out, err = run(["verify", str(z)], capsys)
    assert code == 0, err
    assert "internal links land inside their own paper" in out
    # tamper: a different PDF inside the zip, checksums left as they were
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Test-Papers-v1.0.sha256").write_bytes(
        (built["out"] / "Test-Papers-v1.0.sha256").read_bytes()
    )
    with zipfile.ZipFile(z) as zf, zipfile.ZipFile(bad / z.name, "w") as out_zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename.endswith(".pdf"):
                data = data.replace(b"/PageMode /UseOutlines", b"/PageMode /UseNone     ")
            out_zf.writestr(info, data)
    code, _, err = run(["verify", str(bad / z.name)], capsys)
    assert code == 1
    assert "sha256 does not match" in err


def test_failures_name_every_paper(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    paper_server.files["beta.pdf"] = b"<html><body>Just a moment...</body></html>"
    paper_server.files["gamma.pdf"] = b"%PDF-1.7\n" + b"garbage " * 300 + b"\n%%EOF\n"
    del paper_server.files["alpha.pdf"]
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    code, _, err = run(build_args(m, tmp_path / "out", tmp_path / "c", paper_server), capsys)
    assert code == 1
    assert "3 papers failed" in err
    assert f"alpha ({HOST}alpha.pdf): http-404" in err
    assert f"beta ({HOST}beta.pdf): html" in err
    assert f"gamma ({HOST}gamma.pdf): " in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "Test-Papers-v1.0.pdf").exists()


def test_keep_going(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    del paper_server.files["beta.pdf"]
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server, "--keep-going"), capsys)
    assert code == 3, err
    assert "beta" in err and "http-404" in err
    r = PdfReader(out / "Test-Papers-v1.0.pdf")
    # cover and one contents page, then alpha (4 pages) and gamma (5): beta is left out
    assert len(r.pages) == 2 + 4 + 5
    assert r.page_labels[:3] == ["i", "ii", "1"] and r.page_labels[-1] == "9"
    assert [o.title for o in r.outline if not isinstance(o, list)][:2] == ["Cover", "Contents"]
    notes = (out / "Test-Papers-v1.0-notes.md").read_text()
    assert "Missing from this build" in notes and "`beta`" in notes
    # --keep-going with nothing missing is a plain success
    paper_server.files["beta.pdf"] = make_paper("Beta", 3)
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server, "--keep-going"), capsys)
    assert code == 0, err
    assert "Missing from this build" not in (out / "Test-Papers-v1.0-notes.md").read_text()


def test_active_content_never_reaches_the_bundle(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    paper_server.files["alpha.pdf"] = make_active_paper("Alpha")
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    raw = (out / "Test-Papers-v1.0.pdf").read_bytes()
    r = PdfReader(out / "Test-Papers-v1.0.pdf")
    root = r.trailer["/Root"]
    assert "/OpenAction" not in root and "/AA" not in root
    assert "/JavaScript" not in root["/Names"] and "/EmbeddedFiles" not in root["/Names"]
    for page in r.pages:
        assert "/AA" not in page
        for a in page.get("/Annots") or []:
            a = a.get_object()
            assert a.get("/Subtype") != "/FileAttachment"
            assert "/AA" not in a
            act = a.get("/A")
            if act is not None:
                act = act.get_object()
                assert act["/S"] in ("/URI", "/GoTo", "/Named"), act
                assert "/Next" not in act
    for needle in (b"/JavaScript", b"/Launch", b"calc.exe", b"/EmbeddedFile", b"/JS "):
        assert needle not in raw, needle
    # what is harmless stays: the note and the explicit link to page 1 of the paper
    alpha_first = len(r.pages) - 2 - 3 - 5
    second = r.pages[alpha_first + 1]
    kinds = [a.get_object()["/Subtype"] for a in second["/Annots"]]
    assert "/Text" in kinds
    links = lc.internal_links(r)[alpha_first + 1]
    assert alpha_first in [t for _, t in links]


def test_pages_selection_drops_links_into_dropped_pages(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    # alpha: keep pages 1-2 of 4; its citations point at page 4 (dropped)
    m.write_text(manifest_text(PAPERS, alpha='pages = "1-2"'), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    r = PdfReader(out / "Test-Papers-v1.0.pdf")
    total = 2 + 5 + 3
    front = len(r.pages) - total
    links = lc.internal_links(r)
    for pg in (front, front + 1):
        for _, t in links[pg]:
            assert t is not None and front <= t <= front + 1
    orig = PdfReader(io.BytesIO(paper_server.files["alpha.pdf"]))
    score = lc.Score()
    lc.check_links(orig, links, front, [0, 1], score, "alpha")
    assert score.wrong == [] and score.stray == [] and score.total >= 4
    tree = lc.outline_tree(r)
    alpha = tree[2][2][0]
    titles = [t for _, t, _ in lc.flatten(alpha[2])]
    assert "References" not in titles and "1 Section 1" in titles
    for _, _, p in lc.flatten(alpha[2]):
        assert front <= p <= front + 1


def test_pages_out_of_range_is_an_error(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS, beta='pages = "2-9"'), encoding="utf-8")
    code, _, err = run(build_args(m, tmp_path / "out", tmp_path / "c", paper_server), capsys)
    assert code == 1
    assert f"beta ({HOST}beta.pdf): pages: pages 2-9 outside the file's 3 pages" in err


def test_split_into_volumes_under_the_asset_limit(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, (title, pages, _) in PAPERS.items():
        paper_server.files[f"{key}.pdf"] = make_paper(title, pages, padding=150_000)
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    out = tmp_path / "out"
    limit = 420_000
    code, stdout, err = run(
        build_args(m, out, tmp_path / "c", paper_server, "--max-asset-size", "420K", "--json"),
        capsys,
    )
    assert code == 0, err
    summary = json.loads(stdout)
    vols = summary["volumes"]
    assert len(vols) >= 2
    assert [k for v in vols for k in v["papers"]] == ["alpha", "gamma", "beta"]
    names = sorted(p.name for p in out.iterdir())
    assert "Test-Papers-v1.0.pdf" not in names
    for p in out.iterdir():
        assert p.stat().st_size <= limit, p.name
    sums = (out / "Test-Papers-v1.0.sha256").read_text()
    for i, v in enumerate(vols, 1):
        pdf = Path(v["pdf"])
        assert pdf.name == f"Test-Papers-v1.0-part{i}.pdf"
        assert f"  {pdf.name}\n" in sums and f"  Test-Papers-v1.0-part{i}.zip\n" in sums
        r = PdfReader(pdf)
        tree = lc.outline_tree(r)
        assert [t for t, _, _ in tree][:2] == ["Cover", "Contents"]
        paper_titles = [
            t for _, t, _ in lc.flatten(tree) if t.startswith(("Alpha", "Beta", "Gamma"))
        ]
        assert len(paper_titles) == len(v["papers"])
        assert f"Volume {i} of {len(vols)}" in r.pages[0].extract_text()
        code, _, err = run(["verify", str(Path(v["zip"]))], capsys)
        assert code == 0, err
    check = subprocess.run(
        ["sha256sum", "-c", "Test-Papers-v1.0.sha256"], cwd=out, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    notes = (out / "Test-Papers-v1.0-notes.md").read_text()
    assert f"in {len(vols)} volumes" in notes
    assert "volume 2, p. 1" in notes
    for i in range(1, len(vols) + 1):
        assert f"paperbundle verify Test-Papers-v1.0-part{i}.zip" in notes
    # a stale staging folder of a killed build is cleaned up by the next build
    stale = out / ".staging-999999999-x"
    stale.mkdir()
    (stale / "junk.part").write_bytes(b"x")
    code, _, err = run(
        build_args(m, out, tmp_path / "c", paper_server, "--max-asset-size", "420K"), capsys
    )
    assert code == 0, err
    assert not stale.exists()
    assert not list(out.glob(".staging-*"))


def test_a_paper_bigger_than_the_asset_limit_is_an_error(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    paper_server.files["beta.pdf"] = make_paper("Beta", 3, padding=300_000)
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    code, _, err = run(
        build_args(m, tmp_path / "out", tmp_path / "c", paper_server, "--max-asset-size", "200K"),
        capsys,
    )
    assert code == 1
    assert f"paper beta ({HOST}beta.pdf)" in err and "--max-asset-size" in err
    assert not list((tmp_path / "out").glob("*.pdf"))


def test_no_date_means_no_timestamps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    write(tmp_path / "a.pdf", make_paper("A", 2))
    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "N"\nversion = "v1"\n[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n'
    )
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 0, err
    r = PdfReader(tmp_path / "o" / "N-v1.pdf")
    assert "/CreationDate" not in r.metadata and "/ModDate" not in r.metadata
    with zipfile.ZipFile(tmp_path / "o" / "N-v1.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    # SOURCE_DATE_EPOCH fixes them when the manifest has no date
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o2"), "--quiet"], capsys)
    assert code == 0, err
    r = PdfReader(tmp_path / "o2" / "N-v1.pdf")
    assert r.metadata["/CreationDate"].startswith("D:20231114")
    with zipfile.ZipFile(tmp_path / "o2" / "N-v1.zip") as zf:
        assert {i.date_time for i in zf.infolist()} == {(2023, 11, 14, 0, 0, 0)}


def _rerelease(src_zip: Path, pdf_bytes: bytes, where: Path) -> Path:
    """A release with ``pdf_bytes`` as its PDF and checksums that match: only verify's own
    checks of the PDF can catch what is wrong with it."""
    where.mkdir(parents=True)
    name = src_zip.stem
    pdf = where / f"{name}.pdf"
    pdf.write_bytes(pdf_bytes)
    z = where / src_zip.name
    with zipfile.ZipFile(src_zip) as zin, zipfile.ZipFile(z, "w") as zout:
        zout.writestr(f"{name}.pdf", pdf_bytes)
        zout.writestr("CONTENTS.md", zin.read("CONTENTS.md"))
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in (pdf, z))
    (where / f"{name}.sha256").write_text(sums)
    return z


def _mutated(pdf: Path, change: Any) -> bytes:
    from pypdf import PdfWriter

    w = PdfWriter(clone_from=PdfReader(pdf))
    change(w)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def test_verify_catches_wrong_links_outline_and_corruption(
    built: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    z = built["out"] / "Test-Papers-v1.0.zip"
    pdf = built["out"] / "Test-Papers-v1.0.pdf"
    r = PdfReader(pdf)
    firsts = sorted(
        r.get_destination_page_number(d)
        for k, d in r.named_destinations.items()
        if k.startswith("paper.")
    )

    def swap_contents_rows(w: Any) -> None:
        links = [
            a.get_object()
            for i in range(firsts[0])
            for a in w.pages[i].get("/Annots") or []
            if "/Dest" in a.get_object()
        ]
        links[0][NameObject("/Dest")], links[1][NameObject("/Dest")] = (
            links[1]["/Dest"],
            links[0]["/Dest"],
        )

    def outline_into_last_paper(w: Any) -> None:
        last = w.pages[len(w.pages) - 1].indirect_reference

        def walk(node: Any, depth: int) -> None:
            while node is not None:
                n = node.get_object()
                if depth >= 2 and "/Dest" in n:
                    n[NameObject("/Dest")] = ArrayObject([last, NameObject("/Fit")])
                if "/First" in n:
                    walk(n["/First"], depth + 1)
                node = n.get("/Next")

        walk(w._root_object["/Outlines"]["/First"], 0)

    def citation_into_next_paper(w: Any) -> None:
        for a in w.pages[firsts[0]]["/Annots"]:
            a = a.get_object()
            if "/Dest" in a:
                a[NameObject("/Dest")] = ArrayObject(
                    [w.pages[firsts[1]].indirect_reference, NameObject("/Fit")]
                )
                return

    def widget_into_next_paper(w: Any) -> None:
        page = w.pages[firsts[0]]
        widget = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
                NameObject("/A"): DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/GoTo"),
                        NameObject("/D"): ArrayObject(
                            [w.pages[firsts[1]].indirect_reference, NameObject("/Fit")]
                        ),
                    }
                ),
            }
        )
        page["/Annots"].append(w._add_object(widget))

    def stray_item_under_a_section(w: Any) -> None:
        section = w._root_object["/Outlines"]["/First"]["/Next"]["/Next"].get_object()
        last = section["/Last"].get_object()
        item = DictionaryObject(
            {
                NameObject("/Title"): TextStringObject("Stray"),
                NameObject("/Parent"): section.indirect_reference,
                NameObject("/Prev"): last.indirect_reference,
                NameObject("/Dest"): ArrayObject(
                    [w.pages[len(w.pages) - 1].indirect_reference, NameObject("/Fit")]
                ),
            }
        )
        ref = w._add_object(item)
        last[NameObject("/Next")] = ref
        section[NameObject("/Last")] = ref

    def open_action(w: Any) -> None:
        w._root_object[NameObject("/OpenAction")] = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }
        )

    def javascript_uri(w: Any) -> None:
        for page in w.pages:
            for a in page.get("/Annots") or []:
                act = a.get_object().get("/A")
                if act is not None and act.get_object().get("/S") == "/URI":
                    act.get_object()[NameObject("/URI")] = TextStringObject("javascript:x()")
                    return

    cases = {
        "widget": (_mutated(pdf, widget_into_next_paper), "link lands in"),
        "section": (_mutated(pdf, stray_item_under_a_section), "'Stray'"),
        "openaction": (_mutated(pdf, open_action), "active content: open action"),
        "jsuri": (_mutated(pdf, javascript_uri), "active content: URI action to javascript:"),
        "contents": (_mutated(pdf, swap_contents_rows), "contents rows do not link"),
        "outline": (_mutated(pdf, outline_into_last_paper), "outline item"),
        "citation": (_mutated(pdf, citation_into_next_paper), "link lands in"),
    }
    raw = pdf.read_bytes()
    # 3000 bytes zeroed from the object that starts nearest the middle (the middle itself may
    # fall inside a compressed stream, where zeros can still inflate to something)
    mid = raw.index(b" 0 obj", len(raw) // 2)
    mid = raw.rindex(b"\n", 0, mid) + 1
    cases["corrupt"] = (
        raw[:mid] + b"\0" * 3000 + raw[mid + 3000 :],
        "does not read back cleanly",
    )
    for name, (data, expected) in cases.items():
        bad = _rerelease(z, data, tmp_path / name)
        code, _, err = run(["verify", str(bad)], capsys)
        assert code == 1, (name, err)
        assert expected in err, (name, err)
    # and the untouched bundle, re-released the same way, passes
    good = _rerelease(z, raw, tmp_path / "good")
    code, out, err = run(["verify", str(good)], capsys)
    assert code == 0, err
    assert "contents rows link to their papers, in order" in out


def test_notes_escape_markdown_and_group_the_rest_under_other(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    papers = dict(PAPERS)
    papers["beta"] = ("Beta: [not a link](http://evil.example) *not bold* | <b>pipe</b>", 3, "")
    text = manifest_text(papers).replace('section = ""\n', "")
    text = text.replace(
        'subtitle = "Papers for the test suite · 测试论文"', 'subtitle = "see [me](http://x)"'
    )
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    notes = (out / "Test-Papers-v1.0-notes.md").read_text()
    assert "see \\[me\\](http://x)" in notes and "](http://x)" not in notes.replace("\\](", "")
    assert "\\[not a link\\](http://evil.example) \\*not bold\\* \\| \\<b\\>pipe\\</b\\>" in notes
    assert notes.index("### Attention") < notes.index("### Other") < notes.index("Beta")
    with zipfile.ZipFile(out / "Test-Papers-v1.0.zip") as zf:
        contents = zf.read("CONTENTS.md").decode()
    assert "## Other" in contents and "\\| \\<b\\>pipe" in contents
    code, _, err = run(["verify", str(out / "Test-Papers-v1.0.zip")], capsys)
    assert code == 0, err


def test_verify_a_zip_downloaded_alone(
    built: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    alone = tmp_path / "downloads"
    alone.mkdir()
    z = alone / "Test-Papers-v1.0.zip"
    z.write_bytes((built["out"] / z.name).read_bytes())
    code, out, err = run(["verify", str(z)], capsys)
    assert code == 0, err
    assert "checksums not checked" in out and "internal links land inside" in out


@pytest.mark.parametrize("epoch", ["1700000000", "garbage"])
def test_manifest_date_wins_over_source_date_epoch(
    built: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    epoch: str,
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    out2 = tmp_path / "out2"
    args = build_args(built["manifest"], out2, built["cache"], built["server"], "--offline")
    code, _, err = run(args, capsys)
    assert code == 0, err
    for name in ("Test-Papers-v1.0.pdf", "Test-Papers-v1.0.zip"):
        assert (out2 / name).read_bytes() == (built["out"] / name).read_bytes(), name


def test_bad_source_date_epoch_without_a_manifest_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "a.pdf", make_paper("A", 1))
    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "N"\nversion = "v1"\n[[papers]]\nkey = "a"\ntitle = "A"\npath = "a.pdf"\n'
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = run(["build", str(m), "-o", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 2 and "SOURCE_DATE_EPOCH='yesterday'" in err and "Traceback" not in err


def test_verify_a_renamed_download(
    built: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    d = tmp_path / "dl"
    d.mkdir()
    (d / "Test-Papers-v1.0 (1).zip").write_bytes(
        (built["out"] / "Test-Papers-v1.0.zip").read_bytes()
    )
    (d / "Test-Papers-v1.0.sha256").write_bytes(
        (built["out"] / "Test-Papers-v1.0.sha256").read_bytes()
    )
    code, out, err = run(["verify", str(d / "Test-Papers-v1.0 (1).zip")], capsys)
    assert code == 0, err
    assert "matches Test-Papers-v1.0.sha256" in out
