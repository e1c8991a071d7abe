"""The practitioner's record of a rupture noticed in a session and what was done about it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.fieldcrypto import EncryptedTextField
from harmonybridge.web.practice.models import TherapySession
from harmonybridge.web.repairs import markers


class Resolved(models.TextChoices):
    YES = "yes", _("yes, resolved")
    PARTLY = "partly", _("partly")
    NO = "no", _("not resolved")


class RepairRecord(models.Model):
    """One record per session: markers seen, strategies used, whether it was resolved."""

    session = models.OneToOneField(
        TherapySession, on_delete=models.CASCADE, related_name="repair_record"
    )
    markers = models.JSONField(_("markers"), default=list, blank=True)
    strategies = models.JSONField(_("what you did"), default=list, blank=True)
    resolved = models.CharField(
        _("resolved by the end of the session"),
        max_length=10,
        choices=Resolved.choices,
    )
    note = EncryptedTextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"repair record for session {self.session_id}"

    def get_absolute_url(self) -> str:
        return reverse(
            "repairs:record", args=[self.session.engagement_id, self.session_id]
        )

    @property
    def marker_labels(self) -> list[str]:
        return markers.labels(self.markers)

    @property
    def strategy_labels(self) -> list[str]:
        return markers.labels(self.strategies)
