"""Forms of the insights pages: agreed goals, client-view switches, report sections."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.practice.models import Engagement


class GoalsForm(forms.ModelForm):
    """The agreed goals and way of working, edited together with the client."""

    class Meta:
        model = Engagement
        fields = ["goal_1", "goal_2", "goal_3", "way_of_working"]  # noqa: RUF012
        widgets = {  # noqa: RUF012
            "goal_1": forms.TextInput,
            "goal_2": forms.TextInput,
            "goal_3": forms.TextInput,
            "way_of_working": forms.Textarea(attrs={"rows": 3}),
        }


class ClientViewForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("The client sees their own progress after a check-in"), required=False
    )
    goals = forms.BooleanField(
        label=_("…including progress on the agreed goals"), required=False
    )
    alliance = forms.BooleanField(
        label=_("…and their own ratings of our work together (alliance)"),
        required=False,
    )


class ReportForm(forms.Form):
    """Sections of the progress report; alliance and notes stay out unless chosen."""

    charts = forms.BooleanField(label=_("Charts"), required=False, initial=True)
    scores = forms.BooleanField(
        label=_("Scores by session"), required=False, initial=True
    )
    change = forms.BooleanField(
        label=_("Reliable change since the first session"), required=False, initial=True
    )
    goals = forms.BooleanField(label=_("Agreed goals"), required=False, initial=True)
    alliance = forms.BooleanField(
        label=_("Ratings of the working relationship (alliance)"),
        required=False,
        initial=False,
    )
    notes = forms.BooleanField(
        label=_("Free-text notes"), required=False, initial=False
    )
    audience = forms.ChoiceField(
        label=_("Written for"),
        choices=[("client", _("the client")), ("referrer", _("a referrer"))],
        initial="client",
    )

    @classmethod
    def sections(cls, data: Any) -> ReportForm:
        """Bind GET data, or the defaults when no section was sent."""
        if not data or "audience" not in data:
            return cls(
                initial=None,
                data={k: v.initial for k, v in cls.base_fields.items() if v.initial},
            )
        return cls(data)
