"""Licence classes: what each licence lets a bundle do with a paper."""

from __future__ import annotations

import pytest

from paperbundle.arxiv.licences import classify

CASES = [
    ("http://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0", "CC BY 4.0", "all"),
    ("http://creativecommons.org/licenses/by-sa/4.0/", "CC-BY-SA-4.0", "CC BY-SA 4.0", "all"),
    ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0", "CC0 1.0", "all"),
    ("CC0-1.0", "CC0-1.0", "CC0 1.0", "all"),
    (
        "http://creativecommons.org/licenses/by-nc/4.0/",
        "CC-BY-NC-4.0",
        "CC BY-NC 4.0",
        "noncommercial",
    ),
    ("cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0", "CC BY-NC-SA 4.0", "noncommercial"),
    (
        "http://creativecommons.org/licenses/by-nd/4.0/",
        "CC-BY-ND-4.0",
        "CC BY-ND 4.0",
        "unmodified",
    ),
    (
        "http://creativecommons.org/licenses/by-nc-nd/3.0/",
        "CC-BY-NC-ND-3.0",
        "CC BY-NC-ND 3.0",
        "unmodified",
    ),
    (
        "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
        "LicenseRef-arXiv-nonexclusive-distrib-1.0",
        "arXiv non-exclusive",
        "none",
    ),
    (
        "http://arxiv.org/licenses/assumed-1991-2003/",
        "LicenseRef-arXiv-assumed-1991-2003",
        "arXiv assumed 1991–2003",
        "none",
    ),
    (None, None, "no licence known", "none"),
    ("https://example.org/odd", None, "licence not recognised", "none"),
]


@pytest.mark.parametrize(("value", "spdx", "short", "grant"), CASES)
def test_classify(value: str | None, spdx: str | None, short: str, grant: str) -> None:
    lic = classify(value)
    assert (lic.spdx, lic.short, lic.grant) == (spdx, short, grant)


def test_what_a_licence_allows() -> None:
    by, nc = classify("CC-BY-4.0"), classify("CC-BY-NC-SA-4.0")
    nd, arxiv = (
        classify("CC-BY-ND-4.0"),
        classify("http://arxiv.org/licenses/nonexclusive-distrib/1.0/"),
    )
    assert by.allows(excerpt=True) and nc.allows(excerpt=True)
    assert nd.allows(excerpt=False) and not nd.allows(excerpt=True)  # an excerpt is a modification
    assert not arxiv.allows(excerpt=False)
