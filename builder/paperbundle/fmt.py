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
