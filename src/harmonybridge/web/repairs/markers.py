"""Rupture markers and resolution strategies (3RS; Eubanks, Muran & Safran 2015, docs/references.md) in plain words.

The codes are stored; the labels and explanations are shown. The categories follow
the Rupture Resolution Rating System (Eubanks, Muran & Safran 2015); HarmonyBridge
stores them as the practitioner's observations and never claims to detect them.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

#: (code, label, plain-words explanation) — moving away from the work.
WITHDRAWAL: tuple[tuple[str, object, object], ...] = (
    (
        "denial",
        _("Denial"),
        _("Says everything is fine, or denies a feeling that clearly shows."),
    ),
    (
        "minimal_response",
        _("Minimal response"),
        _("Short, closed answers; silence where there used to be talk."),
    ),
    (
        "abstract_communication",
        _("Abstract talk"),
        _("Speaks in general or intellectual terms, away from their own experience."),
    ),
    (
        "avoidant_storytelling",
        _("Avoidant storytelling or changing the topic"),
        _("Long stories or new topics that steer away from what was being worked on."),
    ),
    (
        "deferential",
        _("Deferential and appeasing"),
        _("Goes along to please, agrees too quickly, apologises a lot."),
    ),
    (
        "content_affect_split",
        _("Words and feelings do not match"),
        _("Talks about something painful while smiling, or the tone does not fit."),
    ),
    (
        "self_criticism",
        _("Self-criticism or hopelessness"),
        _(
            "Blames themselves or says nothing will help, instead of saying what is wrong."
        ),
    ),
)

#: Moving against the practitioner or the work.
CONFRONTATION: tuple[tuple[str, object, object], ...] = (
    (
        "complaint_practitioner",
        _("Complaints about you"),
        _("Criticises you, your manner or your competence."),
    ),
    (
        "rejects_intervention",
        _("Rejects what you offer"),
        _("Turns down a suggestion, a question or an exercise."),
    ),
    (
        "complaint_activities",
        _("Complaints about the work itself"),
        _("Questions what you do together in the sessions."),
    ),
    (
        "complaint_parameters",
        _("Complaints about the arrangements"),
        _("Time, scheduling, fees or other practical parameters."),
    ),
    (
        "complaint_progress",
        _("Complaints about progress"),
        _("Says the work is not helping or is too slow."),
    ),
    (
        "defends_self",
        _("Defends themselves against you"),
        _("Feels criticised or attacked and justifies themselves."),
    ),
    (
        "controls_pressures",
        _("Tries to control or pressure you"),
        _("Tells you what to do, makes demands or tests you."),
    ),
)

#: What the practitioner did about it (resolution strategies).
STRATEGIES: tuple[tuple[str, object, object], ...] = (
    (
        "clarify",
        _("Clarified a misunderstanding"),
        _("Checked what was meant and put a misunderstanding right."),
    ),
    (
        "change_tasks_goals",
        _("Changed tasks or goals"),
        _("Adjusted what you work on, or how, together with the client."),
    ),
    (
        "give_rationale",
        _("Explained the reason for a task"),
        _("Illustrated a task or gave the rationale behind it."),
    ),
    (
        "invite_discussion",
        _("Invited talk about the relationship"),
        _("Asked how the client feels about you or the work."),
    ),
    (
        "acknowledge_contribution",
        _("Acknowledged your own part"),
        _("Said openly what you contributed to the strain."),
    ),
    (
        "disclose_experience",
        _("Shared your experience of the moment"),
        _("Told the client how the interaction felt to you, carefully."),
    ),
    (
        "link_relationship_pattern",
        _("Linked it to a pattern between you"),
        _("Connected the moment to something that recurs in your work together."),
    ),
    (
        "link_other_relationships",
        _("Linked it to other relationships"),
        _("Connected it to patterns in the client's other relationships."),
    ),
    (
        "validate_defensive",
        _("Validated the reaction"),
        _("Accepted the client's guarded or defensive stance as understandable."),
    ),
    (
        "redirect",
        _("Redirected or refocused"),
        _("Returned to the task or the client's own aims."),
    ),
)

MARKER_CODES: tuple[str, ...] = tuple(c for c, _l, _e in WITHDRAWAL + CONFRONTATION)
STRATEGY_CODES: tuple[str, ...] = tuple(c for c, _l, _e in STRATEGIES)


def marker_choices() -> list[tuple[object, list[tuple[str, object]]]]:
    """Grouped choices for a form field: withdrawal, then confrontation."""
    return [
        (_("Withdrawal (moving away)"), [(c, lab) for c, lab, _e in WITHDRAWAL]),
        (
            _("Confrontation (moving against)"),
            [(c, lab) for c, lab, _e in CONFRONTATION],
        ),
    ]


def strategy_choices() -> list[tuple[str, object]]:
    return [(c, lab) for c, lab, _e in STRATEGIES]


def labels(codes: object) -> list[str]:
    """Display labels for stored codes (unknown codes are shown as they are)."""
    table = {c: str(lab) for c, lab, _e in WITHDRAWAL + CONFRONTATION + STRATEGIES}
    return [table.get(str(c), str(c)) for c in (codes or ())]
