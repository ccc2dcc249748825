"""`paperbundle import`: the paper tables of an awesome-list README -> a manifest.

One paper per table row with a fetchable PDF link (arXiv in any URL form, USENIX, OpenReview, ACL
Anthology, any ``.pdf``). Rows without one (blogs, docs, Zhihu posts, GitHub-only rows) are kept in
the manifest as TOML comments, and the same paper seen twice (same arXiv id or canonical URL) is
merged into the first row. Every row is accounted for in :class:`ImportReport`:
``rows_seen == papers_written + kept_as_comments + duplicates_merged``.

What the reader understands of the markdown: tables with or without outer pipes, under ``#``..
``######`` (or HTML ``<h1>``..``<h6>``, or setext) headings; the nearest heading above a row is its
section; header names pick the date/title/paper/code columns, any extra column is searched for
links; rows that continue a table after a heading without repeating its header; link cells like
``[[arxiv][pdf]](url)``, several links in one cell, reference links, ``<a href>``, autolinks and
bare URLs; badges and images are ignored; titles lose emoji, emphasis markers, HTML tags and
entities. Fenced code blocks and HTML comments are skipped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from paperbundle.errors import UsageError
from paperbundle.files import write_atomic
from paperbundle.manifest import (
    NAME_RE,
    UrlProblem,
    arxiv_id,
    normalise_url,
    parse_manifest,
)

DEFAULT_VERSION = "v0.1"


@dataclass(frozen=True)
class ImportReport:
    rows_seen: int
    papers_written: int
    kept_as_comments: int  # rows without a fetchable PDF link (blogs, docs, Zhihu, GitHub only)
    duplicates_merged: int  # same paper (same arXiv id / canonical URL) seen again
    notes: tuple[str, ...]  # human lines for stderr (which rows became comments, merged, why)

    def summary(self) -> str:
        return (
            f"{self.rows_seen} rows: {self.papers_written} papers written, "
            f"{self.kept_as_comments} kept as comments (no PDF link), "
            f"{self.duplicates_merged} duplicates merged"
        )


@dataclass(frozen=True)
class ImportResult:
    toml: str  # the manifest text (accepted by load_manifest/parse_manifest)
    report: ImportReport


# --------------------------------------------------------------------------- markdown inline


@dataclass(frozen=True)
class Link:
    text: str  # raw markdown text of the link (may itself hold markup)
    url: str
    image: bool = False  # ![alt](src) or <img>: ``url`` is the picture, not a target
    badge: bool = False  # a link whose whole text is a picture: a target, but no text


_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~\"'$%&,/:;=?@^"
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_IMG_TAG_RE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_A_TAG_RE = re.compile(
    r"<a\b[^>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))[^>]*>(.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)
_AUTOLINK_RE = re.compile(r"<(https?://[^\s<>]+)>", re.IGNORECASE)
_BARE_URL_RE = re.compile(r"https?://[^\s<>\"'|\]\[]+[^\s<>\"'|\]\[.,;:!?)]", re.IGNORECASE)
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _match_bracket(s: str, i: int, open_: str, close: str) -> int:
    """Index of the bracket closing the one at ``s[i]``, or -1 (backslash escapes respected)."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1


def _link_dest(inner: str) -> str:
    """``url "title"`` or ``<url>`` -> url."""
    inner = inner.strip()
    if inner.startswith("<") and ">" in inner:
        return inner[1 : inner.index(">")].strip()
    return inner.split()[0] if inner.split() else ""


@dataclass
class _Inline:
    """A cell split into text pieces and links; ``pieces`` keeps the order."""

    pieces: list[str | Link] = field(default_factory=list)

    def links(self) -> list[Link]:
        return [p for p in self.pieces if isinstance(p, Link)]


