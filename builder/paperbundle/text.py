"""Text setting for the generated pages: bundled fonts, per-character font choice, measuring,
wrapping, Arabic shaping and right-to-left reordering.

Only the fonts shipped in ``paperbundle/fonts/`` are used, never the machine's. Each character is
set in the first font of the chain that has a glyph for it (DejaVu Sans for Latin, Greek, Cyrillic
and Arabic; WenQuanYi Micro Hei for CJK: Han, kana, Hangul). A character no bundled font covers
is removed by :func:`clean` and reported to the caller, so nothing is ever drawn as a box.

Arabic is shaped here (contextual forms and lam-alef ligatures, via the Unicode presentation forms
that DejaVu Sans carries) and each line is put in visual order by a small subset of the Unicode
bidirectional algorithm (no explicit embeddings), which is enough for titles.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from paperbundle import signals

FONT_DIR = Path(__file__).with_name("fonts")

# (registered name, file). Registered names carry a prefix so they never clash with fonts a caller
# registers in the same process.
_FONT_FILES: dict[str, str] = {
    "PB-DejaVuSans": "DejaVuSans.ttf",
    "PB-DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "PB-WenQuanYiMicroHei": "wqy-microhei.ttc",  # TrueType collection: its first face
}
REGULAR_CHAIN: tuple[str, ...] = ("PB-DejaVuSans", "PB-WenQuanYiMicroHei")
BOLD_CHAIN: tuple[str, ...] = ("PB-DejaVuSans-Bold", "PB-DejaVuSans", "PB-WenQuanYiMicroHei")
# Fonts without a bold face: bold text set in them is emboldened by stroking the outline.
_NO_BOLD_FACE = frozenset({"PB-DejaVuSans", "PB-WenQuanYiMicroHei"})
_FAUX_BOLD_STROKE = 0.035  # stroke width as a fraction of the font size

# Invisible format characters, dropped silently (they select or join glyphs; never "missing"):
# zero-width space/joiners, bidi embeddings, overrides and isolates (the layout orders the text
# itself), word joiner, BOM, variation selectors, tag characters.
_IGNORABLE_RE = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufe00-\ufe0f"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)


@functools.cache
def register_fonts() -> tuple[str, ...]:
    """Register the bundled fonts with reportlab (once per process); return their names."""
    for name, file in _FONT_FILES.items():
        path = FONT_DIR / file
        if not path.is_file():  # a broken installation, not a user error
            raise RuntimeError(f"bundled font missing: {path}")
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
        except TTFError:
            if signals.interrupted():  # reportlab turns an interrupt while loading into this
                raise KeyboardInterrupt from None
            raise
    return tuple(_FONT_FILES)


@functools.cache
def _coverage(font_name: str) -> frozenset[int]:
    register_fonts()
    font: Any = pdfmetrics.getFont(font_name)
    return frozenset(c for c, g in font.face.charToGlyph.items() if g)


def _chain(bold: bool) -> tuple[str, ...]:
    return BOLD_CHAIN if bold else REGULAR_CHAIN


@functools.cache
def font_for(ch: str, bold: bool) -> str | None:
    """The first font of the chain with a glyph for ``ch`` (None: no bundled font has one)."""
    cp = ord(ch)
    for name in _chain(bold):
        if cp in _coverage(name):
            return name
    return None


def covered(ch: str) -> bool:
    return font_for(ch, False) is not None and font_for(ch, True) is not None


# --------------------------------------------------------------------------- cleaning


def clean(text: str) -> tuple[str, tuple[int, ...]]:
    """Prepare logical text for setting: NFC, Arabic shaping, characters no font has removed.

    Returns the text and the code points that were left out (in order of first appearance).
    Control characters become spaces; invisible format characters are dropped silently.
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in text)
    # Shaped before the format characters go: a zero-width non-joiner keeps two Persian
    # letters apart, a joiner holds them together, and neither is drawn.
    text = _IGNORABLE_RE.sub("", shape_arabic(text))
    missing: dict[int, None] = {}
    out = []
    for c in text:
        if c == " " or covered(c):
            out.append(c)
        else:
            missing[ord(c)] = None
    result = "".join(out)
    if missing:  # a removed emoji can leave doubled or dangling spaces
        result = re.sub(r" {2,}", " ", result).strip()
    return result, tuple(missing)


