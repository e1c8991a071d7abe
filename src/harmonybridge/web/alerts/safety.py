"""Safety notices: raised at once when a client's answer triggers a safety item."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from harmonybridge.web import audit
from harmonybridge.web.alerts.models import SafetyAcknowledgement, SafetyNotice
from harmonybridge.web.checkins.models import CheckIn
from harmonybridge.web.practice.policy import engagements_for


def raise_notice(checkin: CheckIn) -> SafetyNotice:
    """Create the check-in's notice once and email its practitioners (no clinical content)."""
    with transaction.atomic():
        notice, created = SafetyNotice.objects.get_or_create(
            checkin=checkin,
            defaults={
                "engagement_id": checkin.session.engagement_id,
                "session": checkin.session,
            },
        )
        if created:
            audit.record(
                None,
                "safety.notice",
                notice,
                practice_id=checkin.session.engagement.practice_id,
                session_id=checkin.session_id,
            )
            transaction.on_commit(lambda: _email(notice.pk))
    return notice


def _email(notice_id: int) -> None:
    notice = SafetyNotice.objects.select_related("engagement").get(pk=notice_id)
    recipients = [u.email for u in notice.engagement.practitioners.all() if u.email]
    if not recipients:
        return
    link = getattr(settings, "HB_PUBLIC_BASE_URL", "").rstrip("/") + reverse(
        "practice:session", args=[notice.session_id]
    )
    send_mail(
        _("HarmonyBridge: a check-in needs your attention"),
        _(
            "A client's check-in needs your attention today. Please sign in to "
            "HarmonyBridge to see it:\n%(link)s\n\nThis email holds no client details."
        )
        % {"link": link},
        None,
        recipients,
        fail_silently=True,
    )


def unacknowledged_for(user: Any) -> QuerySet[SafetyNotice]:
    """Notices in this person's engagements they have not acknowledged yet."""
    return (
        SafetyNotice.objects.filter(engagement__in=engagements_for(user).values("pk"))
        .exclude(acknowledgements__user=user)
        .select_related("session")
    )


def acknowledge(notice: SafetyNotice, user: Any, request: Any) -> None:
    with transaction.atomic():
        _, created = SafetyAcknowledgement.objects.get_or_create(
            notice=notice, user=user
        )
        if created:
            audit.record(user, "safety.acknowledge", notice, request=request)
