"""Hostile inputs at the sizes the issue measured: a table of case, exit code, wall time, peak
RSS, and whether our ``verify`` and ``qpdf --check`` accept the bundle that was written.

Each case is a function in CASES: it gets a fresh folder and returns a Row. File cases build a
good paper and the hostile one with ``--keep-going`` (the hostile one is left out: exit 3, or
kept: exit 0); verify cases build a good bundle and tamper with it. Targets: every file case
under 60 s and 1 GB; every bundle written passes our verify and qpdf --check. Add a case by
appending a function to CASES.

    python bench/bench_hostile.py [CASE ...]
"""

from __future__ import annotations

import io
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile_pdfs as hp  # noqa: E402
from tests import measure, rawpdf  # noqa: E402


@dataclass(frozen=True)
class Row:
    case: str
    code: int
    seconds: float
    peak_mb: float
    verify: str  # "ok", "refused" (a tampered bundle, as it must be) or the problem
    qpdf: str
    message: str


def _build_with_good(tmp: Path, name: str, bad: Path) -> Row:
    good = rawpdf.write(tmp / "good.pdf", hp._one_page())
    m = measure.manifest(tmp, name, [("good", good), (name, bad)])
    out = tmp / "out"
    r = measure.paperbundle("build", str(m), "-o", str(out), "--keep-going", timeout=600)
    verify = qpdf = "-"
    pdf = out / "h-v1.pdf"
    if pdf.exists():
        v = measure.paperbundle("verify", str(pdf.with_suffix(".zip")), timeout=600)
        verify = "ok" if v.code == 0 else v.err.strip().splitlines()[-1][:60]
        ok, text = measure.qpdf_check(pdf)
        qpdf = "ok" if ok else text.strip().splitlines()[-1][:60]
    message = next((ln.strip() for ln in r.err.splitlines() if name in ln), "")
    if "Traceback" in r.err:
        message = "TRACEBACK"
    return Row(name, r.code, r.seconds, r.peak_mb, verify, qpdf, message[:90])


def _file_case(name: str, make: Callable[[Path], Path]) -> Callable[[Path], Row]:
    def case(tmp: Path) -> Row:
        return _build_with_good(tmp, name, make(tmp / f"{name}.pdf"))

    case.__name__ = name
    return case


def _tampered_verify(tmp: Path, name: str, pdf: bytes | None, contents_extra: int) -> Row:
    good = rawpdf.write(tmp / "good.pdf", hp._one_page())
    m = measure.manifest(tmp, "g", [("good", good)])
    assert measure.paperbundle("build", str(m), "-o", str(tmp / "g"), "--quiet").code == 0
    with zipfile.ZipFile(tmp / "g" / "h-v1.zip") as zf:
        pdf_bytes, contents = zf.read("h-v1.pdf"), zf.read("CONTENTS.md")
    folder = tmp / "t"
    folder.mkdir()
    z = folder / "h-v1.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("h-v1.pdf", pdf or pdf_bytes, compress_type=zipfile.ZIP_STORED)
        with zf.open(zipfile.ZipInfo("CONTENTS.md"), "w") as f:  # streamed: never all in memory
            f.write(contents)
            chunk = b" " * (1 << 20)
            for _ in range(contents_extra >> 20):
                f.write(chunk)
    v = measure.paperbundle("verify", str(z), timeout=600)
    line = next((ln.strip() for ln in v.err.splitlines()[1:]), "")
    return Row(name, v.code, v.seconds, v.peak_mb, "refused" if v.code else "ok", "-", line[:90])


def contents_3gb(tmp: Path) -> Row:
    """verify of a zip whose CONTENTS.md inflates to 3 GB."""
    return _tampered_verify(tmp, "verify: CONTENTS.md of 3 GB", None, 3 << 30)


def stream_4gb_in_verify(tmp: Path) -> Row:
    """verify of a bundle one of whose content streams inflates to 4 GB."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    m = measure.manifest(tmp, "g0", [("good", rawpdf.write(tmp / "g0.pdf", hp._one_page()))])
    assert measure.paperbundle("build", str(m), "-o", str(tmp / "g0"), "--quiet").code == 0
    writer = PdfWriter(clone_from=tmp / "g0" / "h-v1.pdf")
    stream = writer.pages[-1]["/Contents"].get_object()
    bomb = hp.inflation_bomb(tmp / "bomb.pdf", 4 << 30)
    stream._data = PdfReader(bomb).pages[0]["/Contents"].get_object()._data
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    buf = io.BytesIO()
    writer.write(buf)
    return _tampered_verify(tmp, "verify: stream inflating to 4 GB", buf.getvalue(), 0)


CASES: list[Callable[[Path], Row]] = [
    _file_case("damaged", hp.damaged_stream),
    _file_case("bomb4gb", lambda p: hp.inflation_bomb(p, 4 << 30)),
    _file_case("hugelength", hp.huge_declared_length),
    _file_case("xrefgarbage", hp.xref_garbage),
    _file_case("pagecycles", hp.page_tree_cycles),
    _file_case("annotcycles", hp.parent_cycle_annots),
    _file_case("pages100k", hp.many_pages),
    _file_case("pages50k", lambda p: hp.many_pages(p, 50_000)),
    _file_case("outline1m", lambda p: hp.long_outline(p, 1_000_000)),
    contents_3gb,
    stream_4gb_in_verify,
]


def main(argv: list[str]) -> int:
    chosen = [c for c in CASES if not argv or c.__name__ in argv]
    print("| case | exit | wall s | peak MB | our verify | qpdf --check | message |")
    print("|---|---:|---:|---:|---|---|---|")
    for case in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            row = case(Path(tmp))
        print(
            f"| {row.case} | {row.code} | {row.seconds:.1f} | {row.peak_mb:.0f} | {row.verify} "
            f"| {row.qpdf} | {row.message.replace('|', '/')} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
