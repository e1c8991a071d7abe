"""Safety notices: raised at once when a client's answer triggers a safety item.

A notice records which answer fired (client, instrument, item, answer; draft or sent).
Practitioners see one safety card per client built from the open notices, and close it
by recording the action they took (audited). The lead practitioner and the practice's
safety contact get an email without clinical content, sent by the task worker; a failed
send is retried with a growing delay and its state is shown on the card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task, task_backends

from harmonybridge.formatting import fmt_score
from harmonybridge.instruments import short_title
from harmonybridge.web import audit
from harmonybridge.web.alerts.models import EmailState, SafetyNotice
from harmonybridge.web.alerts.tasks import enqueue_row
from harmonybridge.web.checkins.models import CheckIn
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.policy import engagements_for

#: Attempts at sending one notice's email before it is marked as failed.
MAX_EMAIL_ATTEMPTS = 5


def fired_answer(inst: Any, answers: Mapping[int, Any]) -> tuple[int, Any] | None:
    """The first safety item of ``inst`` whose answer fires, with that answer."""
    for rule in inst.safety_items:
        value = answers.get(rule.item)
        if rule.fires(value):
            return rule.item, value
    return None


def raise_notice(
    checkin: CheckIn, inst: Any = None, answers: Mapping[int, Any] | None = None
) -> SafetyNotice:
    """Create the check-in's notice once (keeping the latest answer that fired) and
    queue the email to the lead practitioner and the safety contact."""
    fired = fired_answer(inst, answers or {}) if inst is not None else None
    with transaction.atomic():
        shown: dict[str, Any] = {}
        if fired is not None:
            shown = {"instrument": inst.id, "item_number": fired[0]}
            shown["answer"] = float(fired[1])
        notice, created = SafetyNotice.objects.get_or_create(
            checkin=checkin,
            defaults={
                "engagement_id": checkin.session.engagement_id,
                "session": checkin.session,
                "client_id": checkin.respondent_id,
                **shown,  # a new notice is stored with its answer: no second write
            },
        )
        if shown and not created:
            for name, value in shown.items():
                setattr(notice, name, value)
            notice.save(update_fields=[*shown, "updated_at"])
        if created:
            audit.record(
                None,
                "safety.notice",
                notice,
                practice_id=checkin.session.engagement.practice_id,
                session_id=checkin.session_id,
            )
            transaction.on_commit(lambda: enqueue_row(send_safety_email, notice.pk))
    return notice


def _recipients(notice: SafetyNotice) -> list[str]:
    engagement = notice.engagement
    out = []
    if engagement.lead_id and engagement.lead.email:
        out.append(engagement.lead.email)
    contact = engagement.practice.safety_contact_email
    if contact and contact not in out:
        out.append(contact)
    return out


@task()
def send_safety_email(notice_id: int) -> str:
    """Email the notice's recipients (no clinical content); on failure try again later."""
    notice = (
        SafetyNotice.objects.select_related("engagement__lead", "engagement__practice")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None or notice.email_state in (EmailState.SENT, EmailState.NONE):
        return "skipped"
    recipients = _recipients(notice)
    if not recipients:
        _set_email_state(notice, EmailState.NONE)
        return EmailState.NONE
    link = getattr(settings, "HB_PUBLIC_BASE_URL", "").rstrip("/") + reverse(
        "insights:caseload"
    )
    notice.email_attempts += 1
    try:
        send_mail(
            _("HarmonyBridge: a check-in needs your attention"),
            _(
                "A client's check-in needs your attention today. Please sign in to "
                "HarmonyBridge to see it:\n%(link)s\n\nThis email holds no client details."
            )
            % {"link": link},
            None,
            recipients,
            fail_silently=False,
        )
    except Exception as exc:  # any transport error: keep it visible and try again
        notice.email_error = type(exc).__name__[:200]
        last = notice.email_attempts >= MAX_EMAIL_ATTEMPTS
        _set_email_state(notice, EmailState.FAILED if last else EmailState.RETRYING)
        if not last:
            _retry(notice)
        return notice.email_state
    notice.email_error = ""
    _set_email_state(notice, EmailState.SENT)
    return EmailState.SENT


def _set_email_state(notice: SafetyNotice, state: str) -> None:
    notice.email_state = state
    notice.save(
        update_fields=["email_state", "email_attempts", "email_error", "updated_at"]
    )


def _retry(notice: SafetyNotice) -> None:
    """Queue the next attempt: after 1, 2, 4, 8 minutes with a worker; at once without."""
    backend = task_backends[send_safety_email.backend]
    if backend.supports_defer:
        delay = dt.timedelta(minutes=2 ** (notice.email_attempts - 1))
        send_safety_email.using(run_after=timezone.now() + delay).enqueue(notice.pk)
    else:
        send_safety_email.enqueue(notice.pk)


# --- Safety cards ------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyCard:
    """The open safety notices of one client, newest first, as practitioners see them."""

    client: Any
    notices: list[SafetyNotice]

    @property
    def latest(self) -> SafetyNotice:
        return self.notices[0]

    @property
    def engagement(self) -> Any:
        return self.latest.engagement

    @property
    def instrument_title(self) -> str:
        return short_title(self.latest.instrument) if self.latest.instrument else ""

    @property
    def item_text(self) -> str:
        inst, n = self._inst(), self.latest.item_number
        if inst is None or n is None:
            return ""
        item = next((it for it in inst.items if it.number == n), None)
        return (item.text.get("en") or "") if item else ""

    @property
    def answer_label(self) -> str:
        """The answer as the client saw it, with its value: "Several days (1)"."""
        inst, value = self._inst(), self.latest.answer
        if value is None:
            return ""
        label = ""
        if inst is not None and self.latest.item_number is not None:
            item = next(
                (it for it in inst.items if it.number == self.latest.item_number), None
            )
            if item is not None:
                options = dict(inst.scales[item.scale].options)
                label = options.get(int(value), "")
        number = fmt_score(value)
        return f"{label} ({number})" if label else number

    @property
    def is_draft(self) -> bool:
        checkin = self.latest.checkin
        return checkin is not None and checkin.submitted_at is None

    def _inst(self) -> Any:
        if not self.latest.instrument:
            return None
        return catalogue.instrument_for(
            self.latest.engagement.practice, self.latest.instrument
        )


def open_notices_for(user: Any) -> Any:
    """Open notices in this person's engagements."""
    return (
        SafetyNotice.objects.open()
        .filter(engagement__in=engagements_for(user).values("pk"))
        .select_related(
            "session",
            "client",
            "checkin",
            "engagement__service_line",
            "engagement__practice",
        )
        .order_by("-created_at", "-pk")
    )


def cards_for(user: Any, engagement: Any = None) -> list[SafetyCard]:
    """One card per client with open notices (newest card first)."""
    notices = open_notices_for(user)
    if engagement is not None:
        notices = notices.filter(engagement=engagement)
    by_client: dict[Any, list[SafetyNotice]] = {}
    for n in notices:
        key = n.client_id or f"engagement-{n.engagement_id}"
        by_client.setdefault(key, []).append(n)
    return [SafetyCard(ns[0].client, ns) for ns in by_client.values()]


def record_action(
    notices: list[SafetyNotice], user: Any, action: str, note: str, request: Any
) -> int:
    """Close the given open notices with the action taken; audited. Returns how many."""
    now = timezone.now()
    closed = 0
    with transaction.atomic():
        for notice in SafetyNotice.objects.select_for_update().filter(
            pk__in=[n.pk for n in notices], closed_at__isnull=True
        ):
            notice.action = action
            notice.action_note = note
            notice.closed_by = user
            notice.closed_at = now
            notice.save(
                update_fields=[
                    "action",
                    "action_note",
                    "closed_by",
                    "closed_at",
                    "updated_at",
                ]
            )
            audit.record(
                user,
                "safety.action",
                notice,
                request=request,
                engagement_id=notice.engagement_id,
                taken=action,
            )
            closed += 1
    return closed
