"""Helpers shared by the end-to-end tests: a paper server, manifests, running the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from paperbundle.cli import main

HOST = "https://papers.example.org/"

PAPERS = {
    "alpha": ("Alpha: Attention Everywhere", 4, "Attention"),
    "beta": ("Beta: Batching for Throughput", 3, "Serving"),
    "gamma": (
        "Gamma: Grouped Attention with a rather long title that wraps onto a second "
        "line of the contents page",
        5,
        "Attention",
    ),
}


def manifest_text(
    papers: dict[str, tuple[str, int, str]], extra: str = "", **paper_extra: str
) -> str:
    lines = [
        "[bundle]",
        'name = "Test-Papers"',
        'version = "v1.0"',
        'title = "Test Papers"',
        'subtitle = "Papers for the test suite · 测试论文"',
        'curator = "The Tests"',
        'homepage = "https://github.com/example/test-papers"',
        "date = 2024-05-01",
        extra,
    ]
    for key, (title, _, section) in papers.items():
        lines += [
            "[[papers]]",
            f'key = "{key}"',
            f'title = "{title}"',
            f'url = "{HOST}{key}.pdf"',
            f'label = "{key.capitalize()}"',
            f'section = "{section}"',
            'date = "2024.01"',
            f'code = "https://github.com/example/{key}"',
        ]
        if key in paper_extra:
            lines.append(paper_extra[key])
    return "\n".join(lines) + "\n"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def build_papers(tmp_path: Path, srv: PaperServer, capsys: pytest.CaptureFixture[str]) -> Path:
    """Build the test manifest of PAPERS from ``srv`` into ``tmp_path/out``, which it returns."""
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", srv), capsys)
    assert code == 0, err
    return out


def build_args(manifest: Path, out: Path, cache: Path, srv: PaperServer, *more: str) -> list[str]:
    return [
        "build",
        str(manifest),
        "-o",
        str(out),
        "--cache-dir",
        str(cache),
        "--mirror",
        srv.mirror,
        "--min-interval",
        "0",
        "--quiet",
        *more,
    ]


class PaperServer:
    """Serves ``files`` (PDFs, or HTML when the body starts with "<") for GET and HEAD, and any
    page under /gh/ as a GitHub stand-in (for code and homepage links)."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.hits.append(request.path)
        name = request.path.lstrip("/")
        if name.startswith("gh/"):
            return Response("<html>repository</html>", status=200, content_type="text/html")
        body = self.files.get(name)
        if body is None:
            return Response("not found", status=404)
        if body.startswith(b"<"):
            return Response(body, status=200, content_type="text/html")
        return Response(body, status=200, content_type="application/pdf")

    @property
    def mirror(self) -> str:
        return f"{HOST}={self.server.url_for('/')}"

    @property
    def github_mirror(self) -> str:
        return f"https://github.com/={self.server.url_for('/gh/')}"


def assert_verified(out: str, pdf: Path, papers: int) -> None:
    """`verify` said ok *and* names what it checked, with counts this test computes on its own
    (pages with pypdf, internal links with tests/linkcheck.py): a verify that skipped its checks
    and answered "ok" would not print them."""
    from pypdf import PdfReader

    from tests import linkcheck

    reader = PdfReader(pdf)
    links = sum(len(page) for page in linkcheck.internal_links(reader))
    assert links > 0
    expected = (
        f"ok  {len(reader.pages)} pages, {papers} papers",
        f"ok  {links} internal links land inside their own paper",
        f"ok  outline has all {papers} papers",
        "ok  no active content",
        "contents rows link to their papers, in order",
    )
    for line in expected:
        assert line in out, (line, out)
