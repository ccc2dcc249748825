"""Reading a manifest: TOML in, a validated :class:`Manifest` out, or every problem at once."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperbundle.arxiv.licences import check_licence
from paperbundle.errors import ManifestError, Problem
from paperbundle.manifest.model import Bundle, Manifest, Paper
from paperbundle.manifest.pages import parse_pages
from paperbundle.manifest.schema import BUNDLE_KEYS, PAPER_KEYS, TOP_KEYS, Check, Checker, type_name
from paperbundle.manifest.urls import arxiv_id, normalise_url
from paperbundle.manifest.values import (
    check_description,
    check_key,
    check_name,
    check_pages,
    check_redistribute,
    check_sha,
    check_short,
    check_text,
    check_url,
)


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
    c = Checker(display)
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


def _parse_bundle(c: Checker, data: dict[str, Any], base: Path) -> Bundle | None:
    if "bundle" not in data:
        c.add("bundle", "missing [bundle] table (name and version are required)")
        return None
    b = data["bundle"]
    if not isinstance(b, dict):
        c.add("bundle", f"must be a table ([bundle]), not {type_name(b)}")
        return None
    w = "bundle."
    c.unknown_keys(b, BUNDLE_KEYS, w)
    name = c.get(b, "name", w, str, required=True, check=check_name("name"))
    version = c.get(b, "version", w, str, required=True, check=check_name("version"))
    title = c.get(b, "title", w, str, check=check_text)
    subtitle = c.get(b, "subtitle", w, str, check=check_text)
    description = c.get(b, "description", w, str, check=check_description)
    curator = c.get(b, "curator", w, str, check=check_text)
    homepage = c.get(b, "homepage", w, str, check=check_url)
    date = b.get("date")
    if date is not None and (isinstance(date, dt.datetime) or not isinstance(date, dt.date)):
        c.add(f"{w}date", f"must be a date (like 2023-09-25), not {type_name(date)} ({date!r})")
        date = None
    previous = c.get(b, "previous", w, str)
    redistribute = c.get(b, "redistribute", w, str, check=check_redistribute)
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


# A paper's string values and their checks, in the order their problems are listed; after the
# first four (key, title and where the paper is) comes the check that it has a url or a path.
_SOURCE_KEYS: dict[str, Check | None] = {
    "key": check_key,
    "title": check_text,
    "url": check_url,
    "path": None,
}
_DETAIL_KEYS: dict[str, Check | None] = {
    "label": check_text,
    "section": check_text,
    "date": check_text,
    "authors": check_text,
    "affiliation": check_short,
    "venue": check_short,
    "code": check_url,
    "sha256": check_sha,
    "pages": check_pages,
    "licence": check_licence,
}
_REQUIRED = ("key", "title")


@dataclass
class _Seen:
    """Keys and sources of the papers read so far, to name a duplicate's first place."""

    keys: dict[str, int] = field(default_factory=dict)
    sources: dict[tuple[str, str], int] = field(default_factory=dict)


def _parse_papers(c: Checker, data: dict[str, Any], base: Path) -> list[Paper]:
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
    seen = _Seen()
    papers = (_parse_paper(c, p, i, base, seen) for i, p in enumerate(raw))
    return [p for p in papers if p is not None]


def _read(c: Checker, p: dict[str, Any], w: str, checks: dict[str, Check | None]) -> dict[str, Any]:
    return {
        k: c.get(p, k, w, str, required=k in _REQUIRED, check=check) for k, check in checks.items()
    }


def _parse_paper(c: Checker, p: dict[str, Any], i: int, base: Path, seen: _Seen) -> Paper | None:
    """``papers[i]``, or None when it is too broken to use (its problems are in ``c``)."""
    w = f"papers[{i}]."
    c.unknown_keys(p, PAPER_KEYS, w)
    v = _read(c, p, w, _SOURCE_KEYS)
    if "url" in p and "path" in p:
        c.add(f"papers[{i}]", "give either url or path, not both")
    elif "url" not in p and "path" not in p:
        c.add(f"papers[{i}]", "needs a url (or a local path)")
    v |= _read(c, p, w, _DETAIL_KEYS)
    key = v["key"]
    if key is not None:
        if key in seen.keys:
            c.add(f"{w}key", f"duplicate key {key!r} (also papers[{seen.keys[key]}])")
        else:
            seen.keys[key] = i
    canon = normalise_url(v["url"]) if v["url"] else None
    local_path = (base / v["path"]).resolve() if v["path"] else None
    if local_path is not None and not local_path.is_file():
        c.add(f"{w}path", f"no such file: {local_path}")
    src = canon or (str(local_path) if local_path else None)
    if src is not None:
        # the same arXiv paper in another version is still the same paper
        aid = arxiv_id(canon) if canon else None
        ident = (f"arXiv:{aid}" if aid else src, v["pages"] or "")
        if ident in seen.sources:
            c.add(
                f"{w}url" if canon else f"{w}path",
                f"same paper as papers[{seen.sources[ident]}] ({src})",
            )
        else:
            seen.sources[ident] = i
    if key is None or v["title"] is None or src is None:
        return None
    return _paper(v, canon, local_path)


def _paper(v: dict[str, Any], url: str | None, path: Path | None) -> Paper:
    """The Paper of values that passed their checks, in canonical form."""
    return Paper(
        key=v["key"],
        title=" ".join(v["title"].split()),
        url=url,
        path=path,
        label=v["label"],
        section=v["section"],
        date=v["date"],
        authors=v["authors"],
        affiliation=v["affiliation"],
        venue=v["venue"],
        code=normalise_url(v["code"]) if v["code"] else None,
        sha256=v["sha256"].lower() if v["sha256"] else None,
        pages=parse_pages(v["pages"]) if v["pages"] else None,
        licence=v["licence"].strip() if v["licence"] else None,
    )
