"""Import rules: which URL is a fetchable PDF, how a title is cleaned, slugs, TOML text."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qs, urlsplit

from paperbundle.manifest import UrlProblem, arxiv_id, normalise_url


def pdf_url(url: str) -> str | None:
    """The canonical URL of a fetchable PDF that ``url`` points at, or None.

    arXiv in any form (also ar5iv, alphaXiv, Hugging Face papers, the arXiv DOI), OpenReview forum
    pages (-> ``/pdf?id=``), ACL Anthology pages (-> ``.pdf``), GitHub ``blob`` links to a PDF
    (-> ``raw``), and any URL whose path ends in ``.pdf`` (USENIX, CVF, PMLR, NeurIPS, ...).
    """
    url = url.strip()
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
        m = re.match(r"^/ftp/arxiv/papers/\d{4}/(\d{4}\.\d{4,5})\.pdf$", path)
        candidate = f"https://arxiv.org/pdf/{m.group(1)}" if m else url
    elif host == "huggingface.co" and "/blob/" in path and path.lower().endswith(".pdf"):
        candidate = url.replace("/blob/", "/resolve/", 1)
    elif host == "openaccess.thecvf.com" and path.endswith(".html") and "/html/" in path:
        candidate = url.replace("/html/", "/papers/", 1)[: -len(".html")] + ".pdf"
    elif host == "proceedings.mlr.press" and path.endswith(".html"):
        stem = path.rsplit("/", 1)[-1][: -len(".html")]
        candidate = f"https://proceedings.mlr.press{path[: -len('.html')]}/{stem}.pdf"
    elif host in {"proceedings.neurips.cc", "papers.nips.cc"} and path.endswith("-Abstract.html"):
        p = path.replace("/hash/", "/file/", 1)[: -len("-Abstract.html")] + "-Paper.pdf"
        candidate = f"https://{host}{p}"
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
        return normalise_url(url.strip())
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


_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*[./-]\s*(\d{1,2}))?(?!\d)")
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


# --------------------------------------------------------------------------- titles

_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d\u00a9\u00ae\u2190-\u21ff]"
)
# a :shortcode: names something with a letter and stands apart: "2:4:" and "V:N:M" are no emoji
_SHORTCODE_RE = re.compile(r"(?<![\w:])(?::(?=[a-z0-9_+-]*[a-z]|[+-]1:)[a-z0-9_+-]{1,40}:)+(?!:)")
_NUMBER_RE = re.compile(r"^\s*(?:\(?\d{1,4}[.)]|#\d{1,4}|\d{1,4}\s*[-–—:])\s+")
_OUTLINE_RE = re.compile(r"^\s*\d{1,3}(?:\.\d{1,3})+\.?\s+(?=\S)")  # "3.1.1 Eviction"
_TAG_RE = re.compile(r"^\s*[\[【]\s*([^\[\]【】]{1,40}?)\s*[\]】]\s*[:：\-–—]?\s*")
_ORG_RE = re.compile(r"\s*\(@+\s*([^()]{0,120})\)\s*$")
_VENUE_RE = re.compile(
    r"\s*[,(\[]\s*((?:ICLR|ICML|NeurIPS|NIPS|ACL|EMNLP|NAACL|CVPR|ICCV|ECCV|AAAI|IJCAI|KDD|"
    r"COLING|COLM|TACL|TMLR|JMLR|MLSys|OSDI|SOSP|ATC|EuroSys|SIGIR|WWW|EACL|AISTATS|UAI|WACV)"
    r"['’]?\s*(?:19|20)?\d{2}(?:\s+\w+)?)\s*[)\]]?\s*$",
    re.IGNORECASE,
)
_DESCRIPTION_RE = re.compile(
    r"\s(?:This (?:paper|work|study|survey|report)|In this (?:paper|work)|The authors|"
    r"Researchers|Introduces|Proposes|Presents|We (?:propose|introduce|present))\b"
)
_BACK_RE = re.compile(r"\(?\s*(?:back\s*to\s*top|back|top|返回顶部)\s*\)?\s*$", re.IGNORECASE)


def clean_text(text: str) -> str:
    """Plain text without emoji, shortcodes, and with single spaces."""
    text = _SHORTCODE_RE.sub(" ", _EMOJI_RE.sub(" ", text))
    # whitespace stays a space; control and format characters (BEL, ESC, bidi overrides,
    # zero-width spaces) go, so "Ti\x08tle" is "Title", not "Ti tle"
    text = "".join(c if c.isprintable() else " " if c.isspace() else "" for c in text)
    return " ".join(text.split())


def clean_section(text: str) -> str:
    """A heading's text as a section name: emoji, shortcodes and back-to-top markers removed."""
    text = clean_text(text)
    text = _BACK_RE.sub("", text).strip(" -–—|:")
    return _OUTLINE_RE.sub("", _NUMBER_RE.sub("", text)).strip()


def leading_bold(cell: str, bold: str) -> str | None:
    """The bold span when it opens a table cell and a dash sets what follows apart as a
    description ("3) **JARVIS-1** - an open-world agent"), else None."""
    b = clean_text(bold)
    rest = _NUMBER_RE.sub("", clean_text(cell))
    if not b or not rest.startswith(b):
        return None
    tail = rest[len(b) :].lstrip()
    return bold if tail[:1] in ("-", "–", "—") and tail[1:2].isspace() else None


def split_title(text: str) -> tuple[str, dict[str, str]]:
    """(title, extras) from raw title text: numbering, tags, (@org), venue and descriptions out.

    extras may hold ``label`` (the first [Tag]), ``affiliation`` and ``venue``.
    """
    extras: dict[str, str] = {}
    # "Title  This paper introduces ...": two spaces set a description of sentences apart
    # (after the numbering: "2)  Molmo  This paper ..." is no title "2)")
    head, gap, rest = _NUMBER_RE.sub("", text.strip()).partition("  ")
    rest = rest.strip()
    if gap and len(rest) > max(60, len(head)) and not head.rstrip().endswith((":", "-")):
        text = head
    t = clean_text(text)
    t = _NUMBER_RE.sub("", t)
    while True:
        m = _TAG_RE.match(t)
        if not m or not t[m.end() :].strip():
            break
        extras.setdefault("label", m.group(1).strip())
        t = t[m.end() :]
    m2 = _ORG_RE.search(t)
    if m2:
        if m2.group(1).strip():
            extras["affiliation"] = m2.group(1).strip()
        t = t[: m2.start()]
    m3 = _VENUE_RE.search(t)
    if m3 and m3.start() > 0:
        extras["venue"] = m3.group(1).strip()
        t = t[: m3.start()]
    if len(t) > 80:  # "Title - a description", "Name- a description", "Name -a description"
        t = re.split(r"\s+[-–—]\s*(?=[A-Za-z])|(?<=\w)[-–—]\s+(?=[a-z])", t, maxsplit=1)[0]
    if len(t) > 100:  # "Title This paper introduces ...": the description's usual first words
        m4 = _DESCRIPTION_RE.search(t, 10)
        t = t[: m4.start()] if m4 else t
    t = t.strip(" -–—:|,")
    if not re.search(r"(?:\bet al|\.\.|\b[A-Z])\.$", t):  # "Title." but not "et al." or "U.S."
        t = t.removesuffix(".")
    return t, extras
