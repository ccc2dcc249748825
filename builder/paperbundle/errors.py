"""The one exception tree of paperbundle.

Every expected failure is a :class:`PaperbundleError`; the CLI turns it into a message on stderr
and an exit code, never a traceback.

    PaperbundleError
    ├── UsageError            bad command-line value                  (exit 2)
    ├── ManifestError         one or more manifest problems           (exit 2)
    ├── PaperError            one paper failed (key, url, reason)     (exit 1)
    │   ├── FetchError        download failed (reason: http-404, html, truncated, ...)
    │   │   └── OfflineMissing   --offline and the file is not cached
    │   ├── PdfError          the file is not a usable PDF (encrypted, unreadable, pages)
    │   └── ArxivError        arXiv's API or OAI-PMH gave no usable answer for a paper
    ├── LockMismatch          the lock file disagrees with a download or the manifest (exit 1)
    ├── BuildFailed           several papers failed; holds every PaperError (exit 1)
    ├── ReleaseError          writing the release (size limits, output folder)        (exit 1)
    └── VerifyError           `verify` found problems; holds every one                (exit 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paperbundle.fmt import escape_controls, redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3


class PaperbundleError(Exception):
    """Base of every error paperbundle expects and reports."""

    exit_code = EXIT_FAILED


class UsageError(PaperbundleError):
    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Problem:
    """One manifest problem: where (file and key path) and what."""

    file: str
    where: str
    message: str

    def __str__(self) -> str:
        if self.where:
            return f"{self.file}: {self.where}: {self.message}"
        return f"{self.file}: {self.message}"


class ManifestError(PaperbundleError):
    """The manifest is invalid; ``problems`` lists every problem found, not just the first."""

    exit_code = EXIT_USAGE

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PaperError(PaperbundleError):
    """Something went wrong with one paper. ``reason`` is a short machine-readable word."""

    def __init__(self, key: str, url: str, reason: str, detail: str = "") -> None:
        self.key = key
        self.url = url
        self.reason = reason
        self.detail = detail
        # What a server or a file said is quoted escaped (one line, no terminal codes), and a
        # URL never shows its password.
        text = f"{key} ({url}): {reason}" + (f": {detail}" if detail else "")
        super().__init__(escape_controls(redact(text)))

    def as_json(self) -> dict[str, str]:
        """What ``--json`` outputs say about this failure."""
        return {"key": self.key, "url": self.url, "reason": self.reason, "detail": self.detail}


class FetchError(PaperError):
    """Downloading a paper failed."""


class OfflineMissing(FetchError):
    """--offline was given and the paper is not in the cache."""


class PdfError(PaperError):
    """The paper's file is not a PDF we can use."""


class ArxivError(PaperError):
    """arXiv's metadata for a paper could not be had: ``reason`` is html, malformed-xml,
    empty-feed, missing, api-error, oai-error, http-503, ..., ``url`` the request's URL."""


class LockMismatch(PaperbundleError):
    """The lock file and the manifest or a download disagree."""


class BuildFailed(PaperbundleError):
    """One or more papers failed; every failure is kept."""

    def __init__(self, failures: Sequence[PaperError]) -> None:
        self.failures = list(failures)
        n = len(self.failures)
        lines = [f"{n} paper{'s' if n != 1 else ''} failed:"]
        lines += [f"  {f}" for f in self.failures]
        super().__init__("\n".join(lines))


class ReleaseError(PaperbundleError):
    """The release could not be written."""


class VerifyError(PaperbundleError):
    """``verify`` found problems."""

    def __init__(self, target: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{target}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}\n"
            + "\n".join(f"  {p}" for p in self.problems)
        )
