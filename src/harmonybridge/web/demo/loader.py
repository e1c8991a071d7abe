"""Load the synthetic demo practice from ``harmonybridge.datasets`` with bulk inserts."""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

import harmonybridge
from harmonybridge.datasets import demo_practice
from harmonybridge.web.accounts.models import Practice, Role, User
from harmonybridge.web.alerts.context import refresh_alert_reference
from harmonybridge.web.alerts.curves import fit_practice_curves
from harmonybridge.web.alerts.models import (
    AlertStatus,
    EmailState,
    SafetyNotice,
    StoredAlert,
)
from harmonybridge.web.alerts.rules import evaluate_engagements
from harmonybridge.web.checkins.bulk import insert_rows
from harmonybridge.web.checkins.models import Answer, Channel, Response, Score
from harmonybridge.web.practice import catalogue, datastamp
from harmonybridge.web.practice.models import (
    _CODE_ALPHABET,
    Client,
    Engagement,
    EngagementClient,
    MeasurementPlan,
    PlanEntry,
    PractitionerProfile,
    ServiceLine,
    TherapySession,
)
from harmonybridge.web.practice.services import ensure_service_lines
from harmonybridge.web.research.demo import add_demo_research

PRACTICE_NAME = "HarmonyBridge Family Therapy"
PASSWORD = "harmony-demo-2026"

#: Dataset service-line id -> the practice's default service-line name.
LINE_NAMES = {
    "individual_therapy": "Individual therapy",
    "couples_family_therapy": "Couples and family therapy",
    "health_wellness_coaching": "Health and wellness coaching",
    "spiritual_life_coaching": "Spiritual life coaching",
    "life_transition_coaching": "Life transition coaching",
}

#: (username, first, last, role, profession, dataset practitioner id or None).
ACCOUNTS = (
    ("admin", "Alex", "Morgan", Role.ADMIN, "Practice manager", None),
    ("maya", "Maya", "Lindqvist", Role.PRACTITIONER, "Life coach", "P01"),
    ("daniel", "Daniel", "Okafor", Role.PRACTITIONER, "Family therapist", "P02"),
    ("rosa", "Rosa", "Bergström", Role.RESEARCHER, "Researcher", None),
)


@dataclass
class DemoResult:
    created: bool
    logins: list[tuple[str, str, str]]
    counts: dict[str, int]


def logins() -> list[tuple[str, str, str]]:
    return [(u, PASSWORD, str(Role(r).label)) for u, _f, _l, r, _p, _d in ACCOUNTS]


def _codes(n: int) -> list[str]:
    taken = set(Client.objects.values_list("code", flat=True))
    out: list[str] = []
    while len(out) < n:
        code = "C-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
        if code not in taken:
            taken.add(code)
            out.append(code)
    return out


def _simulate(as_of: dt.date) -> Any:

    return demo_practice(seed=0, as_of=as_of)


def load(as_of: dt.date | None = None) -> DemoResult:
    """Create the demo practice once; a second call changes nothing."""
    existing = Practice.objects.filter(name=PRACTICE_NAME).first()
    if existing is not None and existing.members.exists():
        return DemoResult(False, logins(), {})
    data = _simulate(as_of or dt.date.today())
    with transaction.atomic():
        counts = _load(data)
    _evaluate_active()
    return DemoResult(True, logins(), counts)


def _load(data: Any) -> dict[str, int]:
    """Insert the synthetic practice: staff, engagements, clients, sessions, answers."""
    practice = Practice.objects.create(name=PRACTICE_NAME, time_zone="Europe/London")
    ensure_service_lines(practice)
    lines = {sl.name: sl for sl in ServiceLine.objects.filter(practice=practice)}
    users = _staff(data, practice, lines)
    eng_by_id = _engagements(data, practice, lines, users)
    client_by_id = _clients(data, practice, eng_by_id)
    _plans(practice, list(eng_by_id.values()))
    sess_by_key = _sessions(data, practice, eng_by_id)
    n_resp, n_answers, n_scores = _responses(data, sess_by_key, client_by_id, users)
    _safety(data, sess_by_key, client_by_id)
    _predictions(practice)
    admin = User.objects.get(practice=practice, role=Role.ADMIN)
    research = add_demo_research(practice, admin)
    datastamp.touch(practice.pk)  # the rows above went in in bulk, without signals
    return {
        "engagements": len(eng_by_id),
        "clients": len(client_by_id),
        "sessions": len(sess_by_key),
        "responses": n_resp,
        "answers": n_answers,
        "scores": n_scores,
        **research,
    }


