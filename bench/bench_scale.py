"""Benchmark at scale: N distinct papers made from ../shared/corpus/arxiv, against pdftk and qpdf.

The corpus files are replicated as distinct files (each copy gets its own comment line after
``%%EOF``) under distinct keys, served from a local mirror (http.server on 127.0.0.1 in a thread).
``paperbundle fetch`` fills the cache once; then for each N, with ``/usr/bin/time -v`` (wall time,
peak RSS summed over the process tree, workers included), the median of ``--runs``:

* ``paperbundle build`` of N papers (output folder emptied first: a full build, cached downloads);
* the no-op rebuild (same command again);
* the rebuild with one paper added (N + 1 papers, same output folder);
* ``paperbundle verify`` of that release's zip (N + 1 papers);
* ``pdftk ... cat output`` and ``qpdf --empty --pages ... --`` of the same N files.

    python bench/bench_scale.py [N ...] [--runs 3]      (default N: 16 64)
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "https://papers.example.org/"
CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv"
sys.path.insert(0, str(ROOT))

from bench.bench_build import timed  # noqa: E402


def make_site(site: Path, count: int) -> list[Path]:
    """``count`` distinct PDFs ``site/pI.pdf`` cycling through the corpus."""
    originals = sorted(CORPUS.glob("*.pdf"))
    site.mkdir(parents=True)
    files = []
    for i in range(count):
        f = site / f"p{i}.pdf"
        f.write_bytes(originals[i % len(originals)].read_bytes() + f"\n% copy {i}\n".encode())
        files.append(f)
    return files


def write_manifest(path: Path, n: int) -> Path:
    path.write_text(
        '[bundle]\nname = "Scale"\nversion = "v1"\ndate = 2024-01-01\n'
        + "".join(
            f'[[papers]]\nkey = "p{i}"\ntitle = "Paper {i}"\nurl = "{HOST}p{i}.pdf"\n'
            for i in range(n)
        ),
        encoding="utf-8",
    )
    return path


def median_of(runs: int, prepare: Callable[[], object], cmd: list[str]) -> tuple[float, int]:
    times, rss = [], []
    for _ in range(runs):
        prepare()
        t, m = timed(cmd, cwd=ROOT)
        times.append(t)
        rss.append(m)
    return statistics.median(times), int(statistics.median(rss))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="*", type=int, default=[16, 64])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}; nothing to measure")
        return 0
    work = Path(tempfile.mkdtemp(prefix="pb-scale-"))
    files = make_site(work / "site", max(args.sizes) + 1)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(work / "site"))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    net = [
        "--cache-dir",
        str(work / "cache"),
        "--mirror",
        f"{HOST}=http://127.0.0.1:{server.server_address[1]}/",
        "--min-interval",
        "0",
        "--quiet",
    ]
    pb = [sys.executable, "-m", "paperbundle"]
    everything = write_manifest(work / "all.toml", len(files))
    subprocess.run([*pb, "fetch", str(everything), *net], check=True, cwd=ROOT)
    out = work / "out"
    rows: list[tuple[int, str, float, int]] = []

    def fresh() -> None:  # a full build: no output, no prepared papers; downloads cached
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(work / "cache" / "work", ignore_errors=True)

    def nothing() -> None:
        pass

    for n in args.sizes:
        m = write_manifest(work / f"n{n}.toml", n)
        m1 = write_manifest(work / f"n{n}-plus1.toml", n + 1)
        build = [*pb, "build", str(m), "-o", str(out), *net]
        rows.append((n, "paperbundle build", *median_of(args.runs, fresh, build)))
        rows.append((n, "paperbundle no-op rebuild", *median_of(args.runs, nothing, build)))

        previous_build = functools.partial(subprocess.run, build, check=True, cwd=ROOT)
        plus1 = [*pb, "build", str(m1), "-o", str(out), *net]
        rows.append(
            (
                n,
                "paperbundle rebuild, one paper added",
                *median_of(args.runs, previous_build, plus1),
            )
        )
        bundle = next(out.glob("*.zip"))  # of the N + 1 papers
        verify = [*pb, "verify", str(bundle)]
        rows.append((n + 1, "paperbundle verify (the zip)", *median_of(args.runs, nothing, verify)))
        paths = [str(f) for f in files[:n]]
        if shutil.which("pdftk"):
            cmd = ["pdftk", *paths, "cat", "output", str(work / "pdftk.pdf")]
            rows.append((n, "pdftk cat", *median_of(args.runs, nothing, cmd)))
        if shutil.which("qpdf"):
            cmd = ["qpdf", "--empty", "--pages", *paths, "--", str(work / "qpdf.pdf")]
            rows.append((n, "qpdf --empty --pages", *median_of(args.runs, nothing, cmd)))
        print(f"N={n} done", file=sys.stderr, flush=True)
    server.shutdown()
    print(f"median of {args.runs} runs; inputs: copies of {CORPUS.name}/*.pdf, cached downloads")
    print("| papers | command | wall s | peak RSS MiB |\n|---:|---|---:|---:|")
    for n, name, t, rss in rows:
        print(f"| {n} | {name} | {t:.2f} | {rss / 1024:.0f} |")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
