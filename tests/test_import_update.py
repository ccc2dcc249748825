"""`paperbundle import README.md --update MANIFEST`: a README merged into a hand-edited manifest."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run

README_V1 = """# Inference Papers

## Attention

- [Attention Is All You Need](https://arxiv.org/abs/1706.03762)
- [FlashAttention: Fast and Memory-Efficient](https://arxiv.org/abs/2205.14135)
- [Some Blog Post](https://example.com/blog/post)

## Quantization

- [SmoothQuant: Accurate and Efficient](https://arxiv.org/abs/2211.10438)
- [AWQ: Activation-aware Weight Quantization](https://arxiv.org/abs/2306.00978)
"""

# a week later: one paper gone (SmoothQuant), one new in each old section, a new section, and
# links given in other forms (pdf/v2, ar5iv) for papers already in the manifest
README_V2 = """# Inference Papers

## Attention

- [Attention Is All You Need](https://ar5iv.org/abs/1706.03762)
- [PagedAttention: Efficient Memory Management](https://arxiv.org/abs/2309.06180)
- [FlashAttention: Fast and Memory-Efficient](https://arxiv.org/pdf/2205.14135v2)

## Quantization

- [GPTQ: Accurate Post-Training Quantization](https://arxiv.org/abs/2210.17323)
- [AWQ: Activation-aware Weight Quantization](https://arxiv.org/abs/2306.00978)

## Serving

- [Orca: A Distributed Serving System](https://www.usenix.org/system/files/osdi22-yu.pdf)
"""


def _papers(path: Path) -> list[dict[str, Any]]:
    papers: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["papers"]
    return papers


def _hand_edited(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Import README_V1, then edit the manifest the way a maintainer would."""
    (tmp_path / "README.md").write_text(README_V1, encoding="utf-8")
    m = tmp_path / "v1.toml"
    code, _, err = run(
        ["import", str(tmp_path / "README.md"), "-o", str(m), "--version", "v1"], capsys
    )
    assert code == 0, err
    text = m.read_text(encoding="utf-8")
    for old, new in (
        ('key = "flashattention-fast-and-memory-efficient"', 'key = "flash"'),  # renamed key
        ('title = "Attention Is All You Need"', 'title = "Transformer (Vaswani et al.)"'),
        ('section = "Attention"', 'section = "Attention mechanisms"'),  # renamed section
        ('key = "awq-activation-aware-weight-quantization"', '# picked by hand\nkey = "awq"'),
        (
            'url = "https://arxiv.org/pdf/2211.10438"',
            'url = "https://arxiv.org/pdf/2211.10438"\n# a note on SmoothQuant',
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    # reordered by hand: AWQ before SmoothQuant
    blocks = text.split("\n[[papers]]\n")
    assert "smoothquant" in blocks[3] and 'key = "awq"' in blocks[4]
    blocks[3], blocks[4] = blocks[4].rstrip("\n") + "\n", blocks[3].rstrip("\n") + "\n\n"
    text = "\n[[papers]]\n".join(blocks).rstrip("\n") + "\n"
    m.write_text(text, encoding="utf-8")
    code, _, err = run(["check", str(m)], capsys)
    assert code == 0, err
    (tmp_path / "README.md").write_text(README_V2, encoding="utf-8")
    return m


def test_update_keeps_hand_edits_and_places_new_papers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _hand_edited(tmp_path, capsys)
    before = m.read_text(encoding="utf-8")
    code, out, err = run(["import", str(tmp_path / "README.md"), "--update", str(m)], capsys)
    assert code == 0, err
    after = m.read_text(encoding="utf-8")
    # every line of the hand-edited file is still there, in the same order
    kept = iter(after.splitlines())
    assert all(any(line == a for a in kept) for line in before.splitlines())
    papers = _papers(m)
    assert [p["key"] for p in papers] == [
        "attention-is-all-you-need",
        "pagedattention-efficient-memory-management",  # after its README predecessor
        "flash",
        "gptq-accurate-post-training-quantization",  # first of its section: before AWQ
        "awq",  # the hand order: AWQ before SmoothQuant
        "smoothquant-accurate-and-efficient",  # gone from the README, kept
        "orca-a-distributed-serving-system",  # a new section, appended
    ]
    by_key = {p["key"]: p for p in papers}
    assert by_key["attention-is-all-you-need"]["title"] == "Transformer (Vaswani et al.)"
    new = by_key["pagedattention-efficient-memory-management"]
    assert new["section"] == "Attention mechanisms"  # the section as renamed by hand
    assert new["url"] == "https://arxiv.org/pdf/2309.06180"
    assert by_key["orca-a-distributed-serving-system"]["section"] == "Serving"
    assert "# picked by hand" in after and "# a note on SmoothQuant" in after
    assert (
        "'smoothquant-accurate-and-efficient' (https://arxiv.org/pdf/2211.10438) is not in " in err
    )
    assert "kept" in err and "3 papers added, 1 no longer in the README" in err
    # stdout: the changes, as `paperbundle diff` prints them
    assert out.startswith("## Changes since v1")
    assert "### Added (3)" in out and "Orca: A Distributed Serving System" in out
    assert "Removed" not in out and "Changed" not in out
    code, _, err = run(["check", str(m)], capsys)
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {"README.md", "v1.toml"}  # no temporary left
    # twice: nothing changes, byte for byte, and the file is not rewritten
    stat = m.stat()
    code, out, err = run(["import", str(tmp_path / "README.md"), "--update", str(m)], capsys)
    assert code == 0, err
    assert m.read_text(encoding="utf-8") == after
    assert m.stat().st_mtime_ns == stat.st_mtime_ns and m.stat().st_ino == stat.st_ino
    assert "No changes." in out and "unchanged: 0 papers added" in err


def test_update_prune_removes_gone_papers_and_keeps_their_comments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _hand_edited(tmp_path, capsys)
    readme = str(tmp_path / "README.md")
    code, out, err = run(["import", readme, "--update", str(m), "--prune"], capsys)
    assert code == 0, err
    keys = [p["key"] for p in _papers(m)]
    assert "smoothquant-accurate-and-efficient" not in keys and len(keys) == 6
    assert "is not in the README; removed" in err
    assert "### Removed (1)" in out and "SmoothQuant: Accurate and Efficient" in out
    assert "# a note on SmoothQuant" in m.read_text(encoding="utf-8")  # moved up, not lost
    code, _, err = run(["check", str(m)], capsys)
    assert code == 0, err
    after = m.read_bytes()
    code, out, err = run(["import", readme, "--update", str(m), "--prune"], capsys)
    assert code == 0, err
    assert m.read_bytes() == after and "No changes." in out


def test_update_matches_by_canonical_url_and_keeps_keys_unique(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(
        '[bundle]\nname = "b"\nversion = "v2"\ntitle = "B"\n\n'
        '[[papers]]\nkey = "flash"\ntitle = "Flash"\nurl = "https://arxiv.org/abs/2205.14135v1"\n\n'
        '[[papers]]\nkey = "forum"\ntitle = "A Forum Paper"\n'
        'url = "https://openreview.net/forum?id=AbC"\n\n'
        '[[papers]]\nkey = "orca"\ntitle = "Another Orca"\n'
        'url = "https://example.org/other-orca.pdf"\n',
        encoding="utf-8",
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "# B\n\n"
        "- [FlashAttention](https://arxiv.org/pdf/2205.14135v2)\n"  # same paper, other version
        "- [A Forum Paper, again](https://openreview.net/pdf?id=AbC)\n"  # the forum's PDF
        "- [Orca](https://www.usenix.org/system/files/osdi22-yu.pdf)\n",  # new; key taken
        encoding="utf-8",
    )
    code, out, err = run(["import", str(readme), "--update", str(m)], capsys)
    assert code == 0, err
    papers = _papers(m)
    # the new paper follows its README predecessor; the gone one keeps its place
    assert [p["key"] for p in papers] == ["flash", "forum", "orca-2", "orca"]
    assert papers[0]["url"] == "https://arxiv.org/abs/2205.14135v1"  # untouched
    assert "### Added (1)" in out and "`orca-2`" in out
    assert "'orca' (https://example.org/other-orca.pdf) is not in the README; kept" in err


def test_update_refuses_other_options_and_bad_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = _hand_edited(tmp_path, capsys)
    readme = str(tmp_path / "README.md")
    before = m.read_bytes()
    for extra in (
        ["-o", str(tmp_path / "x.toml")],
        ["--force"],
        ["--name", "N"],
        ["--version", "v9"],
    ):
        code, _, err = run(["import", readme, "--update", str(m), *extra], capsys)
        assert code == 2, (extra, err)
        assert "not used with --update" in err and "Traceback" not in err
    assert m.read_bytes() == before and not (tmp_path / "x.toml").exists()
    empty = tmp_path / "empty.md"
    empty.write_text("# Inference Papers\n\nNo links this week.\n", encoding="utf-8")
    code, _, err = run(["import", str(empty), "--update", str(m), "--prune"], capsys)
    assert code == 2 and "no paper links" in err and m.read_bytes() == before
    code, _, err = run(["import", readme, "--prune", "-o", str(tmp_path / "x.toml")], capsys)
    assert code == 2 and "--prune" in err
    code, _, err = run(["import", readme], capsys)
    assert code == 2 and "-o NEW.toml, or --update MANIFEST" in err
    code, _, err = run(["import", readme, "--update", str(tmp_path / "none.toml")], capsys)
    assert code == 2 and "none.toml" in err and "no such file" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[bundle]\nname = "b"\n', encoding="utf-8")
    code, _, err = run(["import", readme, "--update", str(bad)], capsys)
    assert code == 2 and "bad.toml" in err
    assert bad.read_text(encoding="utf-8") == '[bundle]\nname = "b"\n'
    inline = tmp_path / "inline.toml"
    inline.write_text(
        'papers = [{key = "a", title = "A", url = "https://arxiv.org/abs/1706.03762"}]\n'
        '[bundle]\nname = "b"\nversion = "v1"\ntitle = "B"\n',
        encoding="utf-8",
    )
    code, _, err = run(["import", readme, "--update", str(inline)], capsys)
    assert code == 2 and "[[papers]] tables" in err


SEED = Path(__file__).resolve().parent.parent.parent / "shared" / "seed"


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is absent")
def test_update_follows_the_real_readme_from_v02_to_2023_11(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "v0.3.toml"
    old = SEED / "llms-inference-papers-README-v0.2-2023-09.md"
    new = SEED / "awesome-llm-inference-README-2023-11.md"
    code, _, err = run(["import", str(old), "-o", str(m), "--version", "v0.3"], capsys)
    assert code == 0, err
    before = {p["url"] for p in _papers(m)}
    code, out, err = run(["import", str(new), "--update", str(m)], capsys)
    assert code == 0, err
    after = _papers(m)
    assert {p["url"] for p in after} >= before and len(after) == 25
    assert f"### Added ({25 - len(before)})" in out
    code, _, err = run(["check", str(m)], capsys)
    assert code == 0, err
    once = m.read_bytes()
    code, out, _ = run(["import", str(new), "--update", str(m)], capsys)
    assert code == 0 and m.read_bytes() == once and "No changes." in out
