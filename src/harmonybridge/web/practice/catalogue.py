"""The practice's view of the core's instruments: wording, usability and default plans."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from harmonybridge import instruments
from harmonybridge.errors import DataValidationError
from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.practice import language
from harmonybridge.web.practice.models import InstrumentWording, ServiceKind

#: (instrument id, rater role, every Nth session, first session).
PlanRow = tuple[str, str, int, int]

ALLIANCE_OPEN: tuple[PlanRow, ...] = (
    ("hb_checkin", "client", 1, 1),
    ("hb_checkin_practitioner", "practitioner", 1, 1),
)
ALLIANCE_WAI: tuple[PlanRow, ...] = (
    ("wai_sr", "client", 1, 1),
    ("wai_sr_t", "practitioner", 1, 1),
)
COACHING_ROWS: tuple[PlanRow, ...] = (
    ("who5", "client", 1, 1),
    ("goal_progress", "client", 1, 1),
    ("swls", "client", 4, 1),
    ("fs", "client", 4, 1),
)
THERAPY_ROWS: tuple[PlanRow, ...] = (
    ("phq9", "client", 1, 1),
    ("gad7", "client", 1, 1),
)


def _wording_from_json(instrument_id: str, data: Any) -> Any:
    """Turn stored wording JSON into the core's wording object (validated by the core)."""
    if not isinstance(data, dict):
        raise DataValidationError("the wording must be a JSON object with 'items'")
    if str(data.get("instrument", "")) != instrument_id:
        raise DataValidationError(
            f"the wording names instrument {data.get('instrument')!r}, not {instrument_id!r}"
        )
    return instruments.load_wording(data)


def validate_wording(instrument_id: str, data: Any) -> Any:
    """Validate pasted wording; raise DataValidationError with the core's message."""
    inst = instruments.get(instrument_id)
    return inst.with_wording(_wording_from_json(instrument_id, data))


def instrument_for(practice: Practice | None, instrument_id: str) -> Any | None:
    """The instrument with the practice's licensed wording, or None when not usable yet."""
    inst = instruments.get(instrument_id)
    if inst.has_wording:
        return inst
    if practice is None:
        return None
    stored = InstrumentWording.objects.filter(
        practice=practice, instrument_id=instrument_id
    ).first()
    return with_stored_wording(instrument_id, stored.wording if stored else None)


def with_stored_wording(instrument_id: str, wording: Any) -> Any | None:
    """The instrument with wording already loaded from the database (None: not usable).

    For callers that fetched several practices' wordings in one query.
    """
    inst = instruments.get(instrument_id)
    if inst.has_wording:
        return inst
    if wording is None:
        return None
    try:
        return validate_wording(instrument_id, wording)
    except DataValidationError:
        return None


def scoring_instrument(instrument_id: str) -> Any:
    """The instrument for scoring only (scoring never needs the wording)."""
    return instruments.get(instrument_id)


short_title = instruments.short_title


def is_usable(practice: Practice | None, instrument_id: str) -> bool:
    return instrument_for(practice, instrument_id) is not None


def unusable_reason(practice: Practice | None, instrument_id: str) -> str | None:
    """Why an instrument cannot be offered yet (for plan editing), or None."""
    try:
        inst = instruments.get(instrument_id)
    except DataValidationError as exc:
        return str(exc)
    if is_usable(practice, instrument_id):
        return None
    return _(
        "%(title)s is a licensed instrument (class %(cls)s): its wording is not shipped. "
        "A practice admin can enter the practice's licensed wording on the practice page; "
        "until then it is not offered to clients."
    ) % {"title": inst.title, "cls": inst.licence.cls}


def choosable_instruments(
    practice: Practice | None, coaching: bool = False
) -> list[tuple[str, str]]:
    """(id, label) for every instrument, marking those not usable yet.

    ``coaching``: short titles only (full titles such as "Patient Health
    Questionnaire" speak of patients and disorders).
    """
    out = []
    for inst in instruments.all_instruments():
        title = language.instrument_title(inst.id, True) if coaching else inst.title
        label = f"{title} ({inst.rater_role})"
        if not is_usable(practice, inst.id):
            label += " — " + _("needs licensed wording")
        out.append((inst.id, label))
    return out


def default_plan_rows(practice: Practice | None, kind: str) -> list[PlanRow]:
    """The default plan: alliance from both sides every session plus the line's outcomes."""
    wai_ready = all(is_usable(practice, row[0]) for row in ALLIANCE_WAI)
    rows = list(ALLIANCE_WAI if wai_ready else ALLIANCE_OPEN)
    rows += COACHING_ROWS if kind == ServiceKind.COACHING else THERAPY_ROWS
    return rows


#: The brief plan (Kroenke et al. 2009): the PHQ-4 screens for the full forms, which are
#: asked every BRIEF_FULL_EVERY sessions (1, 5, 9 ...) and when the screen is positive.
SHORT_FORM = "phq4"
BRIEF_FULL_EVERY = 4
#: Full form -> (the short form's subscale that screens for it, positive at, and
#: which of the full form's items the short form already asked: full item -> PHQ-4 item).
SCREENED: dict[str, tuple[str, float, dict[int, int]]] = {
    "phq9": ("phq2", 3, {1: 1, 2: 2}),
    "gad7": ("gad2", 3, {1: 3, 2: 4}),
}


def is_full_form_session(session_number: int) -> bool:
    """Whether the brief plan asks the full forms at this session anyway."""
    return (session_number - 1) % BRIEF_FULL_EVERY == 0


def brief_instrument_ids(instrument_ids: list[str], session_number: int) -> list[str]:
    """A session's instruments under the brief plan: the PHQ-4 stands in for the full
    PHQ-9 and GAD-7 except at every fourth session (where the full forms hold it)."""
    if is_full_form_session(session_number):
        return list(instrument_ids)
    out: list[str] = []
    for inst_id in instrument_ids:
        wanted = SHORT_FORM if inst_id in SCREENED else inst_id
        if wanted not in out:
            out.append(wanted)
    return out


def second_stage(
    instrument_ids: list[str], short_form_scores: dict[str, float | None]
) -> list[str]:
    """The full forms a positive short form calls for (in plan order, after it)."""
    return [
        full
        for full, (sub, positive_at, _items) in SCREENED.items()
        if full not in instrument_ids
        and (short_form_scores.get(sub) or 0) >= positive_at
    ]
