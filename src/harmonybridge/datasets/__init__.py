"""Synthetic, seeded session-by-session practice data for tests, benchmarks and the demo."""

from __future__ import annotations

from harmonybridge.datasets._stories import STORY_KINDS
from harmonybridge.datasets.examples import (
    EXAMPLE_ARGS,
    example_scores_path,
    load_example_scores,
)
from harmonybridge.datasets.practice import (
    SimulatedPractice,
    demo_practice,
    simulate_practice,
)
from harmonybridge.datasets.series import SERIES_INSTRUMENTS, simulate_series

__all__ = [
    "EXAMPLE_ARGS",
    "SERIES_INSTRUMENTS",
    "STORY_KINDS",
    "SimulatedPractice",
    "demo_practice",
    "example_scores_path",
    "load_example_scores",
    "simulate_practice",
    "simulate_series",
]
