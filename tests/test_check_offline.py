"""`paperbundle check` sees without the network what would make the build fail: local files that
are no PDF or need a password, `pages` beyond a local file's end, and paper URLs literally on a
loopback, private or link-local address. Each is a manifest problem: exit 2, naming the key path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from tests.helpers import run
from tests.pdfs import make_paper


def _encrypted(pages: int) -> bytes:
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(make_paper("Locked", pages))))
    w.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def _paper(key: str, line: str) -> str:
    return f'[[papers]]\nkey = "{key}"\ntitle = "{key}"\n{line}\n'


def test_check_reports_what_the_build_would_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "locked.pdf").write_bytes(_encrypted(2))
    (tmp_path / "page.html").write_text("<html>not a paper</html>")
    (tmp_path / "three.pdf").write_bytes(make_paper("Three", 3))
    m = tmp_path / "m.toml"
    m.write_text(
        'bundle = { name = "c", version = "v1" }\n'
        + _paper("locked", 'path = "locked.pdf"')
        + _paper("html", 'path = "page.html"')
        + _paper("short", 'path = "three.pdf"\npages = "2-5"')
        + _paper("fine", 'path = "three.pdf"\npages = "1,3"')
        + _paper("loop", 'url = "http://127.0.0.1:8000/x.pdf"')
        + _paper("loop6", 'url = "http://[::1]/x.pdf"')
        + _paper("lan", 'url = "https://192.168.1.2/x.pdf"')
        + _paper("link", 'url = "https://169.254.169.254/latest"')
        + _paper("public", 'url = "https://93.184.215.14/x.pdf"')
        + _paper("named", 'url = "https://arxiv.org/abs/1706.03762"'),
        encoding="utf-8",
    )
    code, _, err = run(["check", str(m)], capsys)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith(str(m))]
    assert lines == [
        f"{m}: papers[0].path: locked.pdf: the PDF needs a password (the empty one failed)",
        f"{m}: papers[1].path: page.html is not a PDF (no %PDF- header)",
        f"{m}: papers[2].pages: pages 2-5 outside the file's 3 pages",
        f"{m}: papers[4].url: 127.0.0.1 is a loopback address; only a --mirror may point there",
        f"{m}: papers[5].url: ::1 is a loopback address; only a --mirror may point there",
        f"{m}: papers[6].url: 192.168.1.2 is a private address; only a --mirror may point there",
        f"{m}: papers[7].url: 169.254.169.254 is a link-local address; only a --mirror may "
        "point there",
    ], err
    assert "not a paper" not in err  # a local file's bytes are never quoted


def test_a_mirror_may_serve_a_loopback_url_and_the_build_keeps_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "three.pdf").write_bytes(make_paper("Three", 3))
    m = tmp_path / "m.toml"
    m.write_text(
        'bundle = { name = "c", version = "v1" }\n'
        + _paper("loop", 'url = "http://127.0.0.1:8000/x.pdf"')
        + _paper("ok", 'path = "three.pdf"'),
        encoding="utf-8",
    )
    mirror = ["--mirror", "http://127.0.0.1:8000/=http://127.0.0.1:9/"]
    code, _, err = run(["check", str(m), *mirror], capsys)
    assert code == 0, err
    # without the mirror, check says exit 2; build finds the same refusal at download time: exit 1
    code, _, err = run(["check", str(m)], capsys)
    assert code == 2 and "papers[0].url" in err
    out = tmp_path / "out"
    code, _, err = run(
        ["build", str(m), "-o", str(out), "--cache-dir", str(tmp_path / "c")], capsys
    )
    assert code == 1, err
    assert "loop (http://127.0.0.1:8000/x.pdf): refused-address" in err, err
