"""allauth adapters: no public sign-up; two-factor secrets stored encrypted with the field keys."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest

from harmonybridge.web import fieldcrypto
from harmonybridge.web.clientaddress import client_address


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's rate limits key on: the trusted-proxy rule, not raw XFF."""
        ip = client_address(request)
        if not ip:
            return super().get_client_ip(request)  # refuses: no address at all
        return ip


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are encrypted like client names (HB_FIELD_KEYS)."""

    def encrypt(self, text: str) -> str:
        return fieldcrypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith(fieldcrypto.PREFIX):
            return fieldcrypto.decrypt(encrypted_text)
        return encrypted_text  # written before encryption was switched on
