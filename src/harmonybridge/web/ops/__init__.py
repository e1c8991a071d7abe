"""Operations: backup and restore of the SQLite database, and field-key rotation."""

from __future__ import annotations

__all__: list[str] = []
