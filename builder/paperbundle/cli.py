"""The command line: parse arguments, call the library, print errors, choose exit codes.

This is the only module that prints errors or decides exit codes (SPEC.md "Commands"):
0 success, 1 build failed, 2 usage or manifest error, 3 built with --keep-going but papers missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from paperbundle import __version__, signals
from paperbundle.console import ConsoleReporter
from paperbundle.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    BuildFailed,
    LockMismatch,
    ManifestError,
    PaperbundleError,
    PaperError,
    UsageError,
    VerifyError,
)
from paperbundle.fmt import for_terminal, plural, redact

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


def _interval(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(v) or v < 0:
        raise argparse.ArgumentTypeError("--min-interval must be a number of seconds >= 0")
    return v


def _seconds(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(v) or v <= 0:
            raise argparse.ArgumentTypeError(f"{option} must be a number of seconds > 0")
        return v

    return parse


class _ToReporter(logging.Handler):
    def __init__(self, rep: ConsoleReporter) -> None:
        super().__init__(logging.WARNING)
        self.rep = rep

    def emit(self, record: logging.LogRecord) -> None:
        self.rep.log(f"pypdf: {record.getMessage()}")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # --keep must not silently mean --keep-going
        super().__init__(*args, **kwargs)

    last_error = ""  # for --json: what argparse complained about

    def error(self, message: str) -> NoReturn:
        _Parser.last_error = message
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
        type=_interval,
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="paperbundle",
        description="Turn a manifest of research papers into a release bundle.",
    )
    parser.add_argument("--version", action="version", version=f"paperbundle {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    b = sub.add_parser(
        "build",
        help="download, merge and write the release",
        description="Download every paper of the manifest, merge them into one PDF with cover, "
        "contents and bookmarks, and write the release zip, checksums and notes.",
    )
    b.add_argument("manifest", type=Path, help="the TOML manifest of papers")
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
    _add_common(b)

    f = sub.add_parser(
        "fetch",
        help="download into the cache only",
        description="Download the manifest's papers into the cache; build nothing.",
    )
    f.add_argument("manifest", type=Path, help="the TOML manifest of papers")
    _add_network(f)
    _add_flags(f, "frozen", "refresh", "quiet", "json")
    _add_common(f)

    lk = sub.add_parser(
        "lock",
        help="write or refresh the lock file",
        description="Write or refresh the lock file that pins each paper's checksum.",
    )
    lk.add_argument("manifest", type=Path, help="the TOML manifest of papers")
    _add_network(lk)
    _add_flags(lk, "refresh", "quiet")
    _add_arxiv(lk)
    lk.add_argument(
        "--refresh-metadata",
        action="store_true",
        help="ask arXiv again about papers the lock already has metadata for",
    )
    _add_common(lk)

    c = sub.add_parser(
        "check",
        help="validate a manifest (--links: probe every URL)",
        description="Validate a manifest without building; with --links, also probe every URL.",
    )
    c.add_argument("manifest", type=Path, help="the TOML manifest of papers")
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
    return parser


# --------------------------------------------------------------------------- helpers


def _net_options(args: argparse.Namespace, *, refresh: bool = False, frozen: bool = False) -> Any:
    from paperbundle.fetch import NetOptions, default_cache_dir, parse_mirror

    specs: list[str]
    if args.mirror is not None:
        specs = list(args.mirror)
    else:
        specs = os.environ.get("PAPERBUNDLE_MIRROR", "").split()
    mirrors = tuple(parse_mirror(s) for s in specs)
    if args.offline and refresh:
        raise UsageError("--offline and --refresh contradict each other")
    cache_dir = args.cache_dir or default_cache_dir()
    if cache_dir.exists() and not cache_dir.is_dir():
        raise UsageError(f"--cache-dir {cache_dir}: not a folder")
    return NetOptions(
        cache_dir=cache_dir,
        mirrors=mirrors,
        min_interval=args.min_interval,
        offline=args.offline,
        refresh=refresh,
        frozen=frozen,
        max_download_size=args.max_download_size,
        retry_total=args.retry_budget,
        download_timeout=args.download_timeout,
    )


def _load(path: Path) -> Any:
    from paperbundle.manifest import load_manifest

    return load_manifest(path, display=str(path))


def _err(message: str) -> None:
    print(f"paperbundle: {for_terminal(message)}", file=sys.stderr)


def _say(text: str, file: TextIO | None = None) -> None:
    """A line for the terminal: controls, bidi overrides and passwords escaped."""
    print(for_terminal(text), file=file or sys.stderr)


def _print_json(doc: Any) -> None:
    """One JSON document on stdout: ASCII only (every control escaped), no password."""
    print(redact(json.dumps(doc, indent=2)))


def _failure_lines(failures: Sequence[PaperError]) -> list[str]:
    return [f"  {e}" for e in failures]


# --------------------------------------------------------------------------- commands


def cmd_build(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.pipeline import BuildOptions, build

    manifest = _load(args.manifest)
    _require_lock_if_frozen(manifest, args.frozen)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"-o {args.out}: cannot create the output folder: {exc.strerror or exc}"
        ) from None
    opts = BuildOptions(
        out_dir=args.out,
        net=_net_options(args, refresh=args.refresh, frozen=args.frozen),
        keep_going=args.keep_going,
        max_asset_size=args.max_asset_size,
        lock_timeout=_lock_timeout(),
    )
    result = build(manifest, opts, rep)
    code = EXIT_PARTIAL if result.missing else EXIT_OK
    if result.missing:
        _err(f"built without {plural(len(result.missing), 'paper')} (--keep-going):")
        for line in _failure_lines(result.missing):
            _say(line)
    if args.json:
        from paperbundle.summary import build_summary

        summary = build_summary(result, str(args.manifest), code, rep.warnings)
        _print_json(summary)
    elif result.up_to_date and not args.quiet:
        print(
            f"{args.out} is up to date: nothing changed since the last build (no file was written)",
            file=sys.stderr,
        )
    elif not args.quiet:
        for v in result.volumes:
            pages = plural(v.page_count, "page")
            print(f"wrote {v.pdf} ({pages} of papers) and {v.zip}", file=sys.stderr)
        print(f"wrote {result.sha256_file} and {result.notes}", file=sys.stderr)
    return code


def _require_lock_if_frozen(manifest: Any, frozen: bool) -> None:
    if frozen and not manifest.lock_path.is_file():
        raise LockMismatch(
            f"--frozen needs the lock file {manifest.lock_path}; "
            f"write it first with: paperbundle lock {manifest.display_path}"
        )


def cmd_fetch(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.fetch import fetch_all
    from paperbundle.fetch.lock import read_lock

    manifest = _load(args.manifest)
    _require_lock_if_frozen(manifest, args.frozen)
    lock = read_lock(manifest.lock_path)
    res = fetch_all(
        manifest, _net_options(args, refresh=args.refresh, frozen=args.frozen), rep, lock
    )
    if args.json:
        _print_json(
            {
                "ok": not res.failures,
                "papers": {
                    k: {
                        "sha256": p.sha256,
                        "size": p.size,
                        "pages": p.page_count,
                        "from_cache": p.from_cache,
                        "path": str(p.path),
                    }
                    for k, p in res.papers.items()
                },
                "failures": [e.as_json() for e in res.failures],
                "requests": res.requests,
            }
        )
    if res.failures:
        _err(str(BuildFailed(res.failures)))  # the JSON above already lists them
        return EXIT_FAILED
    if not args.quiet and not args.json:
        cached = sum(1 for p in res.papers.values() if p.from_cache)
        print(f"{len(res.papers)} papers ready ({cached} already cached)", file=sys.stderr)
    return EXIT_OK


def cmd_lock(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.arxiv.client import api_base
    from paperbundle.locking import run_lock

    manifest = _load(args.manifest)
    api = api_base(args.arxiv_api)
    net = _net_options(args, refresh=args.refresh)
    if args.offline and args.refresh_metadata:
        raise UsageError("--offline and --refresh-metadata contradict each other")
    out = run_lock(manifest, net, api, rep, refresh_metadata=args.refresh_metadata)
    if not args.quiet:
        meta = f", {out.with_metadata} with arXiv metadata" if out.with_metadata else ""
        asked = f"; asked arXiv about {out.asked} ({out.requests} requests)" if out.asked else ""
        print(
            f"wrote {manifest.lock_path} ({len(out.lock.entries)} papers{meta}{asked})",
            file=sys.stderr,
        )
    if args.offline and out.without_metadata:
        _err(
            f"--offline: no arXiv metadata recorded for "
            f"{plural(len(out.without_metadata), 'paper')} ({', '.join(out.without_metadata)}); "
            "run lock again with the network"
        )
    if out.failures:
        n = plural(len(out.failures), "paper")
        _err(f"no arXiv metadata for {n} (the lock keeps what it held for them):")
        for line in _failure_lines(out.failures):
            _say(line)
        return EXIT_FAILED
    return EXIT_OK


def _lock_timeout() -> float:
    """Seconds a build waits for another build into the same folder: $PAPERBUNDLE_LOCK_TIMEOUT."""
    from paperbundle.pipeline import DEFAULT_LOCK_TIMEOUT

    raw = os.environ.get("PAPERBUNDLE_LOCK_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86_400:
        raise UsageError(f"PAPERBUNDLE_LOCK_TIMEOUT={raw!r}: seconds from 0 to 86400")
    return value


def cmd_check(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.fetch.lock import lock_problems, read_lock
    from paperbundle.offline import offline_problems
    from paperbundle.pipeline import load_previous

    manifest = _load(args.manifest)
    problems: list[str] = []  # the manifest itself (schema, files, previous) was checked on load
    load_previous(manifest)
    found = offline_problems(manifest, _net_options(args).mirrors)
    if found:
        raise ManifestError(found)
    lock = read_lock(manifest.lock_path)
    if lock is not None:
        problems += [f"{manifest.lock_path}: {x}" for x in lock_problems(manifest, lock)]
    checked, unreachable = 0, 0
    if args.links:
        from paperbundle.fetch import apply_mirror, probe_links

        net = _net_options(args)
        for st in probe_links(manifest, net, rep):
            checked += 1
            target, via_mirror = apply_mirror(st.url, net.mirrors)
            asked = f"; asked the mirror: {target}" if via_mirror else ""
            status = (
                f" (HTTP {st.status}{asked})" if st.status else (f" ({asked[2:]})" * bool(asked))
            )
            if not st.ok:
                problems.append(f"{st.key}: {st.url}: {st.reason}{status}")
                unreachable += st.status is None and st.reason.startswith(
                    ("network", "dns", "unreachable", "timeout", "stall")
                )
            elif st.is_pdf is False:
                problems.append(f"{st.key}: {st.url}: not a PDF{status}")
    if args.outdated:
        problems += _outdated(args, manifest, lock, rep)
    if problems:
        for line in problems:
            _err(line)
        if checked:
            _err(f"{checked} links probed, {len(problems)} with problems")
        if checked and unreachable == checked:
            _err(
                "hint: no link could be reached: no network? check --links needs it (or a "
                "--mirror FROM=TO that serves the papers); the links themselves were not judged"
            )
        return EXIT_FAILED
    if not args.quiet:
        what = f"; all {checked} links answer" if args.links else ""
        what += "; every arXiv paper is at its latest version" if args.outdated else ""
        print(f"{args.manifest}: {len(manifest.papers)} papers, valid{what}", file=sys.stderr)
    return EXIT_OK


def _outdated(
    args: argparse.Namespace, manifest: Any, lock: Any, rep: ConsoleReporter
) -> list[str]:
    """``check --outdated``: a line per paper older than arXiv's latest, or not answered."""
    from paperbundle.arxiv.client import api_base
    from paperbundle.arxiv.outdated import outdated_report

    if args.offline:
        raise UsageError("check --outdated asks arXiv; it cannot be combined with --offline")
    problems, notes = outdated_report(
        manifest, lock, _net_options(args), api_base(args.arxiv_api), rep
    )
    for note in notes:
        rep.warn(note)
    return problems


