"""A tiny raw PDF writer for adversarial test files that no library would produce on purpose.

``objs`` maps object numbers to their body text, or to ``(dict entries, stream bytes)``.
"""

from __future__ import annotations

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
