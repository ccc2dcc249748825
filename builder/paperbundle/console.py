"""Terminal reporters for the CLI: a rich progress display, plain verbose lines, or silence."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from paperbundle.fmt import for_terminal


class _Amount(ProgressColumn):
    """Bytes for downloads, "n/m" for stages."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return self._bytes.render(task)
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}")


class ConsoleReporter:
    """Progress on a terminal (rich), log lines with -v, warnings unless quiet."""

    def __init__(
        self, *, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.verbose = verbose
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.live = (not quiet) and self.stream.isatty()
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._stage: TaskID | None = None
        self.warnings: list[str] = []
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(bar_width=30),
                _Amount(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )

    # -- lifecycle
    def __enter__(self) -> ConsoleReporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    # -- Reporter protocol
    def log(self, message: str) -> None:
        if self.verbose and not self.quiet:
            with self._lock:
                self.console.print(Text(for_terminal(message), style="dim"), highlight=False)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        if not self.quiet:
            with self._lock:
                self.console.print(
                    f"warning: {for_terminal(message)}", markup=False, highlight=False
                )

    def download_started(self, key: str, total: int | None) -> None:
        if self._progress is not None:
            with self._lock:
                self._tasks[key] = self._progress.add_task(key[:28], total=total, unit="bytes")

    def download_advanced(self, key: str, nbytes: int) -> None:
        if self._progress is not None and key in self._tasks:
            self._progress.advance(self._tasks[key], nbytes)

    def download_finished(self, key: str) -> None:
        if self._progress is not None and key in self._tasks:
            with self._lock:
                self._progress.remove_task(self._tasks.pop(key))

    def stage(self, name: str, total: int | None = None) -> None:
        self.log(f"stage: {name}")
        if self._progress is not None:
            with self._lock:
                if self._stage is not None:
                    self._progress.remove_task(self._stage)
                    self._stage = None
                if total:
                    self._stage = self._progress.add_task(name, total=total)

    def stage_advanced(self, n: int = 1) -> None:
        if self._progress is not None and self._stage is not None:
            self._progress.advance(self._stage, n)
