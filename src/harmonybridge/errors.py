"""Exceptions and warnings raised by the HarmonyBridge core library."""

from __future__ import annotations


class DataValidationError(ValueError):
    """Input data or a definition that cannot be used as given.

    The message always names the column, item, field or value that is wrong and
    says what is allowed, so that a command-line user sees one clear line.
    """


class DefinitionError(DataValidationError):
    """An instrument definition or wording file is invalid (file and field named)."""


class WordingRequiredError(DataValidationError):
    """A licensed (class C) instrument was administered without the practice's wording."""


class HarmonyBridgeWarning(UserWarning):
    """Legal but statistically weak input (too few sessions, no gains found, ...)."""
