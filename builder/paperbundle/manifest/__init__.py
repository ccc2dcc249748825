"""Stage 1: read and validate a manifest (TOML) into frozen dataclasses.

Validation is strict and exhaustive: every problem is collected and reported at once, each naming
the file and the key path (``manifests/v0.2.toml: papers[3].url: ...``), with "did you mean" for
misspelt keys. Nothing is downloaded before a manifest validates.

``model`` holds the dataclasses, ``urls`` the URL rules, ``pages`` page selections, ``schema`` the
known keys and the problem-collecting checker, ``values`` the checks of single values, and
``loading`` reads a file; every name other stages use is importable from here.
"""

from __future__ import annotations

from paperbundle.manifest.loading import load_manifest, parse_manifest
from paperbundle.manifest.model import (
    OTHER_SECTION,
    Bundle,
    Manifest,
    PageRange,
    Paper,
    Section,
    lock_path_for,
)
from paperbundle.manifest.pages import PAGES_RE, parse_pages, select_pages
from paperbundle.manifest.schema import BUNDLE_KEYS, PAPER_KEYS, TOP_KEYS
from paperbundle.manifest.urls import (
    ARXIV_HOSTS,
    ARXIV_ID_RE,
    UrlProblem,
    arxiv_id,
    arxiv_id_from_path,
    netloc,
    normalise_url,
)
from paperbundle.manifest.values import KEY_RE, NAME_RE, REDISTRIBUTE, SHA256_RE

__all__ = [
    "ARXIV_HOSTS",
    "ARXIV_ID_RE",
    "BUNDLE_KEYS",
    "KEY_RE",
    "NAME_RE",
    "OTHER_SECTION",
    "PAGES_RE",
    "PAPER_KEYS",
    "REDISTRIBUTE",
    "SHA256_RE",
    "TOP_KEYS",
    "Bundle",
    "Manifest",
    "PageRange",
    "Paper",
    "Section",
    "UrlProblem",
    "arxiv_id",
    "arxiv_id_from_path",
    "load_manifest",
    "lock_path_for",
    "netloc",
    "normalise_url",
    "parse_manifest",
    "parse_pages",
    "select_pages",
]
