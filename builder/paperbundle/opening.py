"""Between fetch and assembly: open every paper once, check its page selection, and put it as the
bundle shows it (arXiv's authors, a link-only stand-in where its licence grants nothing)."""

from __future__ import annotations

from dataclasses import dataclass

from paperbundle.assemble import PaperInput
from paperbundle.errors import PaperError, PdfError
from paperbundle.fetch import FetchResult
from paperbundle.manifest import Manifest, Paper
from paperbundle.pdfio import read_paper, read_pdf
from paperbundle.rights import PaperRights, Rights, shown_paper
from paperbundle.standin import render_standin


@dataclass(frozen=True)
class Opened:
    paper: Paper  # as shown (see rights.shown_paper)
    input: PaperInput
    size: int  # bytes of the paper's file (of the stand-in page for a link-only paper)
    kept: int  # pages kept (``pages = ...``)
    total: int  # pages of the file
    rights: PaperRights | None = None

    @property
    def source_pages(self) -> int | None:
        """The file's page count when ``pages`` cut it (for the excerpt mark), else None."""
        return self.total if self.paper.pages is not None else None


def open_papers(
    manifest: Manifest, fetched: FetchResult, rights: Rights
) -> tuple[list[Opened], list[PaperError]]:
    """Every fetched paper opened, in bundle order, and the papers that cannot be used."""
    opened: list[Opened] = []
    failures: list[PaperError] = []
    for paper in manifest.ordered_papers():
        fp = fetched.papers.get(paper.key)
        if fp is None:
            continue
        try:  # fetch hands on the reader it validated; a cached file is opened here
            reader, kept_pages = read_paper(paper, fp.path, fp.reader)
        except PdfError as exc:
            failures.append(exc)
            continue
        kept = len(kept_pages)
        r = rights.papers[paper.key]
        shown = shown_paper(paper, r)
        size = fp.size
        if r.link_only:
            data = render_standin(shown, paper.title, r)
            reader, size, kept = read_pdf(data), len(data), 1
        inp = PaperInput(shown, reader, fp.sha256)
        opened.append(Opened(shown, inp, size, kept, len(reader.pages), r))
    return opened, failures
