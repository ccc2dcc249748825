"""`paperbundle import README.md --update MANIFEST`: merge a README into a manifest, in place.

A README paper is matched to a manifest paper by identity: the arXiv id without its version, else
the canonical PDF URL (a hand-written OpenReview forum or ACL page counts as its PDF). A matched
paper is left exactly as it is, so keys, titles, sections, order and comments edited by hand stay.
A README paper without a match is new: it goes into its section (the section the matched papers of
that README section were given by hand) after the paper before it in the README, or before the one
after it; a section the manifest lacks is appended at the end. Papers the README no longer lists
are reported and kept, or removed with ``prune``. The file is edited with tomlkit, so everything
else stays byte for byte, and a second run with the same README changes nothing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Comment, Table

from paperbundle.diff import diff_manifests, diff_markdown
from paperbundle.errors import UsageError
from paperbundle.files import write_atomic
from paperbundle.importer import ImportReport, import_readme
from paperbundle.importer.rules import _paper_identity, pdf_url
from paperbundle.manifest import Paper, load_manifest, parse_manifest

__all__ = ["UpdateResult", "update_manifest", "write_update"]


@dataclass(frozen=True)
class UpdateResult:
    text: str  # the updated manifest text
    changed: bool  # text differs from the file's
    added: tuple[str, ...]  # keys of the papers new in the README
    gone: tuple[Paper, ...]  # manifest papers the README no longer lists
    pruned: bool  # the gone papers were removed
    diff: str  # what changed, as markdown (the same as `paperbundle diff OLD NEW`)
    report: ImportReport  # the README's import summary and notes

    def summary(self) -> str:
        fate = "removed (--prune)" if self.pruned else "kept (--prune removes them)"
        gone = f"{len(self.gone)} no longer in the README, {fate}" if self.gone else "none gone"
        state = "updated" if self.changed else "unchanged"
        return f"{state}: {len(self.added)} papers added, {gone}"

    def messages(self, path: Path) -> list[str]:
        """The lines for stderr: the README's warnings, each gone paper, the summaries."""
        out = [n for n in self.report.notes if "warning:" in n]
        fate = "removed" if self.pruned else "kept"
        out += [f"{path}: {p.key!r} ({p.source}) is not in the README; {fate}" for p in self.gone]
        r = self.report
        readme = (
            f"the README: {r.rows_seen} rows seen, {r.papers_written} papers with a PDF, "
            f"{r.kept_as_comments} without, {r.duplicates_merged} duplicates merged, "
            f"{r.warnings} warnings"
        )
        return [*out, f"{path}: {self.summary()} ({readme})"]


def _identity(p: Paper) -> str:
    if p.url is None:
        return f"path:{p.path}"
    return _paper_identity(pdf_url(p.url) or p.url)


_FIELDS = ("title", "url", "label", "affiliation", "venue", "section", "date", "code")


def _new_table(row: dict[str, Any], key: str, section: str | None) -> Table:
    """A [[papers]] table in the order `import` writes one, in the manifest's own section."""
    t = tomlkit.table()
    t.add("key", key)
    for name in _FIELDS:
        value = section if name == "section" else row.get(name)
        if value:
            t.add(name, value)
    return t


def _unique_key(base: str, keys: set[str]) -> str:
    key, n = base, 1
    while key in keys:
        n += 1
        key = f"{base}-{n}"
    keys.add(key)
    return key


