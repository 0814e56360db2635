"""Errors that name what went wrong and what would have been valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def unknown_name_message(kind: str, name: str, valid: Iterable[str]) -> str:
    """Say that ``name`` is not a valid ``kind``, suggest the closest one and list them all."""
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Valid: {', '.join(valid)}."


class JourneyError(Exception):
    """Base class for errors a user can act on; the CLI prints them without a traceback."""


class ConfigError(JourneyError):
    """``params.yaml`` (or an environment override) is invalid."""


class ContractError(JourneyError):
    """Input data cannot be mapped onto the journey data contract at all.

    Row-level problems never raise this: those rows go to the ``quarantine`` table.
    """


class EmptyResultError(JourneyError):
    """A transform produced no rows where at least one was required."""


class UnknownValueError(JourneyError, ValueError):
    """An argument names a value the data does not have (a page, a column...).

    The message lists the valid values (see :func:`unknown_name_message`).
    """
