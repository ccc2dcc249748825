"""Stage 5: the release artefacts around the bundle PDF.

``N-V.pdf``, ``N-V.zip`` (the PDF and ``CONTENTS.md``), ``N-V.sha256`` (``sha256sum -c`` format) and
``N-V-notes.md``. Every file is written to a temporary name in the output folder and renamed into
place, so an interrupted build never leaves a half-written file under its final name. Zip entries
have fixed times, order and permissions: the same inputs give the same bytes on any day.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from paperbundle import HOMEPAGE, __version__
from paperbundle.errors import PaperError, UsageError
from paperbundle.files import CHUNK, atomic_file
from paperbundle.fmt import hostile_char, human_size, plural, safe_text
from paperbundle.manifest import Manifest, Paper, arxiv_id

if TYPE_CHECKING:
    from paperbundle.rights import PaperRights, Rights

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def release_date(manifest: Manifest, environ: dict[str, str] | None = None) -> dt.date | None:
    """The manifest's date, else SOURCE_DATE_EPOCH, else None. Never the clock."""
    if manifest.bundle.date is not None:
        return manifest.bundle.date
    env = os.environ if environ is None else environ
    sde = env.get("SOURCE_DATE_EPOCH", "").strip()
    if sde:
        try:
            seconds = int(sde)
            if seconds < 0:
                raise ValueError(sde)
            return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()
        except (ValueError, OverflowError, OSError):
            raise UsageError(
                f"SOURCE_DATE_EPOCH={sde!r} is not a number of seconds since 1970"
            ) from None
    return None


# --------------------------------------------------------------------------- text


@dataclass(frozen=True)
class PaperRow:
    """One paper as placed in a (volume of the) bundle."""

    paper: Paper
    first_page: int  # page label of its first page
    page_count: int
    volume: int | None = None  # when the bundle is split into volumes
    source_pages: int | None = None  # pages of the original file, when `pages` cut it
    rights: PaperRights | None = None  # its licence and version (lock and manifest)

    @property
    def excerpt(self) -> str | None:
        """ "pp. 1–12 of 40" for a paper cut with ``pages``."""
        return None if self.source_pages is None else self.paper.excerpt(self.source_pages)


def _link(paper: Paper) -> str:
    if paper.url is None:
        return ""
    aid = arxiv_id(paper.url)
    url = md_url(paper.url)
    return f"[arXiv:{aid}]({url})" if aid else f"[pdf]({url})"


