"""The shared cache, encrypted with the field keys, and how entries about a client are dropped.

Every value any part of the app caches (dashboard panels with names, goals and scores,
allauth's rate-limit counters, whatever is added later) is pickled and then sealed with
``HB_FIELD_KEYS`` (Fernet) before it reaches the ``hb_cache`` table, so the table never
holds anything readable (issue 9, fault 2). Only cache *keys* are stored in clear: they
are ids, hashes and words, never client values. A value that no listed key opens (after
a key rotation removed its key) is a miss; only authenticated ciphertext is unpickled.

Erasure drops the entries about the client by key prefix (:func:`forget`), key rotation
clears the whole cache, and ``manage backup`` leaves the cache table empty.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router

from harmonybridge.web.fieldcrypto import current_fernet


def engagement_prefix(engagement_pk: int) -> str:
    """The key prefix of everything cached from one engagement's data."""
    return f"hb-engagement:{int(engagement_pk)}:"


def engagement_key(engagement_pk: int, *parts: str) -> str:
    """The cache key of a value computed from one engagement (its clients included).

    Every cache entry derived from an engagement must use this, so that erasing one of
    its clients drops it (:func:`forget`)."""
    return engagement_prefix(engagement_pk) + ":".join(parts)


class EncryptedDatabaseCache(DatabaseCache):
    """Django's database cache with every value sealed by the field keys."""

    def _seal(self, value: Any) -> bytes:
        return current_fernet().encrypt(pickle.dumps(value, self.pickle_protocol))

    @staticmethod
    def _open(sealed: Any) -> tuple[bool, Any]:
        if not isinstance(sealed, bytes):
            return False, None  # written before encryption: treat as a miss
        try:
            return True, pickle.loads(current_fernet().decrypt(sealed))
        except InvalidToken:
            return False, None

    def _base_set(
        self, mode: str, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT
    ) -> bool:
        return super()._base_set(mode, key, self._seal(value), timeout)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict:
        out = {}
        for key, sealed in super().get_many(keys, version).items():
            ok, value = self._open(sealed)
            if ok:
                out[key] = value
        return out

    def delete_prefix(self, prefix: str, version: int | None = None) -> int:
        """Delete every entry whose key starts with ``prefix``; return how many."""
        stored = self.make_and_validate_key(prefix, version=version)
        pattern = (
            stored.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE cache_key LIKE %s ESCAPE '\\'", [pattern]
            )
            return int(cursor.rowcount or 0)


def forget(prefixes: Iterable[str]) -> None:
    """Drop the entries under these key prefixes from every configured cache.

    A cache without prefix deletion (the test suite's in-memory cache) is cleared
    whole: dropping too much is safe, keeping a client's data is not.
    """
    prefixes = list(prefixes)
    if not prefixes:
        return
    for alias in settings.CACHES:
        backend = caches[alias]
        if isinstance(backend, EncryptedDatabaseCache):
            for prefix in prefixes:
                backend.delete_prefix(prefix)
        else:
            backend.clear()


def clear_all() -> None:
    """Empty every configured cache (after a key rotation)."""
    for alias in settings.CACHES:
        caches[alias].clear()


def database_cache_tables() -> list[str]:
    """The tables of the database caches: ``manage backup`` leaves them out."""
    return [
        str(conf["LOCATION"])
        for conf in settings.CACHES.values()
        if conf.get("BACKEND", "").endswith(("DatabaseCache", "EncryptedDatabaseCache"))
    ]
