# ruff: noqa: E501  (the XML is shaped like arXiv's answers, long lines and all)
"""A stand-in for arXiv on 127.0.0.1: the API (``/api/query``, Atom), OAI-PMH (``/oai2``,
GetRecord with metadataPrefix=arXiv) and PDFs (``/pdf/ID``), in the real answers' shapes with
their namespaces (export.arxiv.org's Atom feed and OAI-PMH 2.0 record), and faults on demand.

``faults`` is a queue of what the next requests to an endpoint ("api" or "oai") get instead of a
good answer: "html", "malformed", "empty-feed", "drop:ID" (the feed leaves ID out),
"error-entry:ID", "oai-error:CODE", "503:SECONDS" (503 with Retry-After), "dtd" (an entity
bomb). Every request is recorded (path, query, monotonic arrival time).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from tests.pdfs import make_paper

NONEXCLUSIVE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
CC_BY_NC_SA = "http://creativecommons.org/licenses/by-nc-sa/4.0/"
CC_BY_ND = "http://creativecommons.org/licenses/by-nd/4.0/"
CC0 = "http://creativecommons.org/publicdomain/zero/1.0/"


@dataclass
class Paper:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str = "We study things. Our method is fast, and it is exact."
    versions: int = 1
    licence: str | None = NONEXCLUSIVE  # None: the record has no <license> (before 2004)
    published: str = "2022-05-27T17:53:09Z"
    updated: str = "2022-06-23T17:53:32Z"
    category: str = "cs.LG"
    doi: str | None = None
    journal_ref: str | None = None
    pages: int = 2


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    at: float


@dataclass
class ArxivState:
    papers: dict[str, Paper] = field(default_factory=dict)
    faults: dict[str, deque[str]] = field(default_factory=lambda: {"api": deque(), "oai": deque()})
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def atom_entry(p: Paper) -> str:
    base = f"http://arxiv.org/abs/{p.arxiv_id}v{p.versions}"
    authors = "".join(
        f"\n    <author>\n      <name>{escape(a)}</name>\n    </author>" for a in p.authors
    )
    extra = ""
    if p.doi:
        extra += f'\n    <arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">{p.doi}</arxiv:doi>'
        extra += f'\n    <link title="doi" href="http://dx.doi.org/{p.doi}" rel="related"/>'
    if p.journal_ref:
        extra += (
            '\n    <arxiv:journal_ref xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"{escape(p.journal_ref)}</arxiv:journal_ref>"
        )
    # arXiv wraps long titles and indents abstracts: the client must fold whitespace.
    title = escape(p.title).replace(": ", ":\n  ", 1)
    return f"""  <entry>
    <id>{base}</id>
    <updated>{p.updated}</updated>
    <published>{p.published}</published>
    <title>{title}</title>
    <summary>  {escape(p.abstract)}
</summary>{authors}{extra}
    <link href="{base}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{p.arxiv_id}v{p.versions}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{p.category}" scheme="http://arxiv.org/schemas/atom"/>
    <category term="{p.category}" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
"""


def error_entry(aid: str) -> str:
    return f"""  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{aid}</id>
    <title>Error</title>
    <summary>incorrect id format for {aid}</summary>
    <updated>2024-01-01T00:00:00-05:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_{aid}" rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
"""


def atom_feed(entries: list[str], query: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?{escape(query)}" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: {escape(query)}</title>
  <id>http://arxiv.org/api/5HZSrUdPlX8Jq4Yq4yLWvxvq2cc</id>
  <updated>2024-01-01T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(entries)}</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">{len(entries)}</opensearch:itemsPerPage>
{"".join(entries)}</feed>
"""


def oai_record(p: Paper) -> str:
    authors = "".join(
        f"<author><keyname>{escape(a.split()[-1])}</keyname>"
        f"<forenames>{escape(' '.join(a.split()[:-1]))}</forenames></author>"
        for a in p.authors
    )
    licence = f"<license>{p.licence}</license>" if p.licence else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="GetRecord" identifier="oai:arXiv.org:{p.arxiv_id}" metadataPrefix="arXiv">http://export.arxiv.org/oai2</request>
<GetRecord>
<record>
<header>
 <identifier>oai:arXiv.org:{p.arxiv_id}</identifier>
 <datestamp>2023-01-01</datestamp>
 <setSpec>cs</setSpec>
