"""The manifest's known keys and the checker that collects every problem, each at its key path,
with "did you mean" for a misspelt key and the expected type for a value of another."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable
from typing import Any

from paperbundle.errors import Problem

TOP_KEYS = ("bundle", "papers")
BUNDLE_KEYS = (
    "name",
    "version",
    "title",
    "subtitle",
    "description",
    "curator",
    "homepage",
    "date",
    "previous",
    "redistribute",
)
PAPER_KEYS = (
    "key",
    "title",
    "url",
    "path",
    "label",
    "section",
    "date",
    "authors",
    "affiliation",
    "venue",
    "code",
    "sha256",
    "pages",
    "licence",
)

Check = Callable[[Any], str | None]  # None when the value is fine, else what is wrong


class Checker:
    """Reads values out of TOML tables, collecting a Problem for each one that is wrong."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(self.file, where, message))

    def unknown_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for k in table:
            if k in allowed:
                continue
            hint = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
            msg = f"unknown key {k!r}"
            msg += f"; did you mean {hint[0]!r}?" if hint else f"; allowed: {', '.join(allowed)}"
            self.add(f"{where}{k}" if where else k, msg)

    def get(
        self,
        table: dict[str, Any],
        key: str,
        where: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = False,
        check: Check | None = None,
    ) -> Any:
        path = f"{where}{key}"
        if key not in table:
            if required:
                self.add(path, "required key is missing")
            return None
        value = table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            want = _kind_name(kind)
            self.add(path, f"must be {want}, not {type_name(value)} ({value!r})")
            return None
        if isinstance(value, str) and kind is str and not value.strip():
            self.add(path, "must not be empty")
            return None
        if check is not None:
            err = check(value)
            if err:
                self.add(path, err)
                return None
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        dt.date: "a date (like 2023-09-25)",
        list: "an array",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def type_name(value: Any) -> str:
    """What a TOML value is, for a message: "a boolean", "a table"."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dt.datetime):
        return "a date-time"
    return {
        str: "a string",
        int: "an integer",
        float: "a float",
        dt.date: "a date",
        dt.time: "a time",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