def _parse_inline(s: str, refs: dict[str, str]) -> _Inline:
    """Split markdown inline text into plain text and links (inline, reference, HTML, bare)."""
    out = _Inline()
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.pieces.extend(_bare_links("".join(buf)))
            buf.clear()

    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == "\\" and i + 1 < n:
            buf.append(s[i : i + 2])
            i += 2
            continue
        if c == "`":
            # a code span: literal text
            m = re.match(r"(`+)(.*?)\1", s[i:], re.DOTALL)
            if m:
                buf.append(m.group(2))
                i += m.end()
                continue
        if c == "<":
            m_img = _IMG_TAG_RE.match(s, i)
            if m_img:
                src = re.search(r"\bsrc\s*=\s*[\"']?([^\"'\s>]+)", m_img.group(0), re.I)
                flush()
                out.pieces.append(Link("", html.unescape(src.group(1)) if src else "", True))
                i = m_img.end()
                continue
            m_a = _A_TAG_RE.match(s, i)
            if m_a:
                href = next(g for g in m_a.groups()[:3] if g is not None)
                text = m_a.group(4)
                flush()
                badge = _only_pictures(_parse_inline(text, refs))
                out.pieces.append(Link(text, html.unescape(href).strip(), badge=badge))
                i = m_a.end()
                continue
            m_auto = _AUTOLINK_RE.match(s, i)
            if m_auto:
                flush()
                out.pieces.append(Link(m_auto.group(1), m_auto.group(1)))
                i = m_auto.end()
                continue
        image = c == "!" and i + 1 < n and s[i + 1] == "["
        if c == "[" or image:
            start = i + 1 if image else i
            end = _match_bracket(s, start, "[", "]")
            if end > 0:
                text = s[start + 1 : end]
                url: str | None = None
                after = end + 1
                if after < n and s[after] == "(":
                    close = _match_bracket(s, after, "(", ")")
                    if close > 0:
                        url = _link_dest(s[after + 1 : close])
                        after = close + 1
                elif after < n and s[after] == "[":
                    close = _match_bracket(s, after, "[", "]")
                    if close > 0:
                        ref = s[after + 1 : close] or text
                        url = refs.get(_ref_key(ref))
                        if url is not None:
                            after = close + 1
                elif _ref_key(text) in refs and not image:
                    url = refs[_ref_key(text)]
                if url is not None:
                    flush()
                    if image:
                        out.pieces.append(Link(text, url, True))
                    else:
                        badge = _only_pictures(_parse_inline(text, refs))
                        out.pieces.append(Link(text, url, badge=badge))
                    i = after
                    continue
        buf.append(c)
        i += 1
    flush()
    return out


def _only_pictures(inline: _Inline) -> bool:
    """Whether link text is nothing but images (a badge)."""
    return bool(inline.links()) and all(
        (p.image or p.badge) if isinstance(p, Link) else not p.strip() for p in inline.pieces
    )


def _bare_links(text: str) -> Iterator[str | Link]:
    pos = 0
    for m in _BARE_URL_RE.finditer(text):
        if m.start() > pos:
            yield text[pos : m.start()]
        yield Link(m.group(0), m.group(0))
        pos = m.end()
    if pos < len(text):
        yield text[pos:]


def _ref_key(ref: str) -> str:
    return " ".join(ref.split()).casefold()


_KEEP_SYMBOLS = set("©®™°℃№")
_DROP_MARKS = {"\ufe0f", "\ufe0e", "\u200d", "\u20e3", "\u200b", "\u2060"}


def _strip_emoji(s: str) -> str:
    out = []
    for ch in s:
        if ch in _DROP_MARKS:
            continue
        cp = ord(ch)
        if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:  # skin tones, tag characters
            continue
        if unicodedata.category(ch) == "So" and ch not in _KEEP_SYMBOLS:
            continue
        out.append(ch)
    return "".join(out)


