"""Data-subject rights: export everything about one client, and erase a client."""

from __future__ import annotations

__all__: list[str] = []
