"""What a bundle may carry: each paper's licence, authors and version, from the manifest and the
lock (``build`` never asks arXiv), and what ``[bundle] redistribute`` makes of them.

* A paper's licence is the manifest's ``licence`` when given, else the licence arXiv's OAI-PMH
  answer gave (recorded by ``lock``), else none known.
* ``redistribute = "all"`` (the default) bundles every paper and warns about those whose licence
  grants nothing; ``"granted"`` replaces each of those with a one-page link-only stand-in, and
  fails when the lock has no licence for an arXiv paper (``lock`` records it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from paperbundle.arxiv.licences import Licence, classify
from paperbundle.arxiv.meta import url_version
from paperbundle.arxiv.records import ArxivRecord, authors_line
from paperbundle.errors import ArxivError, BuildFailed
from paperbundle.fetch.lock import Lock
from paperbundle.fmt import plural
from paperbundle.manifest import Manifest, Paper, arxiv_id

LINK_ONLY = "link only"


@dataclass(frozen=True)
class PaperRights:
    key: str
    licence: Licence
    version: int | None  # the version bundled, when known (URL, else the lock)
    record: ArxivRecord | None  # what arXiv said (the lock's ``arxiv`` record)
    link_only: bool  # replaced by a stand-in page (redistribute = "granted")
    excerpt: bool  # cut with ``pages``

    @property
    def allowed(self) -> bool:
        return self.licence.allows(excerpt=self.excerpt)


@dataclass(frozen=True)
class Rights:
    redistribute: str
    papers: Mapping[str, PaperRights]

    def not_granted(self) -> list[str]:
        """Keys of the papers whose licence grants no redistribution (as bundled)."""
        return [k for k, r in self.papers.items() if not r.allowed]

    def warnings(self) -> list[str]:
        keys = self.not_granted()
        if not keys:
            return []
        what = f"{plural(len(keys), 'paper')} with a licence that grants no redistribution"
        if self.redistribute == "granted":
            return [f"{what}, bundled as link-only pages: {', '.join(keys)}"]
        return [
            f"{what}: {', '.join(keys)} (bundled anyway; "
            'redistribute = "granted" replaces them with link-only pages)'
        ]


def paper_rights(paper: Paper, lock: Lock | None, redistribute: str) -> PaperRights:
    entry = lock.entries.get(paper.key) if lock is not None else None
    aid = arxiv_id(paper.url) if paper.url else None
    record = entry.arxiv if entry is not None and entry.arxiv is not None else None
    if record is not None and record.arxiv_id != aid:
        record = None  # the lock's record is of another paper: the URL changed since
    given = paper.licence or (record.licence if record is not None else None)
    licence = classify(given)
    version = url_version(paper.url)
    if version is None and aid is not None and entry is not None and record is not None:
        version = entry.version
    excerpt = paper.pages is not None
    granted = licence.allows(excerpt=excerpt)
    return PaperRights(
        key=paper.key,
        licence=licence,
        version=version,
        record=record,
        link_only=redistribute == "granted" and not granted,
        excerpt=excerpt,
    )


def decide(manifest: Manifest, lock: Lock | None) -> Rights:
    """Every paper's rights. Raises BuildFailed for a "granted" bundle whose lock lacks the
    licence of some arXiv papers (naming them, pointing to ``lock``)."""
    mode = manifest.bundle.redistribute
    papers = {p.key: paper_rights(p, lock, mode) for p in manifest.papers}
    if mode == "granted":
        lacking = [
            ArxivError(
                p.key,
                p.source,
                "no-licence",
                'redistribute = "granted" needs its licence, and the lock has no arXiv '
                f"metadata for it: run paperbundle lock {manifest.display_path}",
            )
            for p in manifest.papers
            if p.licence is None and arxiv_id(p.source) and papers[p.key].record is None
        ]
        if lacking:
            raise BuildFailed(lacking)
    return Rights(redistribute=mode, papers=papers)


def shown_paper(paper: Paper, rights: PaperRights) -> Paper:
    """The paper as the bundle shows it: arXiv's authors when the manifest gives none, and for a
    link-only stand-in its title marked and its page selection gone (the stand-in is one page)."""
    authors = paper.authors
    if authors is None and rights.record is not None and rights.record.authors:
        authors = authors_line(rights.record.authors)
    if rights.link_only:
        return replace(paper, authors=authors, title=f"{paper.title} ({LINK_ONLY})", pages=None)
    return replace(paper, authors=authors)
