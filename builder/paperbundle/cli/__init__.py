"""The command line: parse arguments, call the library, print errors, choose exit codes.

This package is the only place that prints errors or decides exit codes (SPEC.md "Commands"):
0 success, 1 build failed, 2 usage or manifest error, 3 built with --keep-going but papers missing.
``main`` parses and dispatches to a command of one of the modules beside it (``build``, ``check``,
``imports``, ``cache``) and is the one place that turns an exception into an exit code; the
parser is in ``parser``, what is printed in ``output``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from paperbundle import signals
from paperbundle.cli.build import cmd_build, cmd_fetch, cmd_lock
from paperbundle.cli.cache import cmd_cache
from paperbundle.cli.check import cmd_check, cmd_diff, cmd_verify
from paperbundle.cli.imports import cmd_import
from paperbundle.cli.output import err, print_json, pypdf_log_to, say
from paperbundle.cli.parser import Parser, build_parser, parse_size
from paperbundle.console import ConsoleReporter
from paperbundle.errors import (
    EXIT_FAILED,
    EXIT_USAGE,
    BuildFailed,
    ManifestError,
    PaperbundleError,
    PaperError,
    VerifyError,
)

__all__ = ["COMMANDS", "build_parser", "main", "main_entry", "parse_size", "run"]

COMMANDS: dict[str, Callable[[argparse.Namespace, ConsoleReporter], int]] = {
    "build": cmd_build,
    "fetch": cmd_fetch,
    "lock": cmd_lock,
    "check": cmd_check,
    "import": cmd_import,
    "diff": cmd_diff,
    "verify": cmd_verify,
    "cache": cmd_cache,
}

Failure = tuple[int, dict[str, Any]]  # the exit code and what --json adds to {"ok": false}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    want_json = bool(getattr(args, "json", False))
    quiet = bool(getattr(args, "quiet", False) or want_json)
    rep = ConsoleReporter(quiet=quiet, verbose=args.verbose)
    try:
        with pypdf_log_to(rep), rep:
            return COMMANDS[args.command](args, rep)
    except BrokenPipeError:
        return _closed_pipe()
    except (Exception, KeyboardInterrupt) as exc:
        failure = _failure(exc, args.command)
        if failure is None:
            raise
        code, error = failure
    if want_json:
        print_json({"ok": False, "exit_code": code, **error})
    return code


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code of a usage error, --help or --version."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        code = int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
        if code and "--json" in argv:
            usage = {"ok": False, "exit_code": code, "error": "usage", "message": Parser.last_error}
            print_json(usage)
        return code
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return args


def _failure(exc: BaseException, command: str) -> Failure | None:
    """Say what went wrong and choose the exit code; None for an error that is a bug."""
    if isinstance(exc, ManifestError):
        return _manifest_failure(exc, command)
    if isinstance(exc, BuildFailed):
        return _build_failure(exc)
    if isinstance(exc, VerifyError):
        say(f"FAILED {exc}")
        return exc.exit_code, {"error": "verify", "problems": exc.problems}
    if isinstance(exc, PaperError):
        err(f"error: {exc}")
        return exc.exit_code, {"error": "failed", "failures": [exc.as_json()]}
    if isinstance(exc, PaperbundleError):
        err(f"error: {exc}")
        return exc.exit_code, {"error": type(exc).__name__, "message": str(exc)}
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        err(f"error:{where}: {exc.strerror or exc}")
        return EXIT_FAILED, {
            "error": "os",
            "message": f"{exc.filename or ''}: {exc.strerror or exc}",
        }
    # Ctrl-C, or a library that turned the interrupt into an error of its own (reportlab: TTFError)
    if isinstance(exc, KeyboardInterrupt) or signals.interrupted():
        err("interrupted")
        return 130, {"error": "interrupted"}
    return None


def _manifest_failure(exc: ManifestError, command: str) -> Failure:
    for p in exc.problems:
        say(str(p))
    n = len(exc.problems)
    tail = "; nothing was downloaded" if command in ("build", "fetch", "lock") else ""
    err(f"{n} problem{'s' if n != 1 else ''} in the manifest{tail}")
    return exc.exit_code, {"error": "manifest", "problems": [str(p) for p in exc.problems]}


def _build_failure(exc: BuildFailed) -> Failure:
    err(str(exc))
    reasons = {e.reason for e in exc.failures}
    if reasons == {"offline"}:
        err("hint: the cache lacks these papers; run once without --offline (or fetch them)")
    elif reasons and reasons <= {"network", "unreachable", "offline"}:
        err(
            "hint: no network? Build from a local mirror (--mirror FROM=TO) or, once the "
            "cache holds every paper, with --offline (see the README)"
        )
    return exc.exit_code, {"error": "failed", "failures": [e.as_json() for e in exc.failures]}


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
