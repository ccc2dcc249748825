"""Ctrl-C and SIGTERM: both raise KeyboardInterrupt, so one clean-up path serves them, except
inside :func:`held`, where the interrupt waits until the block is done (creating a temporary
folder and noting its name, removing it, moving the finished files into place).

The flag :func:`interrupted` lets code that sits under a library which turns every exception
into its own (reportlab's font loading makes an interrupt a ``TTFError``) tell an interrupt
from a real error. The console script installs the handlers; callers of ``main`` in-process
keep their own.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

_state = {"interrupted": False, "holding": 0, "pending": False}


def _handler(signum: int, frame: object) -> None:
    _state["interrupted"] = True
    if _state["holding"]:
        _state["pending"] = True
        return
    raise KeyboardInterrupt


def install() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt (outside :func:`held`)."""
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


def interrupted() -> bool:
    """A signal arrived (whatever exception it was turned into on its way up)."""
    return bool(_state["interrupted"])


@contextmanager
def held() -> Iterator[None]:
    """Run the block whole: an interrupt that arrives meanwhile is raised when it ends."""
    _state["holding"] = int(_state["holding"]) + 1
    try:
        yield
    finally:
        _state["holding"] = int(_state["holding"]) - 1
        if not _state["holding"] and _state["pending"]:
            _state["pending"] = False
            raise KeyboardInterrupt
