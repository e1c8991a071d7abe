"""Change analytics: reliable change, sudden gains and losses, ruptures, expected response."""

from __future__ import annotations

from harmonybridge.change.reliable_change import reliable_change, s_diff
from harmonybridge.change.ruptures import detect_ruptures, pooled_within_sd

__all__ = [
    "detect_ruptures",
    "pooled_within_sd",
    "reliable_change",
    "s_diff",
]
