"""``check``, ``verify`` and ``diff``: the commands that judge manifests and releases."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from paperbundle.cli.options import load, net_options
from paperbundle.cli.output import err, say
from paperbundle.console import ConsoleReporter
from paperbundle.errors import EXIT_FAILED, EXIT_OK, ManifestError, UsageError

# the reasons a probe gives when it reached no server at all
_NO_NETWORK = ("network", "dns", "unreachable", "timeout", "stall")


def cmd_check(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.fetch.lock import lock_problems, read_lock
    from paperbundle.offline import offline_problems
    from paperbundle.pipeline import load_previous

    manifest = load(args.manifest)
    problems: list[str] = []  # the manifest itself (schema, files, previous) was checked on load
    load_previous(manifest)
    found = offline_problems(manifest, net_options(args).mirrors)
    if found:
        raise ManifestError(found)
    lock = read_lock(manifest.lock_path)
    if lock is not None:
        problems += [f"{manifest.lock_path}: {x}" for x in lock_problems(manifest, lock)]
    checked, unreachable = 0, 0
    if args.links:
        link_problems, checked, unreachable = _probe(args, manifest, rep)
        problems += link_problems
    if args.outdated:
        problems += _outdated(args, manifest, lock, rep)
    if problems:
        for line in problems:
            err(line)
        if checked:
            err(f"{checked} links probed, {len(problems)} with problems")
        if checked and unreachable == checked:
            err(
                "hint: no link could be reached: no network? check --links needs it (or a "
                "--mirror FROM=TO that serves the papers); the links themselves were not judged"
            )
        return EXIT_FAILED
    if not args.quiet:
        what = f"; all {checked} links answer" if args.links else ""
        what += "; every arXiv paper is at its latest version" if args.outdated else ""
        print(f"{args.manifest}: {len(manifest.papers)} papers, valid{what}", file=sys.stderr)
    return EXIT_OK


def _probe(
    args: argparse.Namespace, manifest: Any, rep: ConsoleReporter
) -> tuple[list[str], int, int]:
    """``check --links``: (a line per link with a problem, links probed, links not reached)."""
    from paperbundle.fetch import apply_mirror, probe_links

    problems: list[str] = []
    checked, unreachable = 0, 0
    net = net_options(args)
    for st in probe_links(manifest, net, rep):
        checked += 1
        target, via_mirror = apply_mirror(st.url, net.mirrors)
        asked = f"; asked the mirror: {target}" if via_mirror else ""
        status = f" (HTTP {st.status}{asked})" if st.status else (f" ({asked[2:]})" * bool(asked))
        if not st.ok:
            problems.append(f"{st.key}: {st.url}: {st.reason}{status}")
            unreachable += st.status is None and st.reason.startswith(_NO_NETWORK)
        elif st.is_pdf is False:
            problems.append(f"{st.key}: {st.url}: not a PDF{status}")
    return problems, checked, unreachable


def _outdated(
    args: argparse.Namespace, manifest: Any, lock: Any, rep: ConsoleReporter
) -> list[str]:
    """``check --outdated``: a line per paper older than arXiv's latest, or not answered."""
    from paperbundle.arxiv.client import api_base
    from paperbundle.arxiv.outdated import outdated_report

    if args.offline:
        raise UsageError("check --outdated asks arXiv; it cannot be combined with --offline")
    problems, notes = outdated_report(
        manifest, lock, net_options(args), api_base(args.arxiv_api), rep
    )
    for note in notes:
        rep.warn(note)
    return problems


def cmd_diff(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.diff import diff_manifests, diff_markdown

    old, new = load(args.old), load(args.new)
    print(diff_markdown(diff_manifests(old, new)))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.verify import verify_path

    report = verify_path(args.zip)
    for line in report:
        say(line, sys.stdout)
    return EXIT_OK
