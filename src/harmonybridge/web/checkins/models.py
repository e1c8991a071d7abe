"""Check-ins (a link per respondent and session), stored responses, answers and scores."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.practice.models import Client, RaterRole, TherapySession


class Channel(models.TextChoices):
    LINK = "link", _("link")
    QR = "qr", _("QR code")
    EMAIL = "email", _("email")
    WEB = "web", _("practitioner's session page")
    IMPORT = "import", _("import")
    API = "api", _("API")


class CheckIn(models.Model):
    """One respondent's check-in for one session. The token is stored only as a hash."""

    session = models.ForeignKey(
        TherapySession, on_delete=models.CASCADE, related_name="checkins"
    )
    respondent = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="checkins"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(
        max_length=10, choices=Channel.choices, default=Channel.LINK
    )
    email_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    #: Answers given so far: {instrument id: {item number (str): value}}.
    draft = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "respondent"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["session", "respondent"], name="checkin_once_per_respondent"
            )
        ]

    def __str__(self) -> str:
        return f"check-in {self.pk} ({self.respondent})"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class Response(models.Model):
    """One completed questionnaire, stored once per session, respondent and instrument."""

    session = models.ForeignKey(
        TherapySession, on_delete=models.CASCADE, related_name="responses"
    )
    checkin = models.ForeignKey(
        CheckIn,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="responses",
    )
    instrument_id = models.CharField(max_length=40)
    instrument_version = models.CharField(max_length=40)
    rater_role = models.CharField(max_length=20, choices=RaterRole.choices)
    respondent_client = models.ForeignKey(
        Client,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
    )
    respondent_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
    )
    #: "c<client id>" or "p<user id>": who answered, for the unique constraint.
    respondent_key = models.CharField(max_length=32)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    submitted_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "instrument_id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["session", "respondent_key", "instrument_id"],
                name="response_once",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        respondent_client__isnull=False, respondent_user__isnull=True
                    )
                    | models.Q(
                        respondent_client__isnull=True, respondent_user__isnull=False
                    )
                ),
                name="response_one_respondent",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.instrument_id} by {self.respondent_key} (session {self.session_id})"
        )

    @staticmethod
    def key_for_client(client_id: int) -> str:
        return f"c{client_id}"

    @staticmethod
    def key_for_user(user_id: int) -> str:
        return f"p{user_id}"


class ResponseRevision(models.Model):
    """An earlier version of a corrected response: its answers before the correction."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="revisions"
    )
    #: {item number (str): value or None} as stored before the correction.
    answers = models.JSONField()
    instrument_version = models.CharField(max_length=40)
    submitted_at = models.DateTimeField()
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["response", "created_at"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"revision of response {self.response_id}"


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers"
    )
    item = models.PositiveSmallIntegerField()
    value = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["response", "item"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["response", "item"], name="answer_once")
        ]

    def __str__(self) -> str:
        return f"item {self.item}"


class Score(models.Model):
    """A score computed by the core; ``subscale`` is "" for the total."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="scores"
    )
    subscale = models.CharField(max_length=40, blank=True)
    value = models.FloatField(null=True, blank=True)
    band = models.CharField(max_length=80, blank=True)
    library_version = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["response", "subscale"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(fields=["response", "subscale"], name="score_once")
        ]

    def __str__(self) -> str:
        return f"{self.subscale or 'total'}={self.value}"
