"""A paper cut with `pages` is marked as an excerpt ("pp. 2–3 of 4") on its contents row, in
CONTENTS.md and in the notes; a whole paper has no mark."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from paperbundle.manifest import parse_pages
from tests.helpers import PAPERS, PaperServer, build_args, manifest_text, run


def test_excerpt_marks_everywhere(
    tmp_path: Path, paper_server: PaperServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = tmp_path / "m.toml"
    m.write_text(
        manifest_text(PAPERS, alpha='pages = "2-3"', gamma='pages = "1,3-"'), encoding="utf-8"
    )
    out = tmp_path / "out"
    code, _, err = run(build_args(m, out, tmp_path / "c", paper_server), capsys)
    assert code == 0, err
    alpha, gamma = "pp. 2–3 of 4", f"pp. 1, 3–{PAPERS['gamma'][1]} of {PAPERS['gamma'][1]}"

    reader = PdfReader(out / "Test-Papers-v1.0.pdf")
    contents = " ".join(reader.pages[1].extract_text().split())
    assert alpha in contents and gamma in contents, contents
    assert contents.count("pp. ") == 2  # beta, whole, has no mark

    with zipfile.ZipFile(out / "Test-Papers-v1.0.zip") as z:
        md = z.read("CONTENTS.md").decode("utf-8")
    alpha_row = next(r for r in md.splitlines() if r.startswith("|") and "Alpha" in r)
    beta_row = next(r for r in md.splitlines() if r.startswith("|") and "Beta" in r)
    assert alpha in alpha_row and " of " not in beta_row

    notes = (out / "Test-Papers-v1.0-notes.md").read_text(encoding="utf-8")
    assert alpha in notes and gamma in notes
    code, _, err = run(["verify", str(out / "Test-Papers-v1.0.zip")], capsys)
    assert code == 0, err


@pytest.mark.parametrize(
    ("spec", "total", "mark"),
    [("1-12", 40, "pp. 1–12 of 40"), ("5", 9, "p. 5 of 9"), ("3-", 7, "pp. 3–7 of 7"),
     ("1,4", 6, "pp. 1, 4 of 6")],
)  # fmt: skip
def test_excerpt_mark_text(spec: str, total: int, mark: str) -> None:
    from paperbundle.manifest import Paper

    paper = Paper(key="k", title="T", url=None, path=Path("x.pdf"), pages=parse_pages(spec))
    assert paper.excerpt(total) == mark
