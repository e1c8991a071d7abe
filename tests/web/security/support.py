"""Factories shared by the security, accounts, audit, privacy and ops tests."""

from __future__ import annotations

import itertools
from typing import Any

from harmonybridge.web.accounts.models import Practice, Role, User

PASSWORD = "a long synthetic passphrase 42"
_seq = itertools.count(1)


def make_practice(**overrides: Any) -> Practice:
    overrides.setdefault("name", f"Practice {next(_seq)}")
    return Practice.objects.create(**overrides)


def make_staff(
    practice: Practice | None = None, role: str = Role.PRACTITIONER, **overrides: Any
) -> User:
    n = next(_seq)
    overrides.setdefault("username", f"staff{n}")
    overrides.setdefault("email", f"staff{n}@example.org")
    user = User.objects.create_user(
        practice=practice or make_practice(), role=role, password=PASSWORD, **overrides
    )
    return user


def give_totp(user: User) -> None:
    """Give the user an authenticator app so two-factor enforcement lets them through."""
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, "JBSWY3DPEHPK3PXP")


MARK_NAME = "ZZCANARY-NAME-Ærøskøbing"
MARK_EMAIL = "zzcanary.contact@example.org"
MARK_TEXT = "ZZCANARY-TEXT-goal-words"


def make_client_world(
    practice: Practice | None = None, practitioner: User | None = None
) -> dict[str, Any]:
    """One client with an engagement, a session, a plan entry, a check-in and a safety notice.

    Built straight from the practice app's models so the security tests do not depend
    on its forms; the client's name, contact and goal carry the planted markers.
    """
    import datetime as dt
    import hashlib

    from django.utils import timezone

    from harmonybridge.web.alerts.models import CurveSet, SafetyNotice, StoredAlert
    from harmonybridge.web.checkins.models import CheckIn, Response
    from harmonybridge.web.practice.models import (
        Client,
        Engagement,
        EngagementClient,
        MeasurementPlan,
        PlanEntry,
        ServiceLine,
        TherapySession,
    )

    practice = practice or make_practice()
    practitioner = practitioner or make_staff(practice, Role.PRACTITIONER)
    line, _ = ServiceLine.objects.get_or_create(
        practice=practice, name="Individual therapy", defaults={"kind": "therapy"}
    )
    client = Client.objects.create(
        practice=practice, name=MARK_NAME, email=MARK_EMAIL, practitioner=practitioner
    )
    engagement = Engagement.objects.create(
        practice=practice, lead=practitioner, service_line=line, goal_1=MARK_TEXT
    )
    engagement.practitioners.add(practitioner)
    EngagementClient.objects.create(engagement=engagement, client=client)
    session = TherapySession.objects.create(engagement=engagement, number=1)
    plan = MeasurementPlan.objects.create(engagement=engagement)
    entry = PlanEntry.objects.create(
        plan=plan, instrument_id="phq9", rater_role="client"
    )
    token_hash = hashlib.sha256(f"tok-{client.pk}-{session.pk}".encode()).hexdigest()
    checkin = CheckIn.objects.create(
        session=session,
        respondent=client,
        token_hash=token_hash,
        expires_at=timezone.now() + dt.timedelta(days=3),
    )
    notice = SafetyNotice.objects.create(
        engagement=engagement, session=session, checkin=checkin
    )
    alert = StoredAlert.objects.create(
        engagement=engagement,
        session=session,
        session_number=1,
        rule_id="fixture_rule",
        rule_version="1",
        severity="warning",
        respondent_id=client.code,
        instrument="phq9",
        message="synthetic alert",
    )
    from harmonybridge.web.research.models import (
        ConsentRecord,
        ExportProject,
        ExportRun,
    )

    # care consent: check-in links may be issued to this client
    ConsentRecord.objects.create(
        client=client,
        purpose="care",
        decision="given",
        sheet_version="care",
        recorded_by=practitioner,
    )

    project = ExportProject.objects.create(
        practice=practice,
        slug=f"project-{client.pk}",
        name="Synthetic project",
        purpose="Route walk",
        instruments=["phq9"],
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
        secret_key="00" * 32,
        created_by=practitioner,
    )
    run = ExportRun.objects.create(project=project, requested_by=practitioner)
    # a converged, calibrated curve set the practice admin may accept (fit: placeholder)
    curve_set = CurveSet.objects.create(
        practice=practice,
        instrument="phq9",
        fit={},
        converged=True,
        calibration=[{"band": "synthetic"}],
    )
    rating = Response.objects.create(
        session=session,
        instrument_id="hb_checkin_practitioner",
        instrument_version="1.0",
        rater_role="practitioner",
        respondent_user=practitioner,
        respondent_key=Response.key_for_user(practitioner.pk),
        channel="web",
    )
    return {
        "curve_set": curve_set,
        "practice": practice,
        "practitioner": practitioner,
        "client": client,
        "export_project": project,
        "export_run": run,
        "practitioner_rating": rating,
        "engagement": engagement,
        "session": session,
        "plan_entry": entry,
        "checkin": checkin,
        "safety_notice": notice,
        "stored_alert": alert,
    }