</header>
<metadata>
 <arXiv xmlns="http://arxiv.org/OAI/arXiv/" xsi:schemaLocation="http://arxiv.org/OAI/arXiv/ http://arxiv.org/OAI/arXiv.xsd">
 <id>{p.arxiv_id}</id><created>{p.published[:10]}</created><authors>{authors}</authors>
 <title>{escape(p.title)}</title><categories>{p.category}</categories>{licence}
 <abstract>{escape(p.abstract)}</abstract>
 </arXiv>
</metadata>
</record>
</GetRecord>
</OAI-PMH>
"""


def oai_error(code: str, aid: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2024-01-01T00:00:00Z</responseDate>
<request verb="GetRecord">http://export.arxiv.org/oai2</request>
<error code="{code}">Value of the identifier argument is unknown or illegal in this repository.</error>
</OAI-PMH>
"""


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol2;</title></feed>
"""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        st = self.server.state
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        with st.lock:
            st.hits.append(Hit(parts.path, query, time.monotonic()))
        if parts.path.startswith("/pdf/"):
            return self._pdf(parts.path[5:])
        endpoint = {"/api/query": "api", "/oai2": "oai"}.get(parts.path)
        if endpoint is None:
            return self._send(404, b"not found", "text/plain")
        with st.lock:
            fault = st.faults[endpoint].popleft() if st.faults[endpoint] else ""
        if fault == "html":
            return self._send(
                200,
                b"<!DOCTYPE html><html><body>Rate exceeded.</body></html>",
                "text/html; charset=utf-8",
            )
        if fault == "malformed":
            return self._send(200, b"<?xml version='1.0'?><feed><entry>", "application/atom+xml")
        if fault == "dtd":
            return self._send(200, BOMB, "application/atom+xml")
        if fault.startswith("503:"):
            self.send_response(503)
            self.send_header("Retry-After", fault[4:])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if endpoint == "api":
            return self._api(query, fault)
        return self._oai(query, fault)

    def _api(self, query: dict[str, list[str]], fault: str) -> None:
        ids = query.get("id_list", [""])[0].split(",")
        limit = int(query.get("max_results", ["10"])[0])  # arXiv's default is 10
        entries = []
        if fault != "empty-feed":
            for aid in ids[:limit]:
                p = self.server.state.papers.get(aid)
                if fault == f"error-entry:{aid}" or p is None:
                    entries.append(error_entry(aid))
                elif fault != f"drop:{aid}":
                    entries.append(atom_entry(p))
        body = atom_feed(entries, f"id_list={','.join(ids)}&max_results={limit}")
        self._send(200, body.encode(), "application/atom+xml; charset=utf-8")

    def _oai(self, query: dict[str, list[str]], fault: str) -> None:
        ident = query.get("identifier", [""])[0].removeprefix("oai:arXiv.org:")
        p = self.server.state.papers.get(ident)
        if fault.startswith("oai-error:") or p is None:
            code = fault[len("oai-error:") :] if fault else "idDoesNotExist"
            return self._send(200, oai_error(code, ident).encode(), "text/xml")
        self._send(200, oai_record(p).encode(), "text/xml")

    def _pdf(self, name: str) -> None:
        aid = name.split("v")[0] if "v" in name and "/" not in name else name
        p = self.server.state.papers.get(aid)
        if p is None:
            return self._send(404, b"not found", "text/plain")
        self._send(200, make_paper(p.title, p.pages), "application/pdf")

    def _send(self, code: int, body: bytes, ctype: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ArxivState


class ArxivServer:
    def __init__(self) -> None:
        self.state = ArxivState()
        self._srv = _Server(("127.0.0.1", 0), _Handler)
        self._srv.state = self.state
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._srv.server_address[1]}/"

    @property
    def mirror(self) -> str:
        return f"https://arxiv.org/={self.url}"

    def add(self, paper: Paper) -> Paper:
        self.state.papers[paper.arxiv_id] = paper
        return paper

    def fault(self, endpoint: str, *faults: str) -> None:
        self.state.faults[endpoint].extend(faults)

    def hits(self, path: str | None = None) -> list[Hit]:
        with self.state.lock:
            return [h for h in self.state.hits if path is None or h.path == path]

    def close(self) -> None:
        self._srv.shutdown()
        self._srv.server_close()