_EMPHASIS_RES = [
    re.compile(r"(?<![\w*])\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*(?![\w*])"),
    re.compile(r"(?<![\w*])\*\*(?=\S)(.+?)(?<=\S)\*\*(?![\w*])"),
    re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<!\w)___(?=\S)(.+?)(?<=\S)___(?!\w)"),
    re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"),
    re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
]
_ESCAPE_RE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _plain(md: str, refs: dict[str, str] | None = None) -> str:
    """Markdown/HTML inline text -> plain text: no links, images, tags, emphasis, emoji."""
    # protect backslash escapes from the emphasis rules with private-use placeholders
    protected = _ESCAPE_RE.sub(lambda m: chr(0xF0000 + ord(m.group(1))), md)
    pieces = _parse_inline(protected, refs or {}).pieces
    text = "".join(_plain_link_text(p, refs) if isinstance(p, Link) else p for p in pieces)
    text = _BR_RE.sub(" ", text)
    text = _TAG_RE.sub("", text)
    text = html.unescape(text)
    for _ in range(2):
        for rx in _EMPHASIS_RES:
            text = rx.sub(r"\1", text)
    text = re.sub(r"(?<!\w)\*\*|\*\*(?!\w)", "", text)  # unbalanced bold markers
    text = "".join(chr(ord(c) - 0xF0000) if 0xF0000 <= ord(c) < 0xF0080 else c for c in text)
    text = _strip_emoji(text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c in "\t\n")
    return " ".join(text.split())


def _plain_link_text(link: Link, refs: dict[str, str] | None = None) -> str:
    if link.image or link.badge:
        return ""
    if link.text == link.url:  # bare URL or autolink: not text
        return ""
    return _plain(link.text, refs)


# --------------------------------------------------------------------------- URLs


def pdf_url(url: str) -> str | None:
    """The canonical URL of a fetchable PDF that ``url`` points at, or None.

    arXiv in any form (also ar5iv, alphaXiv, Hugging Face papers, the arXiv DOI), OpenReview forum
    pages (-> ``/pdf?id=``), ACL Anthology pages (-> ``.pdf``), GitHub ``blob`` links to a PDF
    (-> ``raw``), and any URL whose path ends in ``.pdf`` (USENIX, CVF, PMLR, NeurIPS, ...).
    """
    url = html.unescape(url.strip())
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if host.startswith("www."):
        host = host[4:]
    path = parts.path
    candidate: str | None = None
    m: re.Match[str] | None
    if host in {"arxiv.org", "export.arxiv.org", "browse.arxiv.org"}:
        candidate = url
    elif host in {"ar5iv.labs.arxiv.org", "ar5iv.org", "alphaxiv.org", "huggingface.co"}:
        m = re.match(r"^/(?:html|abs|pdf|papers|overview)/(\d{4}\.\d{4,5}(?:v\d+)?)", path)
        if m:
            candidate = f"https://arxiv.org/pdf/{m.group(1)}"
    elif host == "doi.org":
        m = re.match(r"^/10\.48550/arxiv\.(\d{4}\.\d{4,5}(?:v\d+)?)$", path, re.IGNORECASE)
        if m:
            candidate = f"https://arxiv.org/pdf/{m.group(1)}"
    elif host == "openreview.net":
        ids = parse_qs(parts.query).get("id")
        if path.rstrip("/") in ("/forum", "/pdf") and ids:
            candidate = f"https://openreview.net/pdf?id={ids[0]}"
        elif path.lower().endswith(".pdf"):
            candidate = url
    elif host in {"aclanthology.org", "aclweb.org"}:
        m = re.match(
            r"^/(?:anthology/)?(\d{4}\.[a-z0-9-]+\.\d+|[A-Z]\d{2}-\d{4})(?:/|\.pdf)?$", path
        )
        if m:
            candidate = f"https://aclanthology.org/{m.group(1)}.pdf"
    elif host == "github.com" and path.lower().endswith(".pdf"):
        m = re.match(r"^/([^/]+)/([^/]+)/blob/(.+)$", path)
        candidate = f"https://github.com/{m.group(1)}/{m.group(2)}/raw/{m.group(3)}" if m else url
    elif path.lower().endswith(".pdf"):
        candidate = url
    if candidate is None:
        return None
    try:
        canon = normalise_url(candidate)
    except UrlProblem:
        return None
    if host.endswith("arxiv.org") and arxiv_id(canon) is None:
        return None
    return canon


