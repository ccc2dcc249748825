"""Stage 1: read and validate a manifest (TOML) into frozen dataclasses.

Validation is strict and exhaustive: every problem is collected and reported at once, each naming
the file and the key path (``manifests/v0.2.toml: papers[3].url: ...``), with "did you mean" for
misspelt keys. Nothing is downloaded before a manifest validates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from paperbundle.arxiv.licences import check_licence
from paperbundle.errors import ManifestError, Problem
from paperbundle.fmt import redact

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
PAGES_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d*)\s*)?$")

ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org"}
# New-style ids (0704.0001 onwards: YYMM.NNNN or YYMM.NNNNN) and old-style (hep-th/9901001).
ARXIV_ID_RE = re.compile(
    r"^(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?P<ver>v\d+)?(?:\.pdf)?/?$"
)

BUNDLE_KEYS = (
    "name",
    "version",
    "title",
    "subtitle",
    "description",
    "curator",
    "homepage",
    "date",
    "previous",
    "redistribute",
)
REDISTRIBUTE = ("all", "granted")
PAPER_KEYS = (
    "key",
    "title",
    "url",
    "path",
    "label",
    "section",
    "date",
    "authors",
    "affiliation",
    "venue",
    "code",
    "sha256",
    "pages",
    "licence",
)
TOP_KEYS = ("bundle", "papers")
OTHER_SECTION = "Other"


@dataclass(frozen=True)
class PageRange:
    """Inclusive 1-based page range; ``last`` None means "to the end"."""

    first: int
    last: int | None

    def __str__(self) -> str:
        if self.last is None:
            return f"{self.first}-"
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Paper:
    key: str
    title: str
    url: str | None  # canonical (normalised) URL, None for a local `path`
    path: Path | None  # absolute path of a local file
    label: str | None = None
    section: str | None = None
    date: str | None = None
    authors: str | None = None
    code: str | None = None
    affiliation: str | None = None  # who made it, e.g. "DeepSeek-AI"
    venue: str | None = None  # where it appeared, e.g. "NeurIPS 2025"
    sha256: str | None = None
    pages: tuple[PageRange, ...] | None = None
    licence: str | None = None  # a licence URL or SPDX id the maintainer gives

    def excerpt(self, total_pages: int) -> str | None:
        """The excerpt mark of a paper cut with ``pages`` ("pp. 1–12 of 40"), None when whole."""
        if self.pages is None:
            return None
        parts = []
        for r in self.pages:
            last = total_pages if r.last is None else r.last
            parts.append(str(r.first) if r.first == last else f"{r.first}–{last}")
        single = len(parts) == 1 and "–" not in parts[0]
        return f"{'p.' if single else 'pp.'} {', '.join(parts)} of {total_pages}"

    @property
    def source(self) -> str:
        """What to show for where the paper comes from: its canonical URL or its local path."""
        if self.url is not None:
            return self.url
        assert self.path is not None
        return str(self.path)


@dataclass(frozen=True)
class Bundle:
    name: str
    version: str
    title: str
    subtitle: str | None = None
    description: str | None = None
    curator: str | None = None
    homepage: str | None = None
    date: dt.date | None = None
    previous: Path | None = None
    redistribute: str = "all"  # "granted": papers whose licence grants nothing become link-only

    @property
    def stem(self) -> str:
        """File stem of every output: ``NAME-VERSION``."""
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class Section:
    title: str | None  # None when the manifest has no sections at all
    papers: tuple[Paper, ...]


@dataclass(frozen=True)
class Manifest:
    path: Path
    bundle: Bundle
    papers: tuple[Paper, ...]
    display_path: str = field(default="", compare=False)

    @property
    def lock_path(self) -> Path:
        return lock_path_for(self.path)

    def sections(self) -> tuple[Section, ...]:
        """Papers grouped by section, sections in order of first appearance.

        Papers without a section go last under "Other" when some papers have one; with no sections
        at all there is a single untitled group.
        """
        if not any(p.section for p in self.papers):
            return (Section(None, self.papers),)
        order: dict[str, list[Paper]] = {}
        loose: list[Paper] = []
        for p in self.papers:
            if p.section:
                order.setdefault(p.section, []).append(p)
            else:
                loose.append(p)
        if loose:
            order.setdefault(OTHER_SECTION, []).extend(loose)
        return tuple(Section(t, tuple(ps)) for t, ps in order.items())

    def ordered_papers(self) -> tuple[Paper, ...]:
        """Papers in bundle order (grouped by section)."""
        return tuple(p for s in self.sections() for p in s.papers)

    def paper(self, key: str) -> Paper:
        for p in self.papers:
            if p.key == key:
                return p
        raise KeyError(key)


def lock_path_for(manifest_path: Path) -> Path:
    return manifest_path.with_name(manifest_path.stem + ".lock.json")


# --------------------------------------------------------------------------- URLs


class UrlProblem(ValueError):
    pass


def normalise_url(url: str) -> str:
    """Check an http(s) URL and return its canonical form.

    arXiv URLs in any common form (abs/, pdf/, .pdf or not, vN or not, www./browse./export.,
    http:) become ``https://arxiv.org/pdf/<id>[vN]``. Other URLs get a lower-case scheme and host
    and lose their fragment. Raises :class:`UrlProblem` with a reason for anything unusable.
    """
    if not isinstance(url, str) or not url.strip():
        raise UrlProblem("empty URL")
    if url != url.strip() or any(c.isspace() for c in url):
        raise UrlProblem(f"URL contains whitespace: {url!r}")
    bad = sorted({c for c in url if c in '<>"{}|\\^`' or ord(c) < 32 or ord(c) == 127})
    if bad:
        raise UrlProblem(f"URL contains characters a URL may not hold ({''.join(bad)}): {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlProblem(f"not a valid URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"'{parts.scheme}:'" if parts.scheme else "none"
        raise UrlProblem(f"only http and https URLs are allowed (scheme {shown} in {url!r})")
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        raise UrlProblem(f"not a valid URL: {url!r} ({exc})") from None
    # a dotted name, localhost, or an IPv6 literal (urlsplit drops its brackets)
    if not host or ("." not in host and host != "localhost" and ":" not in host):
        raise UrlProblem(f"URL has no valid host: {url!r}")
    if parts.username or parts.password:
        raise UrlProblem(f"URL must not carry credentials: {redact(url)!r}")
    if host in ARXIV_HOSTS:
        arxiv_id = arxiv_id_from_path(parts.path)
        if arxiv_id is None:
            raise UrlProblem(f"arXiv URL without a paper id: {url!r}")
        return f"https://arxiv.org/pdf/{arxiv_id}"
    return urlunsplit((scheme, netloc(host, port), parts.path or "/", parts.query, ""))


def netloc(host: str, port: int | None) -> str:
    """``host[:port]`` for a URL, an IPv6 address in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def arxiv_id_from_path(path: str) -> str | None:
    """``/abs/2205.14135v2`` -> ``2205.14135v2``; None when the path names no paper."""
    m = re.match(r"^/(?:abs|pdf|html)/(.+)$", path)
    if not m:
        return None
    idm = ARXIV_ID_RE.match(m.group(1))
    if not idm:
        return None
    return idm.group("id") + (idm.group("ver") or "")


