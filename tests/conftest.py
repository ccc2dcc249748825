"""Shared fixtures. Keep them small and generic; append new ones below."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.helpers import PAPERS, PaperServer
from tests.pdfs import make_paper
from tests.servers import MisbehavingServer

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"

# A proxy in the caller's shell would route the 127.0.0.1 test servers through it. Cleared here,
# once for the whole session, so that module- and session-scoped fixtures and every subprocess
# run without it too (the autouse fixture below only covers each test's own body).
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
for _name in PROXY_VARIABLES:
    os.environ.pop(_name, None)
    os.environ.pop(_name.lower(), None)


@pytest.fixture
def mserver() -> Iterator[MisbehavingServer]:
    """A threaded HTTP server on 127.0.0.1 that misbehaves on purpose (see tests/servers.py)."""
    with MisbehavingServer() as srv:
        yield srv


@pytest.fixture
def corpus() -> Path:
    """../shared/corpus (real PDFs, never copied into the repo); skips when absent."""
    if not (CORPUS / "arxiv").is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the user's cache, and no mirror from the caller's shell leaks in."""
    monkeypatch.setenv("PAPERBUNDLE_CACHE", str(tmp_path_factory.mktemp("user-cache")))
    monkeypatch.delenv("PAPERBUNDLE_MIRROR", raising=False)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    # A proxy in the caller's shell would route the 127.0.0.1 test servers through it.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def paper_server(httpserver: HTTPServer) -> PaperServer:
    """A well-behaved server (pytest-httpserver) with the PAPERS as PDFs; files can be swapped."""
    srv = PaperServer(httpserver)
    for key, (title, pages, _) in PAPERS.items():
        srv.files[f"{key}.pdf"] = make_paper(title, pages)
    return srv


_LOCAL_NAMES = {"localhost", "localhost.", "ip6-localhost"}


@pytest.fixture(autouse=True)
def _no_real_name_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may ask a real resolver about a real name: only IP literals and localhost resolve.
    Any other lookup fails the test (it is not turned into a resolver error the code could
    quietly handle)."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.strip("[]").split("%")[0])
        except ValueError:
            if name.lower() not in _LOCAL_NAMES:
                asked.append(name)
                raise RuntimeError(f"test looked up the real name {name!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    yield
    assert not asked, f"names looked up: {asked}"