def cmd_import(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.importer import import_readme, read_readme, write_import
    from paperbundle.importer.update import update_manifest, write_update

    if args.update is not None:
        for flag, given in (("-o", args.out), ("--force", args.force), ("--name", args.name)):
            if given:
                raise UsageError(f"{flag} is not used with --update (it rewrites {args.update})")
        if args.bundle_version:
            raise UsageError("--version is not used with --update: edit [bundle] version")
        text = read_readme(args.readme)
        up = update_manifest(text, args.update, prune=args.prune, source=str(args.readme))
        write_update(up, args.update)
        print(*up.messages(args.update), sep="\n", file=sys.stderr)
        print(up.diff)
        return EXIT_OK
    if args.out is None or args.prune:
        raise UsageError("import needs -o NEW.toml, or --update MANIFEST (--prune: with --update)")
    result = import_readme(
        read_readme(args.readme),
        name=args.name,
        version=args.bundle_version,
        source=str(args.readme),
    )
    write_import(result, args.out, force=args.force)
    for note in result.report.notes:
        _say(note)
    _say(f"{args.out}: {result.report.summary()}")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.diff import diff_manifests, diff_markdown

    old, new = _load(args.old), _load(args.new)
    print(diff_markdown(diff_manifests(old, new)))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.verify import verify_path

    report = verify_path(args.zip)
    for line in report:
        _say(line, sys.stdout)
    return EXIT_OK


def cmd_cache(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.fetch import default_cache_dir
    from paperbundle.fetch.cache import cache_info, cache_prune, manifest_usage

    cache_dir = args.cache_dir or default_cache_dir()
    if cache_dir.exists() and not cache_dir.is_dir():
        raise UsageError(f"--cache-dir {cache_dir}: not a folder")
    if args.action == "info":
        info = cache_info(cache_dir)
        manifests = [_load(m) for m in args.manifests]
        print(manifest_usage(info, manifests) if manifests else info.render())
        return EXIT_OK
    if not args.manifests:
        raise UsageError("cache prune needs the manifests whose papers to keep")
    res = cache_prune(cache_dir, [_load(m) for m in args.manifests])
    print(res.render() if hasattr(res, "render") else str(res))
    return EXIT_OK


COMMANDS = {
    "build": cmd_build,
    "fetch": cmd_fetch,
    "lock": cmd_lock,
    "check": cmd_check,
    "import": cmd_import,
    "diff": cmd_diff,
    "verify": cmd_verify,
    "cache": cmd_cache,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
        if code and "--json" in argv:
            usage = {
                "ok": False,
                "exit_code": code,
                "error": "usage",
                "message": _Parser.last_error,
            }
            _print_json(usage)
        return code
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    want_json = bool(getattr(args, "json", False))
    quiet = bool(getattr(args, "quiet", False) or want_json)
    rep = ConsoleReporter(quiet=quiet, verbose=args.verbose)
    # pypdf reports what it repairs in damaged inputs through logging: those lines belong with
    # the other verbose lines (-v), not on a quiet terminal.
    pypdf_log = logging.getLogger("pypdf")
    to_reporter = _ToReporter(rep)
    pypdf_log.addHandler(to_reporter)
    pypdf_log.propagate = False
    error: dict[str, Any] | None = None
    try:
        with rep:
            return COMMANDS[args.command](args, rep)
    except ManifestError as exc:
        for p in exc.problems:
            _say(str(p))
        n = len(exc.problems)
        tail = "; nothing was downloaded" if args.command in ("build", "fetch", "lock") else ""
        _err(f"{n} problem{'s' if n != 1 else ''} in the manifest{tail}")
        error = {"error": "manifest", "problems": [str(p) for p in exc.problems]}
        code = exc.exit_code
    except BuildFailed as exc:
        _err(str(exc))
        reasons = {e.reason for e in exc.failures}
        if reasons == {"offline"}:
            _err("hint: the cache lacks these papers; run once without --offline (or fetch them)")
        elif reasons and reasons <= {"network", "unreachable", "offline"}:
            _err(
                "hint: no network? Build from a local mirror (--mirror FROM=TO) or, once the "
                "cache holds every paper, with --offline (see the README)"
            )
        error = {"error": "failed", "failures": [e.as_json() for e in exc.failures]}
        code = exc.exit_code
    except VerifyError as exc:
        _say(f"FAILED {exc}")
        error = {"error": "verify", "problems": exc.problems}
        code = exc.exit_code
    except PaperError as exc:
        _err(f"error: {exc}")
        error = {"error": "failed", "failures": [exc.as_json()]}
        code = exc.exit_code
    except PaperbundleError as exc:
        _err(f"error: {exc}")
        error = {"error": type(exc).__name__, "message": str(exc)}
        code = exc.exit_code
    except BrokenPipeError:
        return _closed_pipe()
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        _err(f"error:{where}: {exc.strerror or exc}")
        error = {"error": "os", "message": f"{exc.filename or ''}: {exc.strerror or exc}"}
        code = EXIT_FAILED
    except KeyboardInterrupt:
        _err("interrupted")
        error = {"error": "interrupted"}
        code = 130
    except Exception:
        if not signals.interrupted():
            raise
        # a library turned the interrupt into an error of its own (reportlab: TTFError)
        _err("interrupted")
        error = {"error": "interrupted"}
        code = 130
    finally:
        pypdf_log.removeHandler(to_reporter)
        pypdf_log.propagate = True
    if want_json:
        _print_json({"ok": False, "exit_code": code, **error})
    return code


def _closed_pipe() -> int:
    """The reader of stdout went away (`paperbundle diff A B | head`): stop quietly, exit 0."""
    # Python would flush stdout again at exit and print "Exception ignored ... BrokenPipeError";
    # pointing stdout at /dev/null makes that last flush harmless.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def run(argv: Sequence[str] | None = None) -> int:
    """main() plus a final flush of stdout, so that a closed pipe there also exits quietly."""
    try:
        code = main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        return _closed_pipe()
    return code


def main_entry() -> None:
    """The console script. Every output file is closed by the time ``main`` returns, so the
    process ends without tearing down its objects one by one (seconds for a large bundle); only
    here, never for callers of ``main`` in-process."""
    signals.install()  # SIGTERM runs the same clean-up as Ctrl-C (staging folder, temp files)
    code = run()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code)
