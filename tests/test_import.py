# ruff: noqa: E501  (the README fixtures keep their long table lines)
"""`paperbundle import`: awesome-list README tables -> manifest (paperbundle.importer)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from paperbundle.errors import UsageError
from paperbundle.importer import (
    ImportResult,
    import_readme,
    pdf_url,
    slug_key,
    toml_string,
    write_import,
)
from paperbundle.manifest import Manifest, parse_manifest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seed"
V02_README = SEED / "llms-inference-papers-README-v0.2-2023-09.md"
NOV_README = SEED / "awesome-llm-inference-README-2023-11.md"

needs_seed = pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is not present")


def _manifest(result: ImportResult) -> Manifest:
    return parse_manifest(result.toml, path=Path("/tmp/imported.toml"), display="imported.toml")


def _papers(result: ImportResult) -> dict[str, dict[str, Any]]:
    data = tomllib.loads(result.toml)
    return {p["key"]: p for p in data["papers"]}


def _accounted(result: ImportResult) -> None:
    r = result.report
    assert r.rows_seen == r.papers_written + r.kept_as_comments + r.duplicates_merged
    assert len(_manifest(result).papers) == r.papers_written


# --------------------------------------------------------------------------- the seed READMEs


@needs_seed
def test_seed_readme_v02() -> None:
    result = import_readme(V02_README.read_text(encoding="utf-8"), source=V02_README.name)
    r = result.report
    assert (r.rows_seen, r.papers_written, r.kept_as_comments, r.duplicates_merged) == (
        23,
        19,
        4,  # the release-zip and PDF links in the prose above the tables
        0,
    )
    _accounted(result)
    m = _manifest(result)
    assert m.bundle.name == "LLMs-Inference-Papers"
    assert m.bundle.version == "v0.1"
    # the same 19 papers, in the same order, as the hand-written v0.2 manifest
    hand = parse_manifest(
        (ROOT / "manifests" / "v0.2.toml").read_text(encoding="utf-8"),
        path=ROOT / "manifests" / "v0.2.toml",
        display="v0.2.toml",
    )
    assert [p.url for p in m.papers] == [p.url for p in hand.papers]
    assert [p.label for p in m.papers] == [p.label for p in hand.papers]
    assert [p.date for p in m.papers] == [p.date for p in hand.papers]
    assert [p.code for p in m.papers] == [p.code for p in hand.papers]
    fa = m.paper("flashattention")
    assert fa.title == "Fast and Memory-Efficient Exact Attention with IO-Awareness"
    assert fa.url == "https://arxiv.org/pdf/2205.14135"
    assert fa.date == "2022.05"
    assert fa.code == "https://github.com/Dao-AILab/flash-attention"
    assert fa.section is None  # one table under one heading: a section would say nothing
    orca = m.paper("continuous-batching")
    assert (
        orca.title == "Orca: A Distributed Serving System for Transformer-Based Generative Models"
    )
    assert orca.url == "https://www.usenix.org/system/files/osdi22-yu.pdf"
    assert orca.code is None
    assert m.paper("llm.int8").label == "LLM.int8()"
    assert (
        m.paper("fastserve").title == "Fast Distributed Inference Serving for Large Language Models"
    )


@needs_seed
def test_seed_readme_2023_11() -> None:
    result = import_readme(NOV_README.read_text(encoding="utf-8"), source=NOV_README.name)
    r = result.report
    assert (r.rows_seen, r.papers_written, r.kept_as_comments, r.duplicates_merged) == (
        32,
        25,
        7,  # now with the two GitHub-only list items above the tables
        0,
    )
    _accounted(result)
    m = _manifest(result)
    # no level-1 heading: the name comes from the first non-generic heading, with a note
    assert m.bundle.name == "Awesome-LLM-Inference-Papers-with-Codes"
    assert any("--name" in n for n in r.notes)
    awq = m.paper("awq")
    assert awq.url == "https://arxiv.org/pdf/2306.00978"  # was browse.arxiv.org
    assert (
        awq.title
        == "AWQ: Activation-aware Weight Quantization for LLM Compression and Acceleration"
    )
    assert awq.code == "https://github.com/mit-han-lab/llm-awq"
    assert m.paper("megatron-lm").date == "2020.05"  # the README's date, not the arXiv id's
    assert m.paper("fastserve").code is None  # "👍" is not a link
    # the five rows without a PDF are comments naming title and link, and notes on stderr
    for title, link in [
        ("[Medusa] Medusa: Simple Framework", "https://sites.google.com/view/medusa-llm"),
        ("[FLOP, I/O] Dissecting Batching Effects", "https://le.qun.ch/en/blog/2023/05/13/"),
        ("[KV Cache FP8 + WINT4] Exploration", "https://zhuanlan.zhihu.com/p/653735572"),
        ("[Flash-Decoding] Flash-Decoding", "https://crfm.stanford.edu/2023/10/12/flashdecoding"),
        ("[TensorRT-LLM] NVIDIA TensorRT LLM", "https://nvidia.github.io/TensorRT-LLM/"),
    ]:
        comment = [ln for ln in result.toml.splitlines() if ln.startswith("#") and title in ln]
        assert len(comment) == 1, title
        assert link in result.toml
        assert any(title in n and "kept as a comment" in n for n in r.notes)
    assert "medusa" not in _papers(result)


@needs_seed
def test_seed_readme_name_and_version_options() -> None:
    result = import_readme(
        NOV_README.read_text(encoding="utf-8"), name="Awesome-LLM-Inference", version="v0.3"
    )
    m = _manifest(result)
    assert (m.bundle.name, m.bundle.version) == ("Awesome-LLM-Inference", "v0.3")
    assert not any("--name" in n for n in result.report.notes)


# --------------------------------------------------------------------------- synthetic shapes

SYNTHETIC = r"""<div align="center">
<h1 align="center">🚀 Awesome <b>Efficient</b> LLM Papers</h1>
<img src="https://img.shields.io/github/stars/x/y.svg">
</div>

