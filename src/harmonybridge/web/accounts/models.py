"""Practices and the people who work in them (staff accounts with one role each)."""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_CRISIS_TEXT = _(
    "If you are thinking about harming yourself or feel unsafe, please contact your "
    "practitioner now, call your local emergency number, or go to the nearest emergency "
    "department. You do not have to wait for your next session."
)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(tz)s is not a known time zone."), params={"tz": value}
        )


class Practice(models.Model):
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
    )
    crisis_text = models.TextField(
        _("crisis text shown to clients"), default=DEFAULT_CRISIS_TEXT
    )
    safety_contact_email = models.EmailField(
        _("safety contact's email"),
        blank=True,
        help_text=_(
            "Also told (without client details) when a client's answer touches on "
            "safety, besides the lead practitioner."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]  # noqa: RUF012  (Django Meta option)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("practice admin")
    PRACTITIONER = "practitioner", _("practitioner")
    SUPERVISOR = "supervisor", _("supervisor")
    RESEARCHER = "researcher", _("researcher")


class User(AbstractUser):
    """A staff account. Clients never have accounts; they answer through check-in links."""

    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.PRACTITIONER
    )
    supervisees = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="supervisors",
        help_text=_("Practitioners whose caseloads this supervisor may see."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_practice_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_researcher(self) -> bool:
        return self.role == Role.RESEARCHER
