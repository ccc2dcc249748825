"""What ``build --json`` prints about a finished build: plain data, no printing here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paperbundle.pipeline import BuildResult


def build_summary(
    result: BuildResult, manifest_arg: str, code: int, warnings: Sequence[str]
) -> dict[str, Any]:
    manifest = result.manifest
    fr = result.fetch
    return {
        "ok": True,
        "exit_code": code,
        "manifest": manifest_arg,
        "name": manifest.bundle.name,
        "version": manifest.bundle.version,
        "papers": result.papers,
        "pages": result.page_count,
        "volumes": [
            {"pdf": str(v.pdf), "zip": str(v.zip), "papers": list(v.papers), "pages": v.page_count}
            for v in result.volumes
        ],
        "sha256": str(result.sha256_file),
        "notes": str(result.notes),
        "missing": [e.as_json() for e in result.missing],
        "downloaded": sum(
            1
            for k, p in fr.papers.items()
            if not p.from_cache and manifest.paper(k).url is not None
        ),
        "from_cache": sum(1 for p in fr.papers.values() if p.from_cache),
        "local_files": sum(1 for p in manifest.papers if p.url is None),
        "requests": fr.requests,
        "bytes_received": fr.bytes_received,
        "links": {
            "internal": result.stats.links_kept,
            "dropped": result.stats.links_dropped,
            "uri": result.stats.uri_links,
        },
        "outline_items": result.stats.outline_items,
        "active_content_removed": dict(result.stats.active_removed),
        "seconds": round(result.seconds, 3),
        "up_to_date": result.up_to_date,
        "warnings": list(warnings),
    }
