"""A tiny raw PDF writer for adversarial test files that no library would produce on purpose.

``objs`` maps object numbers to their body text, or to ``(dict entries, stream bytes)``.
"""

from __future__ import annotations

import struct
from pathlib import Path


def write(path: Path, objs: dict[int, str | tuple[str, bytes]], root: int = 1) -> Path:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for n in sorted(objs):
        offsets[n] = len(out)
        body = objs[n]
        if isinstance(body, tuple):
            entries, data = body
            out += f"{n} 0 obj\n<< {entries} /Length {len(data)} >>\nstream\n".encode()
            out += data + b"\nendstream\nendobj\n"
        else:
            out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    size = max(objs) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for n in range(1, size):
        out += (
            f"{offsets[n]:010d} 00000 n \n".encode() if n in offsets else b"0000000000 65535 f \n"
        )
    out += f"trailer\n<< /Size {size} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def content(text: str, y: int = 700) -> tuple[str, bytes]:
    return ("", f"BT /F1 24 Tf 72 {y} Td ({text}) Tj ET".encode())


FONT = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pages_node(kids: str, count: int, extra: str = "") -> str:
    return (
        f"<< /Type /Pages /Kids [{kids}] /Count {count} /Resources << /Font << /F1 7 0 R >> >> "
        f"/MediaBox [0 0 612 792] {extra}>>"
    )


def write_packed(
    path: Path, objs: dict[int, str | tuple[str, bytes]], packed: list[tuple[int, str]]
) -> Path:
    """Like :func:`write`, with the objects of ``packed`` (number, body; a number may repeat) in
    one object stream and a cross-reference stream instead of a table (PDF 1.5)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows: dict[int, tuple[int, int, int]] = {}

    def put(n: int, body: str | tuple[str, bytes]) -> None:
        rows[n] = (1, len(out), 0)
        if isinstance(body, tuple):
            entries, data = body
            out.extend(f"{n} 0 obj\n<< {entries} /Length {len(data)} >>\nstream\n".encode())
            out.extend(data + b"\nendstream\nendobj\n")
        else:
            out.extend(f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1"))

    for n in sorted(objs):
        put(n, objs[n])
    stm = max([*objs, *(n for n, _ in packed)]) + 1
    offsets, parts, pos = [], [], 0
    for n, body in packed:
        offsets.append(f"{n} {pos}")
        part = body.encode("latin-1") + b"\n"
        parts.append(part)
        pos += len(part)
    index = (" ".join(offsets) + "\n").encode()
    put(stm, (f"/Type /ObjStm /N {len(packed)} /First {len(index)}", index + b"".join(parts)))
    for i, (n, _) in reversed(list(enumerate(packed))):  # the first of a repeated number wins
        rows[n] = (2, stm, i)
    xref = stm + 1
    rows[xref] = (1, len(out), 0)
    rows[0] = (0, 0, 65535)
    size = xref + 1
    table = b"".join(struct.pack(">BIH", *rows.get(n, (0, 0, 0))) for n in range(size))
    entries = f"/Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R"
    start = len(out)
    put(xref, (entries, table))
    out.extend(f"startxref\n{start}\n%%EOF\n".encode())
    path.write_bytes(bytes(out))
    return path