def _staff(
    data: Any, practice: Practice, lines: dict[str, ServiceLine]
) -> dict[str, User]:
    """The demo accounts; returns the practitioners by their id in the data set."""
    users: dict[str, User] = {}
    for username, first, last, role, profession, ds_id in ACCOUNTS:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
            role=role,
            practice=practice,
        )
        user.set_password(PASSWORD)
        user.save()
        profile = PractitionerProfile.objects.create(user=user, profession=profession)
        if ds_id is not None:
            users[ds_id] = user
            row = data.practitioners.set_index("practitioner_id").loc[ds_id]
            profile.service_lines.set(
                [lines[LINE_NAMES[s]] for s in row["service_lines"]]
            )
    return users


def _engagements(
    data: Any,
    practice: Practice,
    lines: dict[str, ServiceLine],
    users: dict[str, User],
) -> dict[Any, Engagement]:
    """The engagements with their goals and lead practitioner, by data-set id."""
    eng_frame = data.engagements.reset_index(drop=True)
    goals = {
        (r.engagement_id, int(r.goal)): r.text
        for r in data.goals.itertuples(index=False)
    }
    engagements = Engagement.objects.bulk_create(
        Engagement(
            practice=practice,
            lead=users[r.practitioner_id],
            service_line=lines[LINE_NAMES[r.service_line]],
            start_date=pd.Timestamp(r.start).date(),
            end_date=None if r.status == "active" else pd.Timestamp(r.start).date(),
            status=r.status,
            goal_1=goals.get((r.engagement_id, 1), ""),
            goal_2=goals.get((r.engagement_id, 2), ""),
            goal_3=goals.get((r.engagement_id, 3), ""),
        )
        for r in eng_frame.itertuples(index=False)
    )
    Through = Engagement.practitioners.through
    Through.objects.bulk_create(
        Through(engagement_id=e.pk, user_id=e.lead_id) for e in engagements
    )
    return dict(zip(eng_frame["engagement_id"], engagements, strict=True))


def _clients(
    data: Any, practice: Practice, eng_by_id: dict[Any, Engagement]
) -> dict[Any, Client]:
    """The clients and their engagement memberships, by data-set id."""
    clients_frame = data.clients.reset_index(drop=True)
    codes = _codes(len(clients_frame))
    clients = Client.objects.bulk_create(
        Client(
            practice=practice,
            code=code,
            name=r.display_name,
            practitioner=eng_by_id[r.engagement_id].lead,
        )
        for r, code in zip(clients_frame.itertuples(index=False), codes, strict=True)
    )
    client_by_id = dict(zip(clients_frame["client_id"], clients, strict=True))
    EngagementClient.objects.bulk_create(
        EngagementClient(
            engagement=eng_by_id[r.engagement_id], client=client_by_id[r.client_id]
        )
        for r in clients_frame.itertuples(index=False)
    )
    return client_by_id


def _sessions(
    data: Any, practice: Practice, eng_by_id: dict[Any, Engagement]
) -> dict[tuple[Any, int], TherapySession]:
    """The sessions (local office hours), by (data-set engagement id, number)."""
    tz = zoneinfo.ZoneInfo(practice.time_zone)
    sess_frame = data.sessions.reset_index(drop=True)
    hours = 9 + (np.arange(len(sess_frame)) % 8)
    sessions = TherapySession.objects.bulk_create(
        TherapySession(
            engagement=eng_by_id[r.engagement_id],
            number=int(r.session),
            starts_at=dt.datetime.combine(
                pd.Timestamp(r.date).date(), dt.time(int(h)), tzinfo=tz
            ).astimezone(dt.UTC),
            modality=r.modality,
            attendance=r.attendance,
        )
        for r, h in zip(sess_frame.itertuples(index=False), hours, strict=True)
    )
    return {
        (r.engagement_id, int(r.session)): s
        for r, s in zip(sess_frame.itertuples(index=False), sessions, strict=True)
    }


def _plans(practice: Practice, engagements: list[Engagement]) -> None:
    plans = MeasurementPlan.objects.bulk_create(
        MeasurementPlan(engagement=e) for e in engagements
    )
    rows_by_kind = {
        kind: catalogue.default_plan_rows(practice, kind)
        for kind in ("therapy", "coaching")
    }
    entries = []
    for e, plan in zip(engagements, plans, strict=True):
        for i, (inst, role, every, start) in enumerate(
            rows_by_kind[e.service_line.kind]
        ):
            entries.append(
                PlanEntry(
                    plan=plan,
                    instrument_id=inst,
                    rater_role=role,
                    every_n=every,
                    starting_session=start,
                    position=i,
                )
            )
    PlanEntry.objects.bulk_create(entries, batch_size=2000)


