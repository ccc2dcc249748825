"""Benchmark: paperbundle against the tools people use today, on the shared arXiv papers.

Serves ../shared/corpus/arxiv from a local HTTP server laid out like arXiv (``/pdf/<id>``), then
measures with ``/usr/bin/time -v`` (wall time, peak memory), in one run:

* ``paperbundle build`` cold (empty cache: downloads from the local mirror) and warm (cached);
* ``qpdf --empty --pages ... -- out.pdf`` and ``pdftk ... cat output out.pdf`` (when installed);
* a plain pypdf ``append`` loop (the naive merge);

and counts, for each output, the internal links that land on the right page of the right paper.

    python bench/bench_build.py [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv"
sys.path.insert(0, str(ROOT))

from tests import linkcheck as lc  # noqa: E402

PYPDF_LOOP = """
import sys
from pypdf import PdfWriter
w = PdfWriter()
for f in sys.argv[2:]:
    w.append(f)
w.write(sys.argv[1])
"""


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(d))
    return kids


def tree_rss_kib(pid: int) -> int:
    """The resident set size summed over ``pid`` and all its descendants, KiB."""
    kids = _children()
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Run ``cmd`` under /usr/bin/time -v; return (wall seconds, peak RSS in KiB). The peak is
    the larger of time's figure and the RSS summed over the whole process tree (sampled every
    20 ms), so a build's worker processes count too."""
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", *cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], tree_rss_kib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    assert wall and rss, stderr
    h = int(wall.group(1) or 0)
    seconds = h * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    return seconds, max(int(rss.group(1)), peak[0])


def link_score(bundle: Path, files: list[Path], first: int) -> str:
    reader = lc.open_reader(bundle)
    links = lc.internal_links(reader)
    score = lc.Score()
    for f in files:
        orig = lc.open_reader(f)
        n = len(orig.pages)
        lc.check_links(orig, links, first, list(range(n)), score, f.name)
        first += n
    stray = f" (+{len(score.stray)} leaving their paper)" if score.stray else ""
    return f"{score.right}/{score.total}{stray}"


def outline_score(bundle: Path, files: list[Path], first: int) -> str:
    """Nested outline items of each paper that point at the same page as in the original."""
    reader = lc.open_reader(bundle)
    papers = [kids for _, _, kids in lc.outline_tree(reader)[2:]]  # after Cover, Contents
    right = total = 0
    for f, kids in zip(files, papers, strict=True):
        orig = lc.open_reader(f)
        want = [(d, t, p + first) for d, t, p in lc.flatten(lc.outline_tree(orig)) if p is not None]
        got = set(lc.flatten(kids))
        total += len(want)
        right += sum(1 for w in want if w in got)
        first += len(orig.pages)
    return f"{right}/{total}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}; nothing to measure")
        return 0
    files = sorted(CORPUS.glob("*.pdf"))
    work = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    site = work / "site" / "pdf"
    site.mkdir(parents=True)
    for f in files:
        shutil.copy(f, site / f.stem)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site.parent))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    manifest = work / "bench.toml"
    manifest.write_text(
        '[bundle]\nname = "Bench"\nversion = "v1"\ndate = 2024-01-01\n'
        + "".join(
            f'[[papers]]\nkey = "p{f.stem.replace(".", "-")}"\ntitle = "arXiv {f.stem}"\n'
            f'url = "https://arxiv.org/abs/{f.stem}"\n'
            for f in files
        ),
        encoding="utf-8",
    )
    pb = [
        sys.executable,
        "-m",
        "paperbundle",
        "build",
        str(manifest),
        "--quiet",
        "--mirror",
        f"https://arxiv.org/=http://127.0.0.1:{port}/",
        "--min-interval",
        "0",
    ]
    rows: list[tuple[str, float, int, str]] = []
    total_pages = sum(len(lc.open_reader(f).pages) for f in files)
    for run in range(args.runs):
        cache = work / f"cache{run}"
        out = work / f"out{run}"
        t, m = timed([*pb, "-o", str(out), "--cache-dir", str(cache)], cwd=ROOT)
        pdf = out / "Bench-v1.pdf"
        front = len(lc.open_reader(pdf).pages) - total_pages
        rows.append(("paperbundle build (cold cache)", t, m, link_score(pdf, files, front)))
        outlines = outline_score(pdf, files, front)
        shutil.rmtree(out)  # a build again, from the downloads and prepared papers cached
        t, m = timed([*pb, "-o", str(out), "--cache-dir", str(cache)], cwd=ROOT)
        rows.append(("paperbundle build (warm cache)", t, m, link_score(pdf, files, front)))
        t, m = timed([*pb, "-o", str(out), "--cache-dir", str(cache)], cwd=ROOT)
        rows.append(("paperbundle rebuild, nothing changed", t, m, link_score(pdf, files, front)))
        if shutil.which("qpdf"):
            q = work / "qpdf.pdf"
            t, m = timed(["qpdf", "--empty", "--pages", *map(str, files), "--", str(q)])
            rows.append(("qpdf --empty --pages", t, m, link_score(q, files, 0)))
        if shutil.which("pdftk"):
            q = work / "pdftk.pdf"
            t, m = timed(["pdftk", *map(str, files), "cat", "output", str(q)])
            rows.append(("pdftk cat", t, m, link_score(q, files, 0)))
        q = work / "pypdf.pdf"
        t, m = timed([sys.executable, "-c", PYPDF_LOOP, str(q), *map(str, files)])
        rows.append(("pypdf append loop", t, m, link_score(q, files, 0)))
    server.shutdown()
    print(f"{len(files)} papers, {total_pages} pages, {sum(f.stat().st_size for f in files)} bytes")
    print("| tool | wall s | peak RSS MiB | internal links right |\n|---|---:|---:|---:|")
    for name, t, m, score in rows:
        print(f"| {name} | {t:.2f} | {m / 1024:.0f} | {score} |")
    print(f"paperbundle: nested outline items on the right page: {outlines}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
