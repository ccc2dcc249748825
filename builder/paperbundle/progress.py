"""Progress reporting for the pipeline stages.

Stages report through a :class:`Reporter`; the CLI picks the implementation: a rich progress display
on a terminal, plain log lines with ``-v``, or nothing with ``--quiet``. Library code never prints.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def log(self, message: str) -> None:
        """A verbose line (each request, retry, stage). Shown only with -v."""

    def warn(self, message: str) -> None:
        """Something the user should know even without -v (shown unless --quiet)."""

    def download_started(self, key: str, total: int | None) -> None: ...

    def download_advanced(self, key: str, nbytes: int) -> None: ...

    def download_finished(self, key: str) -> None: ...

    def stage(self, name: str, total: int | None = None) -> None:
        """A new stage begins (e.g. "merge" with the number of papers)."""

    def stage_advanced(self, n: int = 1) -> None: ...


class NullReporter:
    """Reports nothing; collects warnings so callers and tests can read them."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.lines: list[str] = []

    def log(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def download_started(self, key: str, total: int | None) -> None:
        pass

    def download_advanced(self, key: str, nbytes: int) -> None:
        pass

    def download_finished(self, key: str) -> None:
        pass

    def stage(self, name: str, total: int | None = None) -> None:
        self.lines.append(f"stage {name}")

    def stage_advanced(self, n: int = 1) -> None:
        pass
