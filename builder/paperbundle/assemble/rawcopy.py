"""What a paper's pages draw, copied as bytes instead of through pypdf's parse and write.

pypdf understands each paper's structure (catalog, pages, annotations, outline, names, forms);
what its pages draw (``/Resources`` and ``/Contents``: fonts, images, forms, content streams) is
most of a paper's objects and needs none of that understanding. Those objects are read here from
the file's own bytes (through its cross-reference table and object streams), their references
renumbered and their literal strings rewritten as hex strings, so that the fragment's rule holds:
a reference is always ``<n> 0 R`` after a space and no literal string remains for the bundle
writer's renumbering to misread. Streams are copied encoded, after the same bounded inflate check
as any other stream.

It is a fast path, never the only one: anything it does not handle exactly (an encrypted file,
layers, a stream whose ``/Length`` is wrong, a name that could be active content, a drawn object
that reaches back into the page tree, syntax it does not know) raises :class:`Unsupported`, and
the paper is prepared wholly through pypdf as before.
"""

from __future__ import annotations

import re
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
)

from paperbundle import active
from paperbundle.assemble import rawsyntax as syn
from paperbundle.assemble.fragment import REF_RE, to_bytes
from paperbundle.assemble.rawsyntax import Unsupported
from paperbundle.pdfio import (
    MAX_STREAM_BYTES,
    MAX_WALK_OBJECTS,
    LazyReader,
    StreamProblem,
    inflate_check,
    page_annotations,
)

DRAWN_KEYS = ("/Resources", "/Contents")
# A drawn entry's stand-in while pypdf merges the structure: a name no file can hold, since it
# ends in a random tag drawn for each paper (it never reaches the output, which stays the same).
PLACEHOLDER = b"/PaperbundleRaw"

# A name in a drawn object that could carry or trigger active content, or that no drawn object
# should hold: the paper then takes pypdf's path, where the active-content pass sees everything.
# Names are matched wherever they appear (a glyph name too), which costs at most the fast path.
_SUSPECT = {
    *active.ACTIVE_KEYS,
    *active.ACTION_TYPES,
    *active.DROPPED_ANNOTS,
    "/EmbeddedFile",
    "/Annot",
    "/Annots",
}


@dataclass(frozen=True)
class RawObject:
    local: int  # the fragment's number for it
    head: bytes  # renumbered, literal strings as hex, no comments, /Length our own
    tail: bytes  # b"" or b"\nstream\n" + encoded data + b"\nendstream"
    refs: tuple[int, ...]  # the local numbers it refers to


@dataclass(frozen=True)
class DrawnCopy:
    """A paper's drawn objects as bytes, and what to put in each kept page in their place."""

    objects: list[RawObject]
    roots: list[int]  # placeholder n -> the local number of the object it stands for
    originals: list[tuple[DictionaryObject, str, PdfObject]]  # page, key, value (to restore)
    tag: bytes  # the placeholder names' prefix for this paper


class _Source:
    """The objects of one file, by number, as bytes."""

    def __init__(self, reader: LazyReader) -> None:
        self.reader = reader
        getvalue = getattr(reader.stream, "getvalue", None)
        if getvalue is None:
            raise Unsupported("not an in-memory file")
        self.data: bytes = getvalue()

    def locate(self, num: int, gen: int) -> tuple[bytes, int, int, bool] | None:
        """(text, start, end, uncompressed) of object ``num``, or None when the file has none."""
        r = self.reader
        if gen == 0 and num in r.xref_objStm:
            stm = int(r.xref_objStm[num][0])
            index = r.objstm_index(stm)
            if index is None:
                raise Unsupported(f"object {stm}: an object stream this copier does not read")
            text, spans = index
            if num not in spans:
                raise Unsupported(f"object {num}: not in its object stream")
            start, end = spans[num]
            return text, start, end, False
        offset = r.xref.get(gen, {}).get(num)
        if offset is None:
            return None
        m = syn.HEADER.match(self.data, offset)
        if m is None or int(m.group(1)) != num or int(m.group(2)) != gen:
            raise Unsupported(f"object {num}: not where the cross-reference table says")
        return self.data, m.end(), len(self.data), True


