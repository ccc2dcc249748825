# ruff: noqa: E501  (raw PDF objects read best on one line each)
"""Hostile PDFs whose trees list a node twice or loop back: each build runs the CLI in a subprocess
under a time bound, so a walk that explodes fails the test instead of hanging it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from pypdf import PdfReader

from tests import measure, rawpdf

LEVELS = 30  # 2**30 paths if a node listed twice were walked twice


def _paper(extra_root: str, more: dict[int, str]) -> dict[int, str | tuple[str, bytes]]:
    objs: dict[int, str | tuple[str, bytes]] = {
        1: f"<< /Type /Catalog /Pages 2 0 R {extra_root} >>",
        2: rawpdf.pages_node("3 0 R", 1),
        3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [6 0 R] >>",
        5: rawpdf.content("hostile"),
        6: "<< /Type /Annot /Subtype /Link /Rect [0 0 50 50] /Dest (there) >>",
        7: rawpdf.FONT,
    }
    objs.update(more)  # may replace the page
    return objs


def doubled_name_tree() -> dict[int, str | tuple[str, bytes]]:
    """A /Dests name tree: every level lists the next node twice, the last links back to the top."""
    nodes = {100 + i: f"<< /Kids [{101 + i} 0 R {101 + i} 0 R] >>" for i in range(LEVELS)}
    nodes[100 + LEVELS] = "<< /Names [(there) [3 0 R /Fit]] /Kids [100 0 R] >>"
    return _paper("/Names << /Dests 100 0 R >>", nodes)


def doubled_field_tree() -> dict[int, str | tuple[str, bytes]]:
    """Form fields: each lists its kid twice, /Parent loops, the last field's /Kids cycles to the top."""
    nodes = {
        100 + i: f"<< /T (f{i}) /Kids [{101 + i} 0 R {101 + i} 0 R] /Parent {100 + i} 0 R >>"
        for i in range(LEVELS)
    }
    nodes[100 + LEVELS] = (
        f"<< /FT /Tx /T (leaf) /Type /Annot /Subtype /Widget /Rect [100 100 300 130] /P 3 0 R "
        f"/Kids [100 0 R] /Parent {99 + LEVELS} 0 R >>"
    )
    nodes[3] = f"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [6 0 R {100 + LEVELS} 0 R] >>"
    return _paper("/AcroForm << /Fields [100 0 R 100 0 R] >>", nodes)


def outline_cycles() -> dict[int, str | tuple[str, bytes]]:
    """Outline items whose /Next and /First point back at themselves and at the root."""
    return _paper(
        "/Outlines 100 0 R",
        {
            100: "<< /Type /Outlines /First 101 0 R /Last 101 0 R >>",
            101: "<< /Title (a) /Parent 100 0 R /Dest [3 0 R /Fit] /Next 101 0 R /First 102 0 R >>",
            102: "<< /Title (b) /Parent 101 0 R /Dest [3 0 R /Fit] /Next 101 0 R /First 101 0 R >>",
        },
    )


def build(
    tmp_path: Path, name: str, objs: dict[int, str | tuple[str, bytes]]
) -> tuple[int, str, float, Path]:
    pdf = rawpdf.write(tmp_path / f"{name}.pdf", objs)
    m = tmp_path / f"{name}.toml"
    m.write_text(
        f'[bundle]\nname = "h"\nversion = "v1"\n[[papers]]\nkey = "{name}"\ntitle = "T"\npath = "{pdf}"\n'
    )
    out = tmp_path / f"out-{name}"
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "paperbundle", "build", str(m), "-o", str(out), "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return p.returncode, p.stderr, time.monotonic() - t0, out / "h-v1.pdf"


