"""Keyed-hash pseudonyms: stable within a project, unlinkable across projects."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

#: Hex characters kept from the HMAC-SHA-256 digest (64 bits).
PSEUDONYM_LENGTH = 16
#: The pooled practitioner id of practitioners with fewer than k clients.
POOLED = "other"


def pseudonym(value: object, *, key: bytes, domain: str) -> str:
    """Return the pseudonym of one id: HMAC-SHA-256(key, domain + value), 16 hex digits.

    ``domain`` separates kinds of id (``person``, ``engagement``, ``response``)
    so that equal raw values of different kinds do not share a pseudonym;
    clients, respondents and practitioners share the ``person`` domain so that a
    respondent joins to its client or practitioner.

    Examples
    --------
    >>> pseudonym("C0001", key=b"0123456789abcdef", domain="person")
    '21e5ff41be5c530c'
    """
    message = f"{domain}\x1f{value}".encode()
    return hmac.digest(key, message, hashlib.sha256).hex()[:PSEUDONYM_LENGTH]


def pseudonymise(
    values: pd.Series,
    *,
    key: bytes,
    domain: str,
    pooled: frozenset[str] = frozenset(),
    cache: dict[tuple[str, str], str] | None = None,
) -> pd.Categorical:
    """Return ``values`` replaced by their pseudonyms (sorted categories).

    Values in ``pooled`` become :data:`POOLED`. Each distinct value is hashed once
    (once per export when the same ``cache`` dict is passed to every call).
    """
    codes, uniques = pd.factorize(values, sort=False)  # missing ids stay missing (-1)
    uniques = pd.Index(uniques).astype(str).tolist()  # bulk conversion, not per value
    cache = {} if cache is None else cache
    for u in uniques:
        if (domain, u) not in cache:
            cache[(domain, u)] = pseudonym(u, key=key, domain=domain)
    names = np.array(
        [POOLED if u in pooled else cache[(domain, u)] for u in uniques], dtype=object
    )
    if len(set(names) - {POOLED}) != len(uniques) - sum(u in pooled for u in uniques):
        # 64-bit pseudonyms collide with negligible probability; never silently merge
        raise ValueError("pseudonym collision; use another project key")
    categories, inverse = np.unique(names, return_inverse=True)
    mapped = np.where(codes >= 0, inverse[codes] if len(inverse) else -1, -1)
    return pd.Categorical.from_codes(
        mapped.astype(np.int64), categories=pd.Index(categories)
    )
