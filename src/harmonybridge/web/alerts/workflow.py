"""Alert workflow: acknowledge, discuss with the client, resolve with a short note.

Steps only move forward (open → acknowledged → discussed → resolved; steps may be
skipped), each step is appended to the alert's history (``insights.AlertStep``) and
audited, and nothing is ever deleted. Acting on an alert a second time changes
nothing and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from harmonybridge.web import audit
from harmonybridge.web.alerts.models import AlertStatus, StoredAlert

#: URL action word -> the status it leads to.
ACTIONS: dict[str, str] = {
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "discuss": AlertStatus.DISCUSSED,
    "resolve": AlertStatus.RESOLVED,
}
_RANK = {
    AlertStatus.OPEN: 0,
    AlertStatus.ACKNOWLEDGED: 1,
    AlertStatus.DISCUSSED: 2,
    AlertStatus.RESOLVED: 3,
}


class AlertStepForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Short note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("What you did or agreed (stored encrypted)."),
    )

    def __init__(self, *args: Any, action: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean_note(self) -> str:
        note = self.cleaned_data.get("note", "").strip()
        if self.action == "resolve" and not note:
            raise forms.ValidationError(
                _("Write a short note on how the alert was resolved.")
            )
        return note


@dataclass(frozen=True)
class StepResult:
    alert: StoredAlert
    done: bool
    message: str


def is_unresolved(alert: StoredAlert) -> bool:
    return alert.status != AlertStatus.RESOLVED


def apply_step(
    alert_id: int, action: str, user: Any, note: str, request: Any = None
) -> StepResult:
    """Move the alert forward once; a step already taken (or passed) changes nothing."""
    from harmonybridge.web.insights.models import AlertStep

    target = ACTIONS[action]
    with transaction.atomic():
        alert = StoredAlert.objects.select_for_update().get(pk=alert_id)
        if _RANK[alert.status] >= _RANK[target]:
            return StepResult(alert, False, _already(alert))
        try:
            with transaction.atomic():
                AlertStep.objects.create(
                    alert=alert, action=target, note=note, user=user
                )
        except IntegrityError:
            return StepResult(alert, False, _already(alert))
        alert.status = target
        alert.status_by = user
        alert.status_at = timezone.now()
        alert.save(update_fields=["status", "status_by", "status_at", "updated_at"])
        audit.record(
            user,
            f"alert.{action}",
            alert,
            request=request,
            engagement_id=alert.engagement_id,
            rule=alert.rule_id,
        )
    return StepResult(alert, True, _done(alert))


def _already(alert: StoredAlert) -> str:
    who = (
        alert.status_by.get_full_name() or alert.status_by.get_username()
        if alert.status_by
        else ""
    )
    when = (
        timezone.localtime(alert.status_at).strftime("%d %b %Y, %H:%M")
        if alert.status_at
        else ""
    )
    return _(
        "This alert is already %(status)s (%(who)s, %(when)s). Nothing was changed."
    ) % {"status": alert.get_status_display(), "who": who or "—", "when": when or "—"}


def _done(alert: StoredAlert) -> str:
    return _("The alert is now %(status)s.") % {"status": alert.get_status_display()}
