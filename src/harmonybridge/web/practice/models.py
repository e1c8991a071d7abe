"""Clients, engagements, sessions, measurement plans and licensed wording of a practice."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.fieldcrypto import EncryptedTextField

#: Letters and digits that cannot be confused when read aloud or copied by hand.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_client_code() -> str:
    """A random pseudonymous client code such as ``C-7KQ2MX``."""
    return "C-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


class ServiceKind(models.TextChoices):
    THERAPY = "therapy", _("therapy")
    COACHING = "coaching", _("coaching")


class ServiceLine(models.Model):
    """One kind of work a practice offers; the list is editable per practice."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="service_lines"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ServiceKind.choices)
    active = models.BooleanField(_("offered"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "name"], name="service_line_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


#: The service lines a new practice starts with (it may edit the list).
DEFAULT_SERVICE_LINES: tuple[tuple[str, str], ...] = (
    ("Individual therapy", ServiceKind.THERAPY),
    ("Couples and family therapy", ServiceKind.THERAPY),
    ("Health and wellness coaching", ServiceKind.COACHING),
    ("Spiritual life coaching", ServiceKind.COACHING),
    ("Life transition coaching", ServiceKind.COACHING),
)


class PractitionerProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    profession = models.CharField(_("profession"), max_length=100, blank=True)
    service_lines = models.ManyToManyField(
        ServiceLine, blank=True, related_name="practitioners"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.profession})" if self.profession else str(self.user)


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(engagements__status=EngagementStatus.ACTIVE).distinct()


class Client(models.Model):
    """One person. The code is always there; name and contact are optional and encrypted."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="clients"
    )
    code = models.CharField(
        _("client code"),
        max_length=16,
        unique=True,
        default=new_client_code,
        editable=False,
    )
    name = EncryptedTextField(_("name"), blank=True)
    email = EncryptedTextField(_("email for check-in links"), blank=True)
    #: The responsible practitioner (staff accounts are deactivated, never deleted).
    practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("responsible practitioner"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["code"]  # noqa: RUF012

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("practice:client", args=[self.pk])

    @property
    def label(self) -> str:
        """The name when known, else the code (for practitioners' pages only)."""
        return f"{self.name} ({self.code})" if self.name else self.code


class EngagementStatus(models.TextChoices):
    ACTIVE = "active", _("active")
    PAUSED = "paused", _("paused")
    CLOSED = "closed", _("closed")


class EngagementQuerySet(models.QuerySet["Engagement"]):
    def active(self) -> EngagementQuerySet:
        return self.filter(status=EngagementStatus.ACTIVE)


class Engagement(models.Model):
    """One course of therapy or coaching with one client, a couple or a family."""

    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="engagements"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_engagements",
        verbose_name=_("lead practitioner"),
    )
    practitioners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="engagements",
        verbose_name=_("practitioners"),
        help_text=_("The lead and any co-practitioners."),
    )
    clients = models.ManyToManyField(
        Client, through="EngagementClient", related_name="engagements"
    )
    service_line = models.ForeignKey(
        ServiceLine, on_delete=models.PROTECT, related_name="engagements"
    )
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=EngagementStatus.choices,
        default=EngagementStatus.ACTIVE,
    )
    goal_1 = EncryptedTextField(_("first agreed goal"), blank=True)
    goal_2 = EncryptedTextField(_("second agreed goal"), blank=True)
    goal_3 = EncryptedTextField(_("third agreed goal"), blank=True)
    way_of_working = EncryptedTextField(_("agreed way of working"), blank=True)
    client_sees_scores = models.BooleanField(
        _("client may see own scores"), default=False
    )
    client_sees_goals = models.BooleanField(
        _("client may see agreed goals"), default=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "-id"]  # noqa: RUF012

    def __str__(self) -> str:
        return f"{self.service_line} · {self.start_date:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("practice:engagement", args=[self.pk])

    @property
    def goals(self) -> list[str]:
        """The agreed goals in the client's words, in order, without empty ones."""
        return [g for g in (self.goal_1, self.goal_2, self.goal_3) if g]

    @property
    def is_coaching(self) -> bool:
        return self.service_line.kind == ServiceKind.COACHING

    def next_session_number(self) -> int:
        last = self.sessions.aggregate(m=models.Max("number"))["m"]
        return (last or 0) + 1


