"""Small formatting helpers shared by every stage that talks to people."""

from __future__ import annotations

import re


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


MAX_OUTLINE_TITLE = 512  # characters of one outline title


def outline_title(text: str) -> str:
    """An outline title as the bundle shows it: one line, no control or bidi override
    characters, at most MAX_OUTLINE_TITLE characters (verify compares titles so too)."""
    return cap_text(" ".join(safe_text(text).split()), MAX_OUTLINE_TITLE)


# C0 controls, DEL, C1 controls, and the bidi embeddings, overrides and isolates: characters that
# can rewrite a terminal or reorder what a reader sees. U+200C-U+200F (the joiners and marks
# Arabic and Persian text needs) are not among them.
_HOSTILE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# scheme://user:password@  (the password is what we never show)
_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/?#@\s:]*):[^/?#@\s]*@")


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every hostile character (see above) but those in ``keep`` written as an
    escape: ``\\x1b``, ``\\u202e``."""

    def sub(m: re.Match[str]) -> str:
        c = m.group()
        if c in keep:
            return c
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"

    return _HOSTILE.sub(sub, text)


def redact(text: str) -> str:
    """Every ``scheme://user:password@`` in ``text`` as ``scheme://user:***@``."""
    return _PASSWORD.sub(r"\1:***@", text)


def for_terminal(text: str) -> str:
    """A message as it may reach a terminal: no password, no hostile character (but newlines,
    which separate the lines of one message)."""
    return escape_controls(redact(text), keep="\n")
