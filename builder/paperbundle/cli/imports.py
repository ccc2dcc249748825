"""``import``: a README reading list into a new manifest, or merged into one (--update)."""

from __future__ import annotations

import argparse
import sys

from paperbundle.cli.output import say
from paperbundle.console import ConsoleReporter
from paperbundle.errors import EXIT_OK, UsageError


def cmd_import(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.importer import import_readme, read_readme, write_import

    if args.update is not None:
        return _update(args)
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
        say(note)
    say(f"{args.out}: {result.report.summary()}")
    return EXIT_OK


def _update(args: argparse.Namespace) -> int:
    """``import --update MANIFEST``: merge in place, print the messages and the diff."""
    from paperbundle.importer import read_readme
    from paperbundle.importer.update import update_manifest, write_update

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
