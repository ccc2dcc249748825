"""`check --links` through a mirror: it names the mirror it asked (an answer from a mirror is not
the canonical host's), probes each URL once, and hints when nothing could be reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import HOST, PAPERS, PaperServer, manifest_text, run


def _net(srv: PaperServer, cache: Path) -> list[str]:
    mirrors = ["--mirror", srv.mirror, "--mirror", srv.github_mirror]
    return ["--cache-dir", str(cache), "--min-interval", "0", *mirrors]


def test_a_dead_link_names_the_mirror_that_was_asked(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    del paper_server.files["beta.pdf"]
    code, _, err = run(["check", str(m), "--links", *_net(paper_server, tmp_path / "c")], capsys)
    assert code == 1
    base = paper_server.server.url_for("/")
    assert f"beta: {HOST}beta.pdf: http-404 (HTTP 404; asked the mirror: {base}beta.pdf)" in err


def test_each_url_is_probed_once(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    text = manifest_text(PAPERS, beta=f'code = "{HOST}alpha.pdf"')  # a second link to alpha
    text = text.replace('code = "https://github.com/example/beta"\n', "")
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    code, _, err = run(["check", str(m), "--links", *_net(paper_server, tmp_path / "c")], capsys)
    assert code == 0, err
    pdf_hits = sorted(h for h in paper_server.hits if h.endswith(".pdf"))
    assert pdf_hits == ["/alpha.pdf", "/beta.pdf", "/gamma.pdf"], paper_server.hits


def test_a_hint_when_no_link_can_be_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(manifest_text({"alpha": PAPERS["alpha"]}), encoding="utf-8")
    dead = "http://127.0.0.1:9/"  # nothing listens there
    args = ["check", str(m), "--links", "--cache-dir", str(tmp_path / "c"), "--min-interval", "0"]
    args += ["--retry-budget", "0.5"]  # connection refused is retried; keep the test fast
    args += ["--mirror", f"{HOST}={dead}", "--mirror", f"https://github.com/={dead}"]
    args += ["--mirror", f"https://github.com/example/test-papers={dead}"]
    code, _, err = run(args, capsys)
    assert code == 1
    assert f"alpha: {HOST}alpha.pdf: network" in err and f"asked the mirror: {dead}alpha.pdf" in err
    assert "hint: no link could be reached: no network?" in err, err
