"""The other commands through the CLI: fetch, lock (+ --frozen), check, import, diff, cache,
and usage errors. Real server on 127.0.0.1, real files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from paperbundle import __version__
from tests.helpers import HOST, PAPERS, PaperServer, build_args, manifest_text, run
from tests.pdfs import make_paper

SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"


def net(srv: PaperServer, cache: Path) -> list[str]:
    return [
        "--cache-dir",
        str(cache),
        "--mirror",
        srv.mirror,
        "--mirror",
        srv.github_mirror,
        "--min-interval",
        "0",
    ]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    m = tmp_path / "m.toml"
    m.write_text(manifest_text(PAPERS), encoding="utf-8")
    return m


def test_version_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"paperbundle {__version__}"
    code, _, err = run(["biuld", "x.toml"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run(["build"], capsys)
    assert code == 2 and "manifest" in err
    code, _, err = run(["build", "x.toml", "--max-asset-size", "lots"], capsys)
    assert code == 2 and "not a size" in err
    code, _, err = run(["build", "x.toml", "--mirror", "nonsense"], capsys)
    assert code == 2 and "Traceback" not in err


def test_fetch_then_lock_then_frozen(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, out, err = run(["fetch", str(manifest), *net(paper_server, cache), "--json"], capsys)
    assert code == 0, err
    fetched = json.loads(out)
    assert sorted(fetched["papers"]) == ["alpha", "beta", "gamma"]
    assert len(paper_server.hits) == 3

    code, _, err = run(["lock", str(manifest), *net(paper_server, cache)], capsys)
    assert code == 0, err
    lock = json.loads((tmp_path / "m.lock.json").read_text())
    entry = lock["papers"]["alpha"]
    assert entry["url"] == f"{HOST}alpha.pdf"
    assert entry["page_count"] == 4
    assert entry["sha256"] == fetched["papers"]["alpha"]["sha256"]
    assert len(paper_server.hits) == 3  # lock used the cache

    # check (no network) agrees with the lock
    code, _, err = run(["check", str(manifest)], capsys)
    assert code == 0, err

    # the file changes upstream: a --frozen build refuses it
    paper_server.files["beta.pdf"] = make_paper("Beta changed", 3)
    args = build_args(manifest, tmp_path / "out", tmp_path / "cache2", paper_server, "--frozen")
    code, _, err = run(args, capsys)
    assert code == 1
    assert f"beta ({HOST}beta.pdf): lock" in err

    # a key missing from the lock is an error with --frozen too
    manifest.write_text(
        manifest.read_text() + f'[[papers]]\nkey = "delta"\ntitle = "D"\nurl = "{HOST}d.pdf"\n'
    )
    paper_server.files["d.pdf"] = make_paper("D", 1)
    paper_server.files["beta.pdf"] = make_paper("Beta", 3)  # beta matches its lock entry again
    args = build_args(manifest, tmp_path / "out", tmp_path / "cache3", paper_server, "--frozen")
    code, _, err = run(args, capsys)
    assert code == 1, err
    assert "delta" in err and "lock" in err, err
    assert not (tmp_path / "out" / "Test-Papers-v1.0.pdf").exists()
    # without --frozen, check still reports the lock that does not cover the manifest
    code, _, err = run(["check", str(manifest)], capsys)
    assert code == 1 and "delta" in err


def test_check_links(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, _, err = run(["check", str(manifest), "--links", *net(paper_server, cache)], capsys)
    assert code == 0, err
    assert not list(cache.rglob("*.pdf"))  # probing downloads nothing into the cache
    del paper_server.files["beta.pdf"]
    paper_server.files["gamma.pdf"] = b"<html>Just a moment...</html>"
    code, _, err = run(["check", str(manifest), "--links", *net(paper_server, cache)], capsys)
    assert code == 1
    assert f"beta: {HOST}beta.pdf" in err
    assert f"gamma: {HOST}gamma.pdf" in err


def test_check_without_links_never_touches_the_network(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["check", str(manifest), *net(paper_server, tmp_path / "c")], capsys)
    assert code == 0, err
    assert paper_server.hits == []
    # a missing local file and a broken `previous` are reported
    manifest.write_text(
        manifest.read_text().replace("date = 2024-05-01", 'date = 2024-05-01\nprevious = "no.toml"')
        + '[[papers]]\nkey = "local"\ntitle = "L"\npath = "missing.pdf"\n'
    )
    code, _, err = run(["check", str(manifest)], capsys)
    assert code == 2, err  # both are manifest problems, reported together
    assert "previous" in err and "no.toml" in err, err
    assert "papers[3].path" in err and "missing.pdf" in err, err


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is absent")
def test_import_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new.toml"
    readme = SEED / "awesome-llm-inference-README-2023-11.md"
    code, _, err = run(["import", str(readme), "-o", str(out), "--version", "v0.3"], capsys)
    assert code == 0, err
    assert "32 rows seen: 25 papers written, 7 kept as comments (no PDF link), " in err
    assert "duplicates merged, 0 warnings" in err
    code, _, err = run(["check", str(out)], capsys)
    assert code == 0, err
    before = out.read_bytes()
    code, _, err = run(["import", str(readme), "-o", str(out)], capsys)
    assert code == 2 and "--force" in err
    assert out.read_bytes() == before
    code, _, err = run(["import", str(readme), "-o", str(out), "--force", "--name", "X"], capsys)
    assert code == 0, err
    assert 'name = "X"' in out.read_text()


def test_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.toml"
    new = tmp_path / "new.toml"
    old.write_text(manifest_text(PAPERS))
    papers = dict(PAPERS)
    del papers["beta"]
    papers["delta"] = ("Delta: New Paper", 2, "Serving")
    new.write_text(manifest_text(papers).replace('version = "v1.0"', 'version = "v1.1"'))
    code, out, err = run(["diff", str(old), str(new)], capsys)
    assert code == 0, err
    assert out.startswith("## Changes since v1.0")
    assert "Added (1)" in out and "Delta: New Paper" in out
    assert "Removed (1)" in out and "Beta: Batching for Throughput" in out


def test_notes_show_changes_since_previous(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    papers = dict(PAPERS)
    del papers["beta"]
    (tmp_path / "v1.0.toml").write_text(manifest_text(papers))
    m = tmp_path / "v1.1.toml"
    m.write_text(
        manifest_text(PAPERS)
        .replace('version = "v1.0"', 'version = "v1.1"')
        .replace("date = 2024-05-01", 'date = 2024-05-01\nprevious = "v1.0.toml"')
    )
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    notes = (out / "Test-Papers-v1.1-notes.md").read_text()
    assert "## Changes since v1.0" in notes and "Added (1)" in notes and "Beta" in notes


def test_cache_info_and_prune(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, _, err = run(["fetch", str(manifest), *net(paper_server, cache), "--quiet"], capsys)
    assert code == 0, err
    code, out, err = run(["cache", "info", "--cache-dir", str(cache)], capsys)
    assert code == 0, err
    for key in PAPERS:
        assert f"{HOST}{key}.pdf" in out
    small = tmp_path / "small.toml"
    small.write_text(manifest_text({"alpha": PAPERS["alpha"]}))
    code, out, err = run(["cache", "prune", str(small), "--cache-dir", str(cache)], capsys)
    assert code == 0, err
    code, out, err = run(["cache", "info", "--cache-dir", str(cache)], capsys)
    assert f"{HOST}alpha.pdf" in out and f"{HOST}beta.pdf" not in out
    code, _, err = run(["cache", "prune", "--cache-dir", str(cache)], capsys)
    assert code == 2  # prune needs the manifests whose papers to keep

    # info MANIFEST: what of the cache that manifest uses, and what the next build downloads
    code, out, err = run(["cache", "info", str(manifest), "--cache-dir", str(cache)], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith(f"{manifest}: 1 of 3 downloads cached"), out
    assert any(ln.startswith(f"  alpha  {HOST}alpha.pdf") for ln in lines), out
    assert "  not cached (2): the next build downloads them" in lines, out
    assert f"  beta  {HOST}beta.pdf" in lines and f"  gamma  {HOST}gamma.pdf" in lines, out


def test_offline_names_every_missing_paper(
    tmp_path: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        [
            "build",
            str(manifest),
            "-o",
            str(tmp_path / "o"),
            "--cache-dir",
            str(tmp_path / "c"),
            "--offline",
            "--quiet",
        ],
        capsys,
    )
    assert code == 1
    for key in PAPERS:
        assert f"{key} ({HOST}{key}.pdf): offline" in err
    assert "Traceback" not in err
    out_dir = tmp_path / "o"
    left = [f.name for f in out_dir.iterdir()] if out_dir.exists() else []
    assert left in ([], [".paperbundle.lock"]), f"a failed build left outputs: {left}"


def test_json_on_every_failure_and_no_traceback_for_os_errors(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[bundle]\nname = "x"\n')
    code, out, err = run(["build", str(bad), "--json"], capsys)
    assert code == 2
    summary = json.loads(out)
    assert summary["ok"] is False and summary["error"] == "manifest"
    assert any("bundle.version" in p for p in summary["problems"])
    # output folder under a regular file: a usage error, before anything is downloaded
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, out, err = run(
        build_args(manifest, afile / "out", tmp_path / "c", paper_server, "--json"), capsys
    )
    assert code == 2
    assert "Traceback" not in err and "cannot create the output folder" in err
    assert paper_server.hits == []
    assert json.loads(out)["ok"] is False
    for bad_value in ("inf", "nan", "-1", "1e300G", "0.5"):
        code, _, err = run(["build", str(manifest), "--max-asset-size", bad_value], capsys)
        assert code == 2, bad_value
    code, _, err = run(["build", str(manifest), "--min-interval", "nan"], capsys)
    assert code == 2


def test_global_verbose_and_json_usage_message(
    tmp_path: Path, manifest: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["-v", "fetch", str(manifest), *net(paper_server, tmp_path / "c")], capsys)
    assert code == 0, err
    assert "alpha: GET " in err  # -v before the command counts
    code, _, err = run(["fetch", str(manifest), *net(paper_server, tmp_path / "c")], capsys)
    assert code == 0 and "alpha: GET " not in err
    code, out, _ = run(["build", "--json"], capsys)
    assert code == 2
    summary = json.loads(out)
    assert summary["error"] == "usage" and "manifest" in summary["message"]
    code, _, err = run(["cache", "info", "--cache-dir", str(manifest)], capsys)
    assert code == 2 and "not a folder" in err


def test_an_invalid_previous_manifest_is_reported_with_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "old.toml").write_text('[bundle]\nname = "x"\nversion = 1\n')
    m = tmp_path / "m.toml"
    m.write_text(
        manifest_text(PAPERS).replace(
            "date = 2024-05-01", 'date = 2024-05-01\nprevious = "old.toml"\nfoo = 1'
        )
    )
    code, _, err = run(["check", str(m)], capsys)
    assert code == 2
    assert "bundle.foo: unknown key" in err
    assert "bundle.previous: " in err and "version: must be a string" in err
    assert "papers: no papers" in err


def test_urls_cannot_break_out_of_markdown_links(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    text = manifest_text(PAPERS).replace(
        'code = "https://github.com/example/alpha"',
        'code = "https://github.com/a/b)[pwn](https://evil.example"',
    )
    m.write_text(text)
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    notes = (out / "Test-Papers-v1.0-notes.md").read_text()
    assert (
        "[pwn](" not in notes
        and "https://github.com/a/b%29%5Bpwn%5D%28https://evil.example" in notes
    )
    m.write_text(
        text.replace("https://github.com/a/b)[pwn](https://evil.example", "https://x.org/<b>")
    )
    code, _, err = run(["check", str(m)], capsys)
    assert code == 2 and "characters a URL may not hold" in err


@pytest.mark.parametrize(
    "command", ["build", "fetch", "lock", "check", "import", "diff", "verify", "cache"]
)
def test_every_subcommand_help_has_a_description_and_positional_help(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from paperbundle.cli import build_parser

    sub = next(
        a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    ).choices[command]
    assert sub.description
    positionals = [a for a in sub._actions if not a.option_strings]
    assert positionals and all(a.help for a in positionals), command
    code, out, _ = run([command, "-h"], capsys)
    assert code == 0
    assert sub.description.split()[0] in out
