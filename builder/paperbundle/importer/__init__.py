"""`paperbundle import`: any reading-list README (tables, lists, paragraphs, headings) -> manifest.

parsing.py reads the markdown with markdown-it-py into items (one per table row, list item,
paragraph line or linked heading); rules.py says which link is a PDF and how a title is cleaned;
this module turns items into entries, merges duplicates and writes the manifest text. Every item
with a link is accounted for: rows_seen == papers_written + kept_as_comments + duplicates_merged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from paperbundle.errors import UsageError
from paperbundle.files import write_atomic
from paperbundle.importer.parsing import Heading, Item, Link, scan
from paperbundle.importer.rules import (
    _comment,
    _fmt_date,
    _is_code_host,
    _is_generic,
    _paper_identity,
    _web_url,
    clean_section,
    leading_bold,
    pdf_url,
    slug_key,
    slug_name,
    split_title,
    toml_string,
)
from paperbundle.manifest import NAME_RE, arxiv_id, parse_manifest

__all__ = [
    "ImportReport",
    "ImportResult",
    "import_readme",
    "pdf_url",
    "read_readme",
    "slug_key",
    "toml_string",
    "write_import",
]

DEFAULT_VERSION = "v0.1"


@dataclass(frozen=True)
class ImportReport:
    rows_seen: int
    papers_written: int
    kept_as_comments: int  # rows without a fetchable PDF link (blogs, docs, Zhihu, GitHub only)
    duplicates_merged: int  # same paper (same arXiv id / canonical URL) seen again
    notes: tuple[str, ...]  # human lines for stderr (which rows became comments, merged, why)
    warnings: int = 0  # suspicious rows: one link with two titles, a title over 300 characters

    def summary(self) -> str:
        return (
            f"{self.rows_seen} rows seen: {self.papers_written} papers written, "
            f"{self.kept_as_comments} kept as comments (no PDF link), "
            f"{self.duplicates_merged} duplicates merged, {self.warnings} warnings"
        )


@dataclass(frozen=True)
class ImportResult:
    toml: str  # the manifest text (accepted by load_manifest/parse_manifest)
    report: ImportReport


# --------------------------------------------------------------------------- markdown inline


@dataclass
class _Entry:
    line: int
    label: str | None
    title: str
    section: str | None
    date: str | None
    code: str | None
    url: str | None  # fetchable PDF (canonical) or None
    other_link: str | None  # for comment rows: the link the row gives instead
    kind: str  # for comment rows: blog, docs, Zhihu post, GitHub only, no link
    affiliation: str | None = None
    venue: str | None = None
    key: str = ""
    merged_into: _Entry | None = None


def _kind(other: str | None, links: list[Link]) -> str:
    """What a row without a PDF gives instead."""
    if other is None:
        return "no link"
    if _is_code_host(other):
        return "GitHub only"
    words = " ".join(lk.text.lower() for lk in links)
    for word, kind in (("blog", "blog"), ("report", "tech report"), ("doc", "docs")):
        if word in words:
            return kind
    return "web page, not a PDF"


def _item_entry(it: Item) -> _Entry | None:
    links = [lk for lk in it.links if not lk.url.startswith("#")]
    if not it.cells and it.text.lstrip().startswith("|"):  # a table row outside a GFM table
        it = replace(it, cells=tuple(c.strip() for c in it.text.strip().strip("|").split("|")))
    if not links and not (it.header and any(c.strip() for c in it.cells)):
        return None
    url = next((u for u in (pdf_url(lk.url) for lk in links) if u), None)
    raw = ""
    if it.cells:
        order = [
            i
            for pat in (r"title|标题|题目", r"paper|论文|文章", r"name|名称")
            for i, h in enumerate(it.header)
            if re.search(pat, h)
        ]
        for i in order + list(range(len(it.cells))):
            c = it.cells[i].strip() if i < len(it.cells) else ""
            if c and not _is_generic(c) and not (len(c) < 20 and _fmt_date(c)):
                bold = it.cell_bold[i] if i < len(it.cell_bold) else ""
                raw = leading_bold(c, bold) or c
                break
    else:
        texts = [lk.text for lk in links if lk.text.strip() and not _is_generic(lk.text)]
        raw = it.bold or (texts[0] if texts else it.text)
        m = re.search(r"\(@[^()]{1,120}\)", it.text)
        if m and m.group(0) not in raw:
            raw += m.group(0)
    title, extras = split_title(raw)
    if not it.cells and raw != it.text:  # a tag before the link, a venue after it
        extras = split_title(it.text)[1] | extras
    for lk in links:  # "[Name](url) The title": a short linked name, then the title
        name = lk.text.strip()
        rest = title[len(name) :].strip()
        if name and title.startswith(name) and len(name) <= 40 and ":" not in name:
            if len(rest) > len(name) and "label" not in extras:
                extras["label"], title = name, rest
            break
    code = next((w for lk in links if _is_code_host(lk.url) and (w := _web_url(lk.url))), None)
    if code is None:
        code = next((w for lk in it.code_links if (w := _web_url(lk.url)) and not pdf_url(w)), None)
    date = next((d for c in it.cells if len(c) < 20 and (d := _fmt_date(c))), None)
    if date is None and url is not None and (aid := arxiv_id(url)) and re.match(r"^\d{4}\.", aid):
        date = f"20{aid[:2]}.{aid[2:4]}"
    other = None if url else next((w for lk in links if (w := _web_url(lk.url))), None)
    kind = "" if url else _kind(other, links)
    section = clean_section(it.section) if it.section else None
    title = title.strip() or extras.get("label") or url or other or "untitled"
    return _Entry(
        it.line,
        extras.get("label"),
        title,
        section or None,
        date,
        code if code != url else None,
        url,
        other,
        kind,
        extras.get("affiliation"),
        extras.get("venue"),
    )


def _bundle_name(headings: list[Heading], source: str) -> tuple[str, str | None, str | None]:
    """(name, title, note) from the README's first heading (a level-1 heading when there is one)."""
    generic = {
        "introduction",
        "intro",
        "contents",
        "table of contents",
        "toc",
        "about",
        "overview",
        "download",
        "downloads",
        "download pdfs",
        "license",
        "news",
        "updates",
        "contributing",
        "contribution",
        "citation",
        "cite",
        "how to cite",
        "note",
        "acknowledgement",
        "acknowledgment",
        "contact",
        "star history",
        "changelog",
    }

    def is_generic(text: str) -> bool:
        t = text.lower().strip(" :")
        return t in generic or t.removesuffix("s") in generic

    h1 = [h for h in headings if h.level == 1]
    pool = h1 or [h for h in headings if not is_generic(h.text)]
    title = pool[0].text if pool else None
    for h in pool:
        name = slug_name(h.text)
        if name:
            note = None
            if not h1:
                note = (
                    f"{source}: no level-1 heading; bundle name {name!r} comes from the heading "
                    f"on line {h.line} ({h.text!r}); use --name to choose another"
                )
            return name, title, note
    stem = slug_name(Path(source).stem)
    name = stem if stem and stem.lower() != "readme" else "papers"
    why = "no heading usable as a name" if pool else "no usable heading"
    return name, title, f"{source}: {why}; bundle name {name!r}; use --name to choose another"


