"""Stage 4: merge the front matter and the papers into one faithful PDF.

What a naive merge gets wrong, and what this module does instead:

* Every hyperref paper defines the same destination names (``page.1``, ``cite.x``,
  ``Doc-Start``). Merging name trees sends links into the wrong paper. Here every internal link and
  outline item is resolved *inside its own paper* and rewritten as an explicit destination to the
  new page object; names never meet.
* Links and outline items into pages dropped by ``pages = "..."`` are removed, not left dangling.
* Each paper's outline is nested under the paper's bookmark; ``Cover`` and ``Contents`` and the
  section items come first. Page labels: i, ii, ... then 1, 2, ... across the papers.
* Active content never gets in: document JavaScript, /OpenAction and embedded files stay behind
  (the catalog is built anew), /AA is stripped from pages, annotations and form fields, Launch,
  JavaScript, GoToR/GoToE and similar link actions are removed, file attachments are dropped.
* Form fields of each paper are wrapped in a parent field named after the paper key, so two
  papers' fields can never merge into one.
* Output is reproducible: no clock, no random /ID.

The stage is a subpackage: ``model`` (inputs, results, helpers), ``dests`` (destinations),
``outline``, ``paper`` (per-paper preparation), ``sanitize`` (the last pass) and ``writer``
(the merge itself). They import in that order, never back.
"""

from paperbundle.assemble.model import AssembleStats, PaperInput
from paperbundle.assemble.paper import ANNOT_SKIPPED, PAGE_KEYS
from paperbundle.assemble.writer import assemble, pdf_date

__all__ = ["ANNOT_SKIPPED", "PAGE_KEYS", "AssembleStats", "PaperInput", "assemble", "pdf_date"]
