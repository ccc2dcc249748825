"""``paperbundle verify``: re-check a built release from its files alone.

Checks the zip (CRCs, members), the checksums file beside it, that the PDF opens, that the outline
has an item for every paper, that page labels are present, and that every internal link lands
inside its own paper's pages (front-matter links on a paper's first page).
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, cast

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from paperbundle import active
from paperbundle.errors import VerifyError
from paperbundle.files import sha256_file
from paperbundle.fmt import outline_title
from paperbundle.pdfio import StreamProblem, check_flate, page_annotations
from paperbundle.release import MISSING_HEADING


def _read_sums(path: Path) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([0-9a-f]{64}) [ *](.+)$", line.strip())
        if m:
            sums[m.group(2)] = m.group(1)
    return sums


def _extract(zf: zipfile.ZipFile, name: str) -> tuple[BinaryIO, str]:
    """Member ``name`` copied a chunk at a time into an anonymous temporary file (gone when
    closed), and its sha256: the PDF is read from disk, never held whole in memory."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    digest = hashlib.sha256()
    with zf.open(name) as member:
        while chunk := member.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    out.seek(0)
    return out, digest.hexdigest()


def verify_path(path: Path) -> list[str]:
    """``verify`` of a release zip, or of the bundle PDF alone (the main release asset), told
    apart by their first bytes rather than their names."""
    try:
        with path.open("rb") as f:
            head = f.read(5)
    except OSError as exc:
        raise VerifyError(str(path), [exc.strerror or str(exc)]) from None
    if head.startswith(b"%PDF-"):
        return verify_pdf(path)
    return verify_release(path)


def _sums_beside(path: Path, stem: str) -> Path:
    base = re.sub(r"-part\d+$", "", stem)  # the volumes of one release share its checksums
    return path.with_name(f"{base}.sha256")


def verify_pdf(pdf_path: Path) -> list[str]:
    """The PDF checks of :func:`verify_release`, and its checksum when the ``.sha256`` file is
    beside it; the report says which checks ran."""
    problems: list[str] = []
    report: list[str] = []
    sums_path = _sums_beside(pdf_path, pdf_path.stem)
    sums = _read_sums(sums_path) if sums_path.is_file() else {}
    # a renamed download ("x (1).pdf") is looked up by the names the checksums file gives
    listed = [n for n in sums if n.endswith(".pdf")]
    own = pdf_path.name if pdf_path.name in sums else (listed[0] if len(listed) == 1 else None)
    if not sums_path.is_file():
        report.append(f"--  no {sums_path.name} beside the PDF: checksum not checked")
    elif own is None:
        problems.append(f"{sums_path.name} has no checksum for {pdf_path.name}")
    elif sha256_file(pdf_path) != sums[own]:
        problems.append(f"{pdf_path.name}: sha256 does not match {sums_path.name}")
    else:
        report.append(f"ok  {pdf_path.name} matches {sums_path.name}")
    with pdf_path.open("rb") as pdf:
        problems += _check_pdf(pdf, None, report)
    if problems:
        raise VerifyError(str(pdf_path), problems)
    return report


def verify_release(zip_path: Path) -> list[str]:
    """Return report lines when everything holds; raise VerifyError listing every problem."""
    problems: list[str] = []
    report: list[str] = []
    name = zip_path.name
    if not zip_path.is_file():
        raise VerifyError(str(zip_path), ["no such file"])
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise VerifyError(str(zip_path), [f"not a readable zip: {exc}"]) from None
    with zf:
        try:
            bad = zf.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            bad = f"({exc})"
        if bad:
            problems.append(f"{name}: corrupt member {bad}")
        members = zf.namelist()
        pdfs = [m for m in members if m.endswith(".pdf") and "/" not in m]
        # The release's name comes from the PDF inside, so a renamed download ("x (1).zip")
        # still finds its checksums.
        stem = pdfs[0][:-4] if len(pdfs) == 1 else (name[:-4] if name.endswith(".zip") else name)
        pdf_name = f"{stem}.pdf"
        expected = {pdf_name, "CONTENTS.md"}
        if set(members) != expected:
            problems.append(f"{name}: members {sorted(members)}, expected {sorted(expected)}")
        if pdf_name not in members or bad:
            raise VerifyError(str(zip_path), problems)
        pdf, pdf_sha = _extract(zf, pdf_name)
        contents = ""
        if "CONTENTS.md" in members:
            contents, problem = _read_contents(zf)
            if problem:
                problems.append(f"{name}: {problem}")

    zip_name = f"{stem}.zip"
    sums_path = _sums_beside(zip_path, stem)
    sums: dict[str, str] = {}
    if sums_path.is_file():
        sums = _read_sums(sums_path)
        if zip_name not in sums:
            problems.append(f"{sums_path.name} has no checksum for {zip_name}")
        elif sha256_file(zip_path) != sums[zip_name]:
            problems.append(f"{name}: sha256 does not match {sums_path.name}")
        else:
            report.append(f"ok  {name} matches {sums_path.name}")
        pdf_beside = zip_path.with_name(pdf_name)
        if pdf_beside.is_file() and pdf_name in sums:
            if sha256_file(pdf_beside) != sums[pdf_name]:
                problems.append(f"{pdf_beside.name}: sha256 does not match {sums_path.name}")
            else:
                report.append(f"ok  {pdf_beside.name} matches {sums_path.name}")
    else:
        report.append(f"--  no {sums_path.name} beside the zip: checksums not checked")
    if sums.get(pdf_name) and pdf_sha != sums[pdf_name]:
        problems.append(f"{pdf_name} in the zip does not match {sums_path.name}")
    with pdf:
        problems += _check_pdf(pdf, contents, report)
    if problems:
        raise VerifyError(str(zip_path), problems)
    return report


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _contents_rows(contents: str) -> list[tuple[int, str]]:
    """(page label, title) of each row of CONTENTS.md's tables."""
    rows = []
    for line in contents.splitlines():
        if not re.match(r"^\| \d+ \|", line):
            continue
        cells = [re.sub(r"\\(.)", r"\1", c.strip()) for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) >= 3:
            rows.append((int(cells[0]), cells[2]))
    return rows