def _place(
    rows: list[dict[str, Any]],
    matched: dict[int, Table],
    tables: list[Table],
    sections: dict[str | None, str | None],
    keys: set[str],
) -> list[str]:
    """Insert a table for every unmatched row into ``tables``; return the new keys."""
    added: list[str] = []
    last: dict[str | None, Table] = {}  # README section -> the last table placed for it
    following: dict[int, Table | None] = {}  # row -> the next matched table of its section
    ahead: dict[str | None, Table] = {}
    for i in range(len(rows) - 1, -1, -1):
        following[i] = ahead.get(rows[i].get("section"))
        if i in matched:
            ahead[rows[i].get("section")] = matched[i]
    section_of = {id(t): t.get("section") for t in tables}
    for i, row in enumerate(rows):
        sec = row.get("section")
        if i in matched:
            last[sec] = matched[i]
            continue
        target = sections.get(sec, sec)
        t = _new_table(row, _unique_key(str(row["key"]), keys), target)
        section_of[id(t)] = target
        added.append(str(t["key"]))
        after = last.get(sec)
        before = next(
            (
                matched[j]
                for j in range(i + 1, len(rows))
                if j in matched and rows[j].get("section") == sec
            ),
            None,
        )
        if after is not None:
            pos = _index(tables, after) + 1
        elif before is not None:
            pos = _index(tables, before)
        else:
            same = [n for n, x in enumerate(tables) if target and section_of[id(x)] == target]
            pos = same[-1] + 1 if same else len(tables)
        tables.insert(pos, t)
        last[sec] = t
    return added


def _index(tables: list[Table], t: Table) -> int:
    return next(n for n, x in enumerate(tables) if x is t)


def _rebuild(aot: AoT, tables: list[Table], gone: list[Table]) -> None:
    """Make ``aot`` hold ``tables``: drop the gone ones (their comments move up), add new ones."""
    for t in gone:
        n = _index(list(aot), t)
        if n > 0:
            for key, item in t.value.body:
                if key is None and isinstance(item, Comment):
                    aot[n - 1].add(item)
        del aot[n]
    present = {id(t) for t in aot}
    for n, t in enumerate(tables):
        if id(t) not in present:
            aot.insert(n, t)
    for n, t in enumerate(aot):  # a blank line between two tables, none after the last
        if n + 1 < len(aot) and not t.as_string().endswith("\n\n"):
            t.add(tomlkit.nl())


def update_manifest(
    readme: str, manifest_path: Path, *, prune: bool = False, source: str = "README.md"
) -> UpdateResult:
    """Merge the papers of ``readme`` into the manifest at ``manifest_path`` (not written here)."""
    old = load_manifest(manifest_path, display=str(manifest_path))
    old_text = manifest_path.read_bytes().decode("utf-8")
    doc = tomlkit.parse(old_text)
    aot = doc.get("papers")
    if not isinstance(aot, AoT) or len(aot) != len(old.papers):
        raise UsageError(
            f"{manifest_path}: --update edits papers written as [[papers]] tables; "
            "this manifest writes them another way"
        )
    imported = import_readme(
        readme, name=old.bundle.name, version=old.bundle.version, source=source
    )
    rows: list[dict[str, Any]] = tomllib.loads(imported.toml)["papers"]
    by_ident: dict[str, int] = {}
    for n, p in enumerate(old.papers):
        by_ident.setdefault(_identity(p), n)
    matched: dict[int, Table] = {}
    sections: dict[str | None, str | None] = {}  # README section -> the manifest's, by hand
    seen: set[int] = set()
    for i, row in enumerate(rows):
        n = by_ident.get(_paper_identity(str(row["url"])), -1)
        if n >= 0:
            matched[i] = aot[n]
            seen.add(n)
            sections.setdefault(row.get("section"), old.papers[n].section)
    seen |= {n for n, p in enumerate(old.papers) if by_ident.get(_identity(p)) in seen}
    tables = list(aot)
    added = _place(rows, matched, tables, sections, {p.key for p in old.papers})
    gone = [n for n in range(len(old.papers)) if n not in seen]
    pruned = [aot[n] for n in gone] if prune else []
    _rebuild(aot, [t for t in tables if all(t is not x for x in pruned)], pruned)
    text = tomlkit.dumps(doc)
    new = parse_manifest(text, path=manifest_path.resolve(), display=f"update of {manifest_path}")
    return UpdateResult(
        text=text,
        changed=text != old_text,
        added=tuple(added),
        gone=tuple(old.papers[n] for n in gone),
        pruned=bool(pruned),
        diff=diff_markdown(diff_manifests(old, new)),
        report=imported.report,
    )


def write_update(result: UpdateResult, path: Path) -> None:
    """Replace the manifest atomically; an unchanged manifest is not touched at all."""
    if not result.changed:
        return
    try:
        write_atomic(Path(path), result.text.encode("utf-8"), overwrite=True)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
