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
from paperbundle.fetch.options import NetOptions
from paperbundle.fetch.session import Session
from paperbundle.manifest import Manifest
from paperbundle.progress import Reporter


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


def outdated_report(
    manifest: Manifest, lock: Lock | None, options: NetOptions, api: str, reporter: Reporter
) -> tuple[list[str], list[str]]:
    """(problems: a line per outdated paper and per paper arXiv gave nothing for, notes: papers
    whose bundled version is not known)."""
    net = Session(options, reporter)
    try:
        checks, failures = check_versions(manifest, lock, ArxivClient(net, api))
    finally:
        net.close()
    problems = [str(e) for e in failures]
    notes = []
    for c in checks:
        what = "pins" if c.pinned else "bundles"
        if c.outdated:
            problems.append(
                f"{c.key}: arXiv:{c.arxiv_id}: {what} v{c.have}, arXiv's latest is v{c.latest}"
            )
        elif c.have is None and c.latest is not None:
            notes.append(
                f"{c.key}: arXiv:{c.arxiv_id}: the version bundled is not known (the lock has "
                f"none: run paperbundle lock); arXiv's latest is v{c.latest}"
            )
    return problems, notes
