"""The build pipeline: manifest -> fetch -> front matter -> assemble -> release.

Each stage is a typed function in its own module; this module only wires them together and decides
what a build produces (one bundle, or volumes when an asset would be too big for a GitHub release).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from paperbundle import signals, stamp
from paperbundle.assemble import (
    AssembleStats,
    assemble,
)
from paperbundle.assemble.workcache import default_workers, repair
from paperbundle.errors import (
    BuildFailed,
    ManifestError,
    PaperError,
    PdfError,
    Problem,
    ReleaseError,
)
from paperbundle.fetch import FetchResult, NetOptions, fetch_all
from paperbundle.fetch.cache import Cache
from paperbundle.fetch.lock import read_lock
from paperbundle.files import atomic_file, sha256_file, write_atomic
from paperbundle.fmt import human_size
from paperbundle.frontmatter import ContentsEntry, render_front_matter
from paperbundle.manifest import Manifest, Paper, load_manifest
from paperbundle.opening import Opened as _Opened
from paperbundle.opening import open_papers
from paperbundle.progress import Reporter
from paperbundle.release import (
    PaperRow,
    checksums_text,
    contents_markdown,
    notes_markdown,
    release_date,
    write_zip,
)
from paperbundle.rights import decide

DEFAULT_MAX_ASSET = 1_900_000_000
DEFAULT_LOCK_TIMEOUT = 600.0
OUTPUT_LOCK = ".paperbundle.lock"  # in the output folder: one build writes there at a time


@dataclass(frozen=True)
class BuildOptions:
    out_dir: Path
    net: NetOptions
    keep_going: bool = False
    max_asset_size: int = DEFAULT_MAX_ASSET
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT  # how long to wait for another build's lock
    jobs: int = field(default_factory=default_workers)  # processes preparing papers


@dataclass(frozen=True)
class Volume:
    pdf: Path
    zip: Path
    papers: tuple[str, ...]
    page_count: int


@dataclass(frozen=True)
class BuildResult:
    manifest: Manifest
    volumes: tuple[Volume, ...]
    sha256_file: Path
    notes: Path
    papers: int
    page_count: int  # papers' pages (without front matter), all volumes
    missing: tuple[PaperError, ...]
    fetch: FetchResult
    stats: AssembleStats
    seconds: float
    up_to_date: bool = False  # nothing changed since the last build: no file was written

    @property
    def outputs(self) -> tuple[Path, ...]:
        files: list[Path] = []
        for v in self.volumes:
            files += [v.pdf, v.zip]
        return (*files, self.sha256_file, self.notes)


def load_previous(manifest: Manifest) -> Manifest | None:
    prev = manifest.bundle.previous
    if prev is None:
        return None
    try:
        return load_manifest(prev, display=str(prev), check_previous=False)
    except ManifestError as exc:
        raise ManifestError(
            [
                Problem(
                    manifest.display_path,
                    "bundle.previous",
                    f"{prev} is not a valid manifest: "
                    f"{p.where + ': ' if p.where else ''}{p.message}",
                )
                for p in exc.problems
            ]
        ) from None


def build(manifest: Manifest, options: BuildOptions, reporter: Reporter) -> BuildResult:
    """Build the release into ``options.out_dir``, one build at a time per output folder: a
    second build waits for the first (saying so), and gives up after ``lock_timeout``."""
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(out / OUTPUT_LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        wait = options.lock_timeout
        reporter.warn(f"another build is writing into {out}; waiting for it (up to {wait:g} s)")
        try:
            lock.acquire(timeout=options.lock_timeout)
        except Timeout:
            raise ReleaseError(
                f"{out}: another build is still writing into this folder after "
                f"{options.lock_timeout:g} s; try again when it is done, or use another -o"
            ) from None
    try:
        return _build(manifest, options, reporter)
    finally:
        lock.release()


def _build(manifest: Manifest, options: BuildOptions, reporter: Reporter) -> BuildResult:
    started = time.monotonic()
    date = release_date(manifest)  # checked first: a bad SOURCE_DATE_EPOCH wastes no download
    previous = load_previous(manifest)
    lock = read_lock(manifest.lock_path)
    rights = decide(manifest, lock)  # before any download: "granted" may lack licences
    for w in rights.warnings():
        reporter.warn(w)
    env = stamp.environment_digest(manifest, _output_options(options))
    if not options.net.refresh:
        predicted = stamp.predict_inputs(manifest, lock, Cache(options.net.cache_dir))
        if predicted is not None:
            hit = stamp.up_to_date(options.out_dir, stamp.fingerprint(env, predicted))
            if hit is not None:
                _remove_stale_staging(options.out_dir)  # of killed builds, as a full build does
                return _from_stamp(manifest, options.out_dir, hit, started)
    stamp.remove_stamp(options.out_dir)
    reporter.stage("fetch")  # each download shows its own bar
    fetched = fetch_all(manifest, options.net, reporter, lock)
    failures: list[PaperError] = list(fetched.failures)

    opened, unusable = open_papers(
        manifest,
        fetched,
        rights,
        cache_dir=options.net.cache_dir,
        workers=options.jobs,
        reporter=reporter,
    )
    failures += unusable
    order = {p.key: i for i, p in enumerate(manifest.papers)}
    failures.sort(key=lambda e: order.get(e.key, 0))
    if failures and not options.keep_going:
        raise BuildFailed(failures)
    if not opened:
        raise BuildFailed(failures) if failures else ReleaseError("no papers to build")

    stem = manifest.bundle.stem
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    missing_papers = [manifest.paper(e.key) for e in failures]

    limit = options.max_asset_size
    # Everything is written into a staging folder inside the output folder, checked against the
    # asset limit, and only then moved into place: a build that fails half-way, or has to be
    # split again, never leaves a file under a final name.
    _remove_stale_staging(out)
    staging: Path | None = None
    try:
        with signals.held():  # an interrupt never falls between creating it and knowing its name
            staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=out))
        budget = _first_budget(manifest, opened, limit, date)
        for _attempt in range(6 + len(opened)):
            groups = _split(opened, budget, limit)
            try:
                done = _build_volumes(
                    manifest, groups, staging, stem, date, reporter, missing_papers
                )
            except PdfError as exc:  # a paper that opened but cannot be merged
                failures.append(exc)
                failures.sort(key=lambda e: order.get(e.key, 0))
                if not options.keep_going:
                    raise BuildFailed(failures) from None
                reporter.log(f"leaving out {exc}")
                opened = [o for o in opened if o.paper.key != exc.key]
                if not opened:
                    raise BuildFailed(failures) from None
                missing_papers = [manifest.paper(e.key) for e in failures]
                for f in staging.iterdir():
                    f.unlink()
                continue
            over = max(size for *_, size in done.assets) - limit
            if over <= 0:
                break
            if all(len(g) == 1 for g in groups):
                name, _, size = max(done.assets, key=lambda a: a[2])
                raise ReleaseError(
                    f"{name} holds a single paper and is still {human_size(size)}, over "
                    f"--max-asset-size {human_size(limit)}"
                )
            budget = max(1, budget - over - limit // 50)
            for f in staging.iterdir():
                f.unlink()
        else:  # pragma: no cover - each round shrinks the budget; six rounds always suffice
            raise ReleaseError(f"could not split the bundle under {human_size(limit)}")

        changes = None
        if previous is not None:
            from paperbundle.diff import diff_manifests, diff_markdown

            left_out = frozenset(e.key for e in failures)
            changes = diff_markdown(diff_manifests(previous, manifest), missing=left_out)
        total_pages = sum(v.page_count for v in done.volumes)
        notes_text = notes_markdown(
            manifest,
            done.rows,
            assets=done.assets,
            total_pages=total_pages,
            changes=changes,
            missing=failures,
            volumes=len(done.volumes),
            rights=rights,
        )
        write_atomic(staging / f"{stem}-notes.md", notes_text.encode())
        sums_text = checksums_text([(n, d) for n, d, _ in done.assets])
        write_atomic(staging / f"{stem}.sha256", sums_text.encode())
        # Stale volumes of an earlier build of this version would contradict the checksums.
        for old in [
            *out.glob(f"{stem}-part*.pdf"),
            *out.glob(f"{stem}-part*.zip"),
            out / f"{stem}.pdf",
            out / f"{stem}.zip",
        ]:
            if old.is_file() and not (staging / old.name).exists():
                old.unlink()
        # The checksums go last: until they are in place, nothing claims the new files. An
        # interrupt waits until all are in place.
        with signals.held():
            for f in sorted(staging.iterdir(), key=lambda f: (f.suffix == ".sha256", f.name)):
                os.replace(f, out / f.name)
    finally:
        if staging is not None:
            with signals.held():
                shutil.rmtree(staging, ignore_errors=True)
    volumes = [
        Volume(out / v.pdf.name, out / v.zip.name, v.papers, v.page_count) for v in done.volumes
    ]
    result = BuildResult(
        manifest=manifest,
        volumes=tuple(volumes),
        sha256_file=out / f"{stem}.sha256",
        notes=out / f"{stem}-notes.md",
        papers=len(opened),
        page_count=total_pages,
        missing=tuple(failures),
        fetch=fetched,
        stats=done.stats,
        seconds=time.monotonic() - started,
    )
    if not failures:  # a build with papers missing tries them again next time
        used = {k: p.sha256 for k, p in fetched.papers.items()}
        stamp.write_stamp(out, stamp.fingerprint(env, used), result.outputs, _summary(result))
    return result


def _output_options(options: BuildOptions) -> list[tuple[str, object]]:
    """The options that change what a build writes (not the network ones)."""
    return [
        ("keep_going", options.keep_going),
        ("max_asset_size", options.max_asset_size),
        ("frozen", options.net.frozen),
    ]


def _summary(result: BuildResult) -> dict[str, Any]:
    s = result.stats
    return {
        "volumes": [[v.pdf.name, v.zip.name, list(v.papers), v.page_count] for v in result.volumes],
        "papers": result.papers,
        "page_count": result.page_count,
        "stats": [s.links_kept, s.links_dropped, s.uri_links, s.outline_items],
        "active_removed": [list(kv) for kv in s.active_removed],
    }


def _from_stamp(manifest: Manifest, out: Path, hit: stamp.Stamp, started: float) -> BuildResult:
    """The result of the build the stamp records, for a build that found nothing to do."""
    s = hit.summary
    stem = manifest.bundle.stem
    kept, dropped, uri, items = (int(x) for x in s["stats"])
    return BuildResult(
        manifest=manifest,
        volumes=tuple(
            Volume(out / str(pdf), out / str(zp), tuple(str(k) for k in keys), int(pages))
            for pdf, zp, keys, pages in s["volumes"]
        ),
        sha256_file=out / f"{stem}.sha256",
        notes=out / f"{stem}-notes.md",
        papers=int(s["papers"]),
        page_count=int(s["page_count"]),
        missing=(),
        fetch=FetchResult(papers={}, failures=(), requests=0, bytes_received=0),
        stats=AssembleStats(
            links_kept=kept,
            links_dropped=dropped,
            uri_links=uri,
            outline_items=items,
            active_removed=tuple((str(k), int(v)) for k, v in s["active_removed"]),
        ),
        seconds=time.monotonic() - started,
        up_to_date=True,
    )


def _add_stats(a: AssembleStats, b: AssembleStats) -> AssembleStats:
    removed: dict[str, int] = dict(a.active_removed)
    for k, v in b.active_removed:
        removed[k] = removed.get(k, 0) + v
    return AssembleStats(
        links_kept=a.links_kept + b.links_kept,
        links_dropped=a.links_dropped + b.links_dropped,
        uri_links=a.uri_links + b.uri_links,
        outline_items=a.outline_items + b.outline_items,
        active_removed=tuple(sorted(removed.items())),
    )


def _remove_stale_staging(out: Path) -> None:
    """Staging folders of builds that were killed (their process is gone) are removed; those of a
    build running right now in the same output folder are left alone."""
    for d in out.glob(".staging-*"):
        parts = d.name.split("-")
        try:
            pid = int(parts[1])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except PermissionError:
            pass  # alive, someone else's


@dataclass(frozen=True)
class _Built:
    volumes: tuple[Volume, ...]
    rows: tuple[PaperRow, ...]
    assets: tuple[tuple[str, str, int], ...]  # (file name, sha256, size)
    stats: AssembleStats


def _first_budget(
    manifest: Manifest, opened: Sequence[_Opened], limit: int, date: dt.date | None
) -> int:
    """Bytes of input papers one volume may hold: the limit less the front matter, with room
    for what merging adds (a few per cent)."""
    total = sum(o.size for o in opened)
    if total * 1.05 + 10_000_000 < limit:
        return limit  # fits easily: no need to measure the front matter
    entries = [ContentsEntry(o.paper, 1, o.kept, o.source_pages, o.rights) for o in opened]
    front = render_front_matter(manifest, entries, total_pages=1, date=date)
    return max(1, int((limit - len(front.pdf)) / 1.05))


def _split(opened: Sequence[_Opened], budget: int, limit: int) -> list[list[_Opened]]:
    """Consecutive papers grouped into volumes of at most ``budget`` input bytes."""
    if sum(o.size for o in opened) <= budget:
        return [list(opened)]
    groups: list[list[_Opened]] = [[]]
    used = 0
    for o in opened:
        size = o.size
        if size > limit:
            raise ReleaseError(
                f"paper {o.paper.key} ({o.paper.source}) is {human_size(size)}, over "
                f"--max-asset-size {human_size(limit)} on its own"
            )
        if groups[-1] and used + size > budget:
            groups.append([])
            used = 0
        groups[-1].append(o)
        used += size
    return groups


def _build_volumes(
    manifest: Manifest,
    groups: Sequence[Sequence[_Opened]],
    staging: Path,
    stem: str,
    date: dt.date | None,
    reporter: Reporter,
    missing: Sequence[Paper],
) -> _Built:
    volumes: list[Volume] = []
    rows_all: list[PaperRow] = []
    assets: list[tuple[str, str, int]] = []
    stats = AssembleStats()
    for vi, group in enumerate(groups, 1):
        vol = (vi, len(groups)) if len(groups) > 1 else None
        name = f"{stem}-part{vi}" if vol else stem
        pdf_path, zip_path = staging / f"{name}.pdf", staging / f"{name}.zip"
        rows, vstats, pages = _build_volume(
            manifest, group, pdf_path, date=date, reporter=reporter, volume=vol, missing=missing
        )
        stats = vstats if vi == 1 else _add_stats(stats, vstats)
        contents_md = contents_markdown(
            manifest,
            rows,
            pdf_name=pdf_path.name,
            total_pages=pages,
            date=date,
            volume=vol,
            missing=missing,
        )
        reporter.stage("zip")
        members: list[tuple[str, Path | bytes]] = [
            (pdf_path.name, pdf_path),
            ("CONTENTS.md", contents_md.encode()),
        ]
        write_zip(zip_path, members, date)
        for p in (pdf_path, zip_path):
            assets.append((p.name, sha256_file(p), p.stat().st_size))
        volumes.append(Volume(pdf_path, zip_path, tuple(o.paper.key for o in group), pages))
        rows_all += rows
    return _Built(tuple(volumes), tuple(rows_all), tuple(assets), stats)


def _build_volume(
    manifest: Manifest,
    group: Sequence[_Opened],
    pdf_path: Path,
    *,
    date: dt.date | None,
    reporter: Reporter,
    volume: tuple[int, int] | None,
    missing: Sequence[Paper],
) -> tuple[list[PaperRow], AssembleStats, int]:
    entries: list[ContentsEntry] = []
    rows: list[PaperRow] = []
    label = 1
    for o in group:
        entries.append(ContentsEntry(o.paper, label, o.kept, o.source_pages, o.rights))
        vol = volume[0] if volume else None
        rows.append(PaperRow(o.paper, label, o.kept, vol, o.source_pages, o.rights))
        label += o.kept
    pages = label - 1
    reporter.stage("front matter")
    fm = render_front_matter(
        manifest, entries, total_pages=pages, date=date, missing=missing, volume=volume
    )
    for w in fm.warnings:
        reporter.warn(w)
    keys = {o.paper.key for o in group}
    sections = [(s.title, [p.key for p in s.papers if p.key in keys]) for s in manifest.sections()]
    with atomic_file(pdf_path) as f, _no_gc():
        stats = assemble(
            manifest,
            fm,
            [o.input for o in group],
            f,
            date=date,
            reporter=reporter,
            sections=sections,
            repair=repair,
        )
    return rows, stats, pages


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cycle collector off while merging: the merge makes millions of objects that live until
    the end, and each collection would walk them all again (a third of the merge time at 64
    papers). What existed before is frozen, so the collection after the merge skips it too."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()
