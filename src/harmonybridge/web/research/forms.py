"""Forms of research mode: a consent answer, an information sheet version, an export project."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harmonybridge import instruments
from harmonybridge.research import MIN_K
from harmonybridge.web.research.models import (
    Decision,
    ExportProject,
    InformationSheet,
    Purpose,
)


class ConsentForm(forms.Form):
    purpose = forms.ChoiceField(label=_("Consent to"), choices=Purpose.choices)
    decision = forms.ChoiceField(
        label=_("The client's answer"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
    )
    sheet_version = forms.CharField(
        label=_("Information sheet version"),
        max_length=40,
        required=False,
        help_text=_(
            "For research use: the version of the practice's research information "
            "sheet the client read (the current one when left empty)."
        ),
    )

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        version = (data.get("sheet_version") or "").strip()
        if data.get("purpose") == Purpose.RESEARCH:
            sheets = InformationSheet.objects.filter(practice_id=self.practice_id)
            if not sheets.exists():
                raise forms.ValidationError(
                    _(
                        "The practice has no research information sheet yet; the "
                        "practice admin adds one under Research first."
                    )
                )
            if not version:
                first = sheets.first()
                version = first.version if first is not None else ""
            elif not sheets.filter(version=version).exists():
                self.add_error(
                    "sheet_version",
                    _("There is no research information sheet version %(v)s.")
                    % {"v": version},
                )
        elif not version:
            version = "care"
        data["sheet_version"] = version
        return data


class InformationSheetForm(forms.ModelForm):
    class Meta:
        model = InformationSheet
        fields = ["version", "text"]  # noqa: RUF012

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id

    def clean_version(self) -> str:
        version = self.cleaned_data["version"].strip()
        if InformationSheet.objects.filter(
            practice_id=self.practice_id, version=version
        ).exists():
            raise forms.ValidationError(
                _(
                    "Version %(v)s exists already; versions are never changed, add a new one."
                )
                % {"v": version}
            )
        return version


class ExportProjectForm(forms.ModelForm):
    instruments = forms.MultipleChoiceField(
        label=_("Instruments"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    class Meta:
        model = ExportProject
        fields = ["name", "slug", "purpose", "instruments", "period_start",  # noqa: RUF012
                  "period_end", "k"]  # fmt: skip
        widgets = {  # noqa: RUF012
            "period_start": forms.DateInput(attrs={"type": "date"}),
            "period_end": forms.DateInput(attrs={"type": "date"}),
        }
        help_texts = {  # noqa: RUF012
            "slug": _("Letters, digits, '-' and '_'; names the export files."),
            "k": _(
                "Practitioners with fewer clients in an export are pooled; at least %(k)s."
            )
            % {"k": MIN_K},
        }

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id
        self.fields["instruments"].choices = [  # type: ignore[attr-defined]
            (i, instruments.short_title(i)) for i in instruments.ids()
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"].strip()
        if ExportProject.objects.filter(
            practice_id=self.practice_id, slug=slug
        ).exists():
            raise forms.ValidationError(_("Another project uses this short id."))
        return slug

    def clean_k(self) -> int:
        k = self.cleaned_data["k"]
        if k is None or k < MIN_K:
            raise forms.ValidationError(
                _("The minimum cell size k must be at least %(k)s.") % {"k": MIN_K}
            )
        return k

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        return data
