"""The generated front matter: cover and contents, read back with pypdf."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from paperbundle import text as tx
from paperbundle.frontmatter import (
    PAGE_H,
    PAGE_W,
    ContentsEntry,
    FrontMatter,
    _build_rows,
    _Heading,
    _paginate,
    _Texts,
    render_front_matter,
)
from paperbundle.manifest import Manifest, parse_manifest

DATE = dt.date(2023, 9, 25)


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def make_manifest(tmp_path: Path, papers: list[dict[str, str]], **bundle: str) -> Manifest:
    b = {"name": "LLMs-Inference-Papers", "version": "v0.2", **bundle}
    lines = ["[bundle]"] + [f"{k} = {q(v)}" for k, v in b.items()]
    for p in papers:
        lines.append("[[papers]]")
        lines += [f"{k} = {q(v)}" for k, v in p.items()]
    path = tmp_path / "m.toml"
    return parse_manifest("\n".join(lines), path=path, display="m.toml")


def entries_for(m: Manifest, skip: tuple[str, ...] = ()) -> list[ContentsEntry]:
    out = []
    page = 1
    for p in m.ordered_papers():
        if p.key in skip:
            continue
        n = 10 + len(out)
        out.append(ContentsEntry(p, page, n))
        page += n
    return out


def render(m: Manifest, skip: tuple[str, ...] = (), **kw: Any) -> tuple[FrontMatter, PdfReader]:
    entries = entries_for(m, skip)
    total = sum(e.page_count for e in entries)
    kw.setdefault("date", DATE)
    missing = [p for p in m.papers if p.key in skip]
    fm = render_front_matter(m, entries, total_pages=total, missing=missing, **kw)
    return fm, PdfReader(io.BytesIO(fm.pdf))


SEED = [
    {
        "key": "flashattention",
        "title": "Fast and Memory-Efficient Exact Attention with IO-Awareness",
        "label": "FlashAttention",
        "url": "https://arxiv.org/pdf/2205.14135.pdf",
        "section": "Attention",
        "date": "2022.05",
        "authors": "Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra, Christopher Ré",
        "code": "https://github.com/Dao-AILab/flash-attention",
    },
    {
        "key": "orca",
        "title": "Orca: A Distributed Serving System for Transformer-Based Generative Models",
        "label": "Continuous Batching",
        "url": "https://www.usenix.org/system/files/osdi22-yu.pdf",
        "section": "Serving",
        "date": "2022.07",
    },
    {
        "key": "zh",
        "title": "大语言模型推理优化：从注意力机制到量化部署",
        "url": "https://arxiv.org/abs/2401.00001v2",
        "section": "Attention",
        "authors": "张三, 李四",
    },
    {
        "key": "intl",
        "title": "Μεγάλα γλωσσικά μοντέλα · Большие языковые модели · نماذج اللغة الكبيرة",
        "url": "https://arxiv.org/pdf/2401.00002",
    },
]


@pytest.fixture
def seed(tmp_path: Path) -> Manifest:
    return make_manifest(
        tmp_path,
        SEED,
        title="LLMs Inference Papers",
        subtitle="大语言模型推理论文集",
        curator="DefTruth",
        description="Inference-optimization papers only.",
        homepage="https://github.com/DefTruth/LLMs-Inference-Papers",
    )


def page_text(r: PdfReader, i: int) -> str:
    return r.pages[i].extract_text()


def uris(r: PdfReader, i: int) -> list[str]:
    annots = r.pages[i].get("/Annots") or []
    out = []
    for a in annots:
        a = a.get_object()
        assert a["/Subtype"] == "/Link"
        assert a["/A"]["/S"] == "/URI", "front matter draws no internal links itself"
        out.append(str(a["/A"]["/URI"]))
    return out


def test_cover(seed: Manifest) -> None:
    fm, r = render(seed)
    assert fm.cover_pages == 1
    assert len(r.pages) == fm.cover_pages + fm.contents_pages
    assert all(tuple(map(float, p.mediabox)) == (0, 0, PAGE_W, PAGE_H) for p in r.pages)
    cover = page_text(r, 0)
    for s in (
        "LLMs Inference Papers",
        "大语言模型推理论文集",
        "v0.2",
        "DefTruth",
        "25 September 2023",
        "Inference-optimization papers only.",
        "4 papers · 46 pages",
        "github.com/DefTruth/LLMs-Inference-Papers",
    ):
        assert s in cover, s
    assert "https://github.com/DefTruth/LLMs-Inference-Papers" in uris(r, 0)
    assert fm.warnings == ()


def test_contents_rows_links_and_numbers(seed: Manifest) -> None:
    fm, r = render(seed)
    assert fm.contents_pages == 1
    text = page_text(r, 1)
    assert "Contents" in text
    # sections in order of first appearance, then "Other" for the paper without one
    assert text.index("Attention\n") < text.index("Serving") < text.index("Other")
    assert "[FlashAttention]" in text and "[Continuous Batching]" in text
    assert "2022.05" in text and "2022.07" in text
    assert "大语言模型推理优化：从注意力机制到量化部署" in text
    assert "Μεγάλα γλωσσικά μοντέλα" in text and "Большие языковые модели" in text
    # bundle order: Attention (flashattention, zh), Serving (orca), Other (intl): 1, 11, 22, 34
    order = ["flashattention", "zh", "orca", "intl"]
    assert [lk.target_key for lk in fm.links] == order
    for label in ("1", "11", "22", "34"):
        assert re.search(rf"(^|\s){label}(\s|$)", text), label
    # each page number stands on the baseline of its title's last line, right-aligned with the
    # others: FlashAttention's "1" beside "IO-Awareness", the next rows' numbers in one column
    placed = _placed_pieces(r.pages[1])
    (title_y,) = {y for t, x, y in placed if "Awareness" in t}
    numbers = {t.strip(): (x, y) for t, x, y in placed if t.strip() in ("1", "11", "22", "34")}
    assert set(numbers) == {"1", "11", "22", "34"}, placed
    assert abs(numbers["1"][1] - title_y) < 0.5, (numbers, title_y)
    assert numbers["1"][0] > 400 and abs(numbers["1"][0] - numbers["11"][0]) < 12, numbers
    for lk in fm.links:
        x1, y1, x2, y2 = lk.rect
        assert lk.page_index == 1
        assert 0 <= x1 < x2 <= PAGE_W and 0 <= y1 < y2 <= PAGE_H
    rects = sorted((lk.rect for lk in fm.links), key=lambda rc: -rc[3])
    for a, b in itertools.pairwise(rects):
        assert a[1] >= b[3], "row links do not overlap"
    # external links: paper (arXiv id shown) and code
    found = uris(r, 1)
    assert "https://github.com/Dao-AILab/flash-attention" in found
    assert "https://arxiv.org/pdf/2205.14135" in found
    assert "https://www.usenix.org/system/files/osdi22-yu.pdf" in found
    assert "https://arxiv.org/pdf/2401.00001v2" in found
    assert "arXiv:2205.14135" in text and "usenix.org/system/files/osdi22-yu.pdf" in text
    assert "Tri Dao" in text and "张三" in text


def _font_name(font: Any) -> str:
    return str(font["/BaseFont"]).split("+", 1)[-1]


def _text_pieces(page: Any) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if font is not None and text.strip():
            pieces.append((_font_name(font), text))

    page.extract_text(visitor_text=visit)
    return pieces


def _placed_pieces(page: Any) -> list[tuple[str, float, float]]:
    """Each text piece drawn on the page with its start (x, y) in page space."""
    pieces: list[tuple[str, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            pieces.append((text, float(x), float(y)))

    page.extract_text(visitor_text=visit)
    return pieces


def test_fonts_embedded_and_cover_every_glyph(seed: Manifest) -> None:
    _, r = render(seed)
    names = {"DejaVuSans": "PB-DejaVuSans", "DejaVuSans-Bold": "PB-DejaVuSans-Bold"}
    names["WenQuanYiMicroHei-0"] = "PB-WenQuanYiMicroHei"  # face 0 of the collection
    seen_fonts = set()
    for page in r.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            seen_fonts.add(_font_name(font))
            desc = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc, f"{font['/BaseFont']} is not embedded"
        # every character drawn is set in a font that has a glyph for it (no .notdef)
        pieces = _text_pieces(page)
        assert pieces
        for fname, text in pieces:
            cover = tx._coverage(names[fname])
            bad = [c for c in text if c not in "\n " and ord(c) not in cover]
            assert not bad, (fname, text, bad)
    assert seen_fonts == set(names)
    # the fonts reportlab embedded are the package's own files, never the machine's
    for name, file in tx._FONT_FILES.items():
        face = pdfmetrics.getFont(name).face
        assert Path(face.filename).resolve() == (tx.FONT_DIR / file).resolve(), name
    assert tx.FONT_DIR.resolve().parent == Path(tx.__file__).resolve().parent


def test_bundled_font_files_and_licences() -> None:
    files = {p.name for p in tx.FONT_DIR.iterdir()}
    assert {"DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "wqy-microhei.ttc"} <= files
    assert {
        "LICENSE-DejaVu.txt",
        "LICENSE-WenQuanYi-MicroHei.txt",
        "LICENSE-Apache-2.0.txt",
    } <= files
    total = sum((tx.FONT_DIR / f).stat().st_size for f in files if f.endswith((".ttf", ".ttc")))
    assert total < 7_000_000


def test_korean_japanese_chinese_all_render() -> None:
    text = "한국어 논문 · 日本語の論文 · 中文论文"
    cleaned, missing = tx.clean(text)
    assert not missing and cleaned == text
    for ch in text.replace(" ", "").replace("·", ""):
        assert any(ord(ch) in tx._coverage(f) for f in tx.REGULAR_CHAIN), ch


def test_reproducible_bytes(seed: Manifest) -> None:
    a, _ = render(seed, volume=(1, 2))
    b, _ = render(seed, volume=(1, 2))
    assert a.pdf == b.pdf
    c, _ = render(seed, date=None)
    assert c.pdf != a.pdf


def test_emoji_left_out_with_warning(tmp_path: Path) -> None:
    m = make_manifest(
        tmp_path,
        [
            {"key": "ok", "title": "Plain title", "url": "https://arxiv.org/abs/2301.00001"},
            {
                "key": "rocket",
                "title": "Rocket 🚀 fast inference",
                "url": "https://arxiv.org/abs/2301.00002",
            },
        ],
        subtitle="Papers ★🚀",
    )
    fm, r = render(m)
    assert any(
        w.startswith("papers[1] (rocket) title: U+1F680") and "left out" in w for w in fm.warnings
    )
    assert any(w.startswith("bundle.subtitle: U+1F680") for w in fm.warnings)
    text = page_text(r, 1)
    assert "Rocket fast inference" in text
    assert "🚀" not in text and "\ufffd" not in text
    assert "Papers ★" in page_text(r, 0)  # U+2605 is in DejaVu Sans


def test_many_papers_paginate(tmp_path: Path) -> None:
    papers = []
    for i in range(60):
        papers.append(
            {
                "key": f"p{i:02d}",
                "title": f"Paper {i:02d}: "
                + ("an unusually long title about efficient inference " * (1 + i % 3)),
                "label": f"L{i:02d}",
                "url": f"https://arxiv.org/abs/2301.{i:05d}",
                "section": f"Section {i // 7}",
                "date": "2023.01",
                "authors": "A. Author, B. Author",
                "code": f"https://github.com/example/p{i}",
            }
        )
    m = make_manifest(tmp_path, papers)
    fm, r = render(m)
    assert fm.contents_pages >= 3
    assert len(r.pages) == 1 + fm.contents_pages
    assert len(fm.links) == 60
    entries = {e.paper.key: e for e in entries_for(m)}
    texts = [page_text(r, i) for i in range(len(r.pages))]
    for lk in fm.links:
        assert 1 <= lk.page_index <= fm.contents_pages
        x1, y1, x2, y2 = lk.rect
        assert 50 <= y1 < y2 <= PAGE_H - 50 and 0 <= x1 < x2 <= PAGE_W
        e = entries[lk.target_key]
        page = texts[lk.page_index]
        # the whole row is on the page of its link: label, number and URL
        assert f"[L{lk.target_key[1:]}]" in page
        assert re.search(rf"\b{e.first_page}\b", page)
        assert f"arXiv:2301.{int(lk.target_key[1:]):05d}" in page
    for i in range(1, len(r.pages)):
        assert f"{['i', 'ii', 'iii', 'iv', 'v', 'vi'][i]}" in texts[i].split()


def test_section_heading_never_last_on_a_page(tmp_path: Path) -> None:
    papers = [
        {
            "key": f"p{i:02d}",
            "title": "A title that is long enough to wrap onto a second line of the contents",
            "url": f"https://arxiv.org/abs/2301.{i:05d}",
            "section": f"S{i // 2}",
            "authors": "Someone",
        }
        for i in range(50)
    ]
    m = make_manifest(tmp_path, papers)
    items, _ = _build_rows(m, entries_for(m), [], _Texts(m))
    pages = _paginate(items, 600.0, 640.0)
    assert len(pages) > 2
    for page in pages:
        assert not isinstance(page[-1], _Heading)
        assert sum(it.height for it in page) <= 640.0


def test_bare_manifest_no_sections_no_date(tmp_path: Path) -> None:
    (tmp_path / "local.pdf").write_bytes(b"%PDF-1.4\n")
    m = make_manifest(
        tmp_path,
        [
            {
                "key": "a",
                "title": "Attention Is All You Need",
                "url": "https://arxiv.org/abs/1706.03762",
            },
            {"key": "b", "title": "A local file", "path": "local.pdf"},
        ],
    )
    fm, r = render(m, date=None)
    cover = page_text(r, 0)
    assert "LLMs-Inference-Papers" in cover and "2 papers · 21 pages" in cover
    assert "Released" not in cover and "Curated" not in cover
    contents = page_text(r, 1)
    assert "Attention Is All You Need" in contents and "A local file" in contents
    assert [lk.target_key for lk in fm.links] == ["a", "b"]
    assert uris(r, 1) == ["https://arxiv.org/pdf/1706.03762"]


def test_missing_papers_and_volume(seed: Manifest) -> None:
    fm, r = render(seed, skip=("orca",), volume=(2, 3))
    assert "Volume 2 of 3" in page_text(r, 0)
    text = page_text(r, 1)
    assert "Volume 2 of 3" in text
    assert "not included" in text and "Orca" in text
    assert [lk.target_key for lk in fm.links] == ["flashattention", "zh", "intl"]
    assert "3 papers" in page_text(r, 0) and "1 not included" in page_text(r, 0)


def test_arabic_is_shaped_and_reordered() -> None:
    shaped, missing = tx.clean("لا سلام")
    assert missing == ()
    assert shaped[0] == "\ufefb"  # lam-alef ligature
    line = tx.visual(shaped)
    assert line[-1] == "\ufefb"  # right to left: the first letter is drawn rightmost
    assert tx.visual(tx.clean("GPT في 2023")[0]).startswith("GPT ")
    assert "2023" in tx.visual(tx.clean("نموذج 2023")[0])  # digits keep their order


def test_persian_joiners_shape_the_letters_and_are_not_drawn() -> None:
    """U+200C (ZWNJ) stays allowed because Persian needs it: in می‌خواهم it keeps ی final and
    خ initial; U+200D (ZWJ) makes a letter join. Both are used for shaping, then dropped."""
    shaped, missing = tx.clean("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")
    assert missing == ()
    assert shaped == "\ufee3\ufbfd\ufea7\ufeee\ufe8d\ufeeb\ufee2"  # ی final, خ initial
    assert tx.clean("\u0628\u200d")[0] == "\ufe91"  # ب joined forward by the ZWJ: initial
    assert tx.clean("a\u200fb\u202ec")[0] == "abc"


def test_wrap_never_overflows() -> None:
    text = (
        "大语言模型推理论文集" * 8 + " FlashAttention-2: Faster Attention with Better Parallelism"
    )
    for width in (60.0, 150.0, 400.0):
        lines = tx.wrap(text, 10, width)
        assert all(tx.width(line, 10) <= width + 0.01 for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_muted_line_authors_affiliation_venue(tmp_path: Path) -> None:
    """Under the title: the first three authors, then "et al.", then affiliation and venue, each
    left out with its separator when unknown; past one line it is cut with an ellipsis."""
    papers = [
        {
            "key": "many",
            "title": "Many authors",
            "url": "https://arxiv.org/abs/2205.14135",
            "authors": "Tri Dao, Daniel Y. Fu, Stefano Ermon, Atri Rudra, Christopher Ré",
            "affiliation": "Stanford",
            "venue": "NeurIPS 2022",
        },
        {
            "key": "venue",
            "title": "Venue only",
            "url": "https://arxiv.org/abs/1706.03762",
            "venue": "NeurIPS 2017",
        },
        {
            "key": "long",
            "title": "Long affiliation",
            "url": "https://arxiv.org/abs/1910.02054",
            "affiliation": "Lab " * 45 + "END",
        },
    ]
    _, r = render(make_manifest(tmp_path, papers))
    text = " ".join(page_text(r, 1).split())
    assert "Tri Dao, Daniel Y. Fu, Stefano Ermon et al. · Stanford · NeurIPS 2022" in text, text
    assert "Atri Rudra" not in text
    assert "NeurIPS 2017" in text and "· NeurIPS 2017" not in text
    assert "END" not in text and "Lab Lab" in text and "…" in text