# The heading under which CONTENTS.md and the notes list the papers a --keep-going build left
# out; verify reads it back.
MISSING_HEADING = "Missing from this build"

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md_escape(text: str) -> str:
    """Manifest text shown as markdown text, never as markup (links, emphasis, HTML, tables), and
    without controls or bidi overrides (:func:`paperbundle.fmt.safe_text`), whatever reached it."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(safe_text(text, "\t\n").split()))


def md_url(url: str) -> str:
    """A URL safe inside markdown link syntax: brackets, parentheses, angle brackets and spaces
    percent-encoded, so a URL can never close its link and open another; controls and bidi
    overrides percent-encoded too."""
    return "".join(quote(c, safe="") if c in " ()[]<>" or hostile_char(c) else c for c in url)


def _sections(manifest: Manifest) -> dict[str, str | None]:
    """Paper key -> the section it is shown under ("Other" for papers without one, when some
    papers have sections; None when the manifest has no sections)."""
    return {p.key: s.title for s in manifest.sections() for p in s.papers}


def contents_markdown(
    manifest: Manifest,
    rows: Sequence[PaperRow],
    *,
    pdf_name: str,
    total_pages: int,
    date: dt.date | None,
    volume: tuple[int, int] | None = None,
    missing: Sequence[Paper] = (),
) -> str:
    b = manifest.bundle
    head = f"# {md_escape(b.title)} {md_escape(b.version)}"
    if volume:
        head += f" (volume {volume[0]} of {volume[1]})"
    lines = [head, ""]
    if b.subtitle:
        lines += [md_escape(b.subtitle), ""]
    facts = [plural(len(rows), "paper"), plural(total_pages, "page"), f"`{pdf_name}`"]
    if date:
        facts.append(date.isoformat())
    if b.curator:
        facts.append(f"curated by {md_escape(b.curator)}")
    lines += [" · ".join(facts), ""]
    if b.homepage:
        lines += [f"Homepage: <{md_url(b.homepage)}>", ""]
    section_of = _sections(manifest)
    header = [
        "| Page | Label | Title | By | Date | Licence | Version | Links |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    current: str | None = None
    for n, row in enumerate(rows):
        p = row.paper
        section = section_of.get(p.key)
        if n == 0 or section != current:
            lines += ["", f"## {md_escape(section or 'Papers')}", "", *header]
            current = section
        code = f"[code]({md_url(p.code)})" if p.code else ""
        links = " ".join(x for x in [_link(p), code] if x)
        label, title = md_escape(p.label or ""), md_escape(p.title)
        who = " · ".join(
            md_escape(x) for x in (p.authors, p.affiliation, p.venue, row.excerpt) if x
        )
        by = f"*{who}*" if who else ""  # muted, in a column of its own: the title stays the title
        date_s = md_escape(p.date or "")
        lic, ver = _licence_cell(row.rights), _version_cell(row.rights)
        lines.append(
            f"| {row.first_page} | {label} | {title} | {by} | {date_s} | {lic} | {ver} | {links} |"
        )
    lines.append("")
    if missing:
        lines += [f"## {MISSING_HEADING}", ""]
        lines += [f"- `{p.key}` {md_escape(p.title)} {_link(p)}".rstrip() for p in missing]
        lines.append("")
    return "\n".join(lines)


def _licence_cell(rights: PaperRights | None) -> str:
    if rights is None:
        return ""
    lic = rights.licence
    return f"[{md_escape(lic.short)}]({md_url(lic.url)})" if lic.url else md_escape(lic.short)


def _version_cell(rights: PaperRights | None) -> str:
    return f"v{rights.version}" if rights is not None and rights.version is not None else ""


def licence_summary(rights: Rights, included: Sequence[str]) -> list[str]:
    """The notes' "Licences" section: papers per licence, what NC means, what grants nothing."""
    inside = set(included)
    counts: dict[tuple[str, str | None], int] = {}
    for key, r in rights.papers.items():
        if key in inside:
            k = (r.licence.short, r.licence.url)
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        return []
    lines = ["## Licences", "", "| Licence | Papers |", "|---|---:|"]
    for (short, url), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0])):
        name = f"[{md_escape(short)}]({md_url(url)})" if url else md_escape(short)
        lines.append(f"| {name} | {n} |")
    lines.append("")
    nc = [k for k, r in rights.papers.items() if k in inside and r.licence.grant == "noncommercial"]
    if nc:
        lines += [
            f"{plural(len(nc), 'paper')} ({', '.join(f'`{k}`' for k in nc)}) may be "
            "redistributed for non-commercial use only (CC NC): this bundle may not be sold.",
            "",
        ]
    none = [k for k in rights.not_granted() if k in inside]
    if none:
        done = (
            "are in this bundle as link-only pages (title, authors, abstract, links)"
            if rights.redistribute == "granted"
            else 'are bundled anyway (`redistribute = "all"`)'
        )
        keys = ", ".join(f"`{k}`" for k in none)
        lines += [
            f"{plural(len(none), 'paper')} with a licence that grants no redistribution {done}: "
            f"{keys}.",
            "",
        ]
    return lines


