"""What a valid manifest is: frozen dataclasses for the bundle, its papers and their sections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

OTHER_SECTION = "Other"


@dataclass(frozen=True)
class PageRange:
    """Inclusive 1-based page range; ``last`` None means "to the end"."""

    first: int
    last: int | None

    def __str__(self) -> str:
        if self.last is None:
            return f"{self.first}-"
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    url: str | None  # canonical (normalised) URL, None for a local `path`
    path: Path | None  # absolute path of a local file
    label: str | None = None
    section: str | None = None
    date: str | None = None
    authors: str | None = None
    code: str | None = None
    affiliation: str | None = None  # who made it, e.g. "DeepSeek-AI"
    venue: str | None = None  # where it appeared, e.g. "NeurIPS 2025"
    sha256: str | None = None
    pages: tuple[PageRange, ...] | None = None
    licence: str | None = None  # a licence URL or SPDX id the maintainer gives

    def excerpt(self, total_pages: int) -> str | None:
        """The excerpt mark of a paper cut with ``pages`` ("pp. 1–12 of 40"), None when whole."""
        if self.pages is None:
            return None
        parts = []
        for r in self.pages:
            last = total_pages if r.last is None else r.last
            parts.append(str(r.first) if r.first == last else f"{r.first}–{last}")
        single = len(parts) == 1 and "–" not in parts[0]
        return f"{'p.' if single else 'pp.'} {', '.join(parts)} of {total_pages}"

    @property
    def source(self) -> str:
        """What to show for where the paper comes from: its canonical URL or its local path."""
        if self.url is not None:
            return self.url
        assert self.path is not None
        return str(self.path)


@dataclass(frozen=True)
class Bundle:
    name: str
    version: str
    title: str
    subtitle: str | None = None
    description: str | None = None
    curator: str | None = None
    homepage: str | None = None
    date: dt.date | None = None
    previous: Path | None = None
    redistribute: str = "all"  # "granted": papers whose licence grants nothing become link-only

    @property
    def stem(self) -> str:
        """File stem of every output: ``NAME-VERSION``."""
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class Section:
    title: str | None  # None when the manifest has no sections at all
    papers: tuple[Paper, ...]


@dataclass(frozen=True)
class Manifest:
    path: Path
    bundle: Bundle
    papers: tuple[Paper, ...]
    display_path: str = field(default="", compare=False)

    @property
    def lock_path(self) -> Path:
        return lock_path_for(self.path)

    def sections(self) -> tuple[Section, ...]:
        """Papers grouped by section, sections in order of first appearance.

        Papers without a section go last under "Other" when some papers have one; with no sections
        at all there is a single untitled group.
        """
        if not any(p.section for p in self.papers):
            return (Section(None, self.papers),)
        order: dict[str, list[Paper]] = {}
        loose: list[Paper] = []
        for p in self.papers:
            if p.section:
                order.setdefault(p.section, []).append(p)
            else:
                loose.append(p)
        if loose:
            order.setdefault(OTHER_SECTION, []).extend(loose)
        return tuple(Section(t, tuple(ps)) for t, ps in order.items())

    def ordered_papers(self) -> tuple[Paper, ...]:
        """Papers in bundle order (grouped by section)."""
        return tuple(p for s in self.sections() for p in s.papers)

    def paper(self, key: str) -> Paper:
        for p in self.papers:
            if p.key == key:
                return p
        raise KeyError(key)


def lock_path_for(manifest_path: Path) -> Path:
    return manifest_path.with_name(manifest_path.stem + ".lock.json")
