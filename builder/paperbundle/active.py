"""Active content in PDF objects: what it is, how to remove it, how to find it.

SPEC.md promises that JavaScript, open actions, additional actions, Launch actions and embedded
files from the inputs never reach the bundle. The assembler removes them while merging
(:func:`strip`, its last pass over every object) and ``verify`` checks a release for them
(:func:`count`). Both share these definitions, so what one removes the other looks for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NullObject,
    PdfObject,
    StreamObject,
)

# Keys that carry or trigger active content wherever they appear.
ACTIVE_KEYS = {
    "/AA": "additional actions (/AA)",
    "/OpenAction": "open action",
    "/JavaScript": "document JavaScript",
    "/JS": "JavaScript",
    "/EF": "embedded file",
    "/RF": "embedded related files",
    "/EmbeddedFiles": "embedded files",
    "/XFA": "XFA form",
    "/RichMediaContent": "rich media",
}
# Every action type (ISO 32000-2, 12.6.4); those not in SAFE_ACTIONS are removed.
ACTION_TYPES = {
    "/GoTo", "/GoToR", "/GoToE", "/GoToDp", "/Launch", "/Thread", "/URI", "/Sound", "/Movie",
    "/Hide", "/Named", "/SubmitForm", "/ResetForm", "/ImportData", "/SetOCGState", "/Rendition",
    "/Trans", "/GoTo3DView", "/JavaScript", "/RichMediaExecute", "/ECMAScript",
}  # fmt: skip
SAFE_ACTIONS = {"/GoTo", "/URI", "/Named"}
# All a kept action may hold: anything else could reach back into its source (a /Parent to the
# catalog, say) or chain another action.
SAFE_ACTION_KEYS = {"/Type", "/S", "/D", "/SD", "/URI", "/IsMap", "/N"}
# A link may open only these kinds of URI; javascript:, file:, data:, UNC paths (\\host\share),
# relative and scheme-less ones may not.
SAFE_SCHEMES = {"http", "https", "mailto"}
# Annotation types that carry or play embedded or active content.
DROPPED_ANNOTS = {"/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia", "/3D"}


def _unhidden(uri: str) -> str:
    """``uri`` without what a viewer might skip over: whitespace, C0 and C1 controls, DEL and
    the bidi embeddings, overrides and isolates (``java\0script:`` is ``javascript:``)."""
    return "".join(
        c
        for c in uri
        if not (
            c.isspace()
            or ord(c) < 0x20
            or 0x7F <= ord(c) <= 0x9F
            or 0x202A <= ord(c) <= 0x202E
            or 0x2066 <= ord(c) <= 0x2069
        )
    )


def uri_scheme(uri: str) -> str:
    """The scheme of ``uri``, case-folded, once hidden characters are gone ("" when none)."""
    clean = _unhidden(uri)
    head, sep, _ = clean.partition(":")
    if not sep or not head or not head[0].isascii() or not head[0].isalpha():
        return ""
    if not all(c.isascii() and (c.isalnum() or c in "+-.") for c in head):
        return ""
    return head.casefold()


def uri_allowed(uri: str) -> bool:
    return uri_scheme(uri) in SAFE_SCHEMES


def bad_action(x: PdfObject | None) -> str | None:
    """Why ``x`` is an action the bundle must not carry, or None."""
    if not isinstance(x, DictionaryObject):
        return None
    kind = str(x.get("/S", ""))
    if kind not in ACTION_TYPES:
        return None
    if kind not in SAFE_ACTIONS:
        return f"{kind[1:]} action"
    if kind == "/URI":
        uri = x.get("/URI")
        uri_s = str(uri.get_object()) if uri is not None else ""
        if not uri_allowed(uri_s):
            scheme = uri_scheme(uri_s)
            return f"URI action to {scheme}:" if scheme else "URI action without a safe scheme"
    return None


def _bad_object(x: PdfObject | None) -> str | None:
    """Why the object ``x`` itself may not be in the bundle, or None."""
    if isinstance(x, StreamObject) and x.get("/Type") == "/EmbeddedFile":
        return "embedded file"
    if (
        isinstance(x, DictionaryObject)
        and str(x.get("/Subtype", "")) in DROPPED_ANNOTS
        and ("/Rect" in x or x.get("/Type") == "/Annot")
    ):
        return f"annotation {str(x['/Subtype'])[1:]}"
    return bad_action(x)


def _walk(
    objects: Iterable[PdfObject],
    on_key: Callable[[DictionaryObject, str, str], None],
    on_item: Callable[[ArrayObject, int, str], None],
    follow: bool = True,
) -> None:
    """Visit every direct dictionary and array inside ``objects`` once (indirect references are
    not followed: each indirect object is in ``objects`` itself). Calls ``on_key(d, key, why)``
    for a dictionary entry and ``on_item(a, i, why)`` for an array item that must go. A direct
    object shared by two others (pypdf may share them in memory) is visited once. Without
    ``follow``, an indirect entry is not resolved to see whether it is itself active content
    (it is among ``objects`` too, and found there)."""
    stack: list[PdfObject] = [o for o in objects if o is not None]
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        if not isinstance(obj, (DictionaryObject, ArrayObject)) or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, DictionaryObject):
            is_action = str(obj.get("/S", "")) in ACTION_TYPES
            for k in list(obj.keys()):
                if k in ACTIVE_KEYS:
                    on_key(obj, k, ACTIVE_KEYS[k])
                    continue
                if k == "/Next" and is_action:
                    on_key(obj, k, "chained action (/Next)")
                    continue
                if is_action and k not in SAFE_ACTION_KEYS:
                    on_key(obj, k, f"action entry {k}")
                    continue
                v = obj.raw_get(k)
                r = v.get_object() if follow and isinstance(v, IndirectObject) else v
                why = _bad_object(r)
                if why is not None:
                    on_key(obj, k, why)
                elif not isinstance(v, IndirectObject):
                    stack.append(v)
        elif isinstance(obj, ArrayObject):
            for i, v in enumerate(obj):
                r = v.get_object() if follow and isinstance(v, IndirectObject) else v
                why = _bad_object(r)
                if why is not None:
                    on_item(obj, i, why)
                elif not isinstance(v, IndirectObject):
                    stack.append(v)


def strip(objects: Iterable[PdfObject], removed: Callable[[str], None]) -> None:
    """Remove active content from ``objects`` in place; ``removed(what)`` is told of each."""

    def drop_key(d: DictionaryObject, k: str, why: str) -> None:
        del d[k]
        removed(why)

    def drop_item(a: ArrayObject, i: int, why: str) -> None:
        a[i] = NullObject()
        removed(why)

    _walk(objects, drop_key, drop_item)


def count(objects: list[PdfObject], found: dict[str, int], follow: bool = True) -> dict[str, int]:
    """Add to ``found`` (kind -> count) the active content ``objects`` hold; returns it. With
    every object of a file counted, a batch at a time, ``follow`` may be off: each indirect
    object is then found by itself rather than also through what refers to it."""

    def note(why: str) -> None:
        found[why] = found.get(why, 0) + 1

    _walk(objects, lambda d, k, why: note(why), lambda a, i, why: note(why), follow)
    for obj in objects:
        why = _bad_object(obj)
        if why is not None:
            note(why)
    return found


def scan_lines(found: dict[str, int]) -> list[str]:
    """What :func:`count` found, one line per kind, with its count."""
    return [f"{why} ({n}x)" for why, n in sorted(found.items())]
