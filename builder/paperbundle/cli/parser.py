"""The argument parser: every command, option and help text of ``paperbundle``."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from paperbundle import __version__
from paperbundle.errors import EXIT_USAGE

SIZE_UNITS = {"": 1, "B": 1, "K": 1000, "M": 1000**2, "G": 1000**3}


def parse_size(text: str) -> int:
    """``"1.9G"`` -> 1_900_000_000 (K, M, G are powers of 1000)."""
    s = text.strip().upper()
    if s.endswith("B") and len(s) > 1 and s[-2] in "KMG":
        s = s[:-1]
    unit = s[-1] if s and s[-1] in "KMGB" else ""
    number = s[: -len(unit)] if unit else s
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size (bytes, or a number with K, M or G)"
        ) from None
    size = value * SIZE_UNITS[unit]
    if not math.isfinite(size) or size < 1 or size > 10**15:
        raise argparse.ArgumentTypeError(f"{text!r}: size must be between 1 byte and 1000000G")
    return int(size)


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError(f"expected a number of processes, 1 to 256: {text!r}")
    return n


def _seconds(option: str, *, zero: bool = False) -> Callable[[str], float]:
    """A parser of seconds for ``option``: a finite number > 0 (>= 0 with ``zero``)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(v) or v < 0 or (v == 0 and not zero):
            bound = ">= 0" if zero else "> 0"
            raise argparse.ArgumentTypeError(f"{option} must be a number of seconds {bound}")
        return v

    return parse


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # --keep must not silently mean --keep-going
        super().__init__(*args, **kwargs)

    last_error = ""  # for --json: what argparse complained about

    def error(self, message: str) -> NoReturn:
        Parser.last_error = message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_common(p: argparse.ArgumentParser, *, top: bool = False) -> None:
    # On a subcommand the default is "not given", so `paperbundle -v build` keeps its -v.
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="log each request, retry, stage",
    )


