"""Request parameters of the Subsonic API, parsed and checked in one place, and the API's error codes.

GET query and ``application/x-www-form-urlencoded`` POST bodies are merged
(the ``formPost`` extension); every endpoint reads its parameters through
:class:`Params`, which raises :class:`SubsonicError` with the spec's code:
10 for a missing parameter, 0 for a value that cannot be read, 70 for an id
that names nothing.
"""
from __future__ import annotations

from enum import IntEnum
from typing import Sequence, TypeVar

from django.http import QueryDict

Choice = TypeVar("Choice", bound=str)


class ErrorCode(IntEnum):
    """The Subsonic error codes (the spec's table)."""

    GENERIC = 0
    MISSING_PARAMETER = 10
    CLIENT_TOO_OLD = 20
    SERVER_TOO_OLD = 30
    WRONG_CREDENTIALS = 40
    TOKEN_AUTH_NOT_SUPPORTED = 41
    AUTH_MECHANISM_NOT_SUPPORTED = 42
    CONFLICTING_AUTH = 43
    INVALID_API_KEY = 44
    NOT_AUTHORISED = 50
    NOT_FOUND = 70


class SubsonicError(Exception):
    """An answer with ``status="failed"``: the code and a message the player can show."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def not_found(what: str) -> SubsonicError:
    return SubsonicError(ErrorCode.NOT_FOUND, f"{what} not found")


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class Params:
    """The request's parameters: typed readers that raise :class:`SubsonicError` for missing or unreadable values."""

    def __init__(self, query: QueryDict, body: QueryDict | None = None) -> None:
        merged = query.copy()
        if body is not None:
            for key in body:
                merged.setlist(key, merged.getlist(key) + body.getlist(key))
        self._values = merged

    def __contains__(self, name: str) -> bool:
        return bool(self._values.get(name, ""))

    def given(self, name: str) -> bool:
        """Whether the parameter was sent at all, even empty (``comment=`` clears a comment)."""
        return name in self._values

    def names(self) -> set[str]:
        return {name for name in self._values if self._values.get(name, "") != ""}

    def text(self, name: str, default: str = "") -> str:
        value = self._values.get(name)
        return default if value is None else str(value)

    def required(self, name: str) -> str:
        value = self._values.get(name)
        if value is None or value == "":
            raise SubsonicError(ErrorCode.MISSING_PARAMETER, f"Required parameter is missing: {name}")
        return str(value)

    def texts(self, name: str) -> list[str]:
        """Every value of a repeatable parameter (``id=1&id=2``), empty ones left out."""
        return [str(value) for value in self._values.getlist(name) if str(value) != ""]

    def integer(self, name: str, default: int | None = None, *, low: int | None = None, high: int | None = None, clamp: bool = False) -> int | None:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise SubsonicError(ErrorCode.GENERIC, f"{name} must be a whole number, not {str(raw)[:40]!r}") from None
        if clamp:
            if low is not None:
                value = max(low, value)
            if high is not None:
                value = min(high, value)
        elif (low is not None and value < low) or (high is not None and value > high):
            raise SubsonicError(ErrorCode.GENERIC, f"{name} must be between {low} and {high}, not {value}")
        return value

    def count(self, name: str, default: int, *, high: int = 500) -> int:
        """A number of items: negative is refused, above ``high`` is capped (as servers do for ``size`` and ``count``)."""
        value = self.integer(name, None, low=0)
        return default if value is None else min(value, high)

    def offset(self, name: str) -> int:
        value = self.integer(name, None, low=0)
        return 0 if value is None else value

    def required_integer(self, name: str, *, low: int | None = None, high: int | None = None) -> int:
        value = self.integer(name, low=low, high=high)
        if value is None:
            raise SubsonicError(ErrorCode.MISSING_PARAMETER, f"Required parameter is missing: {name}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._values.get(name)
        if raw is None or raw == "":
            return default
        word = str(raw).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise SubsonicError(ErrorCode.GENERIC, f"{name} must be true or false, not {str(raw)[:40]!r}")

    def choice(self, name: str, choices: Sequence[Choice]) -> Choice:
        value = self.required(name)
        for option in choices:
            if option == value:
                return option
        raise SubsonicError(ErrorCode.GENERIC, f"{name} must be one of {', '.join(choices)}, not {value[:40]!r}")
