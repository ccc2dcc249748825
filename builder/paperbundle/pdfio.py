"""Opening a paper's PDF, the one way every stage does it.

The fetch stage opens each file it validates (a download before caching, a local ``path`` file)
and hands the reader on, so the assembler parses no input twice; files that come from the cache
are opened here by the pipeline. Either way the rules are the same: an empty user password is
tried (RC4 and AES), a file that needs a password or that pypdf cannot read is refused with a
reason word, and a file without pages is no paper.

It also holds the one bounded inflater (:func:`check_flate`) with which the assembler checks
every stream it copies and ``verify`` every stream of a bundle: a damaged stream, or one that
inflates past :data:`MAX_STREAM_BYTES`, is found in chunks, never inflated whole.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf._utils import read_non_whitespace
from pypdf.errors import PdfStreamError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    PdfObject,
    StreamObject,
    read_object,
)

from paperbundle.errors import PdfError
from paperbundle.manifest import Paper, select_pages


class UnusablePdf(Exception):
    """The file is no PDF we can merge. ``reason`` is "encrypted" or "unreadable"."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class LazyReader(PdfReader):
    """pypdf's reader, except that an object in an object stream is parsed alone when it is
    asked for. pypdf parses a whole object stream at the first request, which would parse every
    font and resource dictionary a paper stores there; rawcopy copies those as bytes unread."""

    def objstm_index(self, stm: int) -> tuple[bytes, dict[int, tuple[int, int]]] | None:
        """The decoded object stream ``stm`` and where each of its objects lies in it
        (number -> (start, end)), or None when it is not a plain, well-formed one."""
        streams: dict[int, tuple[bytes, dict[int, tuple[int, int]]] | None]
        streams = self.__dict__.setdefault("_streams", {})
        if stm not in streams:
            streams[stm] = self._read_index(stm)
        return streams[stm]

    def _read_index(self, stm: int) -> tuple[bytes, dict[int, tuple[int, int]]] | None:
        if stm in self.xref_objStm:  # a stream inside a stream: pypdf's own checks decide
            return None
        try:
            obj = self.get_object(stm)
            if not isinstance(obj, StreamObject) or obj.get("/Type") != "/ObjStm":
                return None
            data = obj.get_data()
            first, n = obj.get("/First"), obj.get("/N")
            if not isinstance(first, int) or not isinstance(n, int) or not 0 < first <= len(data):
                return None
            nums = [int(x) for x in data[:first].split()]
        except Exception:
            return None
        if n < 0 or len(nums) < 2 * n:
            return None
        starts = [first + nums[2 * k + 1] for k in range(n)]
        if starts != sorted(set(starts)) or (starts and starts[-1] > len(data)):
            return None
        ends = [*starts[1:], len(data)]
        index: dict[int, tuple[int, int]] = {}
        for k in range(n):  # a number listed twice: the first one counts, as for viewers
            index.setdefault(nums[2 * k], (starts[k], ends[k]))
        return data, index

    def _get_object_from_stream(self, indirect_reference: IndirectObject) -> PdfObject:
        num = indirect_reference.idnum
        stm = int(self.xref_objStm[num][0])
        got = self.objstm_index(stm)
        if got is None or num not in got[1]:
            return super()._get_object_from_stream(indirect_reference)
        data = io.BytesIO(got[0])  # shares the bytes
        data.seek(got[1][num][0])
        read_non_whitespace(data)
        data.seek(-1, 1)
        try:
            obj = read_object(data, self)
        except PdfStreamError:
            return super()._get_object_from_stream(indirect_reference)
        self.cache_indirect_object(0, num, obj)
        return obj


def read_pdf(source: Path | bytes) -> LazyReader:
    """Open a PDF file, or its bytes (pypdf holds the whole file either way); UnusablePdf when
    it cannot be used."""
    try:
        data = io.BytesIO(source) if isinstance(source, bytes) else str(source)
        reader = LazyReader(data, strict=False)
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


def open_paper(paper: Paper, path: Path) -> tuple[LazyReader, list[int]]:
    """Open ``paper``'s file and choose its pages (0-based), within :func:`paper_boundary`."""
    with paper_boundary(paper):
        reader = read_pdf(path)
        try:
            kept = select_pages(paper.pages, len(reader.pages))
        except ValueError as exc:
            raise PdfError(paper.key, paper.source, "pages", str(exc)) from None
    return reader, kept


def page_annotations(page: DictionaryObject) -> Iterator[DictionaryObject]:
    """The annotation dictionaries of ``page`` (anything else in /Annots is passed over)."""
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else None
    if not isinstance(annots, ArrayObject):
        return
    for a in annots:
        a = a.get_object()
        if isinstance(a, DictionaryObject):
            yield a


