"""Reading an arXiv answer as XML, safely (defusedxml: no entities, no DTDs, no external files)."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "arXiv": "http://arxiv.org/OAI/arXiv/",
}


class BadAnswer(Exception):
    """An answer that is not what arXiv sends: ``reason`` is a short word (html, malformed-xml,
    empty-feed, missing, oai-error, ...), ``detail`` says what was seen."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _looks_html(body: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def parse_xml(body: bytes, content_type: str, expect: str) -> Element:
    """The root of an XML answer whose root element should be ``expect`` (Clark notation)."""
    shown = body[:40]
    if _looks_html(body, content_type):
        raise BadAnswer(
            "html",
            f"the server sent an HTML page, not XML (Content-Type "
            f"{content_type or 'none'}, starts {shown!r})",
        )
    if not body.strip():
        raise BadAnswer("empty", "the answer is empty")
    try:
        root: Any = safe_et.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadAnswer("unsafe-xml", f"refused: {type(exc).__name__}") from None
    except ParseError as exc:
        raise BadAnswer("malformed-xml", f"not well-formed XML ({exc}; starts {shown!r})") from None
    if not isinstance(root, Element):  # pragma: no cover - fromstring gives an Element
        raise BadAnswer("malformed-xml", "no root element")
    if root.tag != expect:
        raise BadAnswer("unexpected-xml", f"root element {root.tag}, expected {expect}")
    return root


def text(el: Element | None) -> str:
    """An element's text with its whitespace folded (titles and abstracts wrap lines)."""
    if el is None:
        return ""
    return " ".join("".join(el.itertext()).split())


def find_text(el: Element, path: str) -> str:
    return text(el.find(path, NS))