def import_readme(
    markdown: str,
    *,
    name: str | None = None,
    version: str | None = None,
    source: str = "README.md",
) -> ImportResult:
    """Read the paper tables of an awesome-list README into manifest text and a report.

    Raises UsageError for a bad --name/--version, or when no row has a PDF link (a manifest needs
    at least one paper).
    """
    for what, value in (("--name", name), ("--version", version)):
        if value is not None and not NAME_RE.fullmatch(value):
            raise UsageError(
                f"{what} {value!r} may use only letters, digits, '.', '_' and '-', "
                "and must start with a letter or digit"
            )
    headings, items = scan(markdown)
    notes: list[str] = []
    auto_name, heading_title, name_note = _bundle_name(headings, source)
    if name is None:
        name = auto_name
        if name_note:
            notes.append(name_note)
    if version is None:
        version = DEFAULT_VERSION
        notes.append(f"{source}: no --version given; version {version!r} (the default)")
    title = (clean_section(heading_title) if heading_title else "") or name

    entries = [e for e in (_item_entry(it) for it in items) if e is not None]

    seen: dict[str, _Entry] = {}
    keys: set[str] = set()
    written = comments = merged = 0
    for e in entries:
        shown = f"[{e.label}] {e.title}" if e.label else e.title
        where = f"{source}:{e.line}"
        if len(e.title) > 300:
            notes.append(f"{where}: warning: title of {len(e.title)} characters, cut to 300")
            e.title = e.title[:300].rstrip()
        if e.url is None:
            comments += 1
            link = f": {e.other_link}" if e.other_link else ""
            notes.append(f"{where}: {shown!r}: no PDF link ({e.kind}{link}); kept as a comment")
            continue
        ident = _paper_identity(e.url)
        first = seen.get(ident)
        if first is not None:
            merged += 1
            if e.url == first.url and e.title.casefold() != first.title.casefold():
                notes.append(
                    f"{where}: warning: {e.url} given with two titles: {first.title!r} "
                    f"(line {first.line}) and {e.title!r}"
                )
            e.merged_into = first
            filled = []
            if first.code is None and e.code is not None:
                first.code = e.code
                filled.append("code")
            if first.date is None and e.date is not None:
                first.date = e.date
                filled.append("date")
            extra = f"; took its {' and '.join(filled)}" if filled else ""
            what = f"arXiv {arxiv_id(e.url)}" if arxiv_id(e.url) else e.url
            notes.append(
                f"{where}: {shown!r}: same paper as {first.key!r} (line {first.line}, {what}); "
                f"merged{extra}"
            )
            continue
        seen[ident] = e
        base = ""
        for cand in (e.label, e.title, f"arxiv-{arxiv_id(e.url)}" if arxiv_id(e.url) else None):
            if cand:
                base = slug_key(cand)
                if base:
                    break
        base = base or "paper"
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}-{n}"
        keys.add(key)
        e.key = key
        written += 1

    if not entries:
        raise UsageError(
            f"{source}: no paper links found (tables, lists, paragraphs or headings with links)"
        )
    if written == 0:
        raise UsageError(
            f"{source}: no row or item with a PDF link "
            f"({len(entries)} rows seen, {comments} without a PDF link): nothing to import"
        )
    warnings = sum("warning:" in n for n in notes)
    report = ImportReport(len(entries), written, comments, merged, tuple(notes), warnings)
    text = _render(entries, report, name=name, version=version, title=title, source=source)
    # the output must be a valid manifest: check it here rather than in `paperbundle check`
    parse_manifest(text, path=Path.cwd() / "imported.toml", display=f"import of {source}")
    return ImportResult(text, report)