# --------------------------------------------------------------------------- Arabic shaping

# base letter -> (isolated, final, initial, medial); initial/medial None for right-joining letters.
_ARABIC_FORMS: dict[int, tuple[int, int | None, int | None, int | None]] = {
    0x0621: (0xFE80, None, None, None),
    0x0622: (0xFE81, 0xFE82, None, None),
    0x0623: (0xFE83, 0xFE84, None, None),
    0x0624: (0xFE85, 0xFE86, None, None),
    0x0625: (0xFE87, 0xFE88, None, None),
    0x0626: (0xFE89, 0xFE8A, 0xFE8B, 0xFE8C),
    0x0627: (0xFE8D, 0xFE8E, None, None),
    0x0628: (0xFE8F, 0xFE90, 0xFE91, 0xFE92),
    0x0629: (0xFE93, 0xFE94, None, None),
    0x062A: (0xFE95, 0xFE96, 0xFE97, 0xFE98),
    0x062B: (0xFE99, 0xFE9A, 0xFE9B, 0xFE9C),
    0x062C: (0xFE9D, 0xFE9E, 0xFE9F, 0xFEA0),
    0x062D: (0xFEA1, 0xFEA2, 0xFEA3, 0xFEA4),
    0x062E: (0xFEA5, 0xFEA6, 0xFEA7, 0xFEA8),
    0x062F: (0xFEA9, 0xFEAA, None, None),
    0x0630: (0xFEAB, 0xFEAC, None, None),
    0x0631: (0xFEAD, 0xFEAE, None, None),
    0x0632: (0xFEAF, 0xFEB0, None, None),
    0x0633: (0xFEB1, 0xFEB2, 0xFEB3, 0xFEB4),
    0x0634: (0xFEB5, 0xFEB6, 0xFEB7, 0xFEB8),
    0x0635: (0xFEB9, 0xFEBA, 0xFEBB, 0xFEBC),
    0x0636: (0xFEBD, 0xFEBE, 0xFEBF, 0xFEC0),
    0x0637: (0xFEC1, 0xFEC2, 0xFEC3, 0xFEC4),
    0x0638: (0xFEC5, 0xFEC6, 0xFEC7, 0xFEC8),
    0x0639: (0xFEC9, 0xFECA, 0xFECB, 0xFECC),
    0x063A: (0xFECD, 0xFECE, 0xFECF, 0xFED0),
    0x0641: (0xFED1, 0xFED2, 0xFED3, 0xFED4),
    0x0642: (0xFED5, 0xFED6, 0xFED7, 0xFED8),
    0x0643: (0xFED9, 0xFEDA, 0xFEDB, 0xFEDC),
    0x0644: (0xFEDD, 0xFEDE, 0xFEDF, 0xFEE0),
    0x0645: (0xFEE1, 0xFEE2, 0xFEE3, 0xFEE4),
    0x0646: (0xFEE5, 0xFEE6, 0xFEE7, 0xFEE8),
    0x0647: (0xFEE9, 0xFEEA, 0xFEEB, 0xFEEC),
    0x0648: (0xFEED, 0xFEEE, None, None),
    0x0649: (0xFEEF, 0xFEF0, None, None),
    0x064A: (0xFEF1, 0xFEF2, 0xFEF3, 0xFEF4),
    # Persian and Urdu letters (presentation forms A)
    0x067E: (0xFB56, 0xFB57, 0xFB58, 0xFB59),
    0x0686: (0xFB7A, 0xFB7B, 0xFB7C, 0xFB7D),
    0x0698: (0xFB8A, 0xFB8B, None, None),
    0x06A9: (0xFB8E, 0xFB8F, 0xFB90, 0xFB91),
    0x06AF: (0xFB92, 0xFB93, 0xFB94, 0xFB95),
    0x06CC: (0xFBFC, 0xFBFD, 0xFBFE, 0xFBFF),
}
# lam + alef -> (isolated, final) ligature
_LAM_ALEF: dict[int, tuple[int, int]] = {
    0x0622: (0xFEF5, 0xFEF6),
    0x0623: (0xFEF7, 0xFEF8),
    0x0625: (0xFEF9, 0xFEFA),
    0x0627: (0xFEFB, 0xFEFC),
}
_TATWEEL = 0x0640


