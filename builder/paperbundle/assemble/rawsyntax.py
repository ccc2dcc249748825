"""The syntax of PDF objects as bytes, as :mod:`paperbundle.assemble.rawcopy` reads them: the
tokens that matter when an object is copied without being parsed (references, strings, comments,
brackets, /Length), and literal strings decoded.
"""

from __future__ import annotations

import re

W = rb"\x00\t\n\x0c\r "  # PDF whitespace
D = rb"()<>\[\]{}/%"  # PDF delimiters
SPECIAL = re.compile(
    rb"(?P<ref>(?<![^" + W + rb"()<>\[\]{}])(\d+)[" + W + rb"]+(\d+)[" + W + rb"]+R"
    rb"(?![^" + W + D + rb"]))"
    rb"|(?P<len>/Length(?![^" + W + D + rb"]))"
    rb"|(?P<open><<)|(?P<close>>>)|(?P<hex><[^<>]*>)|(?P<lb>\[)|(?P<rb>\])"
    rb"|(?P<str>\()|(?P<cmt>%)|(?P<bad>[)<>{}])"
)
REF = re.compile(
    rb"(?<![^" + W + rb"()<>\[\]{}])(\d+)[" + W + rb"]+(\d+)[" + W + rb"]+R(?![^" + W + D + rb"])"
)
LENGTH_ENTRY = re.compile(
    rb"/Length(?![^" + W + D + rb"])[" + W + rb"]*(\d+)(?:[" + W + rb"]+(\d+)[" + W + rb"]+R)?"
    rb"(?![^" + W + D + rb"])"
)
BRACKETS = re.compile(rb"<<|>>|\[|\]")
# A stream's dictionary: the first "stream" keyword after it, no "endobj" before it (one object).
DICT_THEN_STREAM = re.compile(
    rb"[" + W + rb"]*<<(?:(?!endobj|stream).)*?(>>)[" + W + rb"]*stream(?:\r\n|\n|\r)", re.S
)
FAST_DICT = 4096  # bytes of a stream's dictionary the fast path looks at
NOT_FAST = re.compile(rb"[()%{}]|/Length(?![^" + W + D + rb"])(?![" + W + rb"]*\d)")
LONE_R = re.compile(rb"(?<![^" + W + rb"()<>\[\]{}])R(?![^" + W + D + rb"])")
HEX_OK = re.compile(rb"<[0-9A-Fa-f" + W + rb"]*>")
LEN_VALUE = re.compile(
    rb"[" + W + rb"]*(\d+)(?:[" + W + rb"]+(\d+)[" + W + rb"]+R)?(?![^" + W + D + rb"])"
)
HEADER = re.compile(rb"[" + W + rb"]*(\d+)[" + W + rb"]+(\d+)[" + W + rb"]+obj")
SIMPLE = re.compile(rb"[" + W + rb"]*(/?[^" + W + D + rb"]+)")
STREAM = re.compile(rb"[" + W + rb"]*stream(?:\r\n|\n|\r)")
ENDSTREAM = re.compile(rb"[" + W + rb"]*endstream")
ENDOBJ = re.compile(rb"[" + W + rb"]*endobj")
NAME = re.compile(rb"/[^" + W + D + rb"]*")
NAME_ESC = re.compile(rb"#([0-9A-Fa-f]{2})")
FILTER = re.compile(
    rb"/Filter[" + W + rb"]*(?:\[[" + W + rb"]*)?(/[^" + W + D + rb"]+|\d+[" + W + rb"]+\d)"
)
EOL = re.compile(rb"[\r\n]")
STR_SPECIAL = re.compile(rb"[()\\]")
ESCAPES = {
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("("): b"(",
    ord(")"): b")",
    ord("\\"): b"\\",
}
OCTAL = re.compile(rb"[0-7]{1,3}")


class Unsupported(Exception):
    """This paper's drawn objects are not copied as bytes; it takes pypdf's path."""


def literal(text: bytes, i: int) -> tuple[bytes, int]:
    """The bytes of the literal string opening at ``text[i]`` and the index after it."""
    out = bytearray()
    depth, j = 1, i + 1
    while True:
        m = STR_SPECIAL.search(text, j)
        if m is None:
            raise Unsupported("unterminated string")
        k = m.start()
        out += text[j:k]
        c = text[k]
        j = k + 1
        if c == 0x5C:  # backslash
            if j >= len(text):
                raise Unsupported("unterminated string")
            e = text[j]
            if e in ESCAPES:
                out += ESCAPES[e]
                j += 1
            elif 0x30 <= e <= 0x37:
                o = OCTAL.match(text, j)
                assert o is not None
                out.append(int(o.group(), 8) & 0xFF)
                j = o.end()
            elif e == 0x0D:  # a line continuation
                j += 2 if text[j + 1 : j + 2] == b"\n" else 1
            elif e == 0x0A:
                j += 1
            # any other character: the backslash is ignored
        elif c == 0x28:
            depth += 1
            out += b"("
        else:
            depth -= 1
            if depth == 0:
                return bytes(out), j
            out += b")"


class Scan:
    """Where a scan of one value stands."""

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.done = False  # the value's brackets have closed: only whitespace may follow
        self.out: list[bytes] = []
        self.size = 0  # bytes in out
        self.depth = 0
        self.span: tuple[int, int] | None = None  # of the /Length entry in the output

    def add(self, piece: bytes) -> None:
        self.out.append(piece)
        self.size += len(piece)


def ends_alone(body: bytes) -> bool:
    """Whether ``body`` (no strings or comments in it) is one value: nothing but whitespace after
    the brackets that open it close."""
    depth = 0
    for m in BRACKETS.finditer(body):
        depth += 1 if m.group() in (b"<<", b"[") else -1
        if depth < 0:
            return False
        if depth == 0:
            return not body[m.end() :].strip(b"\x00\t\n\x0c\r ")
    if depth:
        return False
    tokens = body.split()  # no brackets: one token, or a reference
    return len(tokens) <= 1 or (len(tokens) == 3 and tokens[2] == b"R")
