"""What a paper's licence lets a bundle do with it.

A licence is given as a URL (what arXiv's OAI-PMH answer holds, what a manifest may give) or as an
SPDX id (``CC-BY-4.0``). :func:`classify` turns either into a :class:`Licence`:

* CC BY, CC BY-SA and CC0 grant redistribution (``grant = "all"``);
* the NC variants grant it for non-commercial use only (``"noncommercial"``);
* the ND variants grant it for unmodified copies only (``"unmodified"``): not for a ``pages``
  excerpt;
* arXiv's non-exclusive distribution licence, arXiv's assumed 1991-2003 licence and a licence not
  known grant nothing (``"none"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Grant = Literal["all", "noncommercial", "unmodified", "none"]

ARXIV_NONEXCLUSIVE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
ARXIV_ASSUMED = "http://arxiv.org/licenses/assumed-1991-2003/"

_CC_URL = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/licenses/"
    r"(?P<kind>by(?:-nc)?(?:-sa|-nd)?)/(?P<ver>\d\.\d)/?(?:legalcode)?$",
    re.IGNORECASE,
)
_CC0_URL = re.compile(
    r"^https?://(?:www\.)?creativecommons\.org/publicdomain/zero/1\.0/?(?:legalcode)?$",
    re.IGNORECASE,
)
_CC_SPDX = re.compile(r"^CC-(?P<kind>BY(?:-NC)?(?:-SA|-ND)?)-(?P<ver>\d\.\d)$", re.IGNORECASE)
_ARXIV_URL = re.compile(r"^https?://arxiv\.org/licenses/(?P<rest>[^?#]+?)/?$", re.IGNORECASE)

# SPDX ids paperbundle gives arXiv's own licences (SPDX has none: LicenseRef- ids).
ARXIV_IDS = {
    "nonexclusive-distrib/1.0": ("LicenseRef-arXiv-nonexclusive-distrib-1.0", ARXIV_NONEXCLUSIVE),
    "assumed-1991-2003": ("LicenseRef-arXiv-assumed-1991-2003", ARXIV_ASSUMED),
}
SHORT_ARXIV = {
    "LicenseRef-arXiv-nonexclusive-distrib-1.0": "arXiv non-exclusive",
    "LicenseRef-arXiv-assumed-1991-2003": "arXiv assumed 1991–2003",
}


@dataclass(frozen=True)
class Licence:
    spdx: str | None  # "CC-BY-4.0", "CC0-1.0", "LicenseRef-arXiv-...", None when unknown
    short: str  # what readers see: "CC BY 4.0", "arXiv non-exclusive", "no licence known"
    url: str | None  # the licence's page, None when unknown
    grant: Grant

    def allows(self, *, excerpt: bool) -> bool:
        """Whether a bundle may carry the paper's file (a ``pages`` excerpt modifies it)."""
        if self.grant in ("all", "noncommercial"):
            return True
        return self.grant == "unmodified" and not excerpt


UNKNOWN = Licence(spdx=None, short="no licence known", url=None, grant="none")


def _cc(kind: str, ver: str) -> Licence:
    kind = kind.lower()
    grant: Grant = "all"
    if "-nd" in kind:
        grant = "unmodified"
    elif "-nc" in kind:
        grant = "noncommercial"
    return Licence(
        spdx=f"CC-{kind.upper()}-{ver}",
        short=f"CC {kind.upper()} {ver}",
        url=f"https://creativecommons.org/licenses/{kind}/{ver}/",
        grant=grant,
    )


CC0 = Licence(
    spdx="CC0-1.0",
    short="CC0 1.0",
    url="https://creativecommons.org/publicdomain/zero/1.0/",
    grant="all",
)


def parse_licence(value: str) -> Licence | None:
    """The licence a URL or SPDX id names; None when paperbundle does not know it."""
    v = value.strip()
    if m := _CC_URL.match(v) or _CC_SPDX.match(v):
        return _cc(m.group("kind"), m.group("ver"))
    if _CC0_URL.match(v) or v.upper() == "CC0-1.0":
        return CC0
    if m := _ARXIV_URL.match(v):
        known = ARXIV_IDS.get(m.group("rest").lower())
        if known is not None:
            return Licence(spdx=known[0], short=SHORT_ARXIV[known[0]], url=known[1], grant="none")
    for spdx, short in SHORT_ARXIV.items():
        if v.lower() == spdx.lower():
            url = next(u for s, u in ARXIV_IDS.values() if s == spdx)
            return Licence(spdx=spdx, short=short, url=url, grant="none")
    return None


def classify(value: str | None) -> Licence:
    """The licence of a paper whose licence is ``value`` (URL or SPDX id); arXiv's answer
    without a licence means its assumed 1991-2003 licence; anything not known grants nothing."""
    if value is None:
        return UNKNOWN
    known = parse_licence(value)
    if known is not None:
        return known
    return Licence(spdx=None, short="licence not recognised", url=value, grant="none")


def check_licence(value: str) -> str | None:
    """For the manifest's ``licence`` key: None when known, else what is wrong."""
    if parse_licence(value) is None:
        return (
            f"{value!r} is not a licence paperbundle knows; give a Creative Commons URL or "
            "SPDX id (CC-BY-4.0, CC-BY-SA-4.0, CC-BY-NC-4.0, CC-BY-ND-4.0, CC0-1.0, ...) or an "
            "arXiv licence URL"
        )
    return None
