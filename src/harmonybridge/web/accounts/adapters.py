"""allauth adapters: no public sign-up; two-factor secrets stored encrypted with the field keys."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from harmonybridge.web import fieldcrypto


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted like client names (HB_FIELD_KEYS)."""

    def encrypt(self, text: str) -> str:
        return fieldcrypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith(fieldcrypto.PREFIX):
            return fieldcrypto.decrypt(encrypted_text)
        return encrypted_text  # written before encryption was switched on
