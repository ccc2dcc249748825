"""Bundles read back by readers we did not write: qpdf --check, MuPDF and pdf.js must see the
outline, internal links, URIs and page labels that pypdf sees, on the small test bundle (the corpus
bundle gets the same check in test_corpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import readers
from tests.helpers import PAPERS, PaperServer, build_papers


def test_small_bundle_reads_the_same_in_every_reader(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    out = build_papers(tmp_path, paper_server, capsys)
    seen = readers.assert_readers_agree(out / "Test-Papers-v1.0.pdf")
    assert seen.outline[:2] == [(0, "Cover", 0), (0, "Contents", 1)]
    assert sum(seen.links.values()) >= len(PAPERS)  # at least the contents rows
    assert seen.labels is not None and seen.labels[0] == "i"


def test_the_comparison_notices_a_reader_that_disagrees() -> None:
    """The comparison itself is not vacuous: a moved link and a lost outline item are reported."""
    from collections import Counter

    want = readers.Seen(3, [(0, "A", 0), (1, "A.1", 1)], Counter({(0, 2): 1}), Counter())
    got = readers.Seen(3, [(0, "A", 0)], Counter({(0, 1): 1}), Counter())
    problems = readers.disagreements("x", want, got)
    assert len(problems) == 2 and "outline" in problems[0] and "links" in problems[1]