class _Copier:
    """Copies objects from a source, numbering them from ``first`` in the order first met."""

    def __init__(self, src: _Source, first: int, forbidden: set[int]) -> None:
        self.src = src
        self.next = first
        self.local: dict[tuple[int, int], int] = {}
        self.todo: deque[tuple[int, int, tuple[bytes, int, int, bool]]] = deque()
        self.forbidden = forbidden  # objects of the structure: reaching one is Unsupported
        self.names: set[bytes] = set()
        self.length: tuple[int, int | None] | None = None  # of the value scanned last
        self.refs: list[int] = []  # what the object being copied refers to

    def number(self, num: int, gen: int) -> int:
        """The local number of source object ``num`` (copied in its turn)."""
        key = (num, gen)
        local = self.local.get(key)
        if local is None:
            if num in self.forbidden:
                raise Unsupported(f"a drawn object refers to object {num} of the structure")
            where = self.src.locate(num, gen)
            if where is None:  # pypdf's path decides what a viewer sees
                raise Unsupported(f"a drawn object refers to missing object {num}")
            local = self.local[key] = self.next
            self.next += 1
            self.todo.append((num, local, where))
            if len(self.local) > MAX_WALK_OBJECTS:
                raise Unsupported("too many drawn objects")
        return local

    def ref(self, num: int, gen: int) -> bytes:
        """A reference to source object ``num``, renumbered, as the copy writes it."""
        local = self.number(num, gen)
        self.refs.append(local)
        return b" %d 0 R" % local

    def value(
        self, text: bytes, start: int, end: int, whole: bool
    ) -> tuple[bytes, int, tuple[int, int] | None]:
        """Normalise one value: with ``whole`` the text up to ``end`` is the value (an object
        stream's member); else the value ends where its brackets close. Returns the head, the
        index after the value, and the /Length entry's span in the head (start, end) if any."""
        self.length = None
        if not whole:  # a simple value: a number, a name, a keyword, a reference
            m = syn.SIMPLE.match(text, start)
            if m is not None:
                ref = syn.SPECIAL.match(text, m.start(1))
                if ref is not None and ref.lastgroup == "ref":
                    return self.ref(int(ref.group(2)), int(ref.group(3))), ref.end(), None
                return b" " + m.group(1), m.end(), None
        st = syn.Scan(start)
        while True:
            m = syn.SPECIAL.search(text, st.pos, end)
            seg = text[st.pos : end if m is None else m.start()]
            if seg:
                if st.done and seg.strip(b"\x00\t\n\x0c\r "):
                    raise Unsupported("more than one value in an object")
                st.add(seg)
            if m is None:
                if not whole or st.depth != 0:
                    raise Unsupported("unbalanced brackets")
                return b"".join(st.out), end, st.span
            if st.done:
                raise Unsupported("more than one value in an object")
            st.pos = m.end()
            st.add(self._piece(m, text, end, st))
            if st.depth == 0 and not whole:
                return b"".join(st.out), st.pos, st.span
            st.done = st.depth == 0 and m.lastgroup in ("close", "rb")

    def fast_value(
        self, text: bytes, start: int, end: int, whole: bool
    ) -> tuple[bytes, int, tuple[int, int] | None] | None:
        """:meth:`value` for the common case, in a few passes of C: a dictionary or array with
        no string, comment or hex string, holding /Length at most once (at its top level). None
        when :meth:`value` must decide."""
        if whole:
            after = end
        else:
            m = syn.DICT_THEN_STREAM.match(text, start, min(end, start + syn.FAST_DICT))
            if m is not None:
                after = m.end(1)
            else:  # no stream: the value is what comes before endobj
                after = text.find(b"endobj", start, min(end, start + syn.FAST_DICT))
                if after < 0 or text.find(b"stream", start, after) >= 0:
                    return None
        body = text[start:after]
        if syn.NOT_FAST.search(body) or not syn.ends_alone(body):
            return None
        if body.count(b"[") != body.count(b"]"):
            return None
        bare = body.replace(b"<<", b"").replace(b">>", b"")
        if b"<" in bare or b">" in bare or body.count(b"<<") != body.count(b">>"):
            return None
        lengths = list(syn.LENGTH_ENTRY.finditer(body))
        if not lengths:
            return self._refs(body), after, None
        if len(lengths) > 1:
            return None
        m = lengths[0]
        before = body[: m.start()]
        if before.count(b"<<") - before.count(b">>") != 1:
            return None
        n, gen = int(m.group(1)), m.group(2)
        self.length = (n, None if gen is None else int(gen))
        head = self._refs(before)
        piece = b"/Length " + m.group(1) if gen is None else b"/Length" + self.ref(n, int(gen))
        span = (len(head), len(head) + len(piece))
        return head + piece + self._refs(body[m.end() :]), after, span

    def _refs(self, body: bytes) -> bytes:
        return syn.REF.sub(lambda r: self.ref(int(r.group(1)), int(r.group(2))), body)

    def _piece(self, m: re.Match[bytes], text: bytes, end: int, st: syn.Scan) -> bytes:
        """What the special token ``m`` becomes; moves ``st.pos`` past what it consumed."""
        kind = m.lastgroup
        if kind == "ref":
            return self.ref(int(m.group(2)), int(m.group(3)))
        if kind in ("open", "lb"):
            st.depth += 1
            return m.group()
        if kind in ("close", "rb"):
            st.depth -= 1
            if st.depth < 0:
                raise Unsupported("unbalanced brackets")
            return m.group()
        if kind == "len":
            lv = syn.LEN_VALUE.match(text, st.pos, end)
            if st.depth != 1 or lv is None or st.span is not None:
                return m.group()
            n, gen = int(lv.group(1)), lv.group(2)
            self.length = (n, None if gen is None else int(gen))
            piece = m.group() + (b" " + lv.group(1) if gen is None else self.ref(n, int(gen)))
            st.pos = lv.end()
            st.span = (st.size, st.size + len(piece))
            return piece
        if kind == "hex":
            if not syn.HEX_OK.fullmatch(m.group()):
                raise Unsupported("a malformed hex string")
            return m.group()
        if kind == "str":
            raw, st.pos = syn.literal(text, m.start())
            return b"<" + raw.hex().encode() + b">"
        if kind == "cmt":
            eol = syn.EOL.search(text, st.pos, end)
            st.pos = end if eol is None else eol.start()
            return b" "
        raise Unsupported(f"unexpected {m.group()!r}")

    def check(self, head: bytes) -> None:
        """Unsupported unless every ``R`` in ``head`` is one of the references just written
        (a reference in a form this copier does not read would keep the source's number);
        records the names it holds."""
        refs = len(self.refs)
        if len(syn.LONE_R.findall(head)) != refs or _placed_refs(head) != refs:
            raise Unsupported("a reference in a form this copier does not read")
        for name in set(syn.NAME.findall(head)):
            if b"#" in name:
                name = _decoded(name)
            self.names.add(name)

    def copy_next(self) -> RawObject:
        num, local, (text, start, end, uncompressed) = self.todo.popleft()
        self.refs = []
        fast = self.fast_value(text, start, end, not uncompressed)
        head, after, span = fast or self.value(text, start, end, not uncompressed)
        self.check(head)
        tail = b""
        if uncompressed:
            s = syn.STREAM.match(text, after)
            if s is not None:
                head, tail = self._stream(num, text, s.end(), head, span)
            elif syn.ENDOBJ.match(text, after) is None:
                raise Unsupported(f"object {num}: no endobj")
        return RawObject(local, head, tail, tuple(self.refs))

    def _stream(
        self, num: int, text: bytes, begin: int, head: bytes, span: tuple[int, int] | None
    ) -> tuple[bytes, bytes]:
        if span is None or self.length is None:
            raise Unsupported(f"object {num}: a stream without /Length")
        n, gen = self.length
        if gen is not None:
            n = self._number(n, gen)
        data = text[begin : begin + n]
        if len(data) != n or syn.ENDSTREAM.match(text, begin + n) is None:
            raise Unsupported(f"object {num}: /Length does not end at endstream")
        head = head[: span[0]] + b"/Length %d" % n + head[span[1] :]
        _check_filter(num, head, data)
        return head, b"\nstream\n" + data + b"\nendstream"

    def _number(self, num: int, gen: int) -> int:
        where = self.src.locate(num, gen)
        if where is None:
            raise Unsupported(f"object {num}: a missing /Length")
        text, start, end, _ = where
        m = syn.SIMPLE.match(text, start, end)
        if m is None or not m.group(1).isdigit():
            raise Unsupported(f"object {num}: /Length is no number")
        return int(m.group(1))


