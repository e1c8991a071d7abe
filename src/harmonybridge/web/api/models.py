"""Personal access tokens and the idempotency keys of submissions made with them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    READ = (
        "read",
        _("read: see clients' codes, engagements, sessions, scores and alerts"),
    )
    WRITE = "write", _("write: create and submit, act on alerts")
    IDENTIFY = "identify", _("identify: see clients' names")
    EXPORT = "export", _("export: FHIR resources of whole caseloads")


class ApiToken(models.Model):
    """A personal access token: only an HMAC-SHA-256 of the secret is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    #: The first characters of the token, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """The first result of a submission made with an ``Idempotency-Key`` (kept 24 hours)."""

    token = models.ForeignKey(
        ApiToken, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=200)
    body_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_once")
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_age")]  # noqa: RUF012

    def __str__(self) -> str:
        return f"idempotency key of token {self.token_id}"
