"""Coaching language: coach, client, goals and wellbeing — never diagnosis or symptoms.

For coaching service lines the pages use these words and hide clinical (symptom)
instruments unless the engagement's plan chose them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from harmonybridge import instruments

#: Words a therapy page would use that a coaching page must never show.
CLINICAL_WORDS: tuple[str, ...] = (
    "diagnosis",
    "symptom",
    "symptoms",
    "clinical",
    "patient",
    "depression",
    "disorder",
)


def words(coaching: bool) -> dict[str, str]:
    """The page vocabulary for one engagement (translated)."""
    if coaching:
        return {
            "practitioner": _("coach"),
            "Practitioner": _("Coach"),
            "client": _("client"),
            "Client": _("Client"),
            "work": _("coaching"),
            "outcomes": _("Wellbeing and goals"),
            "outcome": _("wellbeing"),
            "cutoff": "",
        }
    return {
        "practitioner": _("practitioner"),
        "Practitioner": _("Practitioner"),
        "client": _("client"),
        "Client": _("Client"),
        "work": _("therapy"),
        "outcomes": _("Outcomes"),
        "outcome": _("outcome"),
        "cutoff": _("clinical cut-off"),
    }


def is_clinical(instrument_id: str) -> bool:
    """A symptom measure: an outcome instrument where higher is worse (PHQ-9, GAD-7)."""
    inst = instruments.find(instrument_id)
    if inst is None:
        return False
    return inst.kind == "outcome" and not inst.higher_is_better


def shown_instruments(
    present: Iterable[str], *, coaching: bool, chosen: Iterable[str] = ()
) -> list[str]:
    """Instruments a page shows: coaching hides clinical ones unless chosen in the plan."""
    chosen_set = set(chosen)
    return [
        i for i in present if not (coaching and is_clinical(i) and i not in chosen_set)
    ]


def instrument_title(instrument_id: str, coaching: bool) -> str:
    """The instrument's short title (``PHQ-9``), with "coach" for coaching pages."""
    inst = instruments.find(instrument_id)
    if inst is None:
        return instrument_id
    title = str(getattr(inst, "short_title", "") or inst.title)
    return coach_wording(title) if coaching else title


def coach_wording(text: str) -> str:
    """An instrument's wording as a coaching client reads it ("my coach")."""
    return (
        text.replace("My practitioner", _("My coach"))
        .replace("my practitioner", _("my coach"))
        .replace("practitioner", _("coach"))
    )


def change_label(category: str, coaching: bool) -> str:
    """Reliable-change category in words (coaching: no talk of clinical ranges)."""
    labels = {
        "recovered": _("reliably improved")
        if coaching
        else _("recovered: reliably improved and past the cut-off"),
        "improved": _("reliably improved"),
        "unchanged": _("no reliable change"),
        "deteriorated": _("reliably worse"),
        "harmed": _("reliably worse")
        if coaching
        else _("reliably worse and past the cut-off"),
    }
    return labels.get(category, "—")


def band_label(instrument_id: str, score: float | None, coaching: bool) -> str:
    """The score's band, or '' (coaching pages show no band of an instrument with a
    clinical cut-off, whose labels speak of diagnoses)."""
    if score is None or score != score:
        return ""
    inst = instruments.find(instrument_id)
    if inst is None:
        return ""
    if coaching and inst.cutoff is not None:
        return ""
    for band in inst.bands:
        if band.low <= score <= band.high:
            return str(band.label)
    return ""
