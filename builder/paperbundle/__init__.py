"""paperbundle: research papers in, one release bundle out."""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/paperbundle/paperbundle"
USER_AGENT = f"paperbundle/{__version__} (+{HOMEPAGE})"
