"""Alerts from the core's transparent rules, and safety notices awaiting an action."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.fieldcrypto import EncryptedTextField
from harmonybridge.web.practice.models import Engagement, TherapySession


class Severity(models.TextChoices):
    INFO = "info", _("info")
    WARNING = "warning", _("warning")
    URGENT = "urgent", _("urgent")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACKNOWLEDGED = "acknowledged", _("acknowledged")
    DISCUSSED = "discussed", _("discussed with the client")
    RESOLVED = "resolved", _("resolved")


class StoredAlertQuerySet(models.QuerySet["StoredAlert"]):
    def open(self) -> StoredAlertQuerySet:
        return self.filter(status=AlertStatus.OPEN)


class StoredAlert(models.Model):
    """One alert as the core raised it: rule, version, parameters and evidence."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="alerts"
    )
    session = models.ForeignKey(
        TherapySession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
    )
    session_number = models.PositiveIntegerField(null=True, blank=True)
    rule_id = models.CharField(max_length=64)
    rule_version = models.CharField(max_length=20)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    rater_role = models.CharField(max_length=20, blank=True)
    respondent_id = models.CharField(max_length=32, blank=True)
    instrument = models.CharField(max_length=40, blank=True)
    params = models.JSONField(default=dict, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    message = models.TextField()
    suggestions = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    status_note = EncryptedTextField(blank=True)
    status_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoredAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=[
                    "engagement",
                    "session_number",
                    "rule_id",
                    "respondent_id",
                    "instrument",
                ],
                name="alert_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.rule_version} ({self.severity})"

    def get_absolute_url(self) -> str:
        return reverse("practice:engagement", args=[self.engagement_id])


class SafetyAction(models.TextChoices):
    """What the practitioner did about a safety answer (closes the client's card)."""

    CONTACTED = "contacted", _("contacted the client")
    PLAN_REVIEWED = "plan_reviewed", _("safety plan reviewed")
    REFERRED = "referred", _("referred")
    NOT_NEEDED = "not_needed", _("judged not needed")


class EmailState(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    RETRYING = "retrying", _("not sent yet, trying again")
    FAILED = "failed", _("could not be sent")
    NONE = "none", _("nobody to email")


class SafetyNoticeQuerySet(models.QuerySet["SafetyNotice"]):
    def open(self) -> SafetyNoticeQuerySet:
        return self.filter(closed_at__isnull=True)


class SafetyNotice(models.Model):
    """A client's answer triggered a safety item; open until a practitioner records the
    action taken (the open notices of one client make one safety card)."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="safety_notices"
    )
    session = models.ForeignKey(
        TherapySession, on_delete=models.CASCADE, related_name="safety_notices"
    )
    checkin = models.OneToOneField(
        "checkins.CheckIn",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="safety_notice",
    )
    client = models.ForeignKey(
        "practice.Client",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="safety_notices",
    )
    instrument = models.CharField(max_length=40, blank=True)
    item_number = models.PositiveSmallIntegerField(null=True, blank=True)
    answer = models.FloatField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=SafetyAction.choices, blank=True)
    action_note = EncryptedTextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=EmailState.choices, default=EmailState.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SafetyNoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"safety notice {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("insights:answers", args=[self.session_id])


class AlertReference(models.Model):
    """A practice's alert context (norms, pooled SDs, curves) fitted on its closed work.

    Stored as ``AlertContext.to_dict()`` JSON so that a check-in save reads it in one
    query instead of refitting; rebuilt by ``refresh_alert_reference``.
    """

    practice = models.OneToOneField(
        "accounts.Practice", on_delete=models.CASCADE, related_name="alert_reference"
    )
    context = models.JSONField(default=dict)
    fitted_at = models.DateTimeField()
    library_version = models.CharField(max_length=40)
    n_engagements = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"alert reference of practice {self.practice_id} ({self.fitted_at:%Y-%m-%d})"
