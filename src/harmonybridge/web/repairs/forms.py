"""The rupture–repair form: markers, strategies, resolved, note."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.repairs import markers as codes
from harmonybridge.web.repairs.models import RepairRecord, Resolved


class RepairRecordForm(forms.ModelForm):
    markers = forms.MultipleChoiceField(
        label=_("What you noticed (markers)"),
        choices=codes.marker_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    strategies = forms.MultipleChoiceField(
        label=_("What you did (resolution strategies)"),
        choices=codes.strategy_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    resolved = forms.ChoiceField(
        label=_("Resolved by the end of the session?"),
        choices=Resolved.choices,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = RepairRecord
        fields = ["markers", "strategies", "resolved", "note"]  # noqa: RUF012
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}  # noqa: RUF012
        help_texts = {  # noqa: RUF012
            "note": _("Optional, stored encrypted, left out of reports unless chosen."),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("markers") and not data.get("note"):
            raise forms.ValidationError(
                _("Tick at least one marker you noticed, or describe it in the note.")
            )
        return data
