"""What the lock keeps about an arXiv paper, as frozen dataclasses, and its JSON form."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ApiRecord:
    """One entry of the arXiv API's Atom feed."""

    arxiv_id: str  # without version
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: str  # first submission (v1), YYYY-MM-DD
    updated: str  # latest version's submission, YYYY-MM-DD
    latest_version: int
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None


@dataclass(frozen=True)
class ArxivRecord:
    """The lock's ``arxiv`` record of a paper: the API's answer and the OAI-PMH licence URL."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    published: str
    updated: str
    latest_version: int
    primary_category: str | None
    doi: str | None
    journal_ref: str | None
    licence: str  # the licence URL arXiv gives (its assumed 1991-2003 licence when it gives none)

    @classmethod
    def of(cls, api: ApiRecord, licence: str) -> ArxivRecord:
        return cls(**{**api.__dict__, "licence": licence})

    def with_licence(self, licence: str) -> ArxivRecord:
        return replace(self, licence=licence)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.arxiv_id,
            "title": self.title,
            "authors": list(self.authors),
            "abstract": self.abstract,
            "published": self.published,
            "updated": self.updated,
            "latest_version": self.latest_version,
            "licence": self.licence,
        }
        for k in ("primary_category", "doi", "journal_ref"):
            if getattr(self, k) is not None:
                out[k] = getattr(self, k)
        return out


RECORD_KEYS = (
    "abstract",
    "authors",
    "doi",
    "id",
    "journal_ref",
    "latest_version",
    "licence",
    "primary_category",
    "published",
    "title",
    "updated",
)


def record_from_json(data: Any) -> tuple[ArxivRecord | None, list[tuple[str, str]]]:
    """The record, or None and the problems found as (key, message)."""
    if not isinstance(data, dict):
        return None, [("", "must be an object (the arXiv metadata)")]
    bad: list[tuple[str, str]] = [
        (k, f"unknown key; allowed: {', '.join(RECORD_KEYS)}") for k in data if k not in RECORD_KEYS
    ]
    for k in ("id", "title", "licence"):
        if not isinstance(data.get(k), str) or not data[k]:
            bad.append((k, "must be a non-empty string"))
    if not isinstance(data.get("abstract"), str):
        bad.append(("abstract", "must be a string"))
    authors = data.get("authors")
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        bad.append(("authors", "must be an array of names"))
    for k in ("published", "updated"):
        if not isinstance(data.get(k), str) or not DATE_RE.match(data[k]):
            bad.append((k, "must be a date YYYY-MM-DD"))
    v = data.get("latest_version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        bad.append(("latest_version", f"must be a positive integer, not {v!r}"))
    for k in ("primary_category", "doi", "journal_ref"):
        if k in data and not isinstance(data[k], str):
            bad.append((k, "must be a string"))
    if bad:
        return None, bad
    return (
        ArxivRecord(
            arxiv_id=data["id"],
            title=data["title"],
            authors=tuple(data["authors"]),
            abstract=data["abstract"],
            published=data["published"],
            updated=data["updated"],
            latest_version=data["latest_version"],
            primary_category=data.get("primary_category"),
            doi=data.get("doi"),
            journal_ref=data.get("journal_ref"),
            licence=data["licence"],
        ),
        [],
    )


def authors_line(authors: tuple[str, ...] | list[str]) -> str:
    """Names joined by ", " (the contents shorten it to three and "et al.")."""
    return ", ".join(authors)