def notes_markdown(
    manifest: Manifest,
    rows: Sequence[PaperRow],
    *,
    assets: Sequence[tuple[str, str, int]],  # (file name, sha256, size)
    total_pages: int,
    changes: str | None,
    missing: Sequence[PaperError],
    volumes: int = 1,
    rights: Rights | None = None,
) -> str:
    b = manifest.bundle
    stem = b.stem
    pdf_bytes = sum(size for name, _, size in assets if name.endswith(".pdf"))
    lines = [f"# {md_escape(b.title)} {md_escape(b.version)}", ""]
    if b.subtitle:
        lines += [f"*{md_escape(b.subtitle)}*", ""]
    summary = (
        f"**{plural(len(rows), 'paper')}, {plural(total_pages, 'page')}, {human_size(pdf_bytes)}**"
    )
    if volumes > 1:
        summary += f" in {volumes} volumes"
    if b.date:
        summary += f", released {b.date.isoformat()}"
    if b.curator:
        summary += f", curated by {md_escape(b.curator)}"
    lines += [summary + ".", ""]
    if b.description:
        lines += [md_escape(b.description), ""]
    if missing:
        papers = {p.key: p for p in manifest.papers}
        lines += [
            f"## {MISSING_HEADING}",
            "",
            f"{plural(len(missing), 'paper')} could not be included (built with `--keep-going`):",
            "",
        ]
        for e in missing:
            p = papers.get(e.key)
            title = md_escape(p.title) if p else ""
            where = f" <{md_url(p.url)}>" if p is not None and p.url else ""
            lines.append(f"- `{e.key}` {title}{where}: {e.reason}")
        lines.append("")
    lines += ["## Contents", ""]
    section_of = _sections(manifest)
    section: str | None = None
    for n, row in enumerate(rows, 1):
        p = row.paper
        here = section_of.get(p.key)
        if here and here != section:
            lines += ["", f"### {md_escape(here)}", ""]
            section = here
        title = f"[{md_escape(p.title)}]({md_url(p.url)})" if p.url else md_escape(p.title)
        label = f"**\\[{md_escape(p.label)}\\]** " if p.label else ""
        where = f"p. {row.first_page}"
        if row.volume is not None:
            where = f"volume {row.volume}, {where}"
        muted = " · ".join(md_escape(x) for x in (p.affiliation, p.venue, row.excerpt) if x)
        extra = [
            x
            for x in [
                f"*{muted}*" if muted else "",
                md_escape(p.date or ""),
                where,
                f"[code]({md_url(p.code)})" if p.code else "",
            ]
            if x
        ]
        lines.append(f"{n}. {label}{title} ({', '.join(extra)})")
    lines.append("")
    if rights is not None:
        lines += licence_summary(rights, [row.paper.key for row in rows])
    if changes:
        lines += [changes.rstrip(), ""]
    lines += ["## Assets", "", "| File | Size | SHA-256 |", "|---|---:|---|"]
    for name, digest, size in assets:
        lines.append(f"| `{name}` | {human_size(size)} | `{digest}` |")
    lines += [
        "",
        "## Verify",
        "",
        "```sh",
        f"sha256sum -c {stem}.sha256",
        *(
            [f"paperbundle verify {stem}.zip"]
            if volumes == 1
            else [f"paperbundle verify {stem}-part{n}.zip" for n in range(1, volumes + 1)]
        ),
        "```",
        "",
        f"Built with [paperbundle]({HOMEPAGE}) {__version__}.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def write_zip(
    path: Path, members: Sequence[tuple[str, Path | bytes]], date: dt.date | None
) -> None:
    """A reproducible zip: fixed member order, times, permissions and compression (PDFs stored,
    the rest deflated)."""
    stamp = (date.year, date.month, date.day, 0, 0, 0) if date and date.year >= 1980 else ZIP_EPOCH
    with atomic_file(path) as f, zipfile.ZipFile(f, "w") as zf:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = (0o100644 & 0xFFFF) << 16
            # PDFs are compressed inside already: deflating them again saves ~1 % for ~9 % of a
            # build's time, so they are stored; the text members are deflated.
            stored = name.endswith(".pdf")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            if isinstance(content, bytes):
                zf.writestr(info, content, compresslevel=6)
            else:
                with content.open("rb") as src, zf.open(info, "w") as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)


def checksums_text(entries: Sequence[tuple[str, str]]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in entries)
