"""Benchmark: downloads that ride out a hostile server.

Serves the eight shared arXiv papers from a local server (tests/servers.py) that resets or cuts
short every file's first response (alternately, half-way through the body) and answers 503 to the
second; reports the attempts made, the bytes received against the bytes of the files (resume keeps
this at 1.0) and the wall time.

    python bench/bench_fetch.py [RETRY_BASE] [RETRY_AFTER]      (defaults: 1.0, none)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import MisbehavingServer, ok, reset, short, status  # noqa: E402

from paperbundle.fetch import NetOptions, fetch_all, parse_mirror  # noqa: E402
from paperbundle.manifest import load_manifest  # noqa: E402
from paperbundle.progress import NullReporter  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv"


def main() -> int:
    retry_base = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    retry_after = sys.argv[2] if len(sys.argv) > 2 else None
    files = sorted(CORPUS.glob("*.pdf"))
    if not files:
        print(f"no corpus at {CORPUS}; nothing to measure")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="pb-fetch-"))
    with MisbehavingServer() as srv:
        lines = ["[bundle]", 'name = "bench"', 'version = "v1"']
        for i, f in enumerate(files):
            first = reset(0.5) if i % 2 == 0 else short(0.5)
            srv.add(
                f"/pdf/{f.stem}", f.read_bytes(), first, status(503, retry_after=retry_after), ok()
            )
            lines += [
                "[[papers]]",
                f'key = "p{i}"',
                f'title = "{f.stem}"',
                f'url = "https://arxiv.org/abs/{f.stem}"',
            ]
        (tmp / "m.toml").write_text("\n".join(lines) + "\n")
        m = load_manifest(tmp / "m.toml")
        o = NetOptions(
            cache_dir=tmp / "cache",
            mirrors=(parse_mirror(f"https://arxiv.org/={srv.url}/"),),
            min_interval=0.1,
            retry_base=retry_base,
        )
        t = time.perf_counter()
        r = fetch_all(m, o, NullReporter())
        wall = time.perf_counter() - t
        total = sum(f.stat().st_size for f in files)
        print(f"papers ok {len(r.papers)}/{len(files)}, failures {len(r.failures)}")
        print(f"attempts {r.requests} ({r.requests / len(files):.1f} per file)")
        print(
            f"bytes received {r.bytes_received} of {total} in the files: "
            f"ratio {r.bytes_received / total:.4f}"
        )
        print(
            f"wall {wall:.2f} s (min_interval 0.1 s, retry_base {retry_base} s, "
            f"Retry-After {retry_after})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