[fa-ref]: https://arxiv.org/abs/2205.14135v2 "FlashAttention"

Some prose with a | pipe that is not a table.

```markdown
| Date | Title | Paper |
|---|---|---|
| 2020.01 | [Fenced] Not a row | [pdf](https://arxiv.org/abs/2001.00001) |
```

<!--
| 2020.01 | [Commented] Not a row | [pdf](https://arxiv.org/abs/2001.00002) |
-->

## 🔥 Attention

### Kernels ✨

| Date | Title | Paper | Code | Venue |
|:---:|---|:---:|:---:|---|
| 2022.05 | **[FlashAttention]** Fast and Memory-Efficient Exact Attention with IO-Awareness 🔥🔥 | [[arxiv][pdf]](https://arxiv.org/abs/2205.14135) | [[GitHub][flash-attention]](https://github.com/Dao-AILab/flash-attention) ![](https://img.shields.io/github/stars/Dao-AILab/flash-attention.svg?style=social) | NeurIPS 2022 |
| 2023-7 | [FlashAttention-2] *Faster Attention* with Better Parallelism &amp; Work Partitioning | [blog](https://crfm.stanford.edu/x.html), [arXiv](http://www.arxiv.org/pdf/2307.08691v1.pdf) | [![stars](https://img.shields.io/github/stars/Dao-AILab/flash-attention)](https://github.com/Dao-AILab/flash-attention) | |
| 2023.10 | [Flash-Decoding] Flash-Decoding for long-context inference | [[tech report]](https://crfm.stanford.edu/2023/10/12/flashdecoding.html) | 👍 | |
| | | | | |

## Serving

Date | Title | Paper | Code
--- | --- | --- | ---
2022.07 | [Continuous Batching] Orca: A Distributed Serving System<br>*Yu et al.* | [[osdi22-yu][pdf]](https://www.usenix.org/system/files/osdi22-yu.pdf) | -
2022.05 | [FlashAttention] the same paper again, in another section | [[pdf]](https://arxiv.org/pdf/2205.14135.pdf) | -

### Quantization
|2023.05|[QLoRA] QLoRA: Efficient Finetuning of Quantized LLMs|[openreview](https://openreview.net/forum?id=OUIFPHEgJU)|[code](https://github.com/artidoro/qlora)|
|2023.06|[Tensor Core] One tensor core paper|[[pdf]](https://arxiv.org/abs/2306.00001)|-|
|2023.07|[Tensor Core] Another tensor core paper|[[pdf]](https://arxiv.org/abs/2307.00001)|-|

## Other venues

| Title | Links | Notes |
|---|---|---|
| <a href="https://aclanthology.org/2023.acl-long.1/">An ACL Paper Without Label</a> | <a href="https://github.com/acl/one"><img src="https://img.shields.io/badge/code-x"></a> | 2023 |
| `Code spans` and an escaped \| pipe, "quotes" and a back\\slash | [pdf](https://example.com/papers/paper.PDF?download=1) | |
| [Megatron](https://github.com/NVIDIA/Megatron-LM) Training Multi-Billion Parameter Language Models | [![arXiv](https://img.shields.io/badge/arXiv-1909.08053-b31b1b.svg)](https://arxiv.org/abs/1909.08053) | |
| [Medusa] Medusa: Simple Framework for Accelerating LLM Generation | [blog](https://sites.google.com/view/medusa-llm) | [GitHub](https://github.com/FasterDecoding/Medusa) |
| [Repo Only] A row with only a repository | https://github.com/only/repo | |
| [中文] 推理优化论文 | [[arxiv]][fa-ref] | |
| [GitHub PDF] A PDF kept in a repository | [pdf](https://github.com/o/r/blob/main/docs/paper.pdf) | |
| [HF] Via Hugging Face papers | [hf](https://huggingface.co/papers/2401.00001) | |
| [P-Tuning] GPT Understands, Too | [ACL](https://www.aclweb.org/anthology/P19-1001/) | |
| Nothing but a title | | |
"""


@pytest.fixture(scope="module")
def synthetic() -> ImportResult:
    return import_readme(SYNTHETIC, source="SYNTHETIC.md")


def test_synthetic_counts(synthetic: ImportResult) -> None:
    r = synthetic.report
    _accounted(synthetic)
    # 3 + 2 + 3 rows in the first three tables, 10 in the last; the empty row is not a row
    assert r.rows_seen == 18
    assert r.duplicates_merged == 2  # FlashAttention again, and the [[arxiv]][fa-ref] row
    assert r.kept_as_comments == 4  # Flash-Decoding, Medusa, Repo Only, Nothing but a title
    assert r.papers_written == 12


def test_synthetic_bundle(synthetic: ImportResult) -> None:
    m = _manifest(synthetic)
    assert m.bundle.name == "Awesome-Efficient-LLM-Papers"
    assert m.bundle.title == "Awesome Efficient LLM Papers"
    assert m.bundle.version == "v0.1"
    assert not any(p.title.startswith(("Fenced", "Commented")) for p in m.papers)
    assert "Fenced" not in synthetic.toml and "Commented" not in synthetic.toml


def test_synthetic_rows(synthetic: ImportResult) -> None:
    papers = _papers(synthetic)
    assert papers["flashattention"] == {
        "key": "flashattention",
        "title": "Fast and Memory-Efficient Exact Attention with IO-Awareness",
        "url": "https://arxiv.org/pdf/2205.14135",
        "label": "FlashAttention",
        "section": "Kernels",
        "date": "2022.05",
        "code": "https://github.com/Dao-AILab/flash-attention",
    }
    fa2 = papers["flashattention-2"]
    assert fa2["title"] == "Faster Attention with Better Parallelism & Work Partitioning"
    assert fa2["url"] == "https://arxiv.org/pdf/2307.08691v1"  # second link of the cell
    assert fa2["date"] == "2023.07"
    assert fa2["code"] == "https://github.com/Dao-AILab/flash-attention"  # a linked badge
    orca = papers["continuous-batching"]
    assert orca["title"] == "Orca: A Distributed Serving System"  # authors after <br> dropped
    assert orca["section"] == "Serving"
    assert orca["url"] == "https://www.usenix.org/system/files/osdi22-yu.pdf"
    assert "code" not in orca
    qlora = papers["qlora"]  # a row continuing the table after a heading, header not repeated
    assert qlora["url"] == "https://openreview.net/pdf?id=OUIFPHEgJU"
    assert qlora["section"] == "Quantization"
    assert qlora["code"] == "https://github.com/artidoro/qlora"
    assert qlora["title"] == "QLoRA: Efficient Finetuning of Quantized LLMs"
    assert papers["tensor-core"]["title"] == "One tensor core paper"
    assert papers["tensor-core-2"]["title"] == "Another tensor core paper"
    acl = papers["an-acl-paper-without-label"]
    assert acl["url"] == "https://aclanthology.org/2023.acl-long.1.pdf"
    assert acl["title"] == "An ACL Paper Without Label"
    assert acl["date"] == "2023"  # found in an extra column
    assert acl["code"] == "https://github.com/acl/one"
    assert "label" not in acl
    quoted = next(p for p in papers.values() if p["title"].startswith("Code spans"))
    assert quoted["title"] == 'Code spans and an escaped | pipe, "quotes" and a back\\slash'
    assert quoted["url"] == "https://example.com/papers/paper.PDF?download=1"
    megatron = papers["megatron"]
    assert megatron["title"] == "Training Multi-Billion Parameter Language Models"
    assert megatron["url"] == "https://arxiv.org/pdf/1909.08053"  # the badge's target
    assert megatron["code"] == "https://github.com/NVIDIA/Megatron-LM"
    assert megatron["date"] == "2019.09"  # from the arXiv id when the row has none
    assert papers["github-pdf"]["url"] == "https://github.com/o/r/raw/main/docs/paper.pdf"
    assert papers["hf"]["url"] == "https://arxiv.org/pdf/2401.00001"
    assert papers["p-tuning"]["url"] == "https://aclanthology.org/P19-1001.pdf"
    assert papers["p-tuning"]["section"] == "Other venues"


def test_synthetic_comments_and_notes(synthetic: ImportResult) -> None:
    text = synthetic.toml
    notes = "\n".join(synthetic.report.notes)
    assert "# no PDF link (tech report), not imported: [Flash-Decoding]" in text
    assert "# no PDF link (blog), not imported: [Medusa] Medusa" in text
    assert "#   code: https://github.com/FasterDecoding/Medusa" in text
    assert "# no PDF link (GitHub only), not imported: [Repo Only]" in text
    assert "# no PDF link (no link), not imported: Nothing but a title" in text
    assert "# duplicate of 'flashattention', merged: [中文] 推理优化论文" in text
    assert "SYNTHETIC.md:" in notes
    assert "same paper as 'flashattention'" in notes and "arXiv 2205.14135" in notes
    assert notes.count("kept as a comment") == 4
    assert notes.count("merged") == 2


def test_emoji_badges_html_and_emphasis_removed() -> None:
    md = (
        "# List\n\n|Title|Paper|\n|-|-|\n"
        "| 🔥🔥 ***[Hot]*** _Very_ __Important__ <sup>new</sup> Paper ⭐️ "
        "![badge](https://img.shields.io/x.svg) | [pdf](https://arxiv.org/abs/2301.00001) |\n"
        "| snake_case_name and 2\\*3\\*4 stay | [pdf](https://arxiv.org/abs/2301.00002) |\n"
    )
    papers = list(_papers(import_readme(md)).values())
    assert papers[0]["label"] == "Hot"
    assert papers[0]["title"] == "Very Important new Paper"
    assert papers[1]["title"] == "snake_case_name and 2*3*4 stay"


def test_headerless_table_and_cells_without_outer_pipes() -> None:
    md = "Intro\n\n| 2023.01 | [A] Paper A | https://arxiv.org/abs/2301.00001 |\n"
    result = import_readme(md, source="reading-list.md")
    p = _papers(result)["a"]
    assert (p["title"], p["date"], p["url"]) == (
        "Paper A",
        "2023.01",
        "https://arxiv.org/pdf/2301.00001",
    )
    assert "section" not in p
    assert _manifest(result).bundle.name == "reading-list"  # no heading: the file's name
    assert any("no usable heading" in n for n in result.report.notes)
    assert not any("heading" in n for n in import_readme(md, name="x").report.notes)


# --------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://arxiv.org/abs/2205.14135", "https://arxiv.org/pdf/2205.14135"),
        ("http://www.arxiv.org/pdf/2205.14135v2.pdf", "https://arxiv.org/pdf/2205.14135v2"),
        ("https://browse.arxiv.org/pdf/2306.00978.pdf", "https://arxiv.org/pdf/2306.00978"),
        ("https://ar5iv.labs.arxiv.org/html/2205.14135", "https://arxiv.org/pdf/2205.14135"),
        ("https://doi.org/10.48550/arXiv.2205.14135", "https://arxiv.org/pdf/2205.14135"),
        ("https://openreview.net/forum?id=abc-XY_1", "https://openreview.net/pdf?id=abc-XY_1"),
        (
            "https://aclanthology.org/2023.acl-long.1/",
            "https://aclanthology.org/2023.acl-long.1.pdf",
        ),
        (
            "https://aclanthology.org/2020.emnlp-main.550",
            "https://aclanthology.org/2020.emnlp-main.550.pdf",
        ),
        (
            "https://www.usenix.org/system/files/osdi22-yu.pdf",
            "https://www.usenix.org/system/files/osdi22-yu.pdf",
        ),
        ("https://arxiv.org/list/cs.CL/recent", None),
        ("https://www.usenix.org/conference/osdi22/presentation/yu", None),
        ("https://zhuanlan.zhihu.com/p/653735572", None),
        ("https://github.com/vllm-project/vllm", None),
        ("ftp://example.com/paper.pdf", None),
    ],
)
def test_pdf_url(url: str, expected: str | None) -> None:
    assert pdf_url(url) == expected


@pytest.mark.parametrize(
    ("label", "key"),
    [
        ("FlashAttention-2", "flashattention-2"),
        ("LLM.int8()", "llm.int8"),
        ("WINT8/4", "wint8-4"),
        ("KV Cache FP8 + WINT4", "kv-cache-fp8-wint4"),
        ("Éclair", "eclair"),
        ("推理", ""),
    ],
)
def test_slug_key(label: str, key: str) -> None:
    assert slug_key(label) == key


@pytest.mark.parametrize(
    "value", ['a "quoted" \\ back', "tab\there", "new\nline", "ctl\x01\x7f", "中文 ✓"]
)
def test_toml_string_round_trip(value: str) -> None:
    assert tomllib.loads(f"v = {toml_string(value)}")["v"] == value


def test_bad_options_and_empty_input() -> None:
    with pytest.raises(UsageError, match="--name"):
        import_readme("# x\n", name="bad name")
    with pytest.raises(UsageError, match="--version"):
        import_readme("# x\n", version="-v1")
    with pytest.raises(UsageError, match="no paper links found"):
        import_readme("# x\n\nJust prose, *no* links.\n\n- a bullet\n")
    with pytest.raises(UsageError, match="no row or item with a PDF link"):
        import_readme("# x\n\n|Title|Link|\n|-|-|\n|A blog|[b](https://example.com/b)|\n")


def test_write_import(tmp_path: Path, synthetic: ImportResult) -> None:
    out = tmp_path / "manifests" / "new.toml"
    write_import(synthetic, out, force=False)
    assert out.read_text(encoding="utf-8") == synthetic.toml
    out.write_text("keep me", encoding="utf-8")
    with pytest.raises(UsageError, match="--force"):
        write_import(synthetic, out, force=False)
    assert out.read_text(encoding="utf-8") == "keep me"
    write_import(synthetic, out, force=True)
    assert out.read_text(encoding="utf-8") == synthetic.toml
    assert [p.name for p in out.parent.iterdir()] == ["new.toml"]  # no temporary left behind
    with pytest.raises(UsageError, match="directory"):
        write_import(synthetic, tmp_path, force=True)


def test_paper_column_holds_the_title_and_cjk_headers() -> None:
    md = (
        "# 列表\n\n## 注意力\n\n"
        "| 日期 | 论文 | 代码 |\n|---|---|---|\n"
        "| May 2023 | [Attention Is All You Need](https://arxiv.org/abs/1706.03762) | "
        "[code](https://github.com/tensorflow/tensor2tensor) |\n"
        "| 2023/5 | [[pdf]](https://arxiv.org/abs/1706.03762v7) | - |\n"
        "\n## 🔥 量化\n\n| 日期 | 论文 | 代码 |\n|---|---|---|\n"
        "| 2022.11 | [SmoothQuant](https://arxiv.org/abs/2211.10438) | - |\n"
    )
    result = import_readme(md, name="cjk")
    assert (result.report.papers_written, result.report.duplicates_merged) == (2, 1)
    assert _papers(result)["smoothquant"]["section"] == "量化"  # the heading, without its emoji
    p = _papers(result)["attention-is-all-you-need"]
    assert p["title"] == "Attention Is All You Need"
    assert p["date"] == "2023.05"
    assert p["section"] == "注意力"
    assert p["code"] == "https://github.com/tensorflow/tensor2tensor"
    assert _manifest(result).bundle.title == "列表"


def test_large_readme() -> None:
    rows = "".join(
        f"|2023.{i % 12 + 1}|[P{i}] **Paper** number {i} 🔥|[[arxiv][pdf]](https://arxiv.org/abs/23{i % 12 + 1:02d}.{i:05d})|"
        f"[[GitHub][r]](https://github.com/o/r{i}) ![](https://img.shields.io/github/stars/o/r{i}.svg)|\n"
        for i in range(1000)
    )
    result = import_readme(f"# Big\n\n|Date|Title|Paper|Code|\n|-|-|-|-|\n{rows}")
    assert result.report.papers_written == 1000
    assert result.report.rows_seen == 1000