def _add_network(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("network options")
    g.add_argument(
        "--cache-dir",
        type=Path,
        help="cache folder (default $PAPERBUNDLE_CACHE, else the user cache dir)",
    )
    g.add_argument(
        "--mirror",
        action="append",
        metavar="FROM=TO",
        default=None,
        help="fetch URLs starting with FROM from TO instead (repeatable; "
        "replaces $PAPERBUNDLE_MIRROR)",
    )
    g.add_argument(
        "--min-interval",
        type=_seconds("--min-interval", zero=True),
        default=3.0,
        metavar="S",
        help="seconds between two requests to the same host (default 3)",
    )
    g.add_argument(
        "--retry-budget",
        type=_seconds("--retry-budget"),
        default=180.0,
        metavar="S",
        help="most seconds one paper may spend, retries and Retry-After waits included "
        "(default 180)",
    )
    g.add_argument(
        "--download-timeout",
        type=_seconds("--download-timeout"),
        default=600.0,
        metavar="S",
        help="most seconds one request may take, its whole body included (default 600)",
    )
    g.add_argument("--offline", action="store_true", help="no network: cached files only")
    g.add_argument(
        "--max-download-size",
        type=parse_size,
        default=parse_size("200M"),
        metavar="SIZE",
        help="largest file to download (default 200M)",
    )


def _add_arxiv(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--arxiv-api",
        metavar="URL",
        help="arXiv API and OAI-PMH base (default $PAPERBUNDLE_ARXIV_API, else "
        "https://export.arxiv.org/)",
    )


_FLAGS = {
    "frozen": "require the lock file to cover every paper and match every download",
    "refresh": "download again even if cached",
    "quiet": "no progress display",
    "json": "print one JSON summary on stdout",
}


def _add_flags(p: argparse.ArgumentParser, *names: str) -> None:
    """The on/off options several commands share, with the same meaning and help everywhere."""
    for name in names:
        p.add_argument(f"--{name}", action="store_true", help=_FLAGS[name])


def _add_manifest(p: argparse.ArgumentParser) -> None:
    p.add_argument("manifest", type=Path, help="the TOML manifest of papers")


Subparsers = Any  # argparse's _SubParsersAction is private


def _add_build(sub: Subparsers) -> None:
    b = sub.add_parser(
        "build",
        help="download, merge and write the release",
        description="Download every paper of the manifest, merge them into one PDF with cover, "
        "contents and bookmarks, and write the release zip, checksums and notes.",
    )
    _add_manifest(b)
    b.add_argument("-o", "--out", type=Path, default=Path("output"), help="output folder")
    _add_network(b)
    _add_flags(b, "frozen", "refresh", "quiet", "json")
    b.add_argument(
        "--keep-going",
        action="store_true",
        help="build from the papers that worked (exit 3 if any is missing)",
    )
    b.add_argument(
        "--max-asset-size",
        type=parse_size,
        default=parse_size("1.9G"),
        metavar="SIZE",
        help="split into volumes above this size (default 1.9G)",
    )
    b.add_argument(
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="prepare N papers at a time, in N processes (default: one per core); "
        "the bundle's bytes do not depend on it",
    )
    _add_common(b)


def _add_fetch_and_lock(sub: Subparsers) -> None:
    f = sub.add_parser(
        "fetch",
        help="download into the cache only",
        description="Download the manifest's papers into the cache; build nothing.",
    )
    _add_manifest(f)
    _add_network(f)
    _add_flags(f, "frozen", "refresh", "quiet", "json")
    _add_common(f)

    lk = sub.add_parser(
        "lock",
        help="write or refresh the lock file",
        description="Write or refresh the lock file that pins each paper's checksum.",
    )
    _add_manifest(lk)
    _add_network(lk)
    _add_flags(lk, "refresh", "quiet")
    _add_arxiv(lk)
    lk.add_argument(
        "--refresh-metadata",
        action="store_true",
        help="ask arXiv again about papers the lock already has metadata for",
    )
    _add_common(lk)


def _add_check(sub: Subparsers) -> None:
    c = sub.add_parser(
        "check",
        help="validate a manifest (--links: probe every URL)",
        description="Validate a manifest without building; with --links, also probe every URL.",
    )
    _add_manifest(c)
    c.add_argument("--links", action="store_true", help="probe every URL, politely")
    c.add_argument(
        "--outdated",
        action="store_true",
        help="list papers whose bundled or pinned version is older than arXiv's latest",
    )
    _add_network(c)
    _add_arxiv(c)
    _add_flags(c, "quiet")
    _add_common(c)


def _add_import(sub: Subparsers) -> None:
    im = sub.add_parser(
        "import",
        help="README reading list -> manifest (or --update one)",
        description="Turn the papers of a README (tables, lists, paragraphs, headings) into a "
        "new manifest (-o), or merge them into an existing one in place (--update).",
    )
    im.add_argument("readme", type=Path, help="the markdown file to read")
    im.add_argument("-o", "--out", type=Path, help="the new manifest to write")
    im.add_argument(
        "--update", type=Path, metavar="MANIFEST", help="merge into this manifest, in place"
    )
    im.add_argument(
        "--prune", action="store_true", help="with --update: remove papers gone from the README"
    )
    im.add_argument("--name")
    im.add_argument("--version", dest="bundle_version")
    im.add_argument("--force", action="store_true", help="overwrite an existing file")
    _add_common(im)


def _add_diff_and_verify(sub: Subparsers) -> None:
    d = sub.add_parser(
        "diff",
        help="papers added, removed, changed (markdown)",
        description="List the papers added, removed and changed between two manifests, "
        "as markdown.",
    )
    d.add_argument("old", type=Path, help="the earlier manifest")
    d.add_argument("new", type=Path, help="the later manifest")
    _add_common(d)

    v = sub.add_parser(
        "verify",
        help="re-check a built release zip, or its PDF alone",
        description="Re-check a built release: the zip (checksums, members, the PDF and "
        "CONTENTS.md), or the bundle PDF alone (its checksum when the .sha256 is beside it).",
    )
    v.add_argument("zip", type=Path, help="the release zip, or the bundle PDF, to check")
    _add_common(v)


def _add_cache(sub: Subparsers) -> None:
    ca = sub.add_parser(
        "cache",
        help="what the cache holds; prune it",
        description="Show what the paper cache holds (info) or drop what no manifest uses (prune).",
    )
    ca.add_argument(
        "action", choices=["info", "prune"], help="info: show the cache; prune: drop entries"
    )
    ca.add_argument(
        "manifests",
        nargs="*",
        type=Path,
        help="info: what of the cache these manifests use; prune: the manifests to keep",
    )
    ca.add_argument("--cache-dir", type=Path)
    _add_common(ca)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="paperbundle",
        description="Turn a manifest of research papers into a release bundle.",
    )
    parser.add_argument("--version", action="version", version=f"paperbundle {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for add in (
        _add_build,
        _add_fetch_and_lock,
        _add_check,
        _add_import,
        _add_diff_and_verify,
        _add_cache,
    ):
        add(sub)
    return parser