def _paper_identity(url: str) -> str:
    """What makes two rows the same paper: the arXiv id without version, else the canonical URL."""
    return arxiv_id(url) or url


def _web_url(url: str) -> str | None:
    try:
        return normalise_url(html.unescape(url.strip()))
    except UrlProblem:
        return None


_CODE_HOSTS = ("github.com", "gitlab.com", "codeberg.org", "bitbucket.org")


def _is_code_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in _CODE_HOSTS


# --------------------------------------------------------------------------- slugs


def slug_key(text: str) -> str:
    """A manifest key from a label or title: lower-case a-z 0-9 . _ -, starting with a-z or 0-9."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9._-]+", "-", s)
    s = re.sub(r"-{2,}", "-", s)
    s = re.sub(r"^[^a-z0-9]+", "", s)
    s = s[:60]
    return re.sub(r"[^a-z0-9]+$", "", s)


def slug_name(text: str) -> str:
    """A bundle name: letters, digits, . _ -, starting with a letter or digit."""
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", s)
    s = re.sub(r"-{2,}", "-", s)
    s = re.sub(r"^[^A-Za-z0-9]+", "", s)[:80]
    return re.sub(r"[^A-Za-z0-9]+$", "", s)


# --------------------------------------------------------------------------- block structure


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str  # plain text
    line: int


@dataclass(frozen=True)
class _Row:
    line: int  # 1-based line number in the source
    cells: tuple[str, ...]
    columns: dict[str, int] | None  # role -> column index, None without a header
    section: str | None


_SEP_CELL_RE = re.compile(r"^\s*:?-+:?\s*$")
_ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HTML_H_RE = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE)
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_REF_DEF_RE = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$")


def _split_row(line: str) -> list[str]:
    """Cells of a table line, splitting on unescaped pipes (outer pipes optional)."""
    s = line.strip()
    cells: list[str] = []
    buf: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            buf.append("|")
            i += 2
            continue
        if c == "|":
            cells.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    cells.append("".join(buf))
    if s.startswith("|"):
        cells = cells[1:]
    if s.endswith("|") and not s.endswith("\\|") and cells:
        cells = cells[:-1]
    return [c.strip() for c in cells]


def _has_pipe(line: str) -> bool:
    return bool(re.search(r"(?<!\\)\|", line))


def _is_separator(line: str) -> bool:
    if not _has_pipe(line) and not re.match(r"^\s*:?-+:?\s*$", line):
        return False
    cells = _split_row(line)
    return bool(cells) and all(_SEP_CELL_RE.match(c) for c in cells)


_ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "date": ("date", "year", "time", "published", "month", "when", "日期", "时间", "年份"),
    "label": ("label", "tag", "abbr", "alias", "short name", "shortname", "nickname", "标签"),
    "title": ("title", "paper title", "name", "paper name", "papers title", "标题", "题目", "名称"),
    "paper": (
        "paper",
        "papers",
        "pdf",
        "link",
        "links",
        "arxiv",
        "url",
        "source",
        "publication",
        "paper link",
        "论文",
        "链接",
    ),
    "code": (
        "code",
        "github",
        "repo",
        "repository",
        "implementation",
        "official code",
        "codes",
        "代码",
    ),
}


def _column_roles(header: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for i, cell in enumerate(header):
        name = " ".join(re.sub(r"[\W_]+", " ", _plain(cell).lower()).split())
        for role, words in _ROLE_WORDS.items():
            if role in roles:
                continue
            if name in words or (role in ("date", "code", "title") and role in name.split()):
                roles[role] = i
                break
    return roles


def _scan(markdown: str) -> tuple[list[_Heading], list[_Row], dict[str, str]]:
    text = markdown.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    lines = text.split("\n")

    # pass 1: which lines are inside fenced code; reference definitions
    in_code = [False] * len(lines)
    fence: str | None = None
    refs: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _FENCE_RE.match(line)
        if fence is not None:
            in_code[i] = True
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            in_code[i] = True
            continue
        rd = _REF_DEF_RE.match(line)
        if rd and not _has_pipe(line):
            refs.setdefault(_ref_key(rd.group(1)), rd.group(2))

    headings: list[_Heading] = []
    rows: list[_Row] = []
    section: str | None = None
    columns: dict[str, int] | None = None  # of the table being read or last read
    ncols = 0
    in_table = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if in_code[i]:
            in_table = False
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) and not in_code[i + 1] else ""
        heading: tuple[int, str] | None = None
        m = _ATX_RE.match(line)
        mh = _HTML_H_RE.match(line)
        if m:
            heading = (len(m.group(1)), m.group(2) or "")
        elif mh:
            heading = (int(mh.group(1)), mh.group(2))
        elif (
            line.strip()
            and not _has_pipe(line)
            and not in_table
            and re.match(r"^ {0,3}(=+|-+)\s*$", nxt)
            and not re.match(r"^\s*([-*+]|\d+[.)])\s", line)
            and (i == 0 or not lines[i - 1].strip())
        ):
            heading = (1 if nxt.strip()[0] == "=" else 2, line)
            i += 1  # the underline
        if heading is not None:
            in_table = False
            title = _plain(heading[1])
            if title:
                headings.append(_Heading(heading[0], title, i + 1))
                section = title
            i += 1
            continue
        if (
            _has_pipe(line)
            and nxt
            and _is_separator(nxt)
            and not _is_separator(line)
            and len(_split_row(nxt)) == len(_split_row(line))  # as GitHub requires
        ):
            header = _split_row(line)
            columns = _column_roles(header)
            ncols = len(header)
            in_table = True
            i += 2
            continue
        if in_table and line.strip() and _has_pipe(line):
            rows.append(_Row(i + 1, tuple(_split_row(line)), columns, section))
        elif line.strip().startswith("|") and len(_split_row(line)) >= 2:
            # a row outside a table: one continuing a table after a heading, header not repeated
            cells = _split_row(line)
            cols = columns if columns is not None and len(cells) == ncols else None
            rows.append(_Row(i + 1, tuple(cells), cols, section))
            in_table = True
            if cols is None:
                columns, ncols = None, len(cells)
        else:
            in_table = False
        i += 1
    return headings, rows, refs


# --------------------------------------------------------------------------- rows -> papers


_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[./-]\s*(\d{1,2}))?(?!\d)")
_LABEL_RE = re.compile(r"^\s*[\[【]\s*([^\[\]【】]+?)\s*[\]】]\s*[:：\-–—]?\s*(.*)$")
_GENERIC_WORDS = {
    "arxiv",
    "pdf",
    "paper",
    "link",
    "openreview",
    "acl",
    "html",
    "abs",
    "doi",
    "url",
    "download",
    "here",
    "blog",
    "code",
    "github",
    "project",
    "page",
    "tech",
    "report",
    "docs",
    "doc",
    "slides",
    "video",
    "poster",
    "usenix",
    "proceedings",
}


def _is_generic(text: str) -> bool:
    words = re.sub(r"[\[\]()/|,]+", " ", text.lower()).split()
    if not words or len(words) > 3:
        return not words
    return all(w in _GENERIC_WORDS or re.match(r"^[a-z]+\d{2}(-\w+)?$", w) for w in words)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_YEAR_RE = re.compile(
    r"\b(" + "|".join(_MONTHS) + r")[a-z]*\.?,?\s+((?:19|20)\d{2})\b", re.IGNORECASE
)


def _fmt_date(text: str) -> str | None:
    """``2023.5``, ``2023-05``, ``2023/05``, ``May 2023`` -> ``2023.05``; a lone year stays."""
    mm = _MONTH_YEAR_RE.search(text)
    if mm:
        return f"{mm.group(2)}.{_MONTHS.index(mm.group(1).lower()[:3]) + 1:02d}"
    m = _DATE_RE.search(text)
    if not m:
        return None
    year, month = m.group(1), m.group(2)
    if month is None:
        return year
    if not 1 <= int(month) <= 12:
        return year
    return f"{year}.{int(month):02d}"


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
    key: str = ""
    merged_into: _Entry | None = None


def _split_label(title: str) -> tuple[str | None, str]:
    m = _LABEL_RE.match(title)
    if m and m.group(2).strip():
        return m.group(1).strip(), m.group(2).strip()
    if m:
        return None, m.group(1).strip()
    return None, title


def _title_text(cell: str, refs: dict[str, str]) -> tuple[str | None, str]:
    """(label, title) from a title cell: ``**[Label]** Title <br> authors ![badge](..)``."""
    parts = [p for p in _BR_RE.split(cell) if _plain(p, refs)]
    if not parts:
        return None, ""
    first = parts[0]
    if (
        len(parts) > 1
        and _split_label(_plain(first, refs))[0] is None
        and _LABEL_RE.match(_plain(first, refs))
    ):
        first = first + " " + parts[1]  # "[Label]<br>Title"
    inline = _parse_inline(first, refs)
    pieces = [p for p in inline.pieces if not (isinstance(p, Link) and p.image)]
    # "[Label](url) Title": a short linked name followed by the title
    while pieces and isinstance(pieces[0], str) and not _plain(pieces[0], refs):
        pieces.pop(0)
    if len(pieces) >= 2 and isinstance(pieces[0], Link):
        head = _plain_link_text(pieces[0], refs)
        rest = _plain("".join(p if isinstance(p, str) else p.text for p in pieces[1:]), refs)
        if head and rest and len(head) <= 40 and len(rest) > len(head) and ":" not in head:
            return head, rest
    return _split_label(_plain(first, refs))


def _classify_other(links: list[Link]) -> tuple[str | None, str]:
    """For a row without a PDF: the link it gives instead and what kind of page that is."""
    for link in links:
        url = _web_url(link.url)
        if url is None or _is_code_host(url):
            continue
        host = (urlsplit(url).hostname or "").lower()
        text = _plain(link.text).lower()
        if "zhihu" in host or "zhihu" in text:
            return url, "Zhihu post"
        for word, kind in (
            ("blog", "blog"),
            ("doc", "docs"),
            ("report", "tech report"),
            ("slide", "slides"),
            ("video", "video"),
        ):
            if word in text:
                return url, kind
        if "docs" in host or host.endswith(".readthedocs.io") or "/docs" in urlsplit(url).path:
            return url, "docs"
        if "youtube" in host or "bilibili" in host:
            return url, "video"
        return url, "web page, not a PDF"
    for link in links:
        url = _web_url(link.url)
        if url is not None:
            return url, "GitHub only"
    return None, "no link"


def _row_entry(row: _Row, refs: dict[str, str]) -> _Entry | None:
    cells = list(row.cells)
    cols = dict(row.columns or {})
    if not any(_plain(c) or _parse_inline(c, refs).links() for c in cells):
        return None  # an empty row
    if "date" not in cols:
        for i, c in enumerate(cells):
            if re.fullmatch(r"\s*(?:19|20)\d{2}(?:\s*[./-]\s*\d{1,2})?\s*", _plain(c)):
                cols["date"] = i
                break

    def cell(role: str) -> str:
        i = cols.get(role)
        return cells[i] if i is not None and i < len(cells) else ""

    # links in the order they are looked at for the PDF: paper column, title, the rest, code
    order = [cols[r] for r in ("paper", "title", "label") if r in cols]
    order += [i for i in range(len(cells)) if i not in order and i != cols.get("code")]
    if "code" in cols:
        order.append(cols["code"])
    links: list[Link] = []
    for i in order:
        if i < len(cells):
            links += [lk for lk in _parse_inline(cells[i], refs).links() if not lk.image]

    url = None
    for link in links:
        url = pdf_url(link.url)
        if url is not None:
            break

    code: str | None = None
    code_links = [lk for lk in _parse_inline(cell("code"), refs).links() if not lk.image]
    for cand in (
        [lk for lk in code_links if _is_code_host(lk.url)]
        + [lk for lk in links if _is_code_host(lk.url)]
        + code_links
    ):
        found = _web_url(cand.url)
        if found is not None and found != url and pdf_url(cand.url) is None:
            code = found
            break

    # title and label
    label: str | None = None
    title = ""
    if cell("label"):
        label = _plain(cell("label")) or None
    for role in ("title", "paper"):
        if cell(role):
            lab, tit = _title_text(cell(role), refs)
            if role == "paper" and _is_generic(tit):
                continue
            if tit:
                label, title = label or lab, tit
                break
    if not title:
        for i, c in enumerate(cells):
            if i in (cols.get("date"), cols.get("code"), cols.get("label")):
                continue
            lab, tit = _title_text(c, refs)
            if tit and not _is_generic(tit) and not _DATE_RE.fullmatch(tit):
                label, title = label or lab, tit
                break
    date = _fmt_date(_plain(cell("date"))) if cell("date") else None
    if date is None and url is not None:
        aid = arxiv_id(url)
        if aid and re.match(r"^\d{4}\.", aid):
            date = f"20{aid[:2]}.{aid[2:4]}"
    other, kind = (None, "") if url is not None else _classify_other(links)
    if not title:
        title = label or url or other or "untitled"
    return _Entry(row.line, label, title, row.section, date, code, url, other, kind)


# --------------------------------------------------------------------------- TOML writing


def toml_string(value: str) -> str:
    """A TOML basic string, correctly escaped."""
    out = ['"']
    for ch in value:
        cp = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif cp < 0x20 or cp == 0x7F:
            out.append(f"\\u{cp:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _comment(text: str) -> str:
    """Text safe inside a TOML comment (one line, no control characters)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _bundle_name(headings: list[_Heading], source: str) -> tuple[str, str | None, str | None]:
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
        "citation",
    }
    h1 = [h for h in headings if h.level == 1]
    pool = h1 or [h for h in headings if h.text.lower().strip(" :") not in generic]
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
        if value is not None and not NAME_RE.match(value):
            raise UsageError(
                f"{what} {value!r} may use only letters, digits, '.', '_' and '-', "
                "and must start with a letter or digit"
            )
    headings, rows, refs = _scan(markdown)
    notes: list[str] = []
    auto_name, heading_title, name_note = _bundle_name(headings, source)
    if name is None:
        name = auto_name
        if name_note:
            notes.append(name_note)
    version = version or DEFAULT_VERSION
    title = heading_title or name

    entries: list[_Entry] = []
    for row in rows:
        e = _row_entry(row, refs)
        if e is not None:
            entries.append(e)

    seen: dict[str, _Entry] = {}
    keys: set[str] = set()
    written = comments = merged = 0
    for e in entries:
        shown = f"[{e.label}] {e.title}" if e.label else e.title
        where = f"{source}:{e.line}"
        if e.url is None:
            comments += 1
            link = f": {e.other_link}" if e.other_link else ""
            notes.append(f"{where}: {shown!r}: no PDF link ({e.kind}{link}); kept as a comment")
            continue
        ident = _paper_identity(e.url)
        first = seen.get(ident)
        if first is not None:
            merged += 1
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
            f"{source}: no markdown table rows found; import reads paper tables like "
            "'| Date | Title | Paper | Code |'"
        )
    if written == 0:
        raise UsageError(
            f"{source}: no table row with a PDF link "
            f"({len(entries)} rows seen, {comments} without a PDF link): nothing to import"
        )
    report = ImportReport(len(entries), written, comments, merged, tuple(notes))
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
            ("section", None if single_section else e.section),
            ("date", e.date),
            ("code", e.code),
        ]
        out += [f"{k} = {toml_string(v)}" for k, v in fields if v]
    return "\n".join(out) + "\n"


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
