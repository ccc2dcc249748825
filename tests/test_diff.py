"""`paperbundle diff`: papers added, removed and changed between two manifests."""

from __future__ import annotations

from pathlib import Path

from paperbundle.diff import ManifestDiff, PaperChange, diff_manifests, diff_markdown
from paperbundle.manifest import Manifest, parse_manifest

ROOT = Path(__file__).resolve().parent.parent

OLD = """
[bundle]
name = "B"
version = "v1"

[[papers]]
key = "kept"
title = "Kept as it is"
url = "https://arxiv.org/abs/2205.14135"
section = "A"

[[papers]]
key = "gone"
title = "Removed [paper]"
url = "https://example.com/gone.pdf"

[[papers]]
key = "edited"
title = "Old title"
url = "https://arxiv.org/pdf/2307.08691v1"
label = "Old"
section = "A"

[[papers]]
key = "old-name"
title = "Renamed key"
url = "https://arxiv.org/pdf/2104.09864"
"""

NEW = """
[bundle]
name = "B"
version = "v2"

[[papers]]
key = "new-name"
title = "Renamed key"
url = "https://arxiv.org/abs/2104.09864v2"

[[papers]]
key = "kept"
title = "Kept as it is"
url = "https://arxiv.org/pdf/2205.14135.pdf"
section = "A"

[[papers]]
key = "edited"
title = "New *title*"
url = "https://arxiv.org/pdf/2307.08691v2"
label = "New"
section = "B"
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
pages = "1-12,15"

[[papers]]
key = "fresh"
title = "Added (with parens)"
url = "https://example.com/a_b(1).pdf"
"""


def _m(text: str, name: str) -> Manifest:
    return parse_manifest(text, path=Path("/tmp") / name, display=name)


def test_added_removed_changed_renamed() -> None:
    d = diff_manifests(_m(OLD, "old.toml"), _m(NEW, "new.toml"))
    assert (d.old_version, d.new_version) == ("v1", "v2")
    assert [p.key for p in d.added] == ["fresh"]
    assert [p.key for p in d.removed] == ["gone"]
    assert [p.key for p, _ in d.changed] == ["new-name", "edited"]
    renamed = dict(d.changed)[d.changed[0][0]]
    assert renamed == (
        PaperChange("new-name", "key", "old-name", "new-name"),
        PaperChange(
            "new-name",
            "url",
            "https://arxiv.org/pdf/2104.09864",
            "https://arxiv.org/pdf/2104.09864v2",
        ),
    )
    edited = {c.field: (c.old, c.new) for c in d.changed[1][1]}
    assert edited == {
        "url": ("https://arxiv.org/pdf/2307.08691v1", "https://arxiv.org/pdf/2307.08691v2"),
        "title": ("Old title", "New *title*"),
        "sha256": (None, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"),
        "pages": (None, "1-12,15"),
        "label": ("Old", "New"),
        "section": ("A", "B"),
    }
    assert d.summary() == "1 added, 1 removed, 2 changed"


def test_markdown() -> None:
    d = diff_manifests(_m(OLD, "old.toml"), _m(NEW, "new.toml"))
    md = diff_markdown(d)
    assert md.startswith("## Changes since v1\n")
    assert (
        "### Added (1)\n\n- [Added (with parens)](https://example.com/a_b%281%29.pdf) · `fresh`"
        in md
    )
    assert "### Removed (1)\n\n- [Removed \\[paper\\]](https://example.com/gone.pdf) · `gone`" in md
    assert "### Changed (2)" in md
    assert "- [Renamed key](https://arxiv.org/pdf/2104.09864v2) · `new-name`" in md
    assert "  - key: `old-name` → `new-name`" in md
    assert "  - title: “Old title” → “New \\*title\\*”" in md
    assert "  - sha256 (pinned): (none) → `abcdef0123456789…`" in md
    assert "  - pages: (none) → `1-12,15`" in md
    assert "- **New** [New \\*title\\*](https://arxiv.org/pdf/2307.08691v2) · `edited`" in md
    assert md.index("### Added") < md.index("### Removed") < md.index("### Changed")
    assert diff_markdown(d, heading_level=3).startswith("### Changes since v1\n\n")
    assert "#### Added (1)" in diff_markdown(d, heading_level=3)


def test_no_changes() -> None:
    old = _m(OLD, "old.toml")
    d = diff_manifests(old, old)
    assert d == ManifestDiff((), (), (), "v1", "v1")
    assert d.empty
    assert diff_markdown(d) == "## Changes since v1\n\nNo changes.\n"


def test_same_url_other_key_with_old_key_still_present_is_an_addition() -> None:
    old = _m(OLD, "old.toml")
    new = _m(
        OLD.replace('version = "v1"', 'version = "v2"').replace(
            'key = "gone"', 'key = "gone"\npages = "1"'
        )
        + '\n[[papers]]\nkey = "gone-2"\ntitle = "Same file, all pages"\nurl = "https://example.com/gone.pdf"\n',
        "new.toml",
    )
    d = diff_manifests(old, new)
    assert [p.key for p in d.added] == ["gone-2"]
    assert d.removed == ()
    assert [(p.key, [c.field for c in cs]) for p, cs in d.changed] == [("gone", ["pages"])]


def test_seed_manifests_v01_to_v02() -> None:
    manifests = ROOT / "manifests"
    old = parse_manifest(
        (manifests / "v0.1.toml").read_text("utf-8"),
        path=manifests / "v0.1.toml",
        display="v0.1.toml",
    )
    new = parse_manifest(
        (manifests / "v0.2.toml").read_text("utf-8"),
        path=manifests / "v0.2.toml",
        display="v0.2.toml",
    )
    d = diff_manifests(old, new)
    # v0.2 keeps 7 papers of v0.1 unchanged (same key, URL, title, label, section)
    assert (len(d.added), len(d.removed), len(d.changed)) == (12, 18, 0)
    assert {p.key for p in new.papers} - {p.key for p in d.added} == {
        "continuous-batching",
        "flashattention",
        "flashattention-2",
        "fp8",
        "rope",
        "smoothquant",
        "wint8-4",
    }
    assert diff_markdown(d).startswith(
        "## Changes since v0.1\n\nv0.1 → v0.2: 12 added, 18 removed, 0 changed.\n"
    )
