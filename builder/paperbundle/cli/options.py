"""From parsed arguments and the environment to the library's inputs: options, manifests."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from paperbundle.errors import LockMismatch, UsageError


def load(path: Path) -> Any:
    """The manifest at ``path``, named in messages as the user wrote it."""
    from paperbundle.manifest import load_manifest

    return load_manifest(path, display=str(path))


def cache_dir(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else the default cache folder; a file there is a usage error."""
    from paperbundle.fetch import default_cache_dir

    folder: Path = args.cache_dir or default_cache_dir()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--cache-dir {folder}: not a folder")
    return folder


def net_options(args: argparse.Namespace, *, refresh: bool = False, frozen: bool = False) -> Any:
    """The network options of a command: mirrors from --mirror or $PAPERBUNDLE_MIRROR."""
    from paperbundle.fetch import NetOptions, parse_mirror

    specs: list[str]
    if args.mirror is not None:
        specs = list(args.mirror)
    else:
        specs = os.environ.get("PAPERBUNDLE_MIRROR", "").split()
    mirrors = tuple(parse_mirror(s) for s in specs)
    if args.offline and refresh:
        raise UsageError("--offline and --refresh contradict each other")
    return NetOptions(
        cache_dir=cache_dir(args),
        mirrors=mirrors,
        min_interval=args.min_interval,
        offline=args.offline,
        refresh=refresh,
        frozen=frozen,
        max_download_size=args.max_download_size,
        retry_total=args.retry_budget,
        download_timeout=args.download_timeout,
    )


def require_lock_if_frozen(manifest: Any, frozen: bool) -> None:
    if frozen and not manifest.lock_path.is_file():
        raise LockMismatch(
            f"--frozen needs the lock file {manifest.lock_path}; "
            f"write it first with: paperbundle lock {manifest.display_path}"
        )


def lock_timeout() -> float:
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