def arxiv_id(url: str) -> str | None:
    """The arXiv id (without version) of a canonical URL, or None."""
    if not url.startswith("https://arxiv.org/pdf/"):
        return None
    rest = url[len("https://arxiv.org/pdf/") :]
    return re.sub(r"v\d+$", "", rest)


# --------------------------------------------------------------------------- pages


def parse_pages(spec: str) -> tuple[PageRange, ...]:
    """``"1-3,5,9-"`` -> ranges. Raises ValueError with a reason."""
    if not spec.strip():
        raise ValueError("empty page selection")
    out: list[PageRange] = []
    for part in spec.split(","):
        m = PAGES_RE.match(part)
        if not m:
            raise ValueError(f"{part.strip()!r} is not a page or range like 3 or 1-12")
        first = int(m.group(1))
        last: int | None
        if m.group(2) is None:
            last = first
        elif m.group(2) == "":
            last = None
        else:
            last = int(m.group(2))
        if first < 1:
            raise ValueError("pages are numbered from 1")
        if last is not None and last < first:
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        out.append(PageRange(first, last))
    return tuple(out)


def select_pages(ranges: tuple[PageRange, ...] | None, page_count: int) -> list[int]:
    """0-based page indexes kept from a file of ``page_count`` pages, in order, without repeats.

    Raises ValueError naming the first range outside the file.
    """
    if ranges is None:
        return list(range(page_count))
    kept: list[int] = []
    seen: set[int] = set()
    for r in ranges:
        last = page_count if r.last is None else r.last
        if r.first > page_count or last > page_count:
            raise ValueError(
                f"pages {r} outside the file's {page_count} page{'s' if page_count != 1 else ''}"
            )
        for i in range(r.first - 1, last):
            if i not in seen:
                seen.add(i)
                kept.append(i)
    return kept