def _joining(cp: int) -> str:
    """Joining type: D (dual), R (right), C (join-causing), T (transparent), U (none)."""
    if cp == _TATWEEL or cp == 0x200D:
        return "C"
    forms = _ARABIC_FORMS.get(cp)
    if forms is not None:
        if forms[1] is None:
            return "U"
        return "D" if forms[2] is not None else "R"
    if unicodedata.category(chr(cp)) == "Mn":
        return "T"
    return "U"


def shape_arabic(text: str) -> str:
    """Replace Arabic letters by their contextual presentation forms (logical order is kept)."""
    if not any(0x0600 <= ord(c) <= 0x06FF for c in text):
        return text
    cps = [ord(c) for c in text]
    kinds = [_joining(c) for c in cps]

    def neighbour(i: int, step: int) -> str:
        j = i + step
        while 0 <= j < len(cps) and kinds[j] == "T":
            j += step
        return kinds[j] if 0 <= j < len(cps) else "U"

    out: list[str] = []
    i = 0
    while i < len(cps):
        cp, kind = cps[i], kinds[i]
        if kind not in ("D", "R"):
            out.append(chr(cp))
            i += 1
            continue
        joins_prev = neighbour(i, -1) in ("D", "C")
        if cp == 0x0644 and i + 1 < len(cps) and cps[i + 1] in _LAM_ALEF:
            iso, fin = _LAM_ALEF[cps[i + 1]]
            out.append(chr(fin if joins_prev else iso))
            i += 2
            continue
        joins_next = kind == "D" and neighbour(i, 1) in ("D", "R", "C")
        iso_f, fin_f, ini_f, med_f = _ARABIC_FORMS[cp]
        if joins_prev and joins_next:
            form = med_f
        elif joins_prev:
            form = fin_f
        elif joins_next:
            form = ini_f
        else:
            form = iso_f
        out.append(chr(form if form is not None else iso_f))
        i += 1
    return "".join(out)


# --------------------------------------------------------------------------- bidi

_MIRROR = str.maketrans("()[]{}<>«»‹›", ")(][}{><»«›‹")


def _strong(c: str) -> str:
    """'L', 'R', 'N' (number) or '' (neutral)."""
    b = unicodedata.bidirectional(c)
    if b == "L":
        return "L"
    if b in ("R", "AL"):
        return "R"
    if b in ("EN", "AN"):
        return "N"
    return ""


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def base_direction(text: str) -> str:
    for c in text:
        s = _strong(c)
        if s in ("L", "R"):
            return s
    return "L"


_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _resolve_brackets(
    clusters: list[str],
    sides: list[str | None],
    levels: list[int | None],
    base: str,
    base_level: int,
) -> None:
    """Bracket pairs (a simplified rule N0): both brackets take one direction, so that
    "(GPT)" inside Arabic stays a unit."""
    stack: list[tuple[str, int]] = []
    pairs: list[tuple[int, int]] = []
    for i, cl in enumerate(clusters):
        c = cl[0]
        if c in _PAIRS:
            stack.append((_PAIRS[c], i))
        elif stack and c == stack[-1][0]:
            pairs.append((stack.pop()[1], i))
    for op, cl_i in sorted(pairs):
        inside = {sd for sd in sides[op + 1 : cl_i] if sd is not None}
        if not inside:
            continue
        if base in inside:
            side = base
        else:
            other = "R" if base == "L" else "L"
            before = next((sd for sd in reversed(sides[:op]) if sd is not None), base)
            side = other if before == other else base
        level = 1 if side == "R" else (0 if base_level == 0 else 2)
        for k in (op, cl_i):
            sides[k] = side
            levels[k] = level


