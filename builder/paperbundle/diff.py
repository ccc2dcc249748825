"""`paperbundle diff OLD.toml NEW.toml` and the "what changed" section of the release notes.

Papers are matched by key; a paper whose key was renamed is matched by its source (the arXiv id
without version, else the canonical URL or local path) and reported as changed (field ``key``),
not as removed and added.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from paperbundle.manifest import Manifest, PageRange, Paper, arxiv_id
from paperbundle.release import md_escape, md_url

# the fields compared, in the order they are reported
FIELDS = ("key", "url", "title", "sha256", "pages", "label", "section")


@dataclass(frozen=True)
class PaperChange:
    key: str  # the paper's key in the new manifest
    field: str  # key, url, title, sha256, pages, label or section
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ManifestDiff:
    added: tuple[Paper, ...]  # in new-manifest order
    removed: tuple[Paper, ...]  # in old-manifest order
    changed: tuple[tuple[Paper, tuple[PaperChange, ...]], ...]  # (new paper, changes), new order
    old_version: str
    new_version: str

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def summary(self) -> str:
        if self.empty:
            return "No changes."
        return f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"


def _identity(p: Paper) -> str:
    if p.url is not None:
        return arxiv_id(p.url) or p.url
    return str(p.path)


def _pages(ranges: tuple[PageRange, ...] | None) -> str | None:
    return ",".join(str(r) for r in ranges) if ranges else None


def _value(p: Paper, name: str) -> str | None:
    if name == "url":
        return p.source
    if name == "pages":
        return _pages(p.pages)
    value = getattr(p, name)
    return None if value is None else str(value)


def _changes(old: Paper, new: Paper) -> tuple[PaperChange, ...]:
    out = []
    for name in FIELDS:
        a, b = _value(old, name), _value(new, name)
        if a != b:
            out.append(PaperChange(new.key, name, a, b))
    return tuple(out)


def diff_manifests(old: Manifest, new: Manifest) -> ManifestDiff:
    """What changed from ``old`` to ``new``: papers added, removed and changed."""
    old_by_key = {p.key: p for p in old.papers}
    new_keys = {p.key for p in new.papers}
    pairs: dict[str, Paper] = {}  # new key -> matching old paper
    for p in new.papers:
        if p.key in old_by_key:
            pairs[p.key] = old_by_key[p.key]
    # renamed keys: unmatched papers with the same source
    unmatched_old: dict[str, list[Paper]] = {}
    for p in old.papers:
        if p.key not in new_keys:
            unmatched_old.setdefault(_identity(p), []).append(p)
    for p in new.papers:
        if p.key not in pairs:
            candidates = unmatched_old.get(_identity(p))
            if candidates:
                pairs[p.key] = candidates.pop(0)
    matched_old = {id(p) for p in pairs.values()}
    added = tuple(p for p in new.papers if p.key not in pairs)
    removed = tuple(p for p in old.papers if id(p) not in matched_old)
    changed = []
    for p in new.papers:
        if p.key in pairs:
            ch = _changes(pairs[p.key], p)
            if ch:
                changed.append((p, ch))
    return ManifestDiff(
        added=added,
        removed=removed,
        changed=tuple(changed),
        old_version=old.bundle.version,
        new_version=new.bundle.version,
    )


# --------------------------------------------------------------------------- markdown


def _md_paper(p: Paper) -> str:
    title = md_escape(p.title)
    link = f"[{title}]({md_url(p.url)})" if p.url is not None else f"{title} (local file)"
    label = f"**{md_escape(p.label)}** " if p.label else ""
    return f"{label}{link} · `{p.key}`"


def _md_value(field: str, value: str | None) -> str:
    if value is None:
        return "(none)"
    if field == "sha256":
        return f"`{value[:16]}…`"
    if field in ("key", "url", "pages"):
        return f"`{value}`"
    return f"“{md_escape(value)}”"


def diff_markdown(
    d: ManifestDiff, *, heading_level: int = 2, missing: frozenset[str] = frozenset()
) -> str:
    """The diff as markdown: ``## Changes since vX`` with Added / Removed / Changed lists.

    ``missing`` names papers of the new manifest that a ``--keep-going`` build left out: they
    are not called added (the bundle does not hold them); a line says how many were left out."""
    left_out = [p for p in d.added if p.key in missing]
    if left_out:
        d = replace(d, added=tuple(p for p in d.added if p.key not in missing))
    h = "#" * max(1, min(heading_level, 5))
    sub = h + "#"
    lines = [f"{h} Changes since {d.old_version}", ""]
    if left_out:
        keys = ", ".join(f"`{p.key}`" for p in left_out)
        lines += [
            f"New in the manifest but missing from this build, so not counted as added: {keys}.",
            "",
        ]
    if d.empty:
        lines += ["No changes.", ""]
        return "\n".join(lines)
    lines += [f"{d.old_version} → {d.new_version}: {d.summary()}.", ""]
    if d.added:
        lines += [f"{sub} Added ({len(d.added)})", ""]
        lines += [f"- {_md_paper(p)}" for p in d.added]
        lines.append("")
    if d.removed:
        lines += [f"{sub} Removed ({len(d.removed)})", ""]
        lines += [f"- {_md_paper(p)}" for p in d.removed]
        lines.append("")
    if d.changed:
        lines += [f"{sub} Changed ({len(d.changed)})", ""]
        for p, changes in d.changed:
            lines.append(f"- {_md_paper(p)}")
            for c in changes:
                what = "sha256 (pinned)" if c.field == "sha256" else c.field
                lines.append(
                    f"  - {what}: {_md_value(c.field, c.old)} → {_md_value(c.field, c.new)}"
                )
        lines.append("")
    return "\n".join(lines)
