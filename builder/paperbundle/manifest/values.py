"""Checks of single values: names, keys, URLs, checksums, page selections and plain text."""

from __future__ import annotations

import re

from paperbundle.fmt import hostile_char
from paperbundle.manifest.pages import parse_pages
from paperbundle.manifest.schema import Check
from paperbundle.manifest.urls import UrlProblem, normalise_url

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
REDISTRIBUTE = ("all", "granted")


def check_name(what: str) -> Check:
    def check(v: str) -> str | None:
        if not NAME_RE.fullmatch(v):
            return (
                f"{what} {v!r} may use only letters, digits, '.', '_' and '-', "
                "and must start with a letter or digit"
            )
        return None

    return check


def check_url(v: str) -> str | None:
    try:
        normalise_url(v)
    except UrlProblem as exc:
        return str(exc)
    return None


def check_pages(v: str) -> str | None:
    try:
        parse_pages(v)
    except ValueError as exc:
        return f"bad page selection {v!r}: {exc}"
    return None


def check_redistribute(v: str) -> str | None:
    return None if v in REDISTRIBUTE else f'must be "all" or "granted", not {v!r}'


def check_sha(v: str) -> str | None:
    if not SHA256_RE.fullmatch(v.lower()):
        return "must be 64 hexadecimal digits (a SHA-256)"
    return None


def check_key(v: str) -> str | None:
    if not KEY_RE.fullmatch(v):
        return f"key {v!r} may use only a-z, 0-9, '.', '_' and '-', and must start with a-z or 0-9"
    if len(v) > 100:
        return "key is longer than 100 characters"
    return None


def check_text(v: str, allowed: str = "") -> str | None:
    """No control or bidi character (see :func:`paperbundle.fmt.hostile_char`) but ``allowed``."""
    for i, c in enumerate(v):
        if hostile_char(c) and c not in allowed:
            return f"contains the control or bidi character U+{ord(c):04X} (at {i})"
    return None


def check_description(v: str) -> str | None:
    return check_text(v, "\n\t")


def check_short(v: str) -> str | None:
    """affiliation, venue: one line of plain text, at most 200 characters."""
    if problem := check_text(v):
        return problem
    if len(v) > 200:
        return f"is {len(v)} characters long; at most 200"
    return None
