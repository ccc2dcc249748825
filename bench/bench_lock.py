"""How many requests `lock` makes for manifests/v0.2.toml, and how long it takes at the default
spacing (3 s between requests to one host), against a stand-in arXiv on 127.0.0.1 (API and
OAI-PMH on one host, as export.arxiv.org) and a stand-in PDF host per original host.

    .venv/bin/python bench/bench_lock.py [MANIFEST] [--min-interval S]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arxivserver import ArxivServer, Paper  # noqa: E402

from paperbundle.cli import main  # noqa: E402
from paperbundle.manifest import arxiv_id, load_manifest  # noqa: E402


def main_bench() -> int:
    args = sys.argv[1:]
    interval = "3"
    if "--min-interval" in args:
        i = args.index("--min-interval")
        interval = args[i + 1]
        del args[i : i + 2]
    src = Path(args[0]) if args else ROOT / "manifests" / "v0.2.toml"
    work = Path(tempfile.mkdtemp(prefix="bench-lock-"))
    manifest = work / src.name
    for f in src.parent.glob("*.toml"):  # and what `previous` names
        shutil.copy(f, work / f.name)
    m = load_manifest(manifest)
    api, pdfs, other = ArxivServer(), ArxivServer(), ArxivServer()
    mirrors = ["--mirror", pdfs.mirror]
    for p in m.papers:
        aid = arxiv_id(p.url) if p.url else None
        if aid is not None:
            paper = Paper(aid, p.title, ("A. Author", "B. Author", "C. Author", "D. Author"))
            api.add(paper)
            pdfs.add(paper)
        elif p.url:  # any other host: served as /pdf/<name> by a third stand-in
            name = p.url.rsplit("/", 1)[1]
            other.add(Paper(name, p.title, ("X",)))
            mirrors += ["--mirror", f"{p.url}={other.url}pdf/{name}"]
    try:
        started = time.monotonic()
        code = main(
            [
                "lock",
                str(manifest),
                "--cache-dir",
                str(work / "cache"),
                "--arxiv-api",
                api.url,
                "--min-interval",
                interval,
                *mirrors,
            ]
        )
        seconds = time.monotonic() - started
        meta = len(api.hits())
        print(
            f"lock exit {code}: {len(m.papers)} papers, {seconds:.1f} s at --min-interval "
            f"{interval}; arXiv metadata requests {meta} "
            f"({len(api.hits('/api/query'))} API, {len(api.hits('/oai2'))} OAI-PMH), "
            f"PDF requests {len(pdfs.hits()) + len(other.hits())}"
        )
        started = time.monotonic()
        main(
            [
                "lock",
                str(manifest),
                "--cache-dir",
                str(work / "cache"),
                "--arxiv-api",
                api.url,
                "--min-interval",
                interval,
                *mirrors,
            ]
        )
        print(
            f"second lock: {time.monotonic() - started:.1f} s, "
            f"{len(api.hits()) - meta} metadata requests"
        )
    finally:
        for s in (api, pdfs, other):
            s.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main_bench())