def _responses(
    data: Any, sess_by_key: dict, client_by_id: dict, users: dict
) -> tuple[int, int, int]:
    items = data.items
    keys = ["engagement_id", "session", "respondent_id", "instrument"]
    heads = items.drop_duplicates("response_id")[["response_id", "rater_role", *keys]]
    versions = {
        i: catalogue.scoring_instrument(i).version for i in heads["instrument"].unique()
    }
    responses = []
    for r in heads.itertuples(index=False):
        is_client = r.rater_role == "client"
        client = client_by_id.get(r.respondent_id) if is_client else None
        user = None if is_client else users[r.respondent_id]
        session = sess_by_key[(r.engagement_id, int(r.session))]
        responses.append(
            Response(
                session=session,
                instrument_id=r.instrument,
                instrument_version=versions[r.instrument],
                rater_role=r.rater_role,
                respondent_client=client,
                respondent_user=user,
                respondent_key=Response.key_for_client(client.pk)
                if client is not None
                else Response.key_for_user(users[r.respondent_id].pk),
                channel=Channel.LINK if is_client else Channel.WEB,
                submitted_at=session.starts_at + dt.timedelta(hours=1),
            )
        )
    responses = Response.objects.bulk_create(responses, batch_size=2000)
    resp_pk = pd.Series(
        [r.pk for r in responses], index=heads["response_id"].to_numpy()
    )
    answer_rows = pd.DataFrame(
        {
            "response_id": resp_pk.loc[items["response_id"].to_numpy()].to_numpy(),
            "item": items["item"].astype("int64").to_numpy(),
            "value": items["value"].astype("float64").to_numpy(),
        }
    )
    _raw_insert(Answer, ["response_id", "item", "value"], answer_rows)
    scores = data.scores.merge(heads[["response_id", *keys]], on=keys, how="inner")
    score_rows = pd.DataFrame(
        {
            "response_id": resp_pk.loc[scores["response_id"].to_numpy()].to_numpy(),
            "subscale": scores["subscale"].astype(str).to_numpy(),
            "value": scores["score"].astype("float64").to_numpy(),
            "band": _bands(scores),
            "library_version": harmonybridge.__version__,
        }
    )
    _raw_insert(Score, list(score_rows.columns), score_rows)
    return len(responses), len(items), len(scores)


def _predictions(practice: Practice, seed: int = 13) -> None:
    """Item 7 of the practitioner's check-in: their guess of the client's rating.

    The simulator has no such item, so the demo derives it from the client's check-in
    of the same session (a slightly optimistic, noisy guess on the 1-5 scale), answered
    in about three sessions of four (the item is optional).  Its own random stream:
    the simulated data are unchanged.
    """
    client_total = dict(
        Score.objects.filter(
            response__session__engagement__practice=practice,
            response__instrument_id="hb_checkin",
            response__rater_role="client",
            subscale="",
            value__isnull=False,
        ).values_list("response__session_id", "value")
    )
    prac = list(
        Response.objects.filter(
            session__engagement__practice=practice,
            instrument_id="hb_checkin_practitioner",
        )
        .order_by("pk")
        .values_list("pk", "session_id")
    )
    rng = np.random.default_rng(seed)
    answers, scores = [], []
    for (resp_pk, session_pk), answered, noise in zip(
        prac, rng.random(len(prac)) < 0.75, rng.normal(0.3, 0.6, len(prac)), strict=True
    ):
        if not answered or session_pk not in client_total:
            continue
        value = float(np.clip(np.rint(client_total[session_pk] + noise), 1, 5))
        answers.append((resp_pk, 7, value))
        scores.append((resp_pk, "predicted_client_rating", value))
    _raw_insert(
        Answer,
        ["response_id", "item", "value"],
        pd.DataFrame(answers, columns=["response_id", "item", "value"]),
    )
    frame = pd.DataFrame(scores, columns=["response_id", "subscale", "value"])
    frame["band"] = ""
    frame["library_version"] = harmonybridge.__version__
    _raw_insert(Score, list(frame.columns), frame)