@contextmanager
def paper_boundary(paper: Paper, failed: str = "pypdf cannot read it") -> Iterator[None]:
    """One boundary per paper: whatever reading (or merging) ``paper`` makes pypdf or us raise,
    nesting too deep for Python included, becomes a PdfError naming it; ``failed`` says what
    failed."""
    try:
        yield
    except PdfError:
        raise
    except UnusablePdf as exc:
        raise PdfError(paper.key, paper.source, exc.reason, exc.detail) from None
    except RecursionError:
        detail = f"{failed}: objects nested too deep"
        raise PdfError(paper.key, paper.source, "unreadable", detail) from None
    except Exception as exc:  # pypdf raises many kinds on damaged files
        detail = f"{failed}: {type(exc).__name__}: {exc}"
        raise PdfError(paper.key, paper.source, "unreadable", detail) from None


MAX_STREAM_BYTES = 256 * 1024 * 1024  # what one stream may inflate to
_CHUNK = 1 << 20


class StreamProblem(ValueError):
    """A Flate stream that does not inflate ("damaged"), or inflates past the cap ("too-large")."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _inflated_size(data: bytes, wbits: int, cap: int) -> int:
    inflater = zlib.decompressobj(wbits)
    total = 0
    pending = data
    while True:
        out = inflater.decompress(pending, _CHUNK)
        total += len(out)
        if total > cap:
            raise StreamProblem("too-large", f"inflates past {cap // (1024 * 1024)} MB")
        pending = inflater.unconsumed_tail
        if inflater.eof or (not pending and len(out) < _CHUNK):
            return total


def check_flate(obj: StreamObject, cap: int = MAX_STREAM_BYTES) -> None:
    """StreamProblem when ``obj`` is a Flate stream that is damaged or inflates past ``cap``
    bytes; the output is counted a chunk at a time and never kept. Tolerated, as viewers
    tolerate them: a stream that stops early, a wrong Adler-32 checksum at its end, raw deflate
    data without the zlib header. Other filters (images above all, whose decoders a machine may
    lack) are not decoded."""
    filters = obj.get("/Filter")
    first = filters[0] if isinstance(filters, ArrayObject) and filters else filters
    if first in ("/FlateDecode", "/Fl"):
        inflate_check(obj._data, cap)


def inflate_check(data: bytes, cap: int = MAX_STREAM_BYTES) -> None:
    """StreamProblem when the Flate ``data`` is damaged or inflates past ``cap`` (as
    :func:`check_flate` tolerates)."""
    try:
        _inflated_size(data, zlib.MAX_WBITS, cap)
    except zlib.error as exc:
        if "incorrect data check" in str(exc):
            return
        try:  # raw deflate without the zlib header, which viewers accept too
            _inflated_size(data, -zlib.MAX_WBITS, cap)
        except zlib.error:
            raise StreamProblem("damaged", f"damaged stream ({exc})") from None


# Keys that lead away from what a page draws: up the trees, to other pages, into the outline.
_NOT_DRAWN = {"/Parent", "/P", "/Dest", "/D", "/Popup", "/IRT", "/First", "/Last", "/Next", "/Prev"}
MAX_WALK_OBJECTS = 2_000_000  # indirect objects one paper may reach from its kept pages


def check_streams(paper: Paper, reader: PdfReader, kept: list[int]) -> None:
    """Every stream the bundle will copy from ``paper`` (what its kept pages draw, its form's
    resources) inflates within the cap: else a PdfError naming the paper and the object. One
    walk, each object visited once, at most MAX_WALK_OBJECTS of them."""
    root = reader.trailer["/Root"].get_object()
    pages = reader.pages
    stack: list[object] = [pages[i] for i in kept]
    if isinstance(root, DictionaryObject):
        stack += [root.raw_get(k) for k in ("/AcroForm", "/OCProperties") if k in root]
    seen: set[int] = set()
    while stack:
        x = stack.pop()
        if isinstance(x, IndirectObject):
            if x.idnum in seen:
                continue
            seen.add(x.idnum)
            if len(seen) > MAX_WALK_OBJECTS:
                raise PdfError(paper.key, paper.source, "unreadable", "too many objects")
            idnum, x = x.idnum, x.get_object()
            if isinstance(x, StreamObject):
                try:
                    check_flate(x)
                except StreamProblem as exc:
                    detail = f"object {idnum}: {exc}"
                    raise PdfError(paper.key, paper.source, exc.reason, detail) from None
        if isinstance(x, DictionaryObject):
            stack.extend(v for k, v in x.items() if k not in _NOT_DRAWN)
        elif isinstance(x, ArrayObject):
            stack.extend(x)
