"""Between fetch and assembly: put every paper as the bundle shows it (arXiv's authors, a link-only
stand-in where its licence grants nothing) and have it prepared, in parallel, through the work
cache (paperbundle.assemble.workcache)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from paperbundle.assemble import PaperInput
from paperbundle.assemble.workcache import Job, prepare_all, work_dir
from paperbundle.errors import PaperError
from paperbundle.fetch import FetchResult
from paperbundle.files import write_atomic
from paperbundle.manifest import Manifest, Paper
from paperbundle.progress import Reporter
from paperbundle.rights import PaperRights, Rights, shown_paper
from paperbundle.standin import render_standin


@dataclass(frozen=True)
class Opened:
    paper: Paper  # as shown (see rights.shown_paper)
    input: PaperInput
    size: int  # bytes of the paper's file (of the stand-in page for a link-only paper)
    rights: PaperRights | None = None

    @property
    def kept(self) -> int:  # pages kept (``pages = ...``)
        return self.input.kept

    @property
    def total(self) -> int:  # pages of the file
        return self.input.total

    @property
    def source_pages(self) -> int | None:
        """The file's page count when ``pages`` cut it (for the excerpt mark), else None."""
        return self.total if self.paper.pages is not None else None


def _standin_file(cache_dir: Path, data: bytes) -> tuple[Path, str]:
    """The stand-in page as a file the workers can open (named by its digest)."""
    sha = hashlib.sha256(data).hexdigest()
    path = work_dir(cache_dir) / "standin" / f"{sha}.pdf"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    return path, sha


def open_papers(
    manifest: Manifest,
    fetched: FetchResult,
    rights: Rights,
    *,
    cache_dir: Path,
    workers: int,
    reporter: Reporter,
) -> tuple[list[Opened], list[PaperError]]:
    """Every fetched paper prepared, in bundle order, and the papers that cannot be used."""
    jobs: list[Job] = []
    for paper in manifest.ordered_papers():
        fp = fetched.papers.get(paper.key)
        if fp is None:
            continue
        r = rights.papers[paper.key]
        shown = shown_paper(paper, r)
        if r.link_only:
            data = render_standin(shown, paper.title, r)
            path, sha = _standin_file(cache_dir, data)
            jobs.append(Job(shown, path, sha, len(data)))
        else:
            jobs.append(Job(shown, fp.path, fp.sha256, fp.size))
    prepared, failures = prepare_all(jobs, cache_dir, workers=workers, reporter=reporter)
    opened = [
        Opened(j.paper, prepared[j.paper.key], j.size, rights.papers[j.paper.key])
        for j in jobs
        if j.paper.key in prepared
    ]
    return opened, list(failures)