def _missing_keys(contents: str) -> list[str]:
    """The keys CONTENTS.md lists under its "Missing from this build" heading."""
    keys: list[str] = []
    inside = False
    for line in contents.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip() == MISSING_HEADING
        elif inside and (m := re.match(r"^- `([^`]+)`", line)):
            keys.append(m.group(1))
    return keys


MAX_CONTENTS_BYTES = 16 * 1024 * 1024  # CONTENTS.md of 256 papers is about 100 kB


def _read_contents(zf: zipfile.ZipFile) -> tuple[str, str | None]:
    """CONTENTS.md, read a chunk at a time up to MAX_CONTENTS_BYTES: a member that inflates
    further (whatever its header claims) is a problem, never read whole."""
    chunks: list[bytes] = []
    size = 0
    with zf.open("CONTENTS.md") as f:
        while chunk := f.read(1 << 20):
            size += len(chunk)
            if size > MAX_CONTENTS_BYTES:
                cap = MAX_CONTENTS_BYTES // (1024 * 1024)
                return "", f"CONTENTS.md inflates past {cap} MB: not read"
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace"), None


def _check_pdf(data: BinaryIO, contents: str | None, report: list[str]) -> list[str]:
    log = logging.getLogger("pypdf")
    collect = _Collect()
    log.addHandler(collect)
    try:
        problems = _check_pdf_inner(data, contents, report)
    except RecursionError:
        problems = ["the PDF cannot be checked: objects nested too deep"]
    except Exception as exc:  # whatever a hostile file makes pypdf raise: a problem, never a crash
        problems = [f"the PDF cannot be checked: {type(exc).__name__}: {exc}"]
    finally:
        log.removeHandler(collect)
    problems += [f"pypdf: {m}" for m in dict.fromkeys(collect.messages)]
    return problems


