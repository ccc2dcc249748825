"""``check --outdated``: papers whose bundled or pinned version is older than arXiv's latest.

A versioned URL (``.../2205.14135v1``) knows its version; for an unversioned one the lock holds
the version arXiv called latest when the file was locked. arXiv is asked in batches of 100 ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperbundle.arxiv.client import ArxivClient
from paperbundle.arxiv.meta import Asked, arxiv_papers, ask_api, url_version
from paperbundle.errors import PaperError
from paperbundle.fetch.lock import Lock
from paperbundle.manifest import Manifest


@dataclass(frozen=True)
class VersionCheck:
    key: str
    arxiv_id: str
    have: int | None  # the version bundled (lock) or pinned (URL); None: not known
    latest: int | None  # arXiv's latest; None when arXiv gave no answer for it
    pinned: bool  # ``have`` comes from the URL

    @property
    def outdated(self) -> bool:
        return self.have is not None and self.latest is not None and self.have < self.latest


def known_version(url: str | None, lock: Lock | None, key: str) -> tuple[int | None, bool]:
    """(version, pinned by the URL) of a paper as a build would bundle it."""
    pinned = url_version(url)
    if pinned is not None:
        return pinned, True
    entry = lock.entries.get(key) if lock is not None else None
    return (entry.version if entry is not None else None), False


def check_versions(
    manifest: Manifest, lock: Lock | None, client: ArxivClient
) -> tuple[list[VersionCheck], list[PaperError]]:
    """One VersionCheck per arXiv paper, in manifest order, and the papers arXiv gave nothing
    for."""
    papers = arxiv_papers(manifest)
    records, failures = ask_api(client, [Asked(p.key, aid) for p, aid in papers])
    out = []
    for p, aid in papers:
        have, pinned = known_version(p.url, lock, p.key)
        rec = records.get(p.key)
        out.append(VersionCheck(p.key, aid, have, rec.latest_version if rec else None, pinned))
    return out, failures
