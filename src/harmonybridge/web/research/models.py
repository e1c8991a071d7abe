"""Consent records, the research information sheet, export projects and export runs."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from harmonybridge.research import MIN_K
from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.fieldcrypto import EncryptedTextField
from harmonybridge.web.practice.models import Client


class Purpose(models.TextChoices):
    CARE = "care", _("measurement as part of care")
    RESEARCH = "research", _("research use")


class Decision(models.TextChoices):
    GIVEN = "given", _("given")
    WITHDRAWN = "withdrawn", _("withdrawn")


class InformationSheet(models.Model):
    """One version of the practice's research information sheet (a practice setting)."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="information_sheets"
    )
    version = models.CharField(_("version"), max_length=40)
    text = models.TextField(_("text shown to the client"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "version"], name="information_sheet_version_once"
            )
        ]

    def __str__(self) -> str:
        return self.version


class ConsentRecord(models.Model):
    """One answer of one client for one purpose; never changed, a withdrawal is a new record."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="consent_records"
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    decision = models.CharField(_("answer"), max_length=10, choices=Decision.choices)
    sheet_version = models.CharField(_("information sheet version"), max_length=40)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]  # noqa: RUF012
        indexes = [  # noqa: RUF012
            models.Index(
                fields=["client", "purpose", "-recorded_at"],
                name="consent_latest_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.decision}"


slug_validator = RegexValidator(
    r"^[A-Za-z0-9_-]+$", _("Use letters, digits, '-' and '_' only.")
)


class ExportProject(models.Model):
    """What a research export contains; its secret key is stored encrypted."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="export_projects"
    )
    slug = models.CharField(_("short id"), max_length=60, validators=[slug_validator])
    name = models.CharField(_("name"), max_length=200)
    purpose = models.TextField(_("purpose"))
    instruments = models.JSONField(_("instruments"), default=list)
    period_start = models.DateField(_("first session date"))
    period_end = models.DateField(_("last session date"))
    k = models.PositiveSmallIntegerField(
        _("minimum cell size k"),
        default=MIN_K,
        validators=[MinValueValidator(MIN_K)],
    )
    #: hex of the project's random key, encrypted with HB_FIELD_KEYS
    secret_key = EncryptedTextField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "slug"], name="export_project_slug_once"
            ),
            models.CheckConstraint(
                condition=models.Q(k__gte=MIN_K), name="export_project_k_at_least_min"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("ready to download")
    FAILED = "failed", _("failed")
    EXPIRED = "expired", _("deleted after 7 days")


class ExportRun(models.Model):
    """One export of a project: its progress, its log (counts only) and its zip's name."""

    project = models.ForeignKey(
        ExportProject, on_delete=models.CASCADE, related_name="runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    step = models.CharField(max_length=20, blank=True)
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=0)
    #: why it failed, written for the person who ran it; names no client
    message = models.TextField(blank=True)
    file_name = models.CharField(max_length=200, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    left_out = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.project_id}/{self.pk} {self.status}"
