"""The shipped manifests: manifests/v0.1.toml and v0.2.toml match the bundles they reproduce."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from paperbundle.manifest import load_manifest, normalise_url

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ROOT / "manifests"
SEED = ROOT.parent / "shared" / "seed"

V01_URLS = [
    "https://arxiv.org/pdf/1706.03762.pdf",
    "https://arxiv.org/pdf/1502.03167.pdf",
    "https://arxiv.org/pdf/1911.02150.pdf",
    "https://arxiv.org/pdf/2205.14135.pdf",
    "https://arxiv.org/pdf/2307.08691.pdf",
    "https://arxiv.org/pdf/2103.10360.pdf",
    "https://arxiv.org/pdf/2210.02414.pdf",
    "https://arxiv.org/pdf/2303.08559.pdf",
    "https://arxiv.org/pdf/2005.14165.pdf",
    "https://arxiv.org/pdf/2303.08774.pdf",
    "https://cdn.openai.com/papers/gpt-4-system-card.pdf",
    "https://arxiv.org/pdf/1607.06450.pdf",
    "https://arxiv.org/pdf/2307.09288.pdf",
    "https://arxiv.org/pdf/2302.13971.pdf",
    "https://arxiv.org/pdf/2106.09685.pdf",
    "https://arxiv.org/pdf/2110.07602.pdf",
    "https://arxiv.org/pdf/2103.10385.pdf",
    "https://arxiv.org/pdf/2305.14314.pdf",
    "https://arxiv.org/pdf/2104.09864.pdf",
    "https://arxiv.org/pdf/2211.10438.pdf",
    "https://arxiv.org/pdf/1806.10779.pdf",
    "https://arxiv.org/pdf/2211.10017.pdf",
    "https://www.usenix.org/system/files/osdi22-yu.pdf",
    "https://arxiv.org/pdf/2209.05433.pdf",
    "https://arxiv.org/pdf/2303.17951.pdf",
]

V02_URLS = [
    "https://arxiv.org/pdf/2210.03052.pdf",
    "https://www.usenix.org/system/files/osdi22-yu.pdf",
    "https://arxiv.org/pdf/2305.05920.pdf",
    "https://arxiv.org/pdf/2205.14135.pdf",
    "https://arxiv.org/pdf/2307.08691.pdf",
    "https://arxiv.org/pdf/2303.06865.pdf",
    "https://arxiv.org/pdf/2209.05433.pdf",
    "https://arxiv.org/pdf/2208.07339.pdf",
    "https://arxiv.org/pdf/1803.04014.pdf",
    "https://arxiv.org/pdf/1805.02867.pdf",
    "https://arxiv.org/pdf/2309.06180.pdf",
    "https://arxiv.org/pdf/2308.15152.pdf",
    "https://arxiv.org/pdf/2104.09864.pdf",
    "https://arxiv.org/pdf/2211.10438.pdf",
    "https://arxiv.org/pdf/2305.09781.pdf",
    "https://arxiv.org/pdf/2211.10017.pdf",
    "https://arxiv.org/pdf/2206.01861.pdf",
    "https://arxiv.org/pdf/2303.08302.pdf",
    "https://arxiv.org/pdf/2307.09782.pdf",
]


def _seed_urls(name: str) -> list[str]:
    text = (SEED / name).read_text(encoding="utf-8")
    return [u for u in re.findall(r"https://[^\s)|]+\.pdf", text) if "releases/download" not in u]


def test_v01() -> None:
    m = load_manifest(MANIFESTS / "v0.1.toml")
    assert (m.bundle.name, m.bundle.version, m.bundle.curator) == (
        "LLMs-Inference-Papers",
        "v0.1",
        "DefTruth",
    )
    assert m.bundle.homepage == "https://github.com/DefTruth/LLMs-Inference-Papers"
    assert len(m.papers) == 25
    assert [p.url for p in m.papers] == [normalise_url(u) for u in V01_URLS]
    assert all(
        p.label and p.section and re.fullmatch(r"\d{4}\.\d{2}", p.date or "") for p in m.papers
    )
    assert [s.title for s in m.sections()] == [
        "Transformer & attention",
        "Normalization",
        "LLM families",
        "Fine-tuning",
        "Quantization & low precision",
        "Serving",
    ]


def test_v02() -> None:
    m = load_manifest(MANIFESTS / "v0.2.toml")
    assert (m.bundle.name, m.bundle.version) == ("LLMs-Inference-Papers", "v0.2")
    assert str(m.bundle.date) == "2023-09-25"
    assert m.bundle.previous == MANIFESTS / "v0.1.toml"
    assert len(m.papers) == 19
    assert [p.url for p in m.papers] == [normalise_url(u) for u in V02_URLS]
    assert all(p.label and p.section and p.date for p in m.papers)


@pytest.mark.skipif(not SEED.is_dir(), reason="../shared/seed is not present")
def test_urls_are_the_seeds() -> None:
    assert _seed_urls("v0.1-bundle-contents.md") == V01_URLS
    assert _seed_urls("llms-inference-papers-README-v0.2-2023-09.md") == V02_URLS