def visual(line: str) -> str:
    """One line of logical text in visual (left-to-right drawing) order."""
    if not has_rtl(line):
        return line
    base = base_direction(line)
    base_level = 1 if base == "R" else 0
    # clusters: a base character with its combining marks stays together, in logical order
    clusters: list[str] = []
    for c in line:
        if clusters and unicodedata.category(c) in ("Mn", "Me"):
            clusters[-1] += c
        else:
            clusters.append(c)
    # per cluster: the side it counts as for neutrals ("L"/"R"; None: neutral) and its level
    sides: list[str | None] = []
    levels: list[int | None] = []
    last_strong = base
    for cl in clusters:
        t = _strong(cl[0])
        if t == "L":
            sides.append("L")
            levels.append(2 if base_level == 1 else 0)
            last_strong = "L"
        elif t == "R":
            sides.append("R")
            levels.append(1)
            last_strong = "R"
        elif t == "N":  # digits run left to right, inside whatever surrounds them
            side = "L" if last_strong == "L" else "R"
            sides.append(side)
            levels.append(0 if (side == "L" and base_level == 0) else 2)
        else:
            sides.append(None)
            levels.append(None)
    _resolve_brackets(clusters, sides, levels, base, base_level)
    # neutrals take the direction of the strong types around them when both sides agree
    n = len(clusters)
    i = 0
    while i < n:
        if sides[i] is not None:
            i += 1
            continue
        j = i
        while j < n and sides[j] is None:
            j += 1
        before = sides[i - 1] if i > 0 else base
        after = sides[j] if j < n else base
        if before == after == "R":
            fill = 1
        elif before == after == "L":
            fill = 0 if base_level == 0 else 2
        else:
            fill = base_level
        for k in range(i, j):
            levels[k] = fill
        i = j
    lv = [x if x is not None else base_level for x in levels]
    order = list(range(n))
    for level in range(max(lv), 0, -1):
        k = 0
        while k < n:
            if lv[order[k]] >= level:
                m = k
                while m < n and lv[order[m]] >= level:
                    m += 1
                order[k:m] = order[k:m][::-1]
                k = m
            else:
                k += 1
    return "".join(
        clusters[idx].translate(_MIRROR) if lv[idx] % 2 else clusters[idx] for idx in order
    )


# --------------------------------------------------------------------------- runs and measuring


@dataclass(frozen=True)
class Run:
    text: str
    font: str
    faux_bold: bool


def runs(text: str, bold: bool = False) -> list[Run]:
    """Split cleaned text into runs of one font each (spaces join the current run)."""
    out: list[Run] = []
    cur_font: str | None = None
    buf: list[str] = []
    for c in text:
        font = font_for(c, bold)
        if font is None:  # only a space can get here after clean(); set it in the current font
            font = cur_font or _chain(bold)[0]
        if c == " " and cur_font is not None:
            font = cur_font
        if font != cur_font and buf:
            assert cur_font is not None
            out.append(Run("".join(buf), cur_font, bold and cur_font in _NO_BOLD_FACE))
            buf = []
        cur_font = font
        buf.append(c)
    if buf and cur_font is not None:
        out.append(Run("".join(buf), cur_font, bold and cur_font in _NO_BOLD_FACE))
    return out


@functools.cache
def _char_width(c: str, bold: bool) -> float:
    """Advance width of ``c`` at 1000 units per em."""
    font = font_for(c, bold) or _chain(bold)[0]
    return float(pdfmetrics.stringWidth(c, font, 1000))


def width(text: str, size: float, bold: bool = False) -> float:
    return sum(_char_width(c, bold) for c in text) * size / 1000.0


def truncate(text: str, size: float, max_width: float, bold: bool = False) -> str:
    """``text`` shortened with an ellipsis so that it fits ``max_width``."""
    if width(text, size, bold) <= max_width:
        return text
    ell = "…"
    room = max_width - width(ell, size, bold)
    acc = 0.0
    cut = 0
    for i, c in enumerate(text):
        acc += _char_width(c, bold) * size / 1000.0
        if acc > room:
            break
        cut = i + 1
    return text[:cut].rstrip(" ,;·-") + ell if cut else ""


