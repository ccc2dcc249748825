"""Small formatting helpers shared by every stage that talks to people."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "paper")`` -> "1 paper"; ``plural(1234, "page")`` -> "1,234 pages";
    ``plural(3, "entry", "entries")`` -> "3 entries"."""
    return f"{n} {word}" if n == 1 else f"{n:,} {many or word + 's'}"


def human_size(n: int) -> str:
    """Bytes in powers of 1000, as the CLI's SIZE arguments: 1.5 MB."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


def hostile_char(c: str) -> bool:
    """C0 and C1 controls, DEL, and the bidi embeddings, overrides and isolates: characters that
    can rewrite a terminal or reorder what a reader sees (U+200C-U+200F stay allowed)."""
    o = ord(c)
    return o < 0x20 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069


def safe_text(text: str, keep: str = "") -> str:
    """``text`` without the characters :func:`hostile_char` names (but those in ``keep``): what
    a paper's outline, a manifest or an error message may put into an output file."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c for c in text if c in keep or not hostile_char(c))


def cap_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