def _render(
    entries: list[_Entry],
    report: ImportReport,
    *,
    name: str,
    version: str,
    title: str,
    source: str,
) -> str:
    out = [
        f"# Imported by `paperbundle import` from {_comment(source)}.",
        f"# {report.summary()}.",
        "# Rows without a fetchable PDF link are kept below as comments; check the rest with",
        "# `paperbundle check MANIFEST --links`.",
        "",
        "[bundle]",
        f"name = {toml_string(name)}",
        f"version = {toml_string(version)}",
        f"title = {toml_string(title)}",
    ]
    # One section holding every paper adds a heading and an outline level that say nothing.
    sections = {e.section for e in entries if e.url is not None and e.merged_into is None}
    single_section = len(sections) == 1
    for e in entries:
        shown = f"[{e.label}] {e.title}" if e.label else e.title
        if e.url is None:
            out += ["", f"# no PDF link ({e.kind}), not imported: {_comment(shown)}"]
            details = [("link", e.other_link), ("code", e.code), ("date", e.date)]
            details.append(("section", e.section))
            out += [f"#   {k}: {_comment(v)}" for k, v in details if v]
            continue
        if e.merged_into is not None:
            out += ["", f"# duplicate of {e.merged_into.key!r}, merged: {_comment(shown)}"]
            continue
        out += ["", "[[papers]]", f"key = {toml_string(e.key)}"]
        fields = [
            ("title", e.title),
            ("url", e.url),
            ("label", e.label),
            ("affiliation", e.affiliation),
            ("venue", e.venue),
            ("section", None if single_section else e.section),
            ("date", e.date),
            ("code", e.code),
        ]
        out += [f"{k} = {toml_string(v)}" for k, v in fields if v]
    return "\n".join(out) + "\n"


def read_readme(path: Path) -> str:
    """The README's text; UsageError when it cannot be read or is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text (markdown) file") from None


def write_import(result: ImportResult, out: Path, *, force: bool) -> None:
    """Write the manifest atomically; refuse to replace an existing file unless ``force``."""
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out} is a directory; give the manifest file to write (-o NEW.toml)")
    if out.exists() and not force:
        raise UsageError(f"{out} exists; use --force to overwrite it")
    try:
        write_atomic(out, result.toml.encode("utf-8"), overwrite=force)
    except FileExistsError:
        raise UsageError(f"{out} exists; use --force to overwrite it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