def verify(bundle: Path) -> tuple[int, str]:
    p = subprocess.run(
        [sys.executable, "-m", "paperbundle", "verify", str(bundle.with_suffix(".zip"))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return p.returncode, p.stdout + p.stderr


def test_a_name_tree_listing_a_node_twice_costs_once(tmp_path: Path) -> None:
    code, err, secs, pdf = build(tmp_path, "names", doubled_name_tree())
    assert code == 0 and "Traceback" not in err, err
    assert secs < 30
    assert "paper.names" in PdfReader(pdf).named_destinations
    assert verify(pdf)[0] == 0


def test_a_field_tree_listing_a_node_twice_costs_once(tmp_path: Path) -> None:
    code, err, secs, pdf = build(tmp_path, "fields", doubled_field_tree())
    assert code == 0 and "Traceback" not in err, err
    assert secs < 30
    r = PdfReader(pdf)
    fields = r.get_fields() or {}
    assert any(k.endswith("leaf") for k in fields), list(fields)
    assert verify(pdf)[0] == 0


def test_outline_cycles_through_next_and_first_end(tmp_path: Path) -> None:
    code, err, secs, pdf = build(tmp_path, "outline", outline_cycles())
    assert code == 0 and "Traceback" not in err, err
    assert secs < 30
    titles = [str(o.title) for o in PdfReader(pdf).outline if not isinstance(o, list)]
    assert "T" in titles
    assert verify(pdf)[0] == 0


def _bad_page(
    page: str, extra: dict[int, str | tuple[str, bytes]] | None = None
) -> dict[int, str | tuple[str, bytes]]:
    return {
        1: "<< /Type /Catalog /Pages 2 0 R >>",
        2: "<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 7 0 R >> >> >>",
        3: f"<< /Type /Page /Parent 2 0 R /Contents 5 0 R {page} >>",
        5: rawpdf.content("broken"),
        7: rawpdf.FONT,
        **(extra or {}),
    }


BROKEN = {
    "nomediabox": _bad_page(""),
    "shortbox": _bad_page("/MediaBox [0 0 612]"),
    "deep": _bad_page(
        "/MediaBox [0 0 612 792] /Annots [8 0 R]",
        {
            8: "<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /Foo 9 0 R >>",
            9: "[" * 100_000 + "]" * 100_000,
        },
    ),
}


def test_each_broken_paper_is_an_error_naming_it_and_keep_going_leaves_it_out(
    tmp_path: Path,
) -> None:
    good = rawpdf.write(tmp_path / "good.pdf", outline_cycles())
    for name, objs in BROKEN.items():
        bad = rawpdf.write(tmp_path / f"{name}.pdf", objs)
        m = tmp_path / f"{name}.toml"
        m.write_text(
            '[bundle]\nname = "h"\nversion = "v1"\n'
            f'[[papers]]\nkey = "good"\ntitle = "Good"\npath = "{good}"\n'
            f'[[papers]]\nkey = "{name}"\ntitle = "Bad"\npath = "{bad}"\n'
        )
        for more, want in (([], 1), (["--keep-going"], 3)):
            t0 = time.monotonic()
            p = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "paperbundle",
                    "build",
                    str(m),
                    "-o",
                    str(tmp_path / f"o-{name}{want}"),
                    "--quiet",
                    *more,
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert time.monotonic() - t0 < 30
            assert p.returncode == want, (name, p.returncode, p.stderr)
            assert "Traceback" not in p.stderr, p.stderr
            assert f"{name} ({bad}): unreadable: " in p.stderr, p.stderr
        assert len(PdfReader(tmp_path / f"o-{name}3" / "h-v1.pdf").pages) == 2 + 1


SAFE_URIS = ["https://example.org/a", "HTTP://example.org/b", "mailto:a@example.org"]
UNSAFE_URIS = [
    "\\\\host\\share\\x",
    "javascript\0:app.alert(1)",
    " JaVaScRiPt:app.alert(2)",
    "java\tscript:app.alert(3)",
    "\u202ejavascript:app.alert(4)".encode("utf-16-be").decode("latin-1"),
    "file:///etc/passwd",
    "data:text/html,x",
    "ftp://example.org/c",
    "//example.org/no-scheme",
    "relative/path.html",
]


def test_links_keep_only_http_https_and_mailto(tmp_path: Path) -> None:
    uris = SAFE_URIS + UNSAFE_URIS
    annots = " ".join(f"{20 + i} 0 R" for i in range(len(uris)))
    objs = _paper("", {3: f"<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [{annots}] >>"})
    for i, u in enumerate(uris):
        hexed = u.encode("latin-1").hex()
        objs[20 + i] = (
            f"<< /Type /Annot /Subtype /Link /Rect [0 {i * 20} 50 {i * 20 + 10}] "
            f"/A << /S /URI /URI <{hexed}> >> >>"
        )
    code, err, secs, pdf = build(tmp_path, "links", objs)
    assert code == 0 and secs < 30, err
    kept = set()
    for page in PdfReader(pdf).pages:
        for a in page.get("/Annots") or []:
            action = a.get_object().get("/A")
            if action is not None and "/URI" in action:
                kept.add(str(action["/URI"]))
    # the front matter adds its own homepage link
    assert set(SAFE_URIS) <= kept and len(kept) == len(SAFE_URIS) + 1, kept
    assert all(k.lower().startswith(("http://", "https://", "mailto:")) for k in kept), kept
    assert verify(pdf)[0] == 0


def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    m = tmp_path / "m.toml"
    m.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "paperbundle", "check", str(m)],
        capture_output=True,
        text=True,
        timeout=60,
    )


PAPER = '[[papers]]\nkey = "a"\ntitle = "A"\nurl = "https://example.org/a.pdf"\n'