def _placed_refs(head: bytes) -> int:
    """How many references the bundle writer's renumbering will see in ``head``."""
    return sum(1 for m in REF_RE.finditer(head) if m.group(1) is not None)


class DamagedStream(Exception):
    def __init__(self, num: int, problem: StreamProblem) -> None:
        super().__init__(f"object {num}: {problem}")
        self.reason = problem.reason


def _check_filter(num: int, head: bytes, data: bytes) -> None:
    """The bounded inflate check of a Flate stream, by the /Filter of its own dictionary (names
    read with their # escapes decoded; a /Filter nested deeper is not the stream's)."""
    if b"#" in head:
        head = syn.NAME.sub(lambda m: _decoded(m.group()), head)
    filters = [
        m.group(1)
        for m in syn.FILTER.finditer(head)
        if head.count(b"<<", 0, m.start()) - head.count(b">>", 0, m.start()) == 1
    ]
    if not filters:
        return
    if len(filters) > 1 or filters[0][:1] != b"/":
        raise Unsupported(f"object {num}: a /Filter this copier does not read")
    if filters[0] in (b"/FlateDecode", b"/Fl"):
        try:
            inflate_check(data, MAX_STREAM_BYTES)
        except StreamProblem as exc:
            raise DamagedStream(num, exc) from None


