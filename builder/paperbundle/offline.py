"""What ``check`` can see without the network, beyond the schema: a local file that is no
usable PDF (not a PDF, or one that needs a password), ``pages`` beyond a local file's end, and a
paper URL that is literally on a loopback, private or link-local address (an IP literal that no
``--mirror`` replaces). Each is a manifest problem naming the paper's key path; ``build`` finds
the same problems after a download and reports them per paper instead."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from paperbundle.errors import Problem
from paperbundle.fetch import address_kind, apply_mirror
from paperbundle.manifest import Manifest, Paper, select_pages
from paperbundle.pdfio import UnusablePdf, read_pdf


def offline_problems(manifest: Manifest, mirrors: tuple[tuple[str, str], ...]) -> list[Problem]:
    """Every problem of that kind, in manifest order (nothing is sent over the network)."""
    shown = manifest.display_path or str(manifest.path)
    problems: list[Problem] = []
    for i, paper in enumerate(manifest.papers):
        where = f"papers[{i}]"
        if paper.path is not None:
            problems += [Problem(shown, f"{where}.{k}", m) for k, m in _local_file(paper)]
        elif paper.url is not None:
            message = _literal_address(paper.url, mirrors)
            if message is not None:
                problems.append(Problem(shown, f"{where}.url", message))
    return problems


def _local_file(paper: Paper) -> list[tuple[str, str]]:
    assert paper.path is not None
    if not paper.path.is_file():
        return []  # reported by the manifest loader already
    with paper.path.open("rb") as f:
        if b"%PDF-" not in f.read(1024):  # where readers look for the header
            return [("path", f"{paper.path.name} is not a PDF (no %PDF- header)")]
    try:
        reader = read_pdf(paper.path)
    except UnusablePdf as exc:
        return [("path", f"{paper.path.name}: {exc.detail}")]
    if paper.pages is None:
        return []
    try:
        select_pages(paper.pages, len(reader.pages))
    except ValueError as exc:
        return [("pages", str(exc))]
    return []


def _literal_address(url: str, mirrors: tuple[tuple[str, str], ...]) -> str | None:
    if apply_mirror(url, mirrors)[1] is not None:
        return None  # fetched from a mirror, which may be anywhere
    host = urlsplit(url).hostname or ""
    try:
        addr = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None  # a name: only a lookup, at download time, can tell
    kind = address_kind(addr)
    if kind is None:
        return None
    return f"{host} is a {kind} address; only a --mirror may point there"