def test_manifests_with_control_or_bidi_characters_are_refused(tmp_path: Path) -> None:
    cases = {
        'name = "h\\n"\nversion = "v1"\n': "bundle.name",
        'name = "h"\nversion = "v1\\n"\n': "bundle.version",
        'name = "h"\nversion = "v1"\ntitle = "evil\\u202Etxt.exe"\n': "bundle.title",
        'name = "h"\nversion = "v1"\ntitle = "a\\u009Bb"\n': "bundle.title",
        'name = "h"\nversion = "v1"\ntitle = "a\\u007Fb"\n': "bundle.title",
        'name = "h"\nversion = "v1"\ntitle = "a\\u001B[31mred"\n': "bundle.title",
        'name = "h"\nversion = "v1"\ncurator = "a\\u2066b"\n': "bundle.curator",
        'name = "h"\nversion = "v1"\ndescription = "a\\u0007b"\n': "bundle.description",
    }
    for body, where in cases.items():
        p = _check(tmp_path, "[bundle]\n" + body + PAPER)
        assert p.returncode == 2, (body, p.stderr)
        assert where in p.stderr, (body, p.stderr)
        assert "\x1b" not in p.stderr and "\u202e" not in p.stderr and "\x9b" not in p.stderr
    p = _check(
        tmp_path, '[bundle]\nname = "h"\nversion = "v1"\n' + PAPER.replace('"a"', '"a\\n"', 1)
    )
    assert p.returncode == 2 and "papers[0].key" in p.stderr, p.stderr
    # tab and newline in description, and the zero-width joiners, are fine
    ok = '[bundle]\nname = "h"\nversion = "v1"\ndescription = "a\\tb\\nc"\ntitle = "x\\u200Dy\\u200Fz"\n'
    p = _check(tmp_path, ok + PAPER)
    assert p.returncode == 0, p.stderr


def wide_trees(n: int) -> dict[int, str | tuple[str, bytes]]:
    """A /Dests name tree and a form field tree of more than ``n`` nodes each (two levels of
    100 kids: pypdf reads no array that long), past the node cap; the page's second link names
    the last leaf, which the cut leaves out."""
    mids = -(-n // 100)
    more: dict[int, str | tuple[str, bytes]] = {
        3: "<< /Type /Page /Parent 2 0 R /Contents 5 0 R /Annots [6 0 R 8 0 R] >>",
        8: "<< /Type /Annot /Subtype /Link /Rect [60 0 110 50] /Dest (first) >>",
    }
    for tree, top, base in (("names", 100, 1000), ("fields", 200, 1000 + mids * 101)):
        kids = " ".join(f"{base + m * 101} 0 R" for m in range(mids))
        more[top] = (
            f"<< /T (top) /Kids [{kids}] >>" if tree == "fields" else f"<< /Kids [{kids}] >>"
        )
        for m in range(mids):
            mid = base + m * 101
            leaves = range(mid + 1, mid + 101)
            parent = f"/Parent {top} 0 R" if tree == "fields" else ""
            more[mid] = f"<< /T (m{m}) {parent} /Kids [{' '.join(f'{i} 0 R' for i in leaves)}] >>"
            for j, i in enumerate(leaves):
                if tree == "fields":
                    more[i] = f"<< /T (f{j}) /Parent {mid} 0 R >>"
                else:
                    last = m == mids - 1 and j == 99
                    name = "first" if m == j == 0 else "there" if last else f"n{m}.{j}"
                    more[i] = f"<< /Names [({name}) [3 0 R /Fit]] >>"
    return _paper("/Names << /Dests 100 0 R >> /AcroForm << /Fields [200 0 R] >>", more)


def test_trees_past_the_node_cap_are_cut_with_a_warning_and_verify_accepts(
    tmp_path: Path,
) -> None:
    from paperbundle.assemble.model import MAX_TREE_NODES

    pdf = rawpdf.write(tmp_path / "wide.pdf", wide_trees(MAX_TREE_NODES + 10))
    m = tmp_path / "wide.toml"
    m.write_text(
        f'[bundle]\nname = "h"\nversion = "v1"\n[[papers]]\nkey = "wide"\ntitle = "T"\npath = "{pdf}"\n'
    )
    t0 = time.monotonic()
    p = subprocess.run(
        [sys.executable, "-m", "paperbundle", "build", str(m), "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - t0 < 60
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert f"wide: destinations: name tree cut at {MAX_TREE_NODES:,} nodes" in p.stderr, p.stderr
    assert f"wide: form fields: cut at {MAX_TREE_NODES:,} fields" in p.stderr, p.stderr
    out = tmp_path / "o" / "h-v1.pdf"
    page = PdfReader(out).pages[-1]
    dests = [a.get_object().get("/Dest") for a in page.get("/Annots") or []]
    assert len([d for d in dests if d is not None]) == 1  # (first) resolved; (there) was cut
    assert verify(out)[0] == 0
    if shutil.which("qpdf"):
        ok, text = measure.qpdf_check(out)
        assert ok, text
