"""What a bundle shows and carries from the lock's arXiv metadata: authors and licences on the
contents rows, CONTENTS.md columns, the notes' licence summary, the warning, and
``redistribute = "granted"`` (link-only stand-ins read back from the PDF)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.arxivserver import CC_BY_ND, ArxivServer, Paper
from tests.helpers import run
from tests.pdfs import make_paper
from tests.test_arxiv import FLASH, OLD, SPEC, VLLM, lock_args

STEM = "Arx-v1"


@pytest.fixture
def arxiv() -> Iterator[ArxivServer]:
    srv = ArxivServer()
    for p in (FLASH, VLLM, SPEC, OLD):
        srv.add(Paper(**p.__dict__))
    srv.add(
        Paper("2401.00001", "A No-Derivatives Paper", ("N. D. Author",), licence=CC_BY_ND, pages=4)
    )
    try:
        yield srv
    finally:
        srv.close()


def manifest(tmp_path: Path, redistribute: str | None = None) -> Path:
    (tmp_path / "mine.pdf").write_bytes(make_paper("My own notes", 2))
    bundle = ["[bundle]", 'name = "Arx"', 'version = "v1"', "date = 2024-05-01"]
    if redistribute:
        bundle.append(f'redistribute = "{redistribute}"')
    papers = [
        ("flash", "FlashAttention", 'url = "https://arxiv.org/abs/2205.14135"'),
        (
            "vllm",
            "PagedAttention",
            'url = "https://arxiv.org/pdf/2309.06180v1"\nauthors = "Kwon et al."',
        ),
        ("spec", "Speculative Decoding", 'url = "https://arxiv.org/pdf/2211.17192"'),
        ("nd", "No Derivatives", 'url = "https://arxiv.org/pdf/2401.00001"\npages = "1-2"'),
        ("mine", "My notes", 'path = "mine.pdf"\nlicence = "CC-BY-4.0"'),
    ]
    lines = bundle[:]
    for key, title, more in papers:
        lines += ["[[papers]]", f'key = "{key}"', f'title = "{title}"', more]
    m = tmp_path / "m.toml"
    m.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return m


def build(m: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["build", str(m), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    code, _, err = run([*args, "--offline"], capsys)
    return code, err


def contents_text(reader: PdfReader) -> str:
    return " ".join(reader.pages[1].extract_text().split())


def uris(reader: PdfReader, page: int) -> list[str]:
    out = []
    for a in reader.pages[page].get("/Annots") or []:
        action = a.get_object().get("/A")
        if action is not None and "/URI" in action:
            out.append(str(action["/URI"]))
    return out


def outline_titles(reader: PdfReader) -> list[str]:
    def walk(items: list[object]) -> Iterator[str]:
        for it in items:
            if isinstance(it, list):
                yield from walk(it)
            else:
                yield str(it.title)  # type: ignore[attr-defined]

    return list(walk(reader.outline))


def test_authors_licences_and_versions_are_shown(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = manifest(tmp_path)
    code, _, err = run(lock_args(m, tmp_path, arxiv), capsys)
    assert code == 0, err
    code, err = build(m, tmp_path, capsys)
    assert code == 0, err
    # the warning: a count and the keys (flash: arXiv's licence; nd: a no-derivatives excerpt)
    assert "2 papers with a licence that grants no redistribution: flash, nd" in err

    reader = PdfReader(tmp_path / "out" / f"{STEM}.pdf")
    text = contents_text(reader)
    assert "Tri Dao, Daniel Y. Fu, Stefano Ermon et al." in text  # arXiv's, shortened
    assert "Kwon et al." in text and "Woosuk Kwon" not in text  # the manifest's authors win
    for short in ("arXiv non-exclusive", "CC BY 4.0", "CC BY-NC-SA 4.0", "CC BY-ND 4.0"):
        assert short in text, (short, text)
    assert "http://creativecommons.org/licenses/by/4.0/" not in uris(reader, 1)  # canonical:
    assert "https://creativecommons.org/licenses/by/4.0/" in uris(reader, 1)
    assert "http://arxiv.org/licenses/nonexclusive-distrib/1.0/" in uris(reader, 1)

    with zipfile.ZipFile(tmp_path / "out" / f"{STEM}.zip") as z:
        md = z.read("CONTENTS.md").decode("utf-8")
    assert "| Page | Label | Title | By | Date | Licence | Version | Links |" in md
    row = {r.split("|")[3].strip(): r for r in md.splitlines() if r.startswith("| ")}
    flash = row["FlashAttention"]
    assert "*Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra, Christopher Ré*" in flash
    assert "[arXiv non-exclusive](http://arxiv.org/licenses/nonexclusive-distrib/1.0/)" in flash
    assert "| v2 |" in flash  # unversioned URL: the lock's version
    assert "| v1 |" in row["PagedAttention"]  # pinned by the URL
    assert "[CC BY 4.0](https://creativecommons.org/licenses/by/4.0/)" in row["My notes"]

    notes = (tmp_path / "out" / f"{STEM}-notes.md").read_text(encoding="utf-8")
    assert "## Licences" in notes
    assert "| [CC BY 4.0](https://creativecommons.org/licenses/by/4.0/) | 2 |" in notes
    assert "1 paper (`spec`) may be redistributed for non-commercial use only" in notes
    assert "2 papers with a licence that grants no redistribution are bundled anyway" in notes
    code, _, err = run(["verify", str(tmp_path / "out" / f"{STEM}.zip")], capsys)
    assert code == 0, err


def test_granted_replaces_papers_without_a_grant_by_link_only_pages(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = manifest(tmp_path, "granted")
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    code, err = build(m, tmp_path, capsys)
    assert code == 0, err
    assert (
        "2 papers with a licence that grants no redistribution, bundled as link-only pages: "
        "flash, nd" in err
    )
    reader = PdfReader(tmp_path / "out" / f"{STEM}.pdf")
    # cover, contents; flash 1 (stand-in), vllm 2, spec 2, nd 1 (stand-in of an excerpt), mine 2
    assert len(reader.pages) == 2 + 1 + 2 + 2 + 1 + 2
    titles = outline_titles(reader)
    assert "FlashAttention (link only)" in titles and "No Derivatives (link only)" in titles
    assert "Speculative Decoding" in titles  # NC stays
    text = contents_text(reader)
    assert "FlashAttention (link only)" in text and "No Derivatives (link only)" in text
    assert "Speculative Decoding (link only)" not in text

    standin = " ".join(reader.pages[2].extract_text().split())
    assert "Link only · not included in this bundle" in standin
    assert FLASH.title in standin and "Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra" in standin
    assert FLASH.abstract in standin and "Licence: arXiv non-exclusive" in standin
    links = uris(reader, 2)
    assert "https://arxiv.org/abs/2205.14135v2" in links  # its abstract page
    assert "https://arxiv.org/pdf/2205.14135" in links  # its PDF, from its source
    assert "http://arxiv.org/licenses/nonexclusive-distrib/1.0/" in links
    nd = " ".join(reader.pages[7].extract_text().split())
    assert "A No-Derivatives Paper" in nd and "Licence: CC BY-ND 4.0" in nd

    with zipfile.ZipFile(tmp_path / "out" / f"{STEM}.zip") as z:
        md = z.read("CONTENTS.md").decode("utf-8")
    assert "| FlashAttention (link only) |" in md
    notes = (tmp_path / "out" / f"{STEM}-notes.md").read_text(encoding="utf-8")
    assert "are in this bundle as link-only pages" in notes
    code, _, err = run(["verify", str(tmp_path / "out" / f"{STEM}.zip")], capsys)
    assert code == 0, err


def test_granted_without_licences_in_the_lock_fails_naming_them(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = manifest(tmp_path, "granted")
    fetch = ["fetch", str(m), "--cache-dir", str(tmp_path / "cache"), "--mirror", arxiv.mirror]
    assert run([*fetch, "--min-interval", "0", "--quiet"], capsys)[0] == 0
    assert run(lock_args(m, tmp_path, arxiv, "--offline"), capsys)[0] == 0  # no metadata
    hits = len(arxiv.hits())
    code, err = build(m, tmp_path, capsys)
    assert code == 1
    for key in ("flash", "vllm", "spec", "nd"):
        assert f"  {key} (https://arxiv.org/" in err
    assert "mine" not in err  # its licence is in the manifest
    assert f"run paperbundle lock {m}" in err
    assert len(arxiv.hits()) == hits  # build never asks arXiv
    assert not (tmp_path / "out" / f"{STEM}.pdf").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('redistribute = "some"', 'bundle.redistribute: must be "all" or "granted"'),
        ("redistribute = 1", "bundle.redistribute: must be a string"),
    ],
)
def test_redistribute_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(
        f'[bundle]\nname = "A"\nversion = "v1"\n{line}\n[[papers]]\nkey = "a"\ntitle = "A"\n'
        'url = "https://arxiv.org/abs/2205.14135"\n',
        encoding="utf-8",
    )
    code, _, err = run(["check", str(m)], capsys)
    assert code == 2 and message in err, err


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("CC-BY-4.0", True),
        ("https://creativecommons.org/licenses/by-sa/4.0/", True),
        ("http://creativecommons.org/publicdomain/zero/1.0/", True),
        ("http://arxiv.org/licenses/nonexclusive-distrib/1.0/", True),
        ("MIT-ish", False),
        ("https://example.org/my-licence", False),
    ],
)
def test_licence_key_is_validated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, ok: bool
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "A"\nversion = "v1"\n[[papers]]\nkey = "a"\ntitle = "A"\n'
        f'url = "https://example.org/a.pdf"\nlicence = "{value}"\n',
        encoding="utf-8",
    )
    code, _, err = run(["check", str(m)], capsys)
    if ok:
        assert code == 0, err
    else:
        assert code == 2 and "papers[0].licence: " in err and "is not a licence" in err, err


HOSTILE = "\x1b]0;owned\x07\x1b[2J\u202eexe.txt\x85\x7f\u2066"


def test_hostile_characters_in_the_locks_metadata_reach_no_output(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A lock edited by hand (or a future arXiv answer) puts controls and bidi overrides into
    authors and abstract: the contents rows, the stand-in page, CONTENTS.md, the notes and the
    messages never carry them; the Persian joiner and marks stay."""
    import json

    m = manifest(tmp_path, "granted")
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    lock = m.with_name("m.lock.json")
    data = json.loads(lock.read_text(encoding="utf-8"))
    meta = data["papers"]["flash"]["arxiv"]
    meta["authors"] = [f"Tri{HOSTILE} Dao", "Mi\u200cnoo\u200f Fu"]
    meta["abstract"] = f"We study{HOSTILE} things."
    lock.write_text(json.dumps(data), encoding="utf-8")
    code, err = build(m, tmp_path, capsys)
    assert code == 0, err
    reader = PdfReader(tmp_path / "out" / f"{STEM}.pdf")
    texts = {
        "contents page": reader.pages[1].extract_text(),
        "stand-in page": reader.pages[2].extract_text(),
        "messages": err,
        "notes": (tmp_path / "out" / f"{STEM}-notes.md").read_text(encoding="utf-8"),
    }
    with zipfile.ZipFile(tmp_path / "out" / f"{STEM}.zip") as z:
        texts["CONTENTS.md"] = z.read("CONTENTS.md").decode("utf-8")
    for where, text in texts.items():
        bad = [c for c in text if c not in "\n\t" and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F)]
        bad += [c for c in text if 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069]
        assert not bad, (where, bad)
    # what is left of the text stays (CONTENTS.md escapes Markdown's brackets)
    assert "*Tri\\]0;owned\\[2Jexe.txt Dao, Mi\u200cnoo\u200f Fu*" in texts["CONTENTS.md"]
    assert "We study ]0;owned [2Jexe.txt things." in texts["stand-in page"]
    code, _, err = run(["verify", str(tmp_path / "out" / f"{STEM}.zip")], capsys)
    assert code == 0, err
