"""Hostile inputs at the sizes the issue measured: a table of case, exit code, wall time, peak
RSS, and whether our ``verify`` and ``qpdf --check`` accept the bundle that was written.

Each case is a function in CASES: it gets a fresh folder and returns a Row. File cases build a
good paper and the hostile one with ``--keep-going`` (the hostile one is left out: exit 3, or
kept: exit 0); verify cases build a good bundle and tamper with it. Network cases build a good
local paper and papers served by a misbehaving server on 127.0.0.1 (tests/netservers.py) with
``--keep-going`` and the real default deadlines: the only options set are ``--cache-dir`` (a
fresh folder), ``--mirror`` (papers.example.org is played by the local server) and
``--keep-going`` (so that a bundle is written and checked). Targets: every file case under 60 s
and 1 GB, every network case under 3 minutes and 1 GB; every bundle written passes our verify
and qpdf --check. Add a case by appending a function to CASES.

    python bench/bench_hostile.py [CASE ...]      # CASE: a name, or "file", "verify", "net"
"""

from __future__ import annotations

import io
import socket
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import hostile_pdfs as hp  # noqa: E402
from tests import measure, rawpdf  # noqa: E402
from tests import netservers as ns  # noqa: E402
from tests.servers import make_pdf  # noqa: E402

HOST = "https://papers.example.org/"


@dataclass(frozen=True)
class Row:
    case: str
    code: int
    seconds: float
    peak_mb: float
    verify: str  # "ok", "refused" (a tampered bundle, as it must be) or the problem
    qpdf: str
    message: str


def _check_bundle(out: Path) -> tuple[str, str]:
    """(our verify, qpdf --check) of the bundle in ``out``: "ok", the problem, or "-" (none)."""
    pdf = out / "h-v1.pdf"
    if not pdf.exists():
        return "-", "-"
    v = measure.paperbundle("verify", str(pdf.with_suffix(".zip")), timeout=600)
    verify = "ok" if v.code == 0 else v.err.strip().splitlines()[-1][:60]
    ok, text = measure.qpdf_check(pdf)
    return verify, "ok" if ok else text.strip().splitlines()[-1][:60]


def _message(err: str, key: str) -> str:
    """The first line of stderr naming ``key``; TRACEBACK or RAW CONTROL when one got out."""
    if "Traceback" in err:
        return "TRACEBACK"
    if any(c in err for c in "\x1b\x07\x9b"):
        return "RAW CONTROL CHARACTER ON STDERR"
    # every local paper has no licence: that warning names every key and says nothing here
    lines = [ln.strip() for ln in err.splitlines() if "grants no redistribution" not in ln]
    named = [ln for ln in lines if ln.startswith(f"{key} (")] or [ln for ln in lines if key in ln]
    return (named or ["(no message)"])[0][:110]


Case = Callable[[Path], "Row"]


def _build_with_good(tmp: Path, name: str, bad: Path) -> Row:
    good = rawpdf.write(tmp / "good.pdf", hp._one_page())
    m = measure.manifest(tmp, name, [("good", good), (name, bad)])
    out = tmp / "out"
    r = measure.paperbundle("build", str(m), "-o", str(out), "--keep-going", timeout=600)
    verify, qpdf = _check_bundle(out)
    return Row(name, r.code, r.seconds, r.peak_mb, verify, qpdf, _message(r.err, name))


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
        info = zipfile.ZipInfo("CONTENTS.md")
        info.compress_type = zipfile.ZIP_DEFLATED  # a few MB on disk, gigabytes inflated
        with zf.open(info, "w", force_zip64=True) as f:  # streamed: never all in memory
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


# --------------------------------------------------------------------------- network cases