def _check_pdf_inner(data: BinaryIO, contents: str | None, report: list[str]) -> list[str]:
    problems: list[str] = []
    try:
        reader = PdfReader(data, strict=True)
        npages = len(reader.pages)
        found_active, streams = _every_object(reader)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        return [*problems, f"the PDF does not read back cleanly: {exc}"]
    except Exception as exc:  # zlib.error and friends from a damaged stream
        return [*problems, f"the PDF does not read back cleanly: {type(exc).__name__}: {exc}"]
    idx = {
        p.indirect_reference.idnum: i
        for i, p in enumerate(reader.pages)
        if p.indirect_reference is not None
    }
    named = reader.named_destinations
    starts: dict[str, int] = {}
    for name, nd in named.items():
        if name.startswith("paper."):
            dest_page = nd.get("/Page")
            if isinstance(dest_page, IndirectObject) and dest_page.idnum in idx:
                starts[name[6:]] = idx[dest_page.idnum]
            else:
                problems.append(f"named destination {name} points nowhere")
    if not starts:
        problems += [f"the PDF does not read back cleanly: object {n}: {why}" for n, why in streams]
        return [*problems, "no paper.<key> destinations: not a paperbundle PDF?"]
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    front_end = ordered[0][1]
    ranges: dict[str, tuple[int, int]] = {}
    for i, (key, first) in enumerate(ordered):
        last = ordered[i + 1][1] - 1 if i + 1 < len(ordered) else npages - 1
        ranges[key] = (first, last)
    page_owner: list[str | None] = [None] * npages
    for key, (a, b) in ranges.items():
        for pg in range(a, b + 1):
            page_owner[pg] = key
    range_at = {a: (key, a, b) for key, (a, b) in ranges.items()}
    if streams:
        owners = _owners(reader, {n for n, _ in streams}, page_owner)
        for n, why in streams:
            where = f" (paper {owners[n]})" if n in owners else ""
            problems.append(f"the PDF does not read back cleanly: object {n}{where}: {why}")

    # CONTENTS.md: one row per paper, on the page its label says.
    # Without CONTENTS.md (a lone PDF) a paper's item is known by its page alone.
    titles: set[tuple[int, str]] | None = None
    if contents is None:
        report.append("--  a lone PDF: no CONTENTS.md to compare")
    else:
        rows = _contents_rows(contents)
        missing = _missing_keys(contents)
        if missing:
            report.append(
                f"--  {len(missing)} missing from this build (--keep-going): {', '.join(missing)}"
            )
        if held := [k for k in missing if k in starts]:
            problems.append(f"CONTENTS.md calls missing what the PDF holds: {', '.join(held)}")
        if len(rows) != len(starts):
            problems.append(f"CONTENTS.md lists {len(rows)} papers, the PDF has {len(starts)}")
        expected = [(front_end + label - 1, title) for label, title in rows]
        if sorted(p for p, _ in expected) != [a for _, a in ordered]:
            problems.append("CONTENTS.md page numbers do not match where the papers start")

        # Outline: an item per paper (its title, its first page); everything nested under a paper's
        # item stays inside that paper.
        titles = {(p, outline_title(t)) for p, t in expected}
    found: set[int] = set()

    def is_paper_item(item: tuple[int | None, str], children: list[Any] | None = None) -> bool:
        n = item[0]
        if n is None:
            return False
        if titles is not None:
            return item in titles
        # By page alone, a section's item points at its first paper too; it is the one whose
        # children start other papers.
        return n in range_at and not (children and holds_papers(children, n))

    def holds_papers(children: list[Any], first: int) -> bool:
        for child in children:
            if isinstance(child, list):
                continue
            try:
                m = reader.get_destination_page_number(child)
            except Exception:
                continue
            if m != first and m in range_at:
                return True
        return False

    def walk(items: list[Any], owner: tuple[str, int, int] | None, in_section: bool) -> None:
        """Top level: Cover and Contents (front matter), papers, or sections holding papers.
        Under a paper: its own outline, inside its pages."""
        prev: tuple[int | None, str] | None = None
        for it in items:
            if isinstance(it, list):  # the children of the item before
                if owner is not None:
                    walk(it, owner, in_section)
                elif prev is not None and prev[0] is not None and is_paper_item(prev, it):
                    walk(it, range_at.get(prev[0]), in_section)
                elif not in_section:
                    walk(it, None, True)  # a section's papers
                else:
                    problems.append(f"outline: items nested under {prev[1] if prev else '?'!r}")
                continue
            try:
                n = reader.get_destination_page_number(it)
            except Exception:
                n = None
            title = outline_title(str(it.get("/Title", "")))
            prev = (n, title)
            if n is None or n < 0:
                continue
            if owner is not None:
                if not owner[1] <= n <= owner[2]:
                    problems.append(
                        f"outline item {title!r} of {owner[0]} points into "
                        f"{page_owner[n] or 'the front matter'} (page {n + 1})"
                    )
            elif is_paper_item((n, title)):
                found.add(n)
            elif in_section or (n >= front_end and n not in range_at):
                problems.append(f"outline item {title!r} (page {n + 1}) is not a paper's")

    try:
        walk(reader.outline, None, False)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"the outline cannot be read: {exc}")
    missing = [k for k, (a, _) in ranges.items() if a not in found]
    if missing:
        problems.append(f"outline has no item for: {', '.join(missing)}")
    else:
        report.append(f"ok  outline has all {len(ranges)} papers, nested items inside them")
    root = cast(DictionaryObject, reader.trailer["/Root"].get_object())
    if "/PageLabels" not in root:
        problems.append("no page labels")

    # Contents rows, in reading order, link to the papers in bundle order.
    row_links: list[tuple[int, float, int | None]] = []
    # Links.
    total = 0
    first_pages = {a for a, _ in ranges.values()}
    for i, page in enumerate(reader.pages):
        reader.resolved_objects.clear()  # what the last page's links needed is let go of
        for annot in page_annotations(page):
            dest = annot.get("/Dest")
            if dest is None and "/A" in annot:
                act = annot["/A"].get_object()
                if not isinstance(act, DictionaryObject):
                    continue
                if act.get("/S") != "/GoTo":
                    continue  # anything active is reported by the scan below
                dest = act.get("/D")
            if dest is None:
                continue
            total += 1
            target = _target(dest, named, idx)
            where = f"page {i + 1}"
            if target is None:
                problems.append(f"{where}: internal link to nowhere")
            elif i < front_end:
                rect = annot.get("/Rect")
                top = max(float(rect[1]), float(rect[3])) if isinstance(rect, ArrayObject) else 0.0
                row_links.append((i, -top, target))
                if target not in first_pages:
                    problems.append(
                        f"{where}: contents link lands on page {target + 1}, "
                        "not on a paper's first page"
                    )
            elif page_owner[target] != page_owner[i]:
                problems.append(
                    f"{where} ({page_owner[i]}): link lands in {page_owner[target]} "
                    f"(page {target + 1})"
                )
    problems += [f"active content: {line}" for line in found_active]
    if not found_active:
        report.append("ok  no active content (JavaScript, actions, embedded files)")
    in_order = [t for _, _, t in sorted(row_links, key=lambda x: (x[0], x[1]))]
    if in_order != [a for _, a in ordered]:
        problems.append(
            "contents rows do not link to the papers in order "
            f"(pages {[None if t is None else t + 1 for t in in_order]})"
        )
    if not any("link" in p for p in problems):
        report.append(f"ok  {total} internal links land inside their own paper")
        report.append(f"ok  {len(in_order)} contents rows link to their papers, in order")
    report.append(f"ok  {npages} pages, {len(ranges)} papers")
    return problems


