"""Opening a paper's PDF, the one way every stage does it.

The fetch stage opens each file it validates (a download before caching, a local ``path`` file)
and hands the reader on, so the assembler parses no input twice; files that come from the cache
are opened here by the pipeline. Either way the rules are the same: an empty user password is
tried (RC4 and AES), a file that needs a password or that pypdf cannot read is refused with a
reason word, and a file without pages is no paper.
"""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PasswordType, PdfReader

from paperbundle.errors import PdfError
from paperbundle.manifest import Paper


class UnusablePdf(Exception):
    """The file is no PDF we can merge. ``reason`` is "encrypted" or "unreadable"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def read_pdf(source: Path | bytes) -> PdfReader:
    """Open a PDF file, or its bytes (pypdf holds the whole file either way); UnusablePdf when
    it cannot be used."""
    try:
        data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        reader = PdfReader(data, strict=False)
        if reader.is_encrypted:
            try:
                outcome = reader.decrypt("")
            except Exception as exc:  # a missing crypto backend, an unknown handler
                raise UnusablePdf("encrypted", f"cannot decrypt it: {exc}") from None
            if outcome == PasswordType.NOT_DECRYPTED:
                raise UnusablePdf("encrypted", "the PDF needs a password (the empty one failed)")
        pages = len(reader.pages)
    except UnusablePdf:
        raise
    except OSError as exc:
        raise UnusablePdf("unreadable", exc.strerror or str(exc)) from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise UnusablePdf("unreadable", f"pypdf cannot read it: {exc}") from None
    if pages < 1:
        raise UnusablePdf("unreadable", "the PDF has no pages")
    return reader


def open_pdf(paper: Paper, path: Path) -> PdfReader:
    """:func:`read_pdf` for one paper: a PdfError naming it when the file is unusable."""
    try:
        return read_pdf(path)
    except UnusablePdf as exc:
        raise PdfError(paper.key, paper.source, exc.reason, exc.detail) from None
