"""``cache info`` and ``cache prune``."""

from __future__ import annotations

import argparse

from paperbundle.cli.options import cache_dir, load
from paperbundle.console import ConsoleReporter
from paperbundle.errors import EXIT_OK, UsageError


def cmd_cache(args: argparse.Namespace, rep: ConsoleReporter) -> int:
    from paperbundle.assemble.workcache import work_info, work_prune
    from paperbundle.fetch.cache import cache_info, cache_prune, manifest_usage

    folder = cache_dir(args)
    if args.action == "info":
        info = cache_info(folder)
        manifests = [load(m) for m in args.manifests]
        print(manifest_usage(info, manifests) if manifests else info.render())
        print(work_info(folder).render())
        return EXIT_OK
    if not args.manifests:
        raise UsageError("cache prune needs the manifests whose papers to keep")
    manifests = [load(m) for m in args.manifests]
    res = cache_prune(folder, manifests)
    print(res.render() if hasattr(res, "render") else str(res))
    print(work_prune(folder, manifests).render())
    return EXIT_OK
