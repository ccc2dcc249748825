"""Manifest loading: strict schema, every problem at once, file and key path in each message."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from paperbundle.cli import main
from paperbundle.errors import ManifestError
from paperbundle.manifest import (
    PageRange,
    load_manifest,
    normalise_url,
    parse_pages,
    select_pages,
)

GOOD = """
[bundle]
name = "LLMs-Inference-Papers"
version = "v0.2"
title = "LLMs Inference Papers"
subtitle = "大语言模型推理论文"
date = 2023-09-25

[[papers]]
key = "flashattention"
title = "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness"
url = "https://arxiv.org/abs/2205.14135"
label = "FlashAttention"
section = "Attention"
date = "2022.05"
code = "https://github.com/Dao-AILab/flash-attention"
pages = "1-12"

[[papers]]
key = "orca"
title = "Orca: A Distributed Serving System"
url = "https://www.usenix.org/system/files/osdi22-yu.pdf"
"""

PAPER = '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "https://arxiv.org/pdf/2205.14135"\n'
BUNDLE = '[bundle]\nname = "b"\nversion = "v1"\n'


def load(text: str, tmp_path: Path, name: str = "m.toml") -> object:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_manifest(p, display=f"manifests/{name}")


def problems(text: str, tmp_path: Path) -> list[str]:
    with pytest.raises(ManifestError) as exc:
        load(text, tmp_path)
    return [str(p) for p in exc.value.problems]


def test_good_manifest(tmp_path: Path) -> None:
    m = load(GOOD, tmp_path)
    assert m.bundle.name == "LLMs-Inference-Papers"
    assert m.bundle.date == dt.date(2023, 9, 25)
    assert m.bundle.subtitle == "大语言模型推理论文"
    fa = m.papers[0]
    assert fa.url == "https://arxiv.org/pdf/2205.14135"
    assert fa.pages == (PageRange(1, 12),)
    assert m.papers[1].url == "https://www.usenix.org/system/files/osdi22-yu.pdf"
    # one paper has a section, the other not: it goes last under "Other"
    assert [(s.title, [p.key for p in s.papers]) for s in m.sections()] == [
        ("Attention", ["flashattention"]),
        ("Other", ["orca"]),
    ]
    assert m.lock_path.name == "m.lock.json"


BROKEN = [
    ("toml-syntax", BUNDLE + "[[papers]]\nkey = \n", "TOML syntax error"),
    ("no-bundle", PAPER, "bundle: missing [bundle] table"),
    ("bundle-not-table", 'bundle = "x"\n' + PAPER, "bundle: must be a table"),
    ("no-name", '[bundle]\nversion = "v1"\n' + PAPER, "bundle.name: required key is missing"),
    (
        "bad-name",
        '[bundle]\nname = "my bundle"\nversion = "v1"\n' + PAPER,
        "bundle.name: name 'my bundle' may use only",
    ),
    ("name-starts-dot", '[bundle]\nname = ".b"\nversion = "v1"\n' + PAPER, "bundle.name:"),
    ("bad-version", '[bundle]\nname = "b"\nversion = "v 1/2"\n' + PAPER, "bundle.version:"),
    (
        "bundle-typo",
        BUNDLE + 'titel = "x"\n' + PAPER,
        "bundle.titel: unknown key 'titel'; did you mean 'title'?",
    ),
    (
        "top-typo",
        "paper = 1\n" + BUNDLE + PAPER,
        "paper: unknown key 'paper'; did you mean 'papers'?",
    ),
    ("bundle-date-string", BUNDLE + 'date = "2023-09-25"\n' + PAPER, "bundle.date: must be a date"),
    (
        "homepage-ftp",
        BUNDLE + 'homepage = "ftp://x.org/"\n' + PAPER,
        "bundle.homepage: only http and https",
    ),
    ("no-papers", BUNDLE, "papers: no papers"),
    ("papers-not-array", 'papers = "x"\n' + BUNDLE, "papers: must be an array of tables"),
    (
        "paper-typo",
        BUNDLE + PAPER + 'lable = "A"\n',
        "papers[0].lable: unknown key 'lable'; did you mean 'label'?",
    ),
    (
        "missing-key",
        BUNDLE + '[[papers]]\ntitle = "A"\nurl = "https://x.org/a.pdf"\n',
        "papers[0].key: required key is missing",
    ),
    (
        "missing-title",
        BUNDLE + '[[papers]]\nkey = "a"\nurl = "https://x.org/a.pdf"\n',
        "papers[0].title: required key is missing",
    ),
    (
        "bad-key-chars",
        BUNDLE + '[[papers]]\nkey = "Flash Attn"\ntitle = "A"\nurl = "https://x.org/a.pdf"\n',
        "papers[0].key: key 'Flash Attn' may use only",
    ),
    (
        "duplicate-key",
        BUNDLE + PAPER + '[[papers]]\nkey = "a"\ntitle = "B"\nurl = "https://x.org/b.pdf"\n',
        "papers[1].key: duplicate key 'a' (also papers[0])",
    ),
    (
        "toml-duplicate-key",
        BUNDLE + '[[papers]]\nkey = "a"\nkey = "b"\ntitle = "A"\nurl = "https://x.org/a.pdf"\n',
        "TOML syntax error",
    ),
    (
        "url-scheme",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "ftp://x.org/a.pdf"\n',
        "papers[0].url: only http and https URLs are allowed",
    ),
    (
        "url-no-scheme",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "arxiv.org/abs/2205.14135"\n',
        "papers[0].url: only http and https",
    ),
    (
        "url-space",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "https://x.org/a b.pdf"\n',
        "papers[0].url: URL contains whitespace",
    ),
    (
        "arxiv-no-id",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "https://arxiv.org/list/cs.LG"\n',
        "papers[0].url: arXiv URL without a paper id",
    ),
    (
        "url-wrong-type",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = 42\n',
        "papers[0].url: must be a string, not an integer (42)",
    ),
    (
        "title-wrong-type",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = ["A"]\nurl = "https://x.org/a.pdf"\n',
        "papers[0].title: must be a string, not an array",
    ),
    (
        "url-and-path",
        BUNDLE + PAPER + 'path = "a.pdf"\n',
        "papers[0]: give either url or path, not both",
    ),
    (
        "neither-url-nor-path",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\n',
        "papers[0]: needs a url (or a local path)",
    ),
    (
        "bad-pages",
        BUNDLE + PAPER + 'pages = "3-1"\n',
        "papers[0].pages: bad page selection '3-1': range '3-1' ends before it starts",
    ),
    (
        "bad-pages-syntax",
        BUNDLE + PAPER + 'pages = "one"\n',
        "papers[0].pages: bad page selection 'one'",
    ),
    (
        "pages-zero",
        BUNDLE + PAPER + 'pages = "0-2"\n',
        "papers[0].pages: bad page selection '0-2': pages are numbered from 1",
    ),
    (
        "bad-sha",
        BUNDLE + PAPER + 'sha256 = "abc"\n',
        "papers[0].sha256: must be 64 hexadecimal digits",
    ),
    (
        "code-not-url",
        BUNDLE + PAPER + 'code = "github.com/x/y"\n',
        "papers[0].code: only http and https",
    ),
    (
        "same-url-twice",
        BUNDLE
        + PAPER
        + '[[papers]]\nkey = "b"\ntitle = "B"\nurl = "http://arxiv.org/abs/2205.14135"\n',
        "papers[1].url: same paper as papers[0]",
    ),
    (
        "missing-local-file",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\npath = "nowhere/a.pdf"\n',
        "papers[0].path: no such file",
    ),
    (
        "missing-previous",
        BUNDLE + 'previous = "v0.toml"\n' + PAPER,
        "bundle.previous: no such file",
    ),
    (
        "same-arxiv-paper-other-version",
        BUNDLE
        + PAPER
        + '[[papers]]\nkey = "b"\ntitle = "B"\nurl = "https://arxiv.org/abs/2205.14135v2"\n',
        "papers[1].url: same paper as papers[0]",
    ),
    (
        "empty-title",
        BUNDLE + '[[papers]]\nkey = "a"\ntitle = "  "\nurl = "https://x.org/a.pdf"\n',
        "papers[0].title: must not be empty",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_manifest(case: str, text: str, expected: str, tmp_path: Path) -> None:
    found = problems(text, tmp_path)
    assert any(f"manifests/m.toml: {expected}" in p for p in found), found


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        '[bundle]\nname = "bad name"\nversoin = "v1"\n'
        '[[papers]]\nkey = "A"\ntitle = "x"\nurl = "ftp://a"\n'
        '[[papers]]\nkey = "b"\ntitle = 3\npath = "x.pdf"\nurl = "https://x.org/a.pdf"\n'
    )
    found = problems(text, tmp_path)
    wheres = {p.split(": ")[1] for p in found}
    assert {
        "bundle.name",
        "bundle.versoin",
        "bundle.version",
        "papers[0].key",
        "papers[0].url",
        "papers[1].title",
        "papers[1]",
    } <= wheres, found


def test_cli_exit_2_and_nothing_downloaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "bad.toml"
    m.write_text(BUNDLE + '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "ftp://x"\nlabl = 1\n')
    cache = tmp_path / "cache"
    code = main(["build", str(m), "-o", str(tmp_path / "out"), "--cache-dir", str(cache)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{m}: papers[0].url: only http and https" in err
    assert "did you mean 'label'?" in err
    assert "Traceback" not in err
    assert not cache.exists() or not any(cache.rglob("*.pdf"))
    assert not (tmp_path / "out").exists()


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such file"):
        load_manifest(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://arxiv.org/abs/2205.14135", "https://arxiv.org/pdf/2205.14135"),
        ("http://arxiv.org/pdf/2205.14135.pdf", "https://arxiv.org/pdf/2205.14135"),
        ("https://arxiv.org/pdf/2205.14135v2", "https://arxiv.org/pdf/2205.14135v2"),
        ("https://www.arxiv.org/abs/2205.14135v3", "https://arxiv.org/pdf/2205.14135v3"),
        ("https://browse.arxiv.org/pdf/2307.08691.pdf", "https://arxiv.org/pdf/2307.08691"),
        ("https://export.arxiv.org/abs/1706.03762", "https://arxiv.org/pdf/1706.03762"),
        ("https://arxiv.org/abs/2205.14135/", "https://arxiv.org/pdf/2205.14135"),
        ("https://arxiv.org/abs/hep-th/9901001v1", "https://arxiv.org/pdf/hep-th/9901001v1"),
        ("https://arxiv.org/pdf/0704.0001", "https://arxiv.org/pdf/0704.0001"),
        (
            "HTTPS://WWW.USENIX.ORG/system/files/osdi22-yu.pdf#page=2",
            "https://www.usenix.org/system/files/osdi22-yu.pdf",
        ),
        ("https://openreview.net/pdf?id=abc", "https://openreview.net/pdf?id=abc"),
        ("http://[::1]:8000/x.pdf", "http://[::1]:8000/x.pdf"),
        ("http://localhost/x.pdf", "http://localhost/x.pdf"),
    ],
)
def test_normalise_url(url: str, canonical: str) -> None:
    assert normalise_url(url) == canonical


def test_pages() -> None:
    assert parse_pages("1-3, 5, 9-") == (PageRange(1, 3), PageRange(5, 5), PageRange(9, None))
    assert select_pages(parse_pages("1-3,5,9-"), 10) == [0, 1, 2, 4, 8, 9]
    assert select_pages(None, 3) == [0, 1, 2]
    with pytest.raises(ValueError, match="outside the file's 10 pages"):
        select_pages(parse_pages("8-12"), 10)


def test_path_and_previous_are_relative_to_manifest(tmp_path: Path) -> None:
    text = BUNDLE.replace('version = "v1"', 'version = "v1"\nprevious = "old.toml"') + (
        '[[papers]]\nkey = "a"\ntitle = "A"\npath = "papers/a.pdf"\n'
    )
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "a.pdf").write_bytes(b"%PDF-1.4\n")
    (tmp_path / "old.toml").write_text(BUNDLE + PAPER)
    m = load(text, tmp_path)
    assert m.papers[0].path == (tmp_path / "papers" / "a.pdf").resolve()
    assert m.bundle.previous == tmp_path / "old.toml"