# --------------------------------------------------------------------------- loading


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def unknown_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for k in table:
            if k in allowed:
                continue
            hint = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
            msg = f"unknown key {k!r}"
            msg += f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(allowed)}"
            self.add(f"{where}{k}" if where else k, msg)

    def get(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = False,
        check: Callable[[Any], str | None] | None = None,
    ) -> Any:
        path = f"{where}{key}"
        if key not in table:
            if required:
                self.add(path, "required key is missing")
            return None
        value = table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            want = _kind_name(kind)
            self.add(path, f"must be {want}, not {_type_name(value)} ({value!r})")
            return None
        if isinstance(value, str) and kind is str and not value.strip():
            self.add(path, "must not be empty")
            return None
        if check is not None:
            err = check(value)
            if err:
                self.add(path, err)
                return None
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        dt.date: "a date (like 2023-09-25)",
        list: "an array",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dt.datetime):
        return "a date-time"
    return {
        str: "a string",
        int: "an integer",
        float: "a float",
        dt.date: "a date",
        dt.time: "a time",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _check_name(what: str) -> Callable[[str], str | None]:
    def check(v: str) -> str | None:
        if not NAME_RE.fullmatch(v):
            return (
                f"{what} {v!r} may use only letters, digits, '.', '_' and '-', "
                "and must start with a letter or digit"
            )
        return None

    return check


def _check_url(v: str) -> str | None:
    try:
        normalise_url(v)
    except UrlProblem as exc:
        return str(exc)
    return None


def _check_pages(v: str) -> str | None:
    try:
        parse_pages(v)
    except ValueError as exc:
        return f"bad page selection {v!r}: {exc}"
    return None


def _check_redistribute(v: str) -> str | None:
    return None if v in REDISTRIBUTE else f'must be "all" or "granted", not {v!r}'


def _check_sha(v: str) -> str | None:
    if not SHA256_RE.fullmatch(v.lower()):
        return "must be 64 hexadecimal digits (a SHA-256)"
    return None


def _check_key(v: str) -> str | None:
    if not KEY_RE.fullmatch(v):
        return f"key {v!r} may use only a-z, 0-9, '.', '_' and '-', and must start with a-z or 0-9"
    if len(v) > 100:
        return "key is longer than 100 characters"
    return None


def hostile_char(c: str) -> bool:
    """C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates: characters that
    can rewrite a terminal or reorder what a reader sees (U+200C-U+200F stay allowed)."""
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069


def _check_text(v: str, allowed: str = "") -> str | None:
    for i, c in enumerate(v):
        if hostile_char(c) and c not in allowed:
            return f"contains the control or bidi character U+{ord(c):04X} (at {i})"
    return None


def _check_description(v: str) -> str | None:
    return _check_text(v, "\n\t")


def _check_short(v: str) -> str | None:
    """affiliation, venue: one line of plain text, at most 200 characters."""
    if problem := _check_text(v):
        return problem
    if len(v) > 200:
        return f"is {len(v)} characters long; at most 200"
    return None


def load_manifest(
    path: Path | str, *, display: str | None = None, check_previous: bool = True
) -> Manifest:
    """Read and validate the manifest at ``path``; raise ManifestError listing every problem.

    With ``check_previous`` the manifest named by ``previous`` must load too (its own
    ``previous`` is not followed), and its problems are listed with the others."""
    path = Path(path)
    label = display if display is not None else str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError([Problem(label, "", "no such file")]) from None
    except OSError as exc:
        raise ManifestError([Problem(label, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(label, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_manifest(text, path=path.resolve(), display=label, check_previous=check_previous)


def parse_manifest(
    text: str, *, path: Path, display: str, check_previous: bool = False
) -> Manifest:
    """Validate manifest ``text``; ``path`` anchors relative ``path`` and ``previous`` values."""
    c = _Checker(display)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError([Problem(display, "", f"TOML syntax error: {exc}")]) from None
    base = path.parent

    c.unknown_keys(data, TOP_KEYS, "")
    bundle = _parse_bundle(c, data, base)
    papers = _parse_papers(c, data, base)
    prev = bundle.previous if bundle is not None else None
    if check_previous and prev is not None and prev.is_file():
        try:
            load_manifest(prev, check_previous=False)
        except ManifestError as exc:
            for p in exc.problems:
                where = f"{p.where}: " if p.where else ""
                c.add("bundle.previous", f"{prev} is not a valid manifest: {where}{p.message}")
    if c.problems or bundle is None:
        raise ManifestError(c.problems)
    return Manifest(path=path, bundle=bundle, papers=tuple(papers), display_path=display)


def _parse_bundle(c: _Checker, data: dict[str, Any], base: Path) -> Bundle | None:
    if "bundle" not in data:
        c.add("bundle", "missing [bundle] table (name and version are required)")
        return None
    b = data["bundle"]
    if not isinstance(b, dict):
        c.add("bundle", f"must be a table ([bundle]), not {_type_name(b)}")
        return None
    w = "bundle."
    c.unknown_keys(b, BUNDLE_KEYS, w)
    name = c.get(b, "name", w, str, required=True, check=_check_name("name"))
    version = c.get(b, "version", w, str, required=True, check=_check_name("version"))
    title = c.get(b, "title", w, str, check=_check_text)
    subtitle = c.get(b, "subtitle", w, str, check=_check_text)
    description = c.get(b, "description", w, str, check=_check_description)
    curator = c.get(b, "curator", w, str, check=_check_text)
    homepage = c.get(b, "homepage", w, str, check=_check_url)
    date = b.get("date")
    if date is not None and (isinstance(date, dt.datetime) or not isinstance(date, dt.date)):
        c.add(f"{w}date", f"must be a date (like 2023-09-25), not {_type_name(date)} ({date!r})")
        date = None
    previous = c.get(b, "previous", w, str)
    redistribute = c.get(b, "redistribute", w, str, check=_check_redistribute)
    prev_path = (base / previous) if previous else None
    if prev_path is not None and not prev_path.is_file():
        c.add(f"{w}previous", f"no such file: {prev_path}")
    if name is None or version is None:
        return None
    return Bundle(
        name=name,
        version=version,
        title=title or name,
        subtitle=subtitle,
        description=description,
        curator=curator,
        homepage=normalise_url(homepage) if homepage else None,
        date=date,
        previous=prev_path,
        redistribute=redistribute or "all",
    )


def _parse_papers(c: _Checker, data: dict[str, Any], base: Path) -> list[Paper]:
    if "papers" not in data:
        c.add("papers", "no papers: add at least one [[papers]] table")
        return []
    raw = data["papers"]
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        c.add("papers", "must be an array of tables ([[papers]])")
        return []
    if not raw:
        c.add("papers", "no papers: add at least one [[papers]] table")
        return []
    papers: list[Paper] = []
    keys_seen: dict[str, int] = {}
    sources_seen: dict[tuple[str, str], int] = {}
    for i, p in enumerate(raw):
        w = f"papers[{i}]."
        c.unknown_keys(p, PAPER_KEYS, w)
        key = c.get(p, "key", w, str, required=True, check=_check_key)
        title = c.get(p, "title", w, str, required=True, check=_check_text)
        url = c.get(p, "url", w, str, check=_check_url)
        local = c.get(p, "path", w, str)
        if "url" in p and "path" in p:
            c.add(f"papers[{i}]", "give either url or path, not both")
        elif "url" not in p and "path" not in p:
            c.add(f"papers[{i}]", "needs a url (or a local path)")
        label = c.get(p, "label", w, str, check=_check_text)
        section = c.get(p, "section", w, str, check=_check_text)
        date = c.get(p, "date", w, str, check=_check_text)
        authors = c.get(p, "authors", w, str, check=_check_text)
        affiliation = c.get(p, "affiliation", w, str, check=_check_short)
        venue = c.get(p, "venue", w, str, check=_check_short)
        code = c.get(p, "code", w, str, check=_check_url)
        sha = c.get(p, "sha256", w, str, check=_check_sha)
        pages = c.get(p, "pages", w, str, check=_check_pages)
        licence = c.get(p, "licence", w, str, check=check_licence)
        if key is not None:
            if key in keys_seen:
                c.add(f"{w}key", f"duplicate key {key!r} (also papers[{keys_seen[key]}])")
            else:
                keys_seen[key] = i
        canon = normalise_url(url) if url else None
        local_path = (base / local).resolve() if local else None
        if local_path is not None and not local_path.is_file():
            c.add(f"{w}path", f"no such file: {local_path}")
        src = canon or (str(local_path) if local_path else None)
        if src is not None:
            # the same arXiv paper in another version is still the same paper
            aid = arxiv_id(canon) if canon else None
            ident = (f"arXiv:{aid}" if aid else src, pages or "")
            if ident in sources_seen:
                c.add(
                    f"{w}url" if canon else f"{w}path",
                    f"same paper as papers[{sources_seen[ident]}] ({src})",
                )
            else:
                sources_seen[ident] = i
        if key is None or title is None or src is None:
            continue
        papers.append(
            Paper(
                key=key,
                title=" ".join(title.split()),
                url=canon,
                path=local_path,
                label=label,
                section=section,
                date=date,
                authors=authors,
                affiliation=affiliation,
                venue=venue,
                code=normalise_url(code) if code else None,
                sha256=sha.lower() if sha else None,
                pages=parse_pages(pages) if pages else None,
                licence=licence.strip() if licence else None,
            )
        )
    return papers
