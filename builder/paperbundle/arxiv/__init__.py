"""arXiv: metadata (API, Atom), licences (OAI-PMH), versions, for the lock and ``check``."""
