"""Test PDFs made on the spot with reportlab (and pypdf for the nasty parts).

``make_paper`` imitates a hyperref paper: every paper defines the *same* destination names
(``Doc-Start``, ``page.N``, ``section.N``, ``cite.ref``), links to them, and has a nested outline,
so a merge that mixes up names is caught.
"""

from __future__ import annotations

import base64
import io
import random
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas


def make_paper(title: str, pages: int = 4, *, rotate: int = 0, padding: int = 0) -> bytes:
    """A paper of ``pages`` pages; page 1 links to every section; the last page is the
    bibliography (``cite.ref``) and every page links to it. ``padding`` adds that many
    incompressible bytes (a comment in a content stream) to make the file bigger."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle(title)
    for n in range(1, pages + 1):
        c.bookmarkPage(f"page.{n}")
        if n == 1:
            c.bookmarkPage("Doc-Start")
        c.setFont("Helvetica-Bold", 18)
        c.drawString(72, 720, f"{title} - page {n}")
        c.setFont("Helvetica", 11)
        if n < pages:
            c.bookmarkPage(f"section.{n}", fit="XYZ", left=72, top=700)
            c.addOutlineEntry(f"{n} Section {n}", f"section.{n}", level=0)
            c.addOutlineEntry(f"{n}.1 Detail", f"page.{n}", level=1)
        else:
            c.bookmarkPage("cite.ref", fit="XYZ", left=72, top=700)
            c.addOutlineEntry("References", "cite.ref", level=0)
        # a citation on every page
        c.drawString(72, 650, "see [1]")
        c.linkAbsolute("", "cite.ref", (72, 645, 120, 660))
        if n == 1:
            for s in range(1, pages):
                y = 600 - 20 * s
                c.drawString(72, y, f"go to section {s}")
                c.linkAbsolute("", f"section.{s}", (72, y - 5, 200, y + 12))
        c.linkURL("https://example.org/" + title.replace(" ", "-"), (300, 645, 400, 660))
        c.drawString(300, 650, "external")
        c.showPage()
    c.save()
    return _use_names(buf.getvalue(), rotate, padding)


def _use_names(data: bytes, rotate: int, padding: int = 0) -> bytes:
    """reportlab resolves names at save time; put hyperref-style names back: a /Names tree
    with the same names in every paper, links as /Dest strings or /A GoTo, outline by name."""
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    n = len(w.pages)
    idx = {p.indirect_reference.idnum: i for i, p in enumerate(w.pages)}

    def name_for(page: int) -> str:
        return "cite.ref" if page == n - 1 else f"section.{page + 1}"

    names: dict[str, ArrayObject] = {}
    for i, page in enumerate(w.pages):
        ref = page.indirect_reference
        names[f"page.{i + 1}"] = ArrayObject([ref, NameObject("/Fit")])
        top = [NameObject("/XYZ"), FloatObject(72), FloatObject(700), NumberObject(0)]
        names[name_for(i)] = ArrayObject([ref, *top])
    names["Doc-Start"] = ArrayObject([w.pages[0].indirect_reference, NameObject("/Fit")])
    flat = ArrayObject()
    for k in sorted(names):
        flat += [TextStringObject(k), names[k]]
    w._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/Dests"): DictionaryObject({NameObject("/Names"): flat})}
    )
    use_action = False
    for page in w.pages:
        for a in page.get("/Annots") or []:
            a = a.get_object()
            dest = a.get("/Dest")
            if dest is None:
                continue
            target = idx[dest[0].idnum]
            name = TextStringObject(name_for(target))
            del a["/Dest"]
            if use_action:
                a[NameObject("/A")] = DictionaryObject(
                    {NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): name}
                )
            else:
                a[NameObject("/Dest")] = name
            use_action = not use_action
    item = w._root_object["/Outlines"].get_object().get("/First")
    while item is not None:
        d = item.get_object()
        target = idx[d["/Dest"][0].idnum]
        d[NameObject("/Dest")] = TextStringObject(name_for(target))
        item = d.get("/Next")
    if rotate:
        for p in w.pages:
            p.rotate(rotate)
    if padding:
        filler = StreamObject()
        filler.set_data(b"% " + base64.b85encode(random.Random(padding).randbytes(padding)) + b"\n")
        page = w.pages[0]
        contents = page.raw_get("/Contents")
        arr = contents if isinstance(contents, ArrayObject) else ArrayObject([contents])
        arr.append(w._add_object(filler))
        page[NameObject("/Contents")] = arr
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def _annot(writer: PdfWriter, page_index: int, extra: dict[str, object]) -> None:
    d = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Rect"): ArrayObject([FloatObject(x) for x in (10, 10, 50, 50)]),
        }
    )
    for k, v in extra.items():
        d[NameObject(k)] = v  # type: ignore[assignment]
    page = writer.pages[page_index]
    if "/Annots" not in page:
        page[NameObject("/Annots")] = ArrayObject()
    page["/Annots"].append(writer._add_object(d))


def make_active_paper(title: str = "Active") -> bytes:
    """A paper carrying every kind of active content the bundle must not pass on."""
    w = PdfWriter(clone_from=PdfReader(io.BytesIO(make_paper(title, 2))))
    js = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
    )
    root = w._root_object
    names = root["/Names"].get_object()
    names[NameObject("/JavaScript")] = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("doc"), js])}
    )
    root[NameObject("/OpenAction")] = js
    root[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): js})
    w.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): js})
    w.add_attachment("payload.txt", b"hello")
    launch = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    _annot(w, 0, {"/Subtype": NameObject("/Link"), "/A": launch})
    _annot(w, 0, {"/Subtype": NameObject("/Link"), "/A": js})
    _annot(
        w,
        1,
        {
            "/Subtype": NameObject("/Link"),
            "/A": DictionaryObject(
                {
                    NameObject("/S"): NameObject("/URI"),
                    NameObject("/URI"): TextStringObject("https://example.org/x"),
                    NameObject("/Next"): js,
                }
            ),
        },
    )
    _annot(w, 1, {"/Subtype": NameObject("/FileAttachment"), "/Contents": TextStringObject("f")})
    _annot(
        w,
        1,
        {
            "/Subtype": NameObject("/Text"),
            "/Contents": TextStringObject("a note that stays"),
            "/AA": DictionaryObject({NameObject("/E"): js}),
        },
    )
    _annot(
        w,
        1,
        {
            "/Subtype": NameObject("/Link"),
            "/Dest": ArrayObject([w.pages[0].indirect_reference, NameObject("/Fit")]),
            "/F": NumberObject(4),
        },
    )
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