class EngagementClient(models.Model):
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="memberships"
    )
    client = models.ForeignKey(
        Client, on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["engagement", "client"], name="engagement_client_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} in {self.engagement_id}"


class Modality(models.TextChoices):
    IN_PERSON = "in_person", _("in person")
    VIDEO = "video", _("video")
    PHONE = "phone", _("phone")
    CHAT = "chat", _("chat")


class Attendance(models.TextChoices):
    ATTENDED = "attended", _("attended")
    CANCELLED = "cancelled", _("cancelled")
    NO_SHOW = "no_show", _("no-show")


class TherapySession(models.Model):
    """One session of an engagement (coaching sessions too); stored in UTC."""

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="sessions"
    )
    number = models.PositiveIntegerField(_("session number"))
    starts_at = models.DateTimeField(_("date and time"), default=timezone.now)
    modality = models.CharField(
        _("modality"),
        max_length=10,
        choices=Modality.choices,
        default=Modality.IN_PERSON,
    )
    attendance = models.CharField(
        _("attendance"),
        max_length=10,
        choices=Attendance.choices,
        default=Attendance.ATTENDED,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["engagement", "number"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["engagement", "number"], name="session_number_once"
            )
        ]

    def __str__(self) -> str:
        return _("Session %(n)s") % {"n": self.number}

    def get_absolute_url(self) -> str:
        return reverse("practice:session", args=[self.pk])


class RaterRole(models.TextChoices):
    CLIENT = "client", _("client")
    PRACTITIONER = "practitioner", _("practitioner")


class MeasurementPlan(models.Model):
    engagement = models.OneToOneField(
        Engagement, on_delete=models.CASCADE, related_name="plan"
    )
    #: Opt-in brief plan: the PHQ-4 short form instead of the full PHQ-9 and GAD-7,
    #: which are asked every fourth session and whenever the short form is positive.
    brief = models.BooleanField(_("brief plan"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"plan {self.engagement_id}"

    def due(self, session_number: int, rater_role: str) -> list[PlanEntry]:
        """The entries a rater completes at this session, in plan order."""
        return [
            e
            for e in self.entries.all()
            if e.rater_role == rater_role and e.is_due(session_number)
        ]


class PlanEntry(models.Model):
    plan = models.ForeignKey(
        MeasurementPlan, on_delete=models.CASCADE, related_name="entries"
    )
    instrument_id = models.CharField(_("instrument"), max_length=40)
    rater_role = models.CharField(_("rater"), max_length=20, choices=RaterRole.choices)
    every_n = models.PositiveSmallIntegerField(_("every Nth session"), default=1)
    starting_session = models.PositiveSmallIntegerField(_("from session"), default=1)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["plan", "instrument_id", "rater_role"], name="plan_entry_once"
            ),
            models.CheckConstraint(
                condition=models.Q(every_n__gte=1), name="plan_entry_every_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} ({self.rater_role}) every {self.every_n}"

    def is_due(self, session_number: int) -> bool:
        start = self.starting_session
        return session_number >= start and (session_number - start) % self.every_n == 0


class InstrumentWording(models.Model):
    """Licensed item wording a practice pasted for a class C instrument."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="wordings"
    )
    instrument_id = models.CharField(_("instrument"), max_length=40)
    version = models.CharField(_("wording version"), max_length=40, default="1")
    wording = models.JSONField(_("wording"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument_id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "instrument_id"], name="wording_once_per_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} wording v{self.version}"


class CasenessConvention(models.Model):
    """The practice's choice of an instrument's caseness convention (cut-off + its
    reliable-change criterion, ``[conventions]`` of the definition). No row: the
    definition's default. Read only through ``practice.conventions``."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="caseness_conventions"
    )
    instrument_id = models.CharField(_("instrument"), max_length=40)
    convention = models.CharField(_("caseness convention"), max_length=60)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument_id"]  # noqa: RUF012
        constraints = [  # noqa: RUF012
            models.UniqueConstraint(
                fields=["practice", "instrument_id"],
                name="caseness_convention_once_per_practice",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id}: {self.convention}"


class DataStamp(models.Model):
    """A counter per practice that every write of the data its analyses read raises.

    Kept by :mod:`harmonybridge.web.practice.datastamp` only (ADR 0017); pages that cache
    figures computed from a whole practice key them by it instead of scanning the rows.
    The practice is a plain id, not a foreign key: the row outlives a deleted practice,
    so an id SQLite hands out again never starts from a version already cached.
    """

    practice_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"practice {self.practice_id}: data version {self.version}"