def _decoded(name: bytes) -> bytes:
    return syn.NAME_ESC.sub(lambda e: bytes([int(e.group(1), 16)]), name)


def _structure_ids(reader: LazyReader) -> set[int]:
    """The catalog, every page and every node of the page tree: no drawn object may reach them."""
    ids: set[int] = set()
    root = reader.trailer.raw_get("/Root")
    if isinstance(root, IndirectObject):
        ids.add(root.idnum)
    for page in reader.pages:
        node: PdfObject | None = page.indirect_reference
        hops = 0
        while isinstance(node, IndirectObject) and node.idnum not in ids and hops < 64:
            ids.add(node.idnum)
            obj = node.get_object()
            node = (
                obj.raw_get("/Parent")
                if isinstance(obj, DictionaryObject) and "/Parent" in obj
                else None
            )
            hops += 1
    return ids


def plan(reader: LazyReader, kept: list[int], first: int) -> DrawnCopy:
    """Copy what the kept pages draw, numbered from ``first``; Unsupported when this paper
    should take pypdf's path, DamagedStream when a drawn stream is damaged or too large."""
    if reader.is_encrypted:
        raise Unsupported("encrypted")
    root = reader.trailer["/Root"].get_object()
    if not isinstance(root, DictionaryObject) or "/OCProperties" in root:
        raise Unsupported("layers")
    src = _Source(reader)
    copier = _Copier(src, first, _structure_ids(reader))
    objects: list[RawObject] = []
    roots: list[int] = []
    originals: list[tuple[DictionaryObject, str, PdfObject]] = []
    for holder, key in _drawn_entries(reader, kept):
        value = holder.raw_get(key)
        originals.append((holder, key, value))
        roots.append(_root(copier, value, objects))
    while copier.todo:
        objects.append(copier.copy_next())
    suspect = {n.decode("latin-1") for n in copier.names} & _SUSPECT
    if suspect:
        raise Unsupported(f"drawn objects name {sorted(suspect)[0]}")
    objects.sort(key=lambda o: o.local)
    return DrawnCopy(objects, roots, originals, PLACEHOLDER + secrets.token_hex(8).encode() + b".")


def _drawn_entries(reader: LazyReader, kept: list[int]) -> Iterator[tuple[DictionaryObject, str]]:
    """Each kept page's /Resources and /Contents, and the appearances (/AP) of its annotations:
    (dictionary, key), each dictionary once."""
    seen: set[int] = set()
    for i in kept:
        page = reader.pages[i]
        for key in DRAWN_KEYS:
            if key in page:
                yield page, key
        for a in page_annotations(page):
            if "/AP" in a and id(a) not in seen:
                seen.add(id(a))
                yield a, "/AP"


def _root(copier: _Copier, value: PdfObject, objects: list[RawObject]) -> int:
    """The local number standing for a drawn entry's value (/Resources, /Contents, /AP): the
    object it refers to, or a new object holding a direct value."""
    if isinstance(value, IndirectObject):
        return copier.number(value.idnum, value.generation)
    if not isinstance(value, (DictionaryObject, ArrayObject)):
        raise Unsupported("a page's /Resources or /Contents of an unexpected kind")
    text = to_bytes(value)
    copier.refs = []
    head, _, _ = copier.value(text, 0, len(text), True)
    copier.check(head)
    local = copier.next
    copier.next += 1
    objects.append(RawObject(local, head, b"", tuple(copier.refs)))
    return local


def swap_in(copy: DrawnCopy) -> None:
    """Put a placeholder name wherever the drawn objects were."""
    for n, (page, key, _) in enumerate(copy.originals):
        page[NameObject(key)] = NameObject(copy.tag.decode() + str(n))


def restore(copy: DrawnCopy) -> None:
    for page, key, value in copy.originals:
        page[NameObject(key)] = value


def fill(
    objects: list[tuple[int, bytes, bytes]], copy: DrawnCopy
) -> list[tuple[int, bytes, bytes]]:
    """``objects`` with each placeholder replaced by a reference to the object it stands for,
    then the copied objects those references reach (what dropped annotations drew is not)."""
    used: list[int] = []
    pattern = re.compile(re.escape(copy.tag) + rb"(\d+)")

    def repl(m: re.Match[bytes]) -> bytes:
        local = copy.roots[int(m.group(1))]
        used.append(local)
        return b" %d 0 R" % local

    out = [
        (i, pattern.sub(repl, head) if copy.tag in head else head, tail)
        for i, head, tail in objects
    ]
    by_local = {o.local: o for o in copy.objects}
    reached: set[int] = set()
    while used:
        local = used.pop()
        if local not in reached:
            reached.add(local)
            used.extend(by_local[local].refs)
    out += [(o.local, o.head, o.tail) for o in copy.objects if o.local in reached]
    return out
