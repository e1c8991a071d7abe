"""Safety notices: raised at once when a client's answer triggers a safety item.

A notice records which answer fired (client, instrument, item, answer; draft or sent).
Practitioners see one safety card per client built from the open notices, and close it
by recording the action they took (audited). The banner on every page shows the
:data:`BANNER_CARDS` cards waiting longest and counts the others, which the safety
answers page lists in full (ADR 0016). The lead practitioner and the practice's
safety contact get an email without clinical content, sent by the task worker; a failed
send is retried with a growing delay and its state is shown on the card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    When,
)
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
    """The open safety notices of one client, newest first, as practitioners see them.

    ``notices[0]`` (:attr:`latest`) is the answer the card shows; the card has waited
    since its oldest open notice (``notices[-1]``)."""

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
        inst, n = self._instrument, self.latest.item_number
        if inst is None or n is None:
            return ""
        item = next((it for it in inst.items if it.number == n), None)
        return (item.text.get("en") or "") if item else ""

    @property
    def answer_label(self) -> str:
        """The answer as the client saw it, with its value: "Several days (1)"."""
        inst, value = self._instrument, self.latest.answer
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

    @property
    def waiting_since(self) -> Any:
        """When the oldest open answer of the card came in (the banner's order)."""
        return self.notices[-1].created_at

    @cached_property
    def _instrument(self) -> Any:  # looked up once per card, not once per property
        if not self.latest.instrument:
            return None
        return catalogue.instrument_for(
            self.latest.engagement.practice, self.latest.instrument
        )


def open_notices_for(user: Any) -> Any:
    """Open notices in this person's engagements (checked per open notice: the cost
    follows the number of open notices, not the size of the practice)."""
    visible = engagements_for(user).filter(pk=OuterRef("engagement_id"))
    return (
        SafetyNotice.objects.open()
        .filter(Exists(visible))
        .select_related(
            "session",
            "client",
            "checkin",
            "engagement__service_line",
            "engagement__practice",
        )
        .order_by("-created_at", "-pk")
    )


#: Safety cards the banner on every page shows in full; the others are counted and
#: listed on the safety answers page (``alerts:safety_cards``; ADR 0016).
BANNER_CARDS = 3


def _keyed(notices: QuerySet[SafetyNotice]) -> Any:  # annotated: not the model's fields
    """The notices with the key of their card: ``(client_id, card_engagement)``.

    One card per client; a notice without a client (raised before notices named the
    respondent) is a card of its engagement. The one place that says what a card is:
    the count, the order and the grouping below all read this key."""
    return notices.annotate(
        card_engagement=Case(
            When(client__isnull=True, then=F("engagement_id")),
            default=None,
            output_field=IntegerField(),
        )
    )


def _card_keys(notices: QuerySet[SafetyNotice]) -> Any:
    """One row per card, the card waiting longest first: its oldest open notice came in
    first (ties: the older notice id). Sorted and counted by the database."""
    return (
        _keyed(notices.order_by())
        .values("client_id", "card_engagement")
        .annotate(waiting_since=Min("created_at"), first_pk=Min("pk"))
        .order_by("waiting_since", "first_pk")
    )


def cards_for(
    user: Any, engagement: Any = None, *, limit: int | None = None
) -> list[SafetyCard]:
    """One card per client with open notices, the card waiting longest first.

    ``limit``: only the first cards (the banner). Two queries however many cards are
    open (the card keys in order, their notices; nothing per card but the wording of a
    licensed instrument)."""
    notices = open_notices_for(user)
    if engagement is not None:
        notices = notices.filter(engagement=engagement)
    keys = _card_keys(notices)
    if limit is not None:
        keys = keys[:limit]
    order = {(k["client_id"], k["card_engagement"]): i for i, k in enumerate(keys)}
    if not order:
        return []
    clients = [c for c, e in order if c is not None]
    engagements = [e for c, e in order if c is None]
    by_card: dict[tuple[Any, Any], list[SafetyNotice]] = {}
    for n in _keyed(notices).filter(
        Q(client_id__in=clients) | Q(client__isnull=True, engagement_id__in=engagements)
    ):
        by_card.setdefault((n.client_id, n.card_engagement), []).append(n)
    ordered = sorted(by_card.items(), key=lambda kv: order[kv[0]])
    return [SafetyCard(ns[0].client, ns) for _, ns in ordered]


def count_cards(user: Any) -> int:
    """How many safety cards wait for an action (one query)."""
    return _card_keys(open_notices_for(user)).count()


@dataclass(frozen=True)
class Banner:
    """What the banner on every page shows: the first cards and how many others wait."""

    cards: list[SafetyCard]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.cards)

    def __bool__(self) -> bool:
        return self.total > 0


def banner_for(user: Any, shown: int = BANNER_CARDS) -> Banner:
    """The banner: the ``shown`` cards waiting longest and the count of all (a constant
    number of queries, whatever the number of open cards)."""
    total = count_cards(user)
    return Banner(cards_for(user, limit=shown) if total else [], total)


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
