"""arXiv's OAI-PMH interface, for the licence: ``API/oai2?verb=GetRecord&identifier=
oai:arXiv.org:ID&metadataPrefix=arXiv``. The record's ``<license>`` is a URL; a record without one
is under arXiv's assumed 1991-2003 licence (papers from before licences were recorded)."""

from __future__ import annotations

from urllib.parse import urlencode, urljoin

from paperbundle.arxiv.licences import ARXIV_ASSUMED
from paperbundle.arxiv.xmlread import NS, BadAnswer, find_text, parse_xml

ROOT = "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"


def record_url(api: str, arxiv_id: str) -> str:
    query = urlencode(
        {"verb": "GetRecord", "identifier": f"oai:arXiv.org:{arxiv_id}", "metadataPrefix": "arXiv"},
        safe=":/",
    )
    return urljoin(api, "oai2") + "?" + query


def parse_record(body: bytes, content_type: str, arxiv_id: str) -> str:
    """The licence URL of ``arxiv_id``'s record. BadAnswer("oai-error") names an OAI error code
    (idDoesNotExist, badArgument, ...)."""
    root = parse_xml(body, content_type, ROOT)
    err = root.find("oai:error", NS)
    if err is not None:
        code = err.get("code") or "unknown"
        said = " ".join("".join(err.itertext()).split())
        raise BadAnswer("oai-error", f"OAI-PMH error {code}" + (f": {said}" if said else ""))
    meta = root.find("oai:GetRecord/oai:record/oai:metadata/arXiv:arXiv", NS)
    if meta is None:
        raise BadAnswer("missing", f"the answer holds no arXiv record for {arxiv_id}")
    got = find_text(meta, "arXiv:id")
    if got and got != arxiv_id:
        raise BadAnswer("missing", f"the answer is the record of {got}, not {arxiv_id}")
    return find_text(meta, "arXiv:license") or ARXIV_ASSUMED