# --------------------------------------------------------------------------- wrapping


def _is_cjk(c: str) -> bool:
    cp = ord(c)
    return (
        0x2E80 <= cp <= 0x9FFF
        or 0xAC00 <= cp <= 0xD7AF
        or 0xF900 <= cp <= 0xFAFF
        or 0xFF00 <= cp <= 0xFFEF
        or 0x20000 <= cp <= 0x3FFFF
    )


# CJK punctuation that must not start a line, and opening punctuation that must not end one
_NO_START = set(
    "、。，．：；！？）」』】〕〉》’”・ー…‥々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ,.:;!?)]}"
)
_NO_END = set("（「『【〔〈《‘“([{")


def _tokens(text: str) -> Iterator[str]:
    """Break opportunities: words (split after hyphens and slashes), spaces, single CJK characters
    (kept with their closing punctuation)."""
    for part in re.split(r"( +)", text):
        if not part:
            continue
        if part.startswith(" "):
            yield " "
            continue
        chunk = ""
        for c in part:
            cjk = _is_cjk(c) or (chunk and _is_cjk(chunk[-1]))
            if cjk and chunk and c not in _NO_START and chunk[-1] not in _NO_END:
                yield chunk
                chunk = ""
            chunk += c
            if c in "-/" and len(chunk) > 2 and not _is_cjk(c):
                yield chunk
                chunk = ""
        if chunk:
            yield chunk


def wrap(
    text: str,
    size: float,
    max_width: float,
    bold: bool = False,
    *,
    first_width: float | None = None,
) -> list[str]:
    """Greedy line breaking of cleaned logical text. ``first_width``: a different width for the
    first line (text following a label). A word wider than a line is broken between characters."""
    lines: list[str] = []
    cur = ""
    cur_w = 0.0
    space_w = width(" ", size, bold)
    pending_space = False

    def limit() -> float:
        return first_width if (first_width is not None and not lines) else max_width

    for tok in _tokens(text):
        if tok == " ":
            pending_space = bool(cur)
            continue
        tw = width(tok, size, bold)
        add = (space_w if pending_space else 0.0) + tw
        if cur and cur_w + add <= limit():
            cur += (" " if pending_space else "") + tok
            cur_w += add
        else:
            if cur:
                lines.append(cur)
                cur, cur_w = "", 0.0
            if tw <= limit():
                cur, cur_w = tok, tw
            else:  # hard break inside the token
                for c in tok:
                    cw = width(c, size, bold)
                    if cur and cur_w + cw > limit():
                        lines.append(cur)
                        cur, cur_w = "", 0.0
                    cur += c
                    cur_w += cw
        pending_space = False
    if cur:
        lines.append(cur)
    return lines


# --------------------------------------------------------------------------- drawing


def draw(
    canvas: Any,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    bold: bool = False,
    color: Any = None,
    align: str = "left",
) -> float:
    """Draw one line of cleaned logical text with its baseline at ``y``; return its width.

    ``align``: "left" (x is the left edge), "right" (x is the right edge) or "center".
    """
    w = width(text, size, bold)
    if align == "right":
        x -= w
    elif align == "center":
        x -= w / 2
    if not text:
        return 0.0
    pieces = runs(visual(text), bold)
    canvas.saveState()
    if color is not None:
        canvas.setFillColor(color)
        canvas.setStrokeColor(color)
    if any(r.faux_bold for r in pieces):
        canvas.setLineWidth(size * _FAUX_BOLD_STROKE)
    t = canvas.beginText(x, y)
    mode = 0
    for r in pieces:
        t.setFont(r.font, size)
        want = 2 if r.faux_bold else 0
        if want != mode:
            t.setTextRenderMode(want)
            mode = want
        t.textOut(r.text)
    canvas.drawText(t)
    canvas.restoreState()
    return w
