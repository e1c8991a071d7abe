"""Cached expected-response curve sets, client-view options and the alert workflow history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.fieldcrypto import EncryptedTextField
from harmonybridge.web.practice.models import Engagement


class CurveSet(models.Model):
    """One instrument's expected-response curves fitted on the practice's closed work."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="curve_sets"
    )
    instrument = models.CharField(max_length=40)
    fit = models.JSONField(help_text="TrajectoryFit.to_dict()")
    n_clients = models.PositiveIntegerField(default=0)
    converged = models.BooleanField(
        default=False, help_text="Only converged fits are ever stored or used."
    )
    calibration = models.JSONField(
        default=list,
        blank=True,
        help_text="calibrate_bands rows on the practice's closed engagements "
        "(eventual reliable deterioration), with share_flagged",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "instrument"], name="curve_set_once"
            )
        ]

    def __str__(self) -> str:
        return f"curves {self.instrument} ({self.n_clients} clients)"

    @property
    def accepted(self) -> bool:
        """Whether the practice admin accepted these curves for alerts."""
        return self.accepted_at is not None


class ClientViewOptions(models.Model):
    """What a client may see after a check-in beyond the engagement's own switches."""

    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="client_view_options"
    )
    show_alliance = models.BooleanField(
        _("client may also see the alliance ratings"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"client view options {self.engagement_id}"


class AlertStepKind(models.TextChoices):
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    DISCUSSED = "discussed", _("discussed with the client")
    RESOLVED = "resolved", _("resolved")


class AlertStep(models.Model):
    """One step of the alert workflow; appended, never changed, so history stays."""

    alert = models.ForeignKey(
        StoredAlert, on_delete=models.CASCADE, related_name="steps"
    )
    action = models.CharField(max_length=20, choices=AlertStepKind.choices)
    note = EncryptedTextField(_("note"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["alert", "action"], name="alert_step_once")
        ]

    def __str__(self) -> str:
        return f"{self.action} alert {self.alert_id}"
