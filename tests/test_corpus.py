"""The real papers of ../shared/corpus merged into one bundle (built once per test session).

The papers are downloaded from a real HTTP server on 127.0.0.1 laid out like arXiv
(``/pdf/<id>``) through ``--mirror``; every internal link and outline item of every file that
opens is checked against the original. Skipped cleanly when the corpus is absent.
"""

from __future__ import annotations

import http.server
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from paperbundle.cli import main
from tests import linkcheck as lc
from tests import readers
from tests.helpers import assert_verified

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")

NEEDS_PASSWORD = "libreoffice-writer-password.pdf"


def corpus_files() -> list[Path]:
    files = sorted((CORPUS / "arxiv").glob("*.pdf")) + sorted((CORPUS / "odd").glob("*.pdf"))
    return [f for f in files if f.name != NEEDS_PASSWORD]


def key_for(path: Path) -> str:
    return path.stem.lower().replace("_", "-")


class _CorpusHandler(http.server.SimpleHTTPRequestHandler):
    """/pdf/<arXiv id> -> arxiv/<id>.pdf (as arXiv serves them); /odd/<name> -> odd/<name>."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        if path.startswith("/pdf/"):
            return str(CORPUS / "arxiv" / f"{path[5:]}.pdf")
        return str(CORPUS / path.lstrip("/"))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def corpus_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CorpusHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def corpus_bundle(tmp_path_factory: pytest.TempPathFactory, corpus_server: str) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("corpus")
    lines = ['[bundle]\nname = "Corpus"\nversion = "v1"\n']
    files = corpus_files()
    for f in files:
        if f.parent.name == "arxiv":
            section, url = "arXiv", f"https://arxiv.org/abs/{f.stem}"
        else:
            section, url = "Odd files", f"https://files.example.org/odd/{f.name}"
        lines.append(
            f'[[papers]]\nkey = "{key_for(f)}"\ntitle = "{f.stem}"\nurl = "{url}"\n'
            f'section = "{section}"\n'
        )
    m = tmp / "corpus.toml"
    m.write_text("".join(lines), encoding="utf-8")
    out = tmp / "out"
    code = main(
        [
            "build",
            str(m),
            "-o",
            str(out),
            "--cache-dir",
            str(tmp / "cache"),
            "--quiet",
            "--min-interval",
            "0",
            "--mirror",
            f"https://arxiv.org/={corpus_server}",
            "--mirror",
            f"https://files.example.org/={corpus_server}",
        ]
    )
    assert code == 0
    pdf = out / "Corpus-v1.pdf"
    reader = PdfReader(pdf)
    firsts = {
        name[6:]: reader.get_destination_page_number(d)
        for name, d in reader.named_destinations.items()
        if name.startswith("paper.")
    }
    return {
        "reader": reader,
        "files": files,
        "firsts": firsts,
        "out": out,
        "links": lc.internal_links(reader),
    }


def test_every_internal_link_lands_on_its_page(corpus_bundle: dict[str, Any]) -> None:
    score = lc.Score()
    for f in corpus_bundle["files"]:
        orig = lc.open_reader(f)
        first = corpus_bundle["firsts"][key_for(f)]
        lc.check_links(
            orig, corpus_bundle["links"], first, list(range(len(orig.pages))), score, f.name
        )
    print(f"corpus internal links right: {score.right}/{score.total}")
    assert score.total > 2000
    assert score.wrong == [] and score.stray == []


def _paper_items(reader: PdfReader) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for _title, _page, children in lc.outline_tree(reader)[2:]:  # sections
        for title, page, kids in children:
            items[title] = (page, kids)
    return items


def test_nested_outlines_point_at_the_same_pages(corpus_bundle: dict[str, Any]) -> None:
    reader = corpus_bundle["reader"]
    tree = lc.outline_tree(reader)
    assert [t for t, _, _ in tree] == ["Cover", "Contents", "arXiv", "Odd files"]
    items = _paper_items(reader)
    right = total = 0
    for f in corpus_bundle["files"]:
        orig = lc.open_reader(f)
        first = corpus_bundle["firsts"][key_for(f)]
        page, kids = items[f.stem]
        assert page == first
        want = [
            (d, t, None if p is None else p + first)
            for d, t, p in lc.flatten(lc.outline_tree(orig))
        ]
        want = [w for w in want if w[2] is not None]
        got = lc.flatten(kids)
        total += len(want)
        right += sum(1 for w in want if w in got)
        assert [g for g in got if g[2] is not None] == want, f.name
    print(f"corpus outline items right: {right}/{total}")
    assert total > 200


def test_rotation_annotations_and_forms_survive(corpus_bundle: dict[str, Any]) -> None:
    reader = corpus_bundle["reader"]
    for f in corpus_bundle["files"]:
        orig = lc.open_reader(f)
        first = corpus_bundle["firsts"][key_for(f)]
        for i, page in enumerate(orig.pages):
            mine = reader.pages[first + i]
            assert mine.rotation == page.rotation, (f.name, i)
            kinds = Counter(str(a.get_object().get("/Subtype")) for a in page.get("/Annots") or [])
            kinds_after = Counter(
                str(a.get_object().get("/Subtype")) for a in mine.get("/Annots") or []
            )
            for kind in ("/Highlight", "/Popup", "/Text", "/Ink", "/FreeText", "/Widget"):
                assert kinds_after[kind] == kinds[kind], (f.name, i, kind)
    assert any(
        reader.pages[corpus_bundle["firsts"]["habibi-rotated"] + i].rotation for i in range(4)
    )
    fields = reader.get_fields() or {}
    for name in fields:
        if "." in name:
            assert name.split(".")[0] in corpus_bundle["firsts"], name
    form_keys = {n.split(".")[0] for n in fields if "." in n}
    assert {"libreoffice-form", "pdflatex-forms"} <= form_keys


def test_encrypted_inputs_merge(corpus_bundle: dict[str, Any]) -> None:
    firsts = corpus_bundle["firsts"]
    reader = corpus_bundle["reader"]
    for key, pages in (("encrypted-empty-password-aes256", 9), ("encrypted-empty-password-rc4", 4)):
        assert key in firsts
        orig = lc.open_reader(CORPUS / "odd" / f"{key}.pdf")
        assert len(orig.pages) == pages
        text = reader.pages[firsts[key]].extract_text()
        assert text == orig.pages[0].extract_text()
        assert len(text) > 50, key


def test_file_needing_a_password_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "x"\nversion = "v1"\n[[papers]]\nkey = "locked"\ntitle = "Locked"\n'
        f'path = "{CORPUS / "odd" / NEEDS_PASSWORD}"\n',
        encoding="utf-8",
    )
    code = main(
        ["build", str(m), "-o", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c"), "--quiet"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "locked (" in err and "encrypted" in err and "password" in err
    assert "Traceback" not in err


def test_verify_accepts_the_corpus_bundle(
    corpus_bundle: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", str(corpus_bundle["out"] / "Corpus-v1.zip")])
    out = capsys.readouterr()
    assert code == 0, out.err
    pdf = corpus_bundle["out"] / "Corpus-v1.pdf"
    assert_verified(out.out, pdf, len(corpus_bundle["files"]))
    assert "ok  Corpus-v1.zip matches Corpus-v1.sha256" in out.out, out.out


def test_sigterm_cleans_up_like_ctrl_c(tmp_path: Path) -> None:
    """A build terminated while it writes leaves no staging folder and no output."""
    import os
    import signal
    import subprocess
    import sys
    import time

    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "T"\nversion = "v1"\n'
        + "".join(
            f'[[papers]]\nkey = "p{i}"\ntitle = "{f.stem}"\npath = "{f}"\n'
            for i, f in enumerate(sorted((CORPUS / "arxiv").glob("*.pdf")))
        )
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from paperbundle.cli import main_entry; main_entry()",
            "build",
            str(m),
            "-o",
            str(out),
            "--cache-dir",
            str(tmp_path / "c"),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".staging-*")):  # the build has started writing
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the build finished before the signal arrived")
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    left = {f.name for f in out.iterdir()} - {".paperbundle.lock"}
    # no staging left; the release is published whole (the signal came while the files were
    # moved into place, which an interrupt waits for) or not at all
    assert left in (set(), {"T-v1.pdf", "T-v1.zip", "T-v1.sha256", "T-v1-notes.md"}), left


def test_readers_we_did_not_write_agree(corpus_bundle: dict[str, Any]) -> None:
    """qpdf finds no error; MuPDF and pdf.js see every outline item, internal link, URI and page
    label where pypdf sees it (and pypdf's reading is checked against the originals above)."""
    seen = readers.assert_readers_agree(corpus_bundle["out"] / "Corpus-v1.pdf")
    assert sum(seen.links.values()) > 2000 and len(seen.outline) > 200


def test_every_page_draws_as_in_its_source(corpus_bundle: dict[str, Any]) -> None:
    """What a page draws (its content and resources, copied as bytes or through pypdf) is what
    poppler draws for the same page of the source, pixel for pixel (annotations hidden)."""
    readers.require("poppler")
    bundle = corpus_bundle["out"] / "Corpus-v1.pdf"
    compared = 0
    for f in corpus_bundle["files"]:
        n = len(lc.open_reader(f).pages)
        first = corpus_bundle["firsts"][key_for(f)] + 1
        last = min(n, 3)
        source = readers.render(f, 1, last)
        if f.name.startswith("encrypted-"):  # poppler opens these with the empty password
            assert source, f.name
        assert readers.render(bundle, first, first + last - 1) == source, f.name
        compared += last
    assert compared > 40
