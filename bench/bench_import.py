"""How well `paperbundle import` reads real READMEs: one row per README in ../shared.

    .venv/bin/python bench/bench_import.py [README.md ...]

Columns: papers in the README (an independent count: distinct arXiv ids and distinct .pdf links,
by a simple regex), papers written, lost (counted but not written), titles and section names with
leftover markup, and whether `paperbundle check` accepts the manifest.

A second table times `import --update`: the manifest of an older README (every 10th line with an
arXiv abs link left out) updated with the full one; papers added, whether it then holds the same
papers as a fresh import, whether a second run leaves the file byte-identical, and `check`.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

ARXIV_RE = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|ar5iv(?:\.labs\.arxiv)?\.org/(?:abs|html)/|"
    r"alphaxiv\.org/abs/|huggingface\.co/papers/|10\.48550/arxiv\.)(\d{4}\.\d{4,5})",
    re.IGNORECASE,
)
FTP_RE = re.compile(r"arxiv\.org/ftp/arxiv/papers/\d{4}/(\d{4}\.\d{4,5})\.pdf", re.IGNORECASE)
# a link ending in .pdf (not .pdf.zip), optionally with a query or fragment
PDF_RE = re.compile(r"https?://[^\s)\]>\"'|]+?\.pdf(?=[\s)\]>\"'|?#]|$)", re.IGNORECASE)
LEFTOVER_RE = re.compile(
    r"\]\(|\*\*|`|<[a-z/][^>]*>|&[a-z]+;|&#\d+;|^\s*(?:\d+[.)]|\d+(?:\.\d+)+\.?)(?:\s|$)|^\s*\[[^\]]+\]\s|"
    r"\(@|https?://|\bback to top\b|\(back\)|[\U0001f000-\U0001faff\u2600-\u27bf]",
    re.IGNORECASE,
)


def independent(text: str) -> tuple[set[str], set[str]]:
    """(arXiv ids, other PDF links) named anywhere in the README."""
    ids = {m.group(1) for m in ARXIV_RE.finditer(text)}
    ids |= {m.group(1) for m in FTP_RE.finditer(text)}
    pdfs = {u.lower() for u in PDF_RE.findall(text) if "arxiv.org" not in u.lower()}
    # a GitHub/Hugging Face page of a PDF is fetched from its raw/resolve address
    pdfs = {
        re.sub(r"^(https?://(?:www\.)?github\.com/[^/]+/[^/]+)/blob/", r"\1/raw/", u) for u in pdfs
    }
    pdfs = {re.sub(r"^(https?://huggingface\.co/.+?)/blob/", r"\1/resolve/", u) for u in pdfs}
    return ids, pdfs


# a :shortcode: stands apart and names something ("2:4:" and "V:N:M" are not shortcodes)
SHORTCODE_RE = re.compile(r"(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:")


def leftover(s: str) -> bool:
    return len(s) > 300 or bool(LEFTOVER_RE.search(s) or SHORTCODE_RE.search(s))


def row(readme: Path, work: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    ids, pdfs = independent(text)
    out = work / f"{readme.stem}.toml"
    exe = ROOT / ".venv" / "bin" / "paperbundle"
    imp = subprocess.run(
        [str(exe), "import", str(readme), "-o", str(out), "--force"], capture_output=True
    )
    if imp.returncode != 0:
        n = str(len(ids) + len(pdfs))
        return [readme.name, n, "0", "-", "-", "-", f"exit {imp.returncode}"]
    papers = tomllib.loads(out.read_text(encoding="utf-8")).get("papers", [])
    blob = " ".join(p["url"].lower() for p in papers)
    got_ids = {m.group(1) for m in re.finditer(r"(\d{4}\.\d{4,5})", blob)}
    lost = len(ids - got_ids) + sum(1 for u in pdfs if u.split("://", 1)[-1] not in blob)
    titles = sum(leftover(p["title"]) for p in papers)
    sections = {p["section"] for p in papers if "section" in p}
    bad_sections = sum(leftover(s) for s in sections)
    check = subprocess.run([str(exe), "check", str(out)], capture_output=True)
    ok = "yes" if check.returncode == 0 else f"no ({check.returncode})"
    n = len(ids) + len(pdfs)
    return [
        readme.name,
        str(n),
        str(len(papers)),
        f"{lost} ({100 * lost / max(n, 1):.1f}%)",
        f"{titles} ({100 * titles / max(len(papers), 1):.1f}%)",
        f"{bad_sections}/{len(sections)}",
        ok,
    ]


def update_row(readme: Path, work: Path) -> list[str] | None:
    exe = str(ROOT / ".venv" / "bin" / "paperbundle")
    lines, n = [], 0
    for line in readme.read_text(encoding="utf-8").splitlines(keepends=True):
        if "arxiv.org/abs/" in line:
            n += 1
            if n % 10 == 0:
                continue
        lines.append(line)
    older = work / f"{readme.stem}-older.md"
    older.write_text("".join(lines), encoding="utf-8")
    m, fresh = work / f"{readme.stem}-up.toml", work / f"{readme.stem}-fresh.toml"
    for src, out in ((older, m), (readme, fresh)):
        if subprocess.run(
            [exe, "import", str(src), "-o", str(out)], capture_output=True
        ).returncode:
            return None
    t0 = time.perf_counter()
    up = subprocess.run([exe, "import", str(readme), "--update", str(m)], capture_output=True)
    took = time.perf_counter() - t0
    added = up.stdout.decode().count("\n- ")
    once = m.read_bytes()
    subprocess.run([exe, "import", str(readme), "--update", str(m)], capture_output=True)

    def keys(p: Path) -> list[str]:  # the papers, by URL (a key depends on the first title seen)
        return sorted(x["url"] for x in tomllib.loads(p.read_text(encoding="utf-8"))["papers"])

    check = subprocess.run([exe, "check", str(m)], capture_output=True).returncode
    return [
        readme.name,
        f"exit {up.returncode}, {took:.2f} s",
        str(added),
        "yes" if keys(m) == keys(fresh) else "no",
        "yes" if m.read_bytes() == once else "no",
        "yes" if check == 0 else f"no ({check})",
    ]


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    files = [Path(a) for a in argv] or sorted((SHARED / "readmes").glob("*.md")) + sorted(
        (SHARED / "seed").glob("*README*.md")
    )
    head = ["README", "in README", "written", "lost", "titles w/ leftovers", "sections", "check"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            print("| " + " | ".join(row(f, Path(tmp))) + " |")
        head = ["README", "--update", "added", "= fresh import", "2nd run identical", "check"]
        print("\n| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for f in files:
            r = update_row(f, Path(tmp))
            if r is not None:
                print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
