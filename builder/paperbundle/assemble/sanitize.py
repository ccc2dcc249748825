"""The last pass: strip active content wherever it hides and drop unreachable objects."""

from __future__ import annotations

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    PdfObject,
)

from paperbundle import active
from paperbundle.assemble.model import (
    _Counters,
)


def _sanitize(writer: PdfWriter, c: _Counters) -> None:
    """Safety net over every object about to be written: remove active content wherever it
    hides (see paperbundle.active), then drop every object no longer reachable from the catalog or
    the document info."""
    objects = writer._objects
    active.strip([o for o in objects if o is not None], c.remove)
    # Garbage-collect: only what the catalog and the info dictionary reach is written.
    reachable: set[int] = set()
    todo: list[PdfObject] = [writer._root_object]
    info = writer._info
    if info is not None:
        todo.append(info)
    for obj in todo:
        ref = obj.indirect_reference
        if ref is not None and ref.pdf is writer:
            reachable.add(ref.idnum)
    while todo:
        obj = todo.pop()
        stack: list[PdfObject] = [obj]
        while stack:
            x = stack.pop()
            if isinstance(x, IndirectObject):
                if x.pdf is writer and x.idnum not in reachable:
                    reachable.add(x.idnum)
                    target = objects[x.idnum - 1] if 0 < x.idnum <= len(objects) else None
                    if target is not None:
                        todo.append(target)
            elif isinstance(x, DictionaryObject):
                stack.extend(x.values())
            elif isinstance(x, ArrayObject):
                stack.extend(x)
    for i in range(len(objects)):
        if i + 1 not in reachable:
            objects[i] = None