def _raw_insert(model: Any, columns: list[str], frame: pd.DataFrame) -> None:
    """Insert a frame's rows at once (the ORM's per-field work dominates at this size)."""
    insert_rows(
        model,
        columns,
        (
            tuple(None if isinstance(v, float) and np.isnan(v) else v for v in row)
            for row in frame.astype(object).itertuples(index=False, name=None)
        ),
    )


def _bands(scores: pd.DataFrame) -> np.ndarray:
    """The band label of each total, from the instrument's definition."""
    out = np.full(len(scores), "", dtype=object)
    totals = (scores["subscale"] == "").to_numpy()
    for inst_id in scores["instrument"].unique():
        bands = catalogue.scoring_instrument(str(inst_id)).bands
        if not bands:
            continue
        mask = totals & (scores["instrument"] == inst_id).to_numpy()
        for i in np.flatnonzero(mask):
            x = float(scores["score"].to_numpy()[i])
            if not np.isnan(x):
                out[i] = next((b.label for b in bands if b.contains(float(x))), "")
    return out


def _safety(data: Any, sess_by_key: dict, client_by_id: dict) -> None:
    """The safety story's session gets its notice, as a live check-in would have raised."""
    story = data.stories[data.stories["story"] == "safety_item"]
    for r in story.itertuples(index=False):
        session = sess_by_key.get((r.engagement_id, int(r.session)))
        if session is not None:
            answer = (
                Answer.objects.filter(
                    response__session=session,
                    response__instrument_id="phq9",
                    item=9,
                    value__gt=0,
                )
                .select_related("response")
                .first()
            )
            notice = SafetyNotice.objects.create(
                engagement=session.engagement,
                session=session,
                client_id=answer.response.respondent_client_id if answer else None,
                instrument="phq9" if answer else "",
                item_number=9 if answer else None,
                answer=answer.value if answer else None,
                email_state=EmailState.NONE,  # the demo sends no email
            )
            # Raised when the client answered, an hour after the session.
            SafetyNotice.objects.filter(pk=notice.pk).update(
                created_at=session.starts_at + dt.timedelta(hours=1)
            )


def _evaluate_active() -> None:
    """Alerts as they would have been raised session by session; older ones were handled."""

    # The rules judge against the practice's own references (closed engagements):
    # curve sets first, then the alert reference that includes them.
    practice_id = Practice.objects.get(name=PRACTICE_NAME).pk
    fit_practice_curves(practice_id)
    refresh_alert_reference(practice_id)
    active = Engagement.objects.filter(practice__name=PRACTICE_NAME, status="active")
    evaluate_engagements(list(active.values_list("pk", flat=True)), at="all")
    # The latest session with answers (later sessions are planned or missed).
    latest = dict(
        Response.objects.filter(session__engagement__in=active)
        .values("session__engagement")
        .order_by()
        .annotate(n=Max("session__number"))
        .values_list("session__engagement", "n")
    )
    alerts = list(
        StoredAlert.objects.filter(engagement__in=active).select_related(
            "engagement", "session"
        )
    )
    # The lead read each alert at the time. Three or more sessions back: dealt with.
    # A state still raised at the latest session (a gap, off track) stays open there
    # and its earlier repeats were seen; one no longer raised was resolved when it
    # went away. A rupture stays open until repaired (the status reads the repair
    # records), so recent rupture alerts are left open.
    at_latest = {
        (a.engagement_id, a.rule_id, a.respondent_id, a.instrument)
        for a in alerts
        if a.session_number == latest.get(a.engagement_id)
    }
    seen = []
    for alert in alerts:
        last = latest.get(alert.engagement_id) or 0
        number = alert.session_number
        if number is None or number >= last:
            continue
        key = (
            alert.engagement_id,
            alert.rule_id,
            alert.respondent_id,
            alert.instrument,
        )
        if number <= last - 3:
            alert.status = AlertStatus.RESOLVED
            alert.status_note = "Dealt with at the time (demo history)."
        elif key in at_latest:
            alert.status = AlertStatus.ACKNOWLEDGED
        elif not alert.rule_id.startswith("rupture."):
            alert.status = AlertStatus.RESOLVED
            alert.status_note = "No longer raised at the latest session (demo history)."
        else:
            continue
        alert.status_by_id = alert.engagement.lead_id
        alert.status_at = alert.session.starts_at if alert.session else timezone.now()
        seen.append(alert)
    StoredAlert.objects.bulk_update(
        seen, ["status", "status_note", "status_by", "status_at"]
    )