def _net_run(tmp: Path, name: str, papers: list[tuple[str, Path | str]], *args: str) -> Row:
    """``build`` of a good local paper and ``papers`` with --keep-going and the default
    deadlines; the message is the first line naming the last paper."""
    good = rawpdf.write(tmp / "good.pdf", hp._one_page())
    m = measure.manifest(tmp, "net", [("good", good), *papers])
    out = tmp / "out"
    r = measure.paperbundle(
        *("build", str(m), "-o", str(out), "--cache-dir", str(tmp / "cache"), "--keep-going"),
        *args,
        timeout=900,
    )
    verify, qpdf = _check_bundle(out)
    return Row(name, r.code, r.seconds, r.peak_mb, verify, qpdf, _message(r.err, papers[-1][0]))


def _served(ident: str, name: str, handler: Callable[[], ns.Handler], n: int = 1) -> Case:
    """``n`` papers of papers.example.org, played by a local server running ``handler()``."""

    def case(tmp: Path) -> Row:
        papers: list[tuple[str, Path | str]] = [(k, f"{HOST}{k}.pdf") for k in "abc"[:n]]
        with ns.RawServer(handler()) as srv:
            return _net_run(tmp, name, papers, "--mirror", f"{HOST}={srv.url}/")

    case.__name__ = ident
    return case


def _retry_after_forever() -> ns.Handler:
    return ns.answer("503 Service Unavailable", [("Retry-After", "60")])


def _gzip_bomb() -> ns.Handler:
    bomb = ns.double_gzip_bomb(10 << 30)  # 10 GB once both layers are undone, 17 kB on the wire
    headers: list[tuple[str, bytes | str]] = [
        ("Content-Type", "application/pdf"),
        ("Content-Encoding", "gzip, gzip"),
    ]
    return ns.answer("200 OK", headers, bomb)


def _escapes() -> ns.Handler:
    ctype = b"text/plain\x1b]0;owned\x07\x1b[2J\x9b31m"
    return ns.answer("200 OK", [("Content-Type", ctype)], b"hello, not a pdf")


def refused(tmp: Path) -> Row:
    """Three papers on a port where nothing listens: the host is given up after 3 refusals."""
    with socket.socket() as s:  # a port that was free a moment ago, closed again
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    papers: list[tuple[str, Path | str]] = [(k, f"{HOST}{k}.pdf") for k in "abc"]
    mirror = f"{HOST}=http://127.0.0.1:{port}/"
    return _net_run(tmp, "refused port, 3 papers on one host", papers, "--mirror", mirror)


def mirror(tmp: Path) -> Row:
    """A mirror with an empty port: a usage error, before any request."""
    papers: list[tuple[str, Path | str]] = [("a", f"{HOST}a.pdf")]
    row = _net_run(tmp, "", papers, "--mirror", f"{HOST}=http://127.0.0.1:/")
    m = "usage error naming the mirror" if row.code == 2 else row.message
    return replace(row, case="malformed mirror http://127.0.0.1:/", message=m)


def rebinding(tmp: Path) -> Row:
    """A name that is public when checked and 127.0.0.1 when asked again: the checked address
    is the one connected to, so the loopback server must see no request."""
    pdf: list[tuple[str, bytes | str]] = [("Content-Type", "application/pdf")]
    good = rawpdf.write(tmp / "good.pdf", hp._one_page())
    out = tmp / "out"
    with (
        ns.RawServer(ns.answer("200 OK", pdf, make_pdf("Checked", 1))) as checked,
        ns.RawServer(ns.answer("200 OK", pdf, make_pdf("Loopback", 1))) as loop,
    ):
        url = f"http://rebind.example.org:{loop.port}/a.pdf"
        m = measure.manifest(tmp, "net", [("good", good), ("a", url)])
        args = ["build", str(m), "-o", str(out), "--cache-dir", str(tmp / "cache"), "--keep-going"]
        r = measure.command(ns.rebinding(tmp, checked.port, args), timeout=300)
        hits = (len(checked.hits), len(loop.hits))
    verify, qpdf = _check_bundle(out)
    lookups = next((ln for ln in r.err.splitlines() if ln.startswith("LOOKUPS")), "LOOKUPS ?")
    message = _message(r.err, "Traceback")
    if message == "(no message)":
        message = (
            f"{lookups.split()[-1]} lookup(s); requests: checked address {hits[0]}, "
            f"loopback {hits[1]}"
        )
    return Row("DNS rebinding", r.code, r.seconds, r.peak_mb, verify, qpdf, message)


