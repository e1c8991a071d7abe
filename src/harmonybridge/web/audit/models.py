"""The append-only audit log: who did what to which object, never clinical content."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete an audit row."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    def about_client(self, code: str) -> AuditEventQuerySet:
        """Every event that touched or showed this client ("who saw this client?")."""
        return self.filter(
            models.Q(client_code=code) | models.Q(client_codes__contains=f" {code} ")
        )


class AuditEvent(models.Model):
    """One access or change. ``detail`` holds ids and action words only."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=150, blank=True, help_text=_("username, or 'client check-in'")
    )
    practice_id_ref = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    client_code = models.CharField(max_length=32, blank=True, db_index=True)
    #: Every client whose data the event showed or changed, as " C-AAA C-BBB " (the
    #: spaces make ``contains`` exact on every database). A dashboard of a family
    #: engagement shows all its members: they are all here.
    client_codes = models.TextField(blank=True, default="")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]  # noqa: RUF012  (Django Meta option)

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")

    @property
    def client_code_list(self) -> list[str]:
        return self.client_codes.split()
