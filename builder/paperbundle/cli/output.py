"""What the commands print: messages on stderr, JSON on stdout, pypdf's log lines."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from paperbundle.console import ConsoleReporter
from paperbundle.errors import PaperError
from paperbundle.fmt import for_terminal, redact


def err(message: str) -> None:
    """``paperbundle: MESSAGE`` on stderr, escaped for the terminal."""
    print(f"paperbundle: {for_terminal(message)}", file=sys.stderr)


def say(text: str, file: TextIO | None = None) -> None:
    """A line for the terminal: controls, bidi overrides and passwords escaped."""
    print(for_terminal(text), file=file or sys.stderr)


def print_json(doc: Any) -> None:
    """One JSON document on stdout: ASCII only (every control escaped), no password."""
    print(redact(json.dumps(doc, indent=2)))


def failure_lines(failures: Sequence[PaperError]) -> list[str]:
    return [f"  {e}" for e in failures]


class _ToReporter(logging.Handler):
    def __init__(self, rep: ConsoleReporter) -> None:
        super().__init__(logging.WARNING)
        self.rep = rep

    def emit(self, record: logging.LogRecord) -> None:
        self.rep.log(f"pypdf: {record.getMessage()}")


@contextlib.contextmanager
def pypdf_log_to(rep: ConsoleReporter) -> Iterator[None]:
    """pypdf reports what it repairs in damaged inputs through logging: while this runs those
    lines go to ``rep`` with the other verbose lines (-v), not to a quiet terminal."""
    pypdf_log = logging.getLogger("pypdf")
    to_reporter = _ToReporter(rep)
    pypdf_log.addHandler(to_reporter)
    pypdf_log.propagate = False
    try:
        yield
    finally:
        pypdf_log.removeHandler(to_reporter)
        pypdf_log.propagate = True
