"""``build``, ``fetch`` and ``lock``: the commands that download papers."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from paperbundle.cli.options import load, lock_timeout, net_options, require_lock_if_frozen
from paperbundle.cli.output import err, failure_lines, print_json, say
from paperbundle.console import ConsoleReporter
from paperbundle.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, BuildFailed, UsageError
from paperbundle.fmt import plural


def cmd_build(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.assemble.workcache import default_workers
    from paperbundle.pipeline import BuildOptions, build

    manifest = load(args.manifest)
    require_lock_if_frozen(manifest, args.frozen)
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"-o {args.out}: cannot create the output folder: {exc.strerror or exc}"
        ) from None
    opts = BuildOptions(
        out_dir=args.out,
        net=net_options(args, refresh=args.refresh, frozen=args.frozen),
        keep_going=args.keep_going,
        max_asset_size=args.max_asset_size,
        lock_timeout=lock_timeout(),
        jobs=args.jobs or default_workers(),
    )
    result = build(manifest, opts, rep)
    code = EXIT_PARTIAL if result.missing else EXIT_OK
    if result.missing:
        err(f"built without {plural(len(result.missing), 'paper')} (--keep-going):")
        for line in failure_lines(result.missing):
            say(line)
    _report_build(args, result, code, rep)
    return code


def _report_build(args: argparse.Namespace, result: Any, code: int, rep: ConsoleReporter) -> None:
    """The --json summary, or what was written (unless --quiet)."""
    if args.json:
        from paperbundle.summary import build_summary

        summary = build_summary(result, str(args.manifest), code, rep.warnings)
        print_json(summary)
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


def cmd_fetch(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.fetch import fetch_all
    from paperbundle.fetch.lock import read_lock

    manifest = load(args.manifest)
    require_lock_if_frozen(manifest, args.frozen)
    lock = read_lock(manifest.lock_path)
    res = fetch_all(
        manifest, net_options(args, refresh=args.refresh, frozen=args.frozen), rep, lock
    )
    if args.json:
        print_json(_fetch_summary(res))
    if res.failures:
        err(str(BuildFailed(res.failures)))  # the JSON above already lists them
        return EXIT_FAILED
    if not args.quiet and not args.json:
        cached = sum(1 for p in res.papers.values() if p.from_cache)
        print(f"{len(res.papers)} papers ready ({cached} already cached)", file=sys.stderr)
    return EXIT_OK


def _fetch_summary(res: Any) -> dict[str, Any]:
    """``fetch --json``: each paper fetched, each failure, the number of requests."""
    return {
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


def cmd_lock(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.arxiv.client import api_base
    from paperbundle.locking import run_lock

    manifest = load(args.manifest)
    api = api_base(args.arxiv_api)
    net = net_options(args, refresh=args.refresh)
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
        err(
            f"--offline: no arXiv metadata recorded for "
            f"{plural(len(out.without_metadata), 'paper')} ({', '.join(out.without_metadata)}); "
            "run lock again with the network"
        )
    if out.failures:
        n = plural(len(out.failures), "paper")
        err(f"no arXiv metadata for {n} (the lock keeps what it held for them):")
        for line in failure_lines(out.failures):
            say(line)
        return EXIT_FAILED
    return EXIT_OK