BATCH_OBJECTS = 4096  # objects checked before pypdf's cache is let go of
BATCH_BYTES = 64 * 1024 * 1024  # or stream bytes


def _every_object(reader: PdfReader) -> tuple[list[str], list[tuple[int, str]]]:
    """Every object parses, every Flate stream inflates (a chunk at a time, within the
    per-stream cap), and what active content they hold. A batch at a time: once checked, pypdf's
    cache is cleared, so memory stays bounded by a batch, not by the bundle. Returns the active
    content lines and the damaged streams (object number, what is wrong)."""
    found: dict[str, int] = {}
    streams: list[tuple[int, str]] = []
    batch: list[Any] = []
    size = 0

    def flush() -> None:
        nonlocal size
        active.count(batch, found, follow=False)
        batch.clear()
        size = 0
        reader.resolved_objects.clear()

    refs = [(idnum, gen) for gen, table in reader.xref.items() for idnum in table]
    in_streams = sorted(reader.xref_objStm, key=lambda n: tuple(reader.xref_objStm[n]))
    for idnum, gen in [*refs, *((n, 0) for n in in_streams)]:
        obj = reader.get_object(IndirectObject(idnum, gen, reader))
        if obj is None:
            continue
        batch.append(obj)
        if isinstance(obj, StreamObject):
            size += len(obj._data)
            try:
                check_flate(obj)
            except StreamProblem as exc:
                streams.append((idnum, str(exc)))
        if len(batch) >= BATCH_OBJECTS or size >= BATCH_BYTES:
            flush()
    flush()
    return active.scan_lines(found), streams


# Keys that lead away from what a page draws: up the trees, to other pages, into the outline.
_NOT_DRAWN = {"/Parent", "/P", "/Dest", "/D", "/Popup", "/IRT", "/First", "/Last", "/Next", "/Prev"}


def _owners(reader: PdfReader, wanted: set[int], page_owner: list[str | None]) -> dict[int, str]:
    """Which paper each object of ``wanted`` belongs to: the first paper one of whose pages
    reaches it (content, resources, annotations). One walk, each object visited once."""
    found: dict[int, str] = {}
    seen: set[int] = set()
    for i, page in enumerate(reader.pages):
        owner = page_owner[i]
        stack: list[Any] = [page]
        while stack and owner is not None and len(found) < len(wanted):
            x = stack.pop()
            if isinstance(x, IndirectObject):
                if x.idnum in seen:
                    continue
                seen.add(x.idnum)
                if x.idnum in wanted:
                    found[x.idnum] = owner
                x = x.get_object()
                if x is not page and isinstance(x, DictionaryObject) and x.get("/Type") == "/Page":
                    continue
            if isinstance(x, DictionaryObject):
                stack.extend(v for k, v in x.items() if k not in _NOT_DRAWN)
            elif isinstance(x, ArrayObject):
                stack.extend(x)
    return found


def _target(dest: Any, named: dict[str, Any], idx: dict[int, int]) -> int | None:
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    if isinstance(dest, ArrayObject) and dest:
        head = dest[0]
        return idx.get(head.idnum) if isinstance(head, IndirectObject) else None
    d = named.get(str(dest))
    if d is None:
        return None
    page = d.get("/Page")
    return idx.get(page.idnum) if isinstance(page, IndirectObject) else None
