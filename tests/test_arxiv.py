"""``lock`` records arXiv metadata (API + OAI-PMH) against a stand-in arXiv on 127.0.0.1;
``check --outdated``; every bad answer is a named error and the lock loses nothing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperbundle.arxiv.client import ArxivClient
from paperbundle.arxiv.meta import Asked, ask_api
from paperbundle.fetch import NetOptions
from paperbundle.fetch.session import Session
from paperbundle.progress import NullReporter
from tests.arxivserver import CC_BY, CC_BY_NC_SA, ArxivServer, Paper
from tests.helpers import run

FLASH = Paper(
    "2205.14135",
    "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
    ("Tri Dao", "Daniel Y. Fu", "Stefano Ermon", "Atri Rudra", "Christopher Ré"),
    versions=2,
    doi="10.48550/arXiv.2205.14135",
    journal_ref="NeurIPS 2022",
)
VLLM = Paper(
    "2309.06180",
    "Efficient Memory Management for Large Language Model Serving with PagedAttention",
    ("Woosuk Kwon", "Zhuohan Li", "Siyuan Zhuang"),
    licence=CC_BY,
    category="cs.LG",
)
SPEC = Paper(
    "2211.17192",
    "Fast Inference from Transformers via Speculative Decoding",
    ("Yaniv Leviathan", "Matan Kalman", "Yossi Matias"),
    versions=3,
    licence=CC_BY_NC_SA,
)
OLD = Paper("hep-th/9901001", "An Old Paper", ("A. Einstein",), licence=None)


@pytest.fixture
def arxiv() -> Iterator[ArxivServer]:
    srv = ArxivServer()
    for p in (FLASH, VLLM, SPEC, OLD):
        srv.add(Paper(**p.__dict__))
    try:
        yield srv
    finally:
        srv.close()


def write_manifest(tmp_path: Path, *papers: tuple[str, str], extra: str = "") -> Path:
    lines = ["[bundle]", 'name = "Arx"', 'version = "v1"', "date = 2024-05-01", extra]
    for key, url in papers:
        lines += ["[[papers]]", f'key = "{key}"', f'title = "Paper {key}"', f'url = "{url}"']
    path = tmp_path / "m.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


THREE = (
    ("flash", "https://arxiv.org/abs/2205.14135"),
    ("vllm", "https://arxiv.org/pdf/2309.06180v1"),
    ("spec", "https://arxiv.org/pdf/2211.17192"),
)


def lock_args(m: Path, tmp_path: Path, srv: ArxivServer, *more: str) -> list[str]:
    return [
        "lock",
        str(m),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--mirror",
        srv.mirror,
        "--arxiv-api",
        srv.url,
        "--min-interval",
        "0",
        "--quiet",
        *more,
    ]


def read(m: Path) -> dict[str, object]:
    data = json.loads(m.with_name("m.lock.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_lock_records_metadata_in_one_batch_and_one_oai_request_per_paper(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE)
    code, _, err = run(lock_args(m, tmp_path, arxiv), capsys)
    assert code == 0, err
    api = arxiv.hits("/api/query")
    assert len(api) == 1
    assert api[0].query["id_list"] == ["2205.14135,2309.06180,2211.17192"]
    assert api[0].query["max_results"] == ["3"]  # the batch size, not arXiv's default of 10
    oai = arxiv.hits("/oai2")
    assert [h.query["identifier"][0] for h in oai] == [
        "oai:arXiv.org:2205.14135",
        "oai:arXiv.org:2309.06180",
        "oai:arXiv.org:2211.17192",
    ]
    assert all(h.query["metadataPrefix"] == ["arXiv"] for h in oai)
    assert all(h.query["verb"] == ["GetRecord"] for h in oai)
    data = read(m)
    assert data["lock_version"] == 2
    papers = data["papers"]
    assert isinstance(papers, dict)
    flash = papers["flash"]
    assert flash["version"] == 2  # unversioned URL: arXiv's latest when locked
    assert flash["arxiv"] == {
        "id": "2205.14135",
        "title": FLASH.title,  # folded from the feed's wrapped title
        "authors": list(FLASH.authors),
        "abstract": FLASH.abstract,
        "published": "2022-05-27",
        "updated": "2022-06-23",
        "latest_version": 2,
        "primary_category": "cs.LG",
        "doi": "10.48550/arXiv.2205.14135",
        "journal_ref": "NeurIPS 2022",
        "licence": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
    }
    assert "version" not in papers["vllm"]  # the URL pins v1: it says its version itself
    assert papers["vllm"]["arxiv"]["licence"] == CC_BY
    assert papers["spec"]["arxiv"]["licence"] == CC_BY_NC_SA
    # The answers are never stored in the PDF cache: only the three PDFs are there.
    cached = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert not any(b"<feed" in p.read_bytes()[:4096] for p in cached)
    assert not any(b"OAI-PMH" in p.read_bytes()[:4096] for p in cached)


def test_requests_to_arxiv_are_spaced_like_pdf_requests(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE)
    args = lock_args(m, tmp_path, arxiv)
    args[args.index("--min-interval") + 1] = "0.4"
    code, _, err = run(args, capsys)
    assert code == 0, err
    meta = [h.at for h in arxiv.hits() if h.path in ("/api/query", "/oai2")]
    assert len(meta) == 4
    gaps = [b - a for a, b in itertools.pairwise(meta)]
    assert min(gaps) >= 0.39, gaps  # from one answer's end to the next request


def test_batches_hold_at_most_100_ids_with_max_results_the_batch_size(
    arxiv: ArxivServer, tmp_path: Path
) -> None:
    ids = [f"2301.{n:05d}" for n in range(150)]
    for aid in ids:
        arxiv.add(Paper(aid, f"Paper {aid}", ("A. Author",)))
    net = Session(NetOptions(cache_dir=tmp_path, min_interval=0), NullReporter())
    try:
        records, failures = ask_api(
            ArxivClient(net, arxiv.url), [Asked(f"k{n}", aid) for n, aid in enumerate(ids)]
        )
    finally:
        net.close()
    assert not failures
    assert len(records) == 150 and records["k149"].arxiv_id == ids[149]
    hits = arxiv.hits("/api/query")
    assert [len(h.query["id_list"][0].split(",")) for h in hits] == [100, 50]
    assert [h.query["max_results"] for h in hits] == [["100"], ["50"]]


def test_metadata_is_asked_once_then_kept_unless_refreshed(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE)
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    before = len(arxiv.hits())
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    assert len(arxiv.hits()) == before  # PDFs cached, metadata in the lock: nothing asked
    arxiv.state.papers["2205.14135"].versions = 3
    assert run(lock_args(m, tmp_path, arxiv, "--refresh-metadata"), capsys)[0] == 0
    assert len(arxiv.hits("/api/query")) == 2 and len(arxiv.hits("/oai2")) == 6
    flash = read(m)["papers"]["flash"]  # type: ignore[index]
    assert flash["arxiv"]["latest_version"] == 3
    assert flash["version"] == 2  # the same file as before: still the version it was locked at


def test_offline_lock_keeps_metadata_and_records_none_for_new_papers(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE[:2])
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    # a third paper, cached by a plain fetch (no metadata), then an offline lock
    m = write_manifest(tmp_path, *THREE)
    fetch = ["fetch", str(m), "--cache-dir", str(tmp_path / "cache"), "--mirror", arxiv.mirror]
    assert run([*fetch, "--min-interval", "0", "--quiet"], capsys)[0] == 0
    before = len(arxiv.hits())
    args = [a for a in lock_args(m, tmp_path, arxiv) if a != "--quiet"] + ["--offline"]
    code, _, err = run(args, capsys)
    assert code == 0, err
    assert len(arxiv.hits()) == before
    assert "--offline: no arXiv metadata recorded for 1 paper (spec)" in err
    papers = read(m)["papers"]
    assert isinstance(papers, dict)
    assert papers["flash"]["arxiv"]["authors"][0] == "Tri Dao"
    assert papers["vllm"]["arxiv"]["licence"] == CC_BY
    assert "arxiv" not in papers["spec"]


def test_a_version_1_lock_is_read_by_builds_and_upgraded_by_lock(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE[:1])
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    entry = read(m)["papers"]["flash"]  # type: ignore[index]
    v1 = {
        "lock_version": 1,
        "papers": {"flash": {k: entry[k] for k in ("url", "sha256", "size", "page_count")}},
    }
    m.with_name("m.lock.json").write_text(json.dumps(v1), encoding="utf-8")
    build = ["build", str(m), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    code, _, err = run([*build, "--offline", "--quiet", "--frozen"], capsys)
    assert code == 0, err
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    data = read(m)
    assert data["lock_version"] == 2
    assert data["papers"]["flash"]["arxiv"]["id"] == "2205.14135"  # type: ignore[index]


BAD_ANSWERS = [
    ("api", "html", "html", "HTML page, not XML"),
    ("api", "malformed", "malformed-xml", "not well-formed XML"),
    ("api", "empty-feed", "empty-feed", "the feed holds no entry"),
    ("api", "drop:2205.14135", "missing", "2205.14135 is missing from the answer"),
    ("api", "error-entry:2205.14135", "api-error", "incorrect id format for 2205.14135"),
    ("api", "dtd", "unsafe-xml", "refused"),
    ("api", "503:3600", "http-503", "arXiv asks to wait 3600 s (Retry-After)"),
    ("oai", "oai-error:idDoesNotExist", "oai-error", "OAI-PMH error idDoesNotExist"),
    ("oai", "html", "html", "HTML page, not XML"),
]


@pytest.mark.parametrize(("endpoint", "fault", "reason", "detail"), BAD_ANSWERS)
def test_bad_answers_are_named_errors_and_the_lock_keeps_what_it_held(
    tmp_path: Path,
    arxiv: ArxivServer,
    capsys: pytest.CaptureFixture[str],
    endpoint: str,
    fault: str,
    reason: str,
    detail: str,
) -> None:
    m = write_manifest(tmp_path, *THREE)
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    held = read(m)
    arxiv.fault(endpoint, fault)
    code, _, err = run(lock_args(m, tmp_path, arxiv, "--refresh-metadata"), capsys)
    assert code == 1
    assert "Traceback" not in err
    assert "flash (http://127.0.0.1:" in err and f"): {reason}: " in err and detail in err, err
    assert "the lock keeps what it held for them" in err
    after = read(m)
    # the failed paper keeps its metadata; the others got theirs again (unchanged)
    assert after == held


def test_503_with_a_short_retry_after_is_retried(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE)
    arxiv.fault("api", "503:1")
    code, _, err = run(lock_args(m, tmp_path, arxiv), capsys)
    assert code == 0, err
    api = arxiv.hits("/api/query")
    assert len(api) == 2 and api[1].at - api[0].at >= 0.95  # Retry-After honoured


def test_old_papers_without_a_licence_get_arxivs_assumed_licence(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, ("old", "https://arxiv.org/abs/hep-th/9901001"))
    code, _, err = run(lock_args(m, tmp_path, arxiv), capsys)
    assert code == 0, err
    record = read(m)["papers"]["old"]["arxiv"]  # type: ignore[index]
    assert record["licence"] == "http://arxiv.org/licenses/assumed-1991-2003/"


def test_check_outdated_lists_older_versions_and_exits_1(
    tmp_path: Path, arxiv: ArxivServer, capsys: pytest.CaptureFixture[str]
) -> None:
    m = write_manifest(tmp_path, *THREE)
    assert run(lock_args(m, tmp_path, arxiv), capsys)[0] == 0
    check = ["check", str(m), "--outdated", "--arxiv-api", arxiv.url, "--min-interval", "0"]
    code, _, err = run(check, capsys)
    # vllm pins v1 and arXiv has only v1; flash and spec were locked at their latest
    assert code == 0, err
    assert "every arXiv paper is at its latest version" in err
    assert len(arxiv.hits("/api/query")) == 2  # one batch for three ids
    arxiv.state.papers["2205.14135"].versions = 4
    arxiv.state.papers["2309.06180"].versions = 2
    code, _, err = run(check, capsys)
    assert code == 1
    assert "flash: arXiv:2205.14135: bundles v2, arXiv's latest is v4" in err
    assert "vllm: arXiv:2309.06180: pins v1, arXiv's latest is v2" in err
    assert "spec" not in err


def test_arxiv_api_comes_from_the_environment_when_not_given(
    tmp_path: Path,
    arxiv: ArxivServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAPERBUNDLE_ARXIV_API", arxiv.url.rstrip("/"))
    m = write_manifest(tmp_path, *THREE[:1])
    args = lock_args(m, tmp_path, arxiv)
    i = args.index("--arxiv-api")
    del args[i : i + 2]
    assert run(args, capsys)[0] == 0
    assert len(arxiv.hits("/api/query")) == 1
    code, _, err = run([*args, "--arxiv-api", "ftp://x/"], capsys)
    assert code == 2 and "--arxiv-api 'ftp://x/': must be an http(s) URL" in err
