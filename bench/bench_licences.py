"""Issue 12's showcase: four arXiv papers with different licences, locked against the stand-in
arXiv of tests/arxivserver.py and built with ``redistribute = "granted"``. Prints the release
notes' licence summary and writes the contents page and a link-only stand-in page as PNG
(``pdftoppm -png -r 60``) to look at.

    .venv/bin/python bench/bench_licences.py [OUT_DIR]      (default: a temporary folder)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.arxivserver import ArxivServer, Paper  # noqa: E402

from paperbundle.cli import main  # noqa: E402

PAPERS = [
    Paper(
        "2205.14135",
        "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
        ("Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"),
        licence="http://creativecommons.org/licenses/by/4.0/",
        versions=2,
    ),
    Paper(
        "2309.06180",
        "Efficient Memory Management for Large Language Model Serving with PagedAttention",
        ("Woosuk Kwon", "Zhuohan Li", "Siyuan Zhuang"),
    ),
    Paper(
        "2211.17192",
        "Fast Inference from Transformers via Speculative Decoding",
        ("Yaniv Leviathan", "Matan Kalman", "Yossi Matias"),
        licence="http://creativecommons.org/licenses/by-nc-sa/4.0/",
    ),
    Paper(
        "2306.00978",
        "AWQ: Activation-aware Weight Quantization for LLM Compression and Acceleration",
        ("Ji Lin", "Jiaming Tang"),
    ),
]


def run(work: Path) -> int:
    manifest = work / "m.toml"
    lines = ['[bundle]\nname = "Demo"\nversion = "v1"\ntitle = "Demo reading list"\n']
    lines.append('redistribute = "granted"\n')
    for i, p in enumerate(PAPERS):
        section = "Attention" if i < 2 else "Decoding"
        lines.append(
            f'\n[[papers]]\nkey = "k{i}"\ntitle = "{p.title}"\n'
            f'url = "https://arxiv.org/abs/{p.arxiv_id}"\nsection = "{section}"\n'
        )
    manifest.write_text("".join(lines), encoding="utf-8")
    srv = ArxivServer()
    for p in PAPERS:
        srv.add(p)
    net = ["--cache-dir", str(work / "cache"), "--mirror", srv.mirror, "--min-interval", "0"]
    try:
        if main(["lock", str(manifest), *net, "--arxiv-api", srv.url]) != 0:
            return 1
        code = main(["build", str(manifest), "-o", str(work / "out"), *net])
    finally:
        srv.close()
    notes = (work / "out" / "Demo-v1-notes.md").read_text(encoding="utf-8")
    print(notes[notes.index("## Licences") : notes.index("## Assets")].strip())
    pdf = work / "out" / "Demo-v1.pdf"
    for page, name in ((2, "contents"), (5, "standin")):
        cmd = ["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run([*cmd, str(pdf), str(work / name)], check=True)
        print(f"wrote {work / name}.png")
    return code


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="pb-lic-"))
    out.mkdir(parents=True, exist_ok=True)
    sys.exit(run(out))
