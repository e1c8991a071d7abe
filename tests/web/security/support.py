"""Factories shared by the security, accounts, audit, privacy and ops tests."""

from __future__ import annotations

import itertools
from typing import Any

from harmonybridge.web.accounts.models import Practice, Role, User

PASSWORD = "a long synthetic passphrase 42"
_seq = itertools.count(1)


def make_practice(**overrides: Any) -> Practice:
    overrides.setdefault("name", f"Practice {next(_seq)}")
    return Practice.objects.create(**overrides)


def make_staff(
    practice: Practice | None = None, role: str = Role.PRACTITIONER, **overrides: Any
) -> User:
    n = next(_seq)
    overrides.setdefault("username", f"staff{n}")
    overrides.setdefault("email", f"staff{n}@example.org")
    user = User.objects.create_user(
        practice=practice or make_practice(), role=role, password=PASSWORD, **overrides
    )
    return user


def give_totp(user: User) -> None:
    """Give the user an authenticator app so two-factor enforcement lets them through."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, "JBSWY3DPEHPK3PXP")
