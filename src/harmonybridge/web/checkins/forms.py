"""One Django form per instrument, built from the core's definition (clients and practitioners)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from harmonybridge.web.practice import language

_FIELD = re.compile(r"^i(\d+)$")

#: Scales with more points than this are shown as one compact row of numbers.
COMPACT_SCALE_MIN = 7

#: The explicit "not sure" answer to a follow-up question (stored as no value).
NOT_SURE = "not_sure"


def _answer_value(value: str) -> int | None:
    return None if value == NOT_SURE else int(value)


def field_name(item_number: int) -> str:
    return f"i{item_number}"


def item_text(
    inst: Any, item: Any, goals: Sequence[str] = (), coaching: bool = False
) -> str:
    """The wording shown for an item; goal-progress items show the agreed goal itself.

    ``coaching``: the coaching words ("my coach" for "my practitioner").
    """
    text = (item.text or {}).get("en") or item.free_text_label or ""
    if coaching:
        text = language.coach_wording(text)
    if inst.kind == "goals" and item.number <= len(goals):
        goal = goals[item.number - 1]
        return _("Goal %(n)s: “%(goal)s” — how far along are you?") % {
            "n": item.number,
            "goal": goal,
        }
    return text or _("Item %(n)s") % {"n": item.number}


def answer_label(inst: Any, item_number: int, value: float | None) -> str:
    """An answer in the words the respondent chose ("More than half the days")."""
    if value is None or value != value:
        return "—"
    item = next((it for it in inst.items if it.number == item_number), None)
    scale = inst.scales.get(item.scale) if item is not None else None
    number = int(value) if float(value).is_integer() else value
    if scale is None:
        return str(number)
    labels = dict(scale.option_labels("en"))
    label = labels.get(number)
    if not label or str(label) == str(number):
        return str(number)
    return f"{label} ({number})"


def shown_items(inst: Any, goals: Sequence[str] = ()) -> list[Any]:
    """Items to ask: for goal progress only as many as there are agreed goals."""
    items = [it for it in inst.items if it.scale in inst.scales]
    if inst.kind == "goals":
        limit = max(len(goals), 1)
        items = [it for it in items if it.number <= limit]
    return items


class InstrumentForm(forms.Form):
    """Radio buttons per item. Conditional items are optional and dropped when not shown.

    ``data`` may hold answers for other instruments (prefixed); any field of this
    instrument's prefix that names an unknown item is rejected.

    ``followups``: a follow-up question whose condition holds ("yes, there was
    tension") must be answered, or answered "Not sure" explicitly.
    """

    def __init__(
        self,
        inst: Any,
        *args: Any,
        goals: Sequence[str] = (),
        require_all: bool = True,
        coaching: bool = False,
        followups: bool = False,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", inst.id)
        super().__init__(*args, **kwargs)
        self.inst = inst
        self.items = shown_items(inst, goals)
        self.followups = followups
        for it in self.items:
            scale = inst.scales[it.scale]
            choices = [(str(v), label) for v, label in scale.option_labels("en")]
            conditional = it.condition is not None
            if conditional and followups:
                choices.append((NOT_SURE, _("Not sure")))
            field = forms.TypedChoiceField(
                label=item_text(inst, it, goals, coaching),
                choices=choices,
                coerce=_answer_value,
                widget=forms.RadioSelect,
                required=require_all and it.required and not conditional,
                error_messages={
                    "required": gettext_lazy("Please choose an answer."),
                    "invalid_choice": gettext_lazy(
                        "%(value)s is not one of the answers on this scale."
                    ),
                },
            )
            field.item = it  # type: ignore[attr-defined]
            if conditional:
                field.help_text = _("Only if you answered yes just above.")
            self.fields[field_name(it.number)] = field

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.followups:
            self._require_followups(cleaned)
        known = {field_name(it.number) for it in self.items}
        if self.data is not None:
            pre = f"{self.prefix}-"
            for key in self.data:
                if key.startswith(pre):
                    name = key[len(pre) :]
                    if _FIELD.match(name) and name not in known:
                        raise forms.ValidationError(
                            _("%(item)s is not an item of %(title)s.")
                            % {"item": name[1:], "title": self.inst.title},
                            code="unknown_item",
                        )
        return cleaned

    def _require_followups(self, cleaned: dict[str, Any]) -> None:
        """A follow-up whose condition holds needs an answer or an explicit "not sure"."""
        for it in self.items:
            if it.condition is None:
                continue
            cond_item, cond_value = it.condition
            name = field_name(it.number)
            if cleaned.get(field_name(cond_item)) != cond_value or name in self.errors:
                continue
            if not self.data.get(self.add_prefix(name)):
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("Please answer this, or choose “Not sure”."),
                        code="followup_missing",
                    ),
                )

    def answers(self) -> dict[int, int | None]:
        """Item number -> value, with conditional items dropped when their condition fails."""
        data = self.cleaned_data
        given: dict[int, int | None] = {}
        for it in self.items:
            value = data.get(field_name(it.number))
            given[it.number] = None if value in (None, "") else int(value)
        return _apply_conditions(self.items, given)

    def fieldsets(self) -> list[dict[str, Any]]:
        """Per item: the bound field, its legend and whether it is conditional.

        A long numeric scale (goal progress 0–10) is ``compact``: one row of numbers,
        with the labelled anchors ("0 – no progress") printed once under it.
        """
        rows = []
        for it in self.items:
            bf = self[field_name(it.number)]
            labels = self.inst.scales[it.scale].option_labels("en")
            compact = len(labels) > COMPACT_SCALE_MIN
            rows.append(
                {
                    "field": bf,
                    "item": it,
                    "conditional": it.condition is not None,
                    "compact": compact,
                    "anchors": [
                        str(label) for v, label in labels if str(label) != str(v)
                    ]
                    if compact
                    else [],
                }
            )
        return rows


def _apply_conditions(
    items: list[Any], given: dict[int, int | None]
) -> dict[int, int | None]:
    out = dict(given)
    for it in items:
        if it.condition is not None:
            cond_item, cond_value = it.condition
            if out.get(cond_item) != cond_value:
                out[it.number] = None
    return out


def complete_draft(
    inst: Any, draft: Mapping[str, Any], goals: Sequence[str] = ()
) -> dict[int, int | None] | None:
    """The answers a saved draft holds, or None when a required item is unanswered.

    Drafts hold only values a form of this instrument accepted (``save_draft`` is
    called with ``InstrumentForm.answers()``), so they are not validated again; this
    applies the same completeness and condition rules as :meth:`InstrumentForm.answers`.
    """
    items = shown_items(inst, goals)
    given: dict[int, int | None] = {}
    for it in items:
        value = draft.get(str(it.number))
        if value is None and it.required and it.condition is None:
            return None
        given[it.number] = None if value is None else int(value)
    return _apply_conditions(items, given)


def posted_answers(
    inst: Any, data: Mapping[str, Any], goals: Sequence[str] = ()
) -> dict[int, int | None] | None:
    """The answers a POST gives for ``inst`` when an :class:`InstrumentForm` (client's,
    every item required, no "not sure") would accept them, else None.

    The final submit checks its screen with this instead of building a form; a form
    is built only when this says no, to show the same messages. The rules are the
    form's: each shown required item answered with one of its scale's values, optional
    and conditional items blank or such a value, no unknown item of the instrument.
    """
    pre = f"{inst.id}-"
    items = shown_items(inst, goals)
    given: dict[int, int | None] = {}
    for it in items:
        raw = data.get(f"{pre}{field_name(it.number)}")
        if raw in (None, ""):
            if it.required and it.condition is None:
                return None
            given[it.number] = None
            continue
        value = _scale_value(inst.scales[it.scale], raw)
        if value is None:
            return None
        given[it.number] = value
    known = {field_name(it.number) for it in items}
    for key in data:
        name = key[len(pre) :]
        if key.startswith(pre) and _FIELD.match(name) and name not in known:
            return None
    return _apply_conditions(items, given)


def _scale_value(scale: Any, raw: Any) -> int | None:
    """The scale value a posted string names (as the form's choices compare), or None."""
    for value in scale.values:
        if str(value) == raw:
            return int(value)
    return None


def initial_from_draft(draft: Mapping[str, Any]) -> dict[str, str]:
    return {field_name(int(k)): str(v) for k, v in draft.items() if v is not None}
