"""HarmonyBridge: two-sided alliance and wellbeing measurement and change analytics.

The public API is listed in ``__all__``; everything else is private.
"""

from __future__ import annotations

__version__ = "0.1.0.dev0"

from harmonybridge.errors import (
    DataValidationError,
    DefinitionError,
    HarmonyBridgeWarning,
    WordingRequiredError,
)

__all__ = [
    "DataValidationError",
    "DefinitionError",
    "HarmonyBridgeWarning",
    "WordingRequiredError",
    "__version__",
]
