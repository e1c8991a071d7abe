"""Plain factory functions for web tests: defaults filled with setdefault, no library."""

from __future__ import annotations

import itertools
from typing import Any

from harmonybridge.web.accounts.models import Practice, Role, User
from harmonybridge.web.checkins import tokens
from harmonybridge.web.practice import services
from harmonybridge.web.practice.models import (
    Client,
    Engagement,
    EngagementClient,
    ServiceKind,
    ServiceLine,
    TherapySession,
)

_seq = itertools.count(1)


def make_practice(**overrides: Any) -> Practice:
    overrides.setdefault("name", f"Practice {next(_seq)}")
    overrides.setdefault("time_zone", "Europe/Berlin")
    practice = Practice.objects.create(**overrides)
    services.ensure_service_lines(practice)
    return practice


def make_practitioner(practice: Practice | None = None, **overrides: Any) -> User:
    n = next(_seq)
    overrides.setdefault("username", f"user{n}")
    overrides.setdefault("email", f"user{n}@example.org")
    overrides.setdefault("role", Role.PRACTITIONER)
    user = User(practice=practice or make_practice(), **overrides)
    user.set_password("correct horse battery staple")
    user.save()
    return user


def make_client(
    practitioner: User | None = None, *, care_consent: bool = True, **overrides: Any
) -> Client:
    """A client; with care consent recorded (check-in links need it) unless told not."""
    practitioner = practitioner or make_practitioner()
    overrides.setdefault("practice", practitioner.practice)
    overrides.setdefault("practitioner", practitioner)
    client = Client.objects.create(**overrides)
    if care_consent:
        give_consent(client, "care", practitioner)
    return client


def give_consent(
    client: Client, purpose: str, recorded_by: User, decision: str = "given"
) -> Any:
    from harmonybridge.web.research.models import ConsentRecord

    return ConsentRecord.objects.create(
        client=client,
        purpose=purpose,
        decision=decision,
        sheet_version="1" if purpose == "research" else "care",
        recorded_by=recorded_by,
    )


def make_engagement(
    practitioner: User | None = None,
    clients: list[Client] | None = None,
    kind: str = ServiceKind.COACHING,
    **overrides: Any,
) -> Engagement:
    practitioner = practitioner or make_practitioner()
    clients = clients or [make_client(practitioner)]
    line = ServiceLine.objects.filter(practice=practitioner.practice, kind=kind).first()
    overrides.setdefault("service_line", line)
    overrides.setdefault("goal_1", "Sleep through the night")
    overrides.setdefault("goal_2", "Go back to choir")
    engagement = Engagement.objects.create(
        practice=practitioner.practice, lead=practitioner, **overrides
    )
    engagement.practitioners.add(practitioner)
    for c in clients:
        EngagementClient.objects.create(engagement=engagement, client=c)
    services.apply_default_plan(engagement)
    return engagement


def make_session(
    engagement: Engagement | None = None, **overrides: Any
) -> TherapySession:
    engagement = engagement or make_engagement()
    overrides.setdefault("number", engagement.next_session_number())
    return TherapySession.objects.create(engagement=engagement, **overrides)


def make_checkin(
    session: TherapySession | None = None, respondent: Client | None = None
):
    """Return (check-in, plain token)."""
    session = session or make_session()
    respondent = respondent or session.engagement.clients.first()
    return tokens.issue(session, respondent)


def make_safety_notice(
    practitioner: User, *, answer: int = 1, created_at: Any = None
) -> Any:
    """An open PHQ-9 item 9 notice for a new therapy engagement of ``practitioner``'s,
    raised at ``created_at`` (now by default)."""
    from harmonybridge.web.alerts.models import SafetyNotice
    from harmonybridge.web.practice.models import ServiceKind

    e = make_engagement(practitioner, kind=ServiceKind.THERAPY)
    notice = SafetyNotice.objects.create(
        engagement=e,
        session=make_session(e),
        client=e.clients.first(),
        instrument="phq9",
        item_number=9,
        answer=answer,
    )
    if created_at is not None:  # auto_now_add: set afterwards
        SafetyNotice.objects.filter(pk=notice.pk).update(created_at=created_at)
        notice.refresh_from_db()
    return notice
