"""Synthetic, seeded session-by-session practice data for tests, benchmarks and the demo."""

from __future__ import annotations

from harmonybridge.datasets._stories import STORY_KINDS
from harmonybridge.datasets.practice import (
    SimulatedPractice,
    demo_practice,
    simulate_practice,
)

__all__ = [
    "STORY_KINDS",
    "SimulatedPractice",
    "demo_practice",
    "simulate_practice",
]
