"""Test helper: read a bundle with PDF readers we did not write, and compare what they see.

- qpdf (``qpdf --check``): the file's structure and every stream;
- MuPDF (``mutool run tests/readers/mupdf_dump.js``): outline, internal links, URIs;
- pdf.js, Firefox's reader (``node tests/readers/pdfjs_dump.mjs``): the same, and page labels.

``scripts/test-tools.sh`` (run by ``make test``) installs all three. Where one is missing the test
is skipped, except under CI, where a missing reader is a failure: a check that silently does not
run proves nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests import linkcheck as lc

HERE = Path(__file__).parent / "readers"
PDFJS = HERE / "node_modules" / "pdfjs-dist" / "legacy" / "build" / "pdf.mjs"


def require(what: str) -> None:
    """Skip (fail under CI) unless reader ``what`` ('qpdf', 'mupdf', 'pdfjs', 'poppler') can run
    here."""
    present = {
        "qpdf": shutil.which("qpdf") is not None,
        "mupdf": shutil.which("mutool") is not None,
        "pdfjs": shutil.which("node") is not None and PDFJS.is_file(),
        "poppler": shutil.which("pdftoppm") is not None,
    }[what]
    if present:
        return
    message = f"{what} is not installed (scripts/test-tools.sh installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def qpdf_errors(pdf: Path) -> list[str]:
    """The errors ``qpdf --check`` finds (exit 2); warnings (exit 3) are not errors."""
    require("qpdf")
    proc = subprocess.run(
        ["qpdf", "--check", str(pdf)], capture_output=True, text=True, timeout=300
    )
    if proc.returncode in (0, 3):
        return []
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()] or [
        f"qpdf --check exit {proc.returncode}"
    ]


@dataclass(frozen=True)
class Seen:
    """What one reader sees: pages, outline (depth, title, page), internal links (page, target)."""

    pages: int
    outline: list[tuple[int, str, int | None]]
    links: Counter[tuple[int, int | None]]
    uris: Counter[tuple[int, str]]
    labels: list[str] | None = None


def _seen(raw: dict[str, Any]) -> Seen:
    return Seen(
        pages=raw["pages"],
        outline=[(d, " ".join(t.split()), p) for d, t, p in raw["outline"]],
        links=Counter((p, t) for p, t in raw["links"]),
        uris=Counter((p, u) for p, u in raw["uris"]),
        labels=raw.get("labels"),
    )


def _run(cmd: list[str]) -> Seen:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=HERE)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return _seen(json.loads(proc.stdout))


def mupdf(pdf: Path) -> Seen:
    require("mupdf")
    return _run(["mutool", "run", str(HERE / "mupdf_dump.js"), str(pdf.resolve())])


def pdfjs(pdf: Path) -> Seen:
    require("pdfjs")
    return _run(["node", str(HERE / "pdfjs_dump.mjs"), str(pdf.resolve())])


def pypdf_sees(pdf: Path) -> Seen:
    """The reference: pypdf's reading, which the corpus tests check against the original papers."""
    reader = PdfReader(pdf)
    links: Counter[tuple[int, int | None]] = Counter()
    for i, page in enumerate(lc.internal_links(reader)):
        links.update((i, target) for _rect, target in page)
    uris: Counter[tuple[int, str]] = Counter()
    for i, page in enumerate(lc.uri_links(reader)):
        uris.update((i, u) for u in page)
    return Seen(
        pages=len(reader.pages),
        outline=lc.flatten(lc.outline_tree(reader)),
        links=links,
        uris=uris,
        labels=list(reader.page_labels),
    )


def disagreements(name: str, want: Seen, got: Seen) -> list[str]:
    """What reader ``name`` sees differently from ``want``, in words (empty when they agree)."""
    out = []
    if got.pages != want.pages:
        out.append(f"{name}: {got.pages} pages, expected {want.pages}")
    if got.outline != want.outline:
        diff = [(w, g) for w, g in zip(want.outline, got.outline, strict=False) if w != g][:3]
        sizes = f"{len(got.outline)} items vs {len(want.outline)}"
        out.append(f"{name}: outline differs ({sizes}): {diff}")
    for label, w, g in (("links", want.links, got.links), ("URIs", want.uris, got.uris)):
        if w != g:
            missing, extra = list((w - g).items())[:3], list((g - w).items())[:3]
            out.append(f"{name}: {label} differ: missing {missing}, unexpected {extra}")
    if got.labels is not None and want.labels is not None and got.labels != want.labels:
        out.append(f"{name}: page labels differ: {got.labels[:5]} vs {want.labels[:5]}")
    return out


def assert_readers_agree(pdf: Path) -> Seen:
    """qpdf finds no error, and MuPDF and pdf.js see the outline, links and labels pypdf sees."""
    assert qpdf_errors(pdf) == []
    want = pypdf_sees(pdf)
    problems = disagreements("mupdf", want, mupdf(pdf)) + disagreements("pdf.js", want, pdfjs(pdf))
    assert problems == [], "\n".join(problems)
    return want


def render(pdf: Path, first: int, last: int, dpi: int = 20) -> list[bytes]:
    """Pages ``first``..``last`` (1-based) of ``pdf`` as poppler draws them, without their
    annotations: one grey PGM image each."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["pdftoppm", "-gray", "-r", str(dpi), "-hide-annotations"]
        cmd += ["-f", str(first), "-l", str(last), str(pdf), f"{tmp}/p"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        return [f.read_bytes() for f in sorted(Path(tmp).glob("p-*.pgm"))]