def links_trickle(tmp: Path) -> Row:
    """``check --links`` of a paper whose server sends a byte every 2 s."""
    m = measure.manifest(tmp, "net", [("a", f"{HOST}a.pdf")])
    with ns.RawServer(ns.trickle(2.0)) as srv:
        r = measure.paperbundle(
            *("check", str(m), "--links", "--cache-dir", str(tmp / "cache")),
            *("--mirror", f"{HOST}={srv.url}/"),
            timeout=900,
        )
    lines = (r.out + r.err).strip().splitlines()
    message = _message(r.out + r.err, "a") or (lines[0] if lines else "")
    return Row("check --links, a byte every 2 s", r.code, r.seconds, r.peak_mb, "-", "-", message)


NET_CASES: list[Case] = [
    _served("stall", "stalled server", lambda: ns.stall),
    _served("trickle", "a byte every 2 s", lambda: ns.trickle(2.0)),
    _served("retry_after", "503, Retry-After: 60 forever", _retry_after_forever),
    _served("retry_after3", "503, Retry-After: 60 forever, 3 papers", _retry_after_forever, 3),
    refused,
    _served("gzip_bomb", "Content-Encoding: gzip, gzip (10 GB inflated)", _gzip_bomb),
    rebinding,
    _served("escapes", "terminal escape codes in Content-Type", _escapes),
    mirror,
    _served("stall3", "3 papers on one stalled host", lambda: ns.stall, 3),
    links_trickle,
]

FILE_CASES: list[Case] = [
    _file_case("damaged", hp.damaged_stream),
    _file_case("bomb4gb", lambda p: hp.inflation_bomb(p, 4 << 30)),
    _file_case("hugelength", hp.huge_declared_length),
    _file_case("xrefgarbage", hp.xref_garbage),
    _file_case("pagecycles", hp.page_tree_cycles),
    _file_case("annotcycles", hp.parent_cycle_annots),
    _file_case("pages100k", hp.many_pages),
    _file_case("pages50k", lambda p: hp.many_pages(p, 50_000)),
    _file_case("outline1m", lambda p: hp.long_outline(p, 1_000_000)),
]
VERIFY_CASES: list[Case] = [contents_3gb, stream_4gb_in_verify]
GROUPS = {"file": FILE_CASES, "verify": VERIFY_CASES, "net": NET_CASES}
CASES: list[Case] = [*FILE_CASES, *VERIFY_CASES, *NET_CASES]


def _grouped(argv: list[str]) -> list[Case]:
    return [c for g in argv for c in GROUPS.get(g, [])]


def main(argv: list[str]) -> int:
    chosen = [c for c in CASES if not argv or c.__name__ in argv or c in _grouped(argv)]
    if argv and not chosen:
        names = ", ".join([*GROUPS, *(c.__name__ for c in CASES)])
        print(f"no such case: {' '.join(argv)} (cases: {names})", file=sys.stderr)
        return 2
    print("| case | exit | wall s | peak MB | our verify | qpdf --check | message |")
    print("|---|---:|---:|---:|---|---|---|")
    for case in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                row = case(Path(tmp))
            except Exception as exc:  # the bench's own failure: say so, go on with the rest
                row = Row(case.__name__, -1, 0.0, 0.0, "-", "-", f"BENCH ERROR: {exc!r}"[:110])
        print(
            f"| {row.case} | {row.code} | {row.seconds:.1f} | {row.peak_mb:.0f} | {row.verify} "
            f"| {row.qpdf} | {row.message.replace('|', '/')} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
