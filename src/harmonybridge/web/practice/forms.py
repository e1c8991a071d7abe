"""Forms of the practice app: clients, engagements, sessions, plans and admin lists."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from harmonybridge import instruments
from harmonybridge.errors import DataValidationError
from harmonybridge.web import inputlimits
from harmonybridge.web.accounts.models import Practice, Role, User
from harmonybridge.web.practice import catalogue, conventions
from harmonybridge.web.practice.models import (
    Client,
    Engagement,
    InstrumentWording,
    PlanEntry,
    RaterRole,
    ServiceLine,
    TherapySession,
)


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["name", "email"]  # noqa: RUF012
        widgets = {  # noqa: RUF012
            "name": forms.TextInput(attrs={"autocomplete": "off"}),
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
        }
        help_texts = {  # noqa: RUF012
            "name": _("Optional. Stored encrypted; the client code is always used."),
            "email": _("Optional. Only used to send check-in links."),
        }

    def clean_name(self) -> str:
        value = self.cleaned_data.get("name", "").strip()
        if len(value) > 200:
            raise forms.ValidationError(_("A name can have at most 200 characters."))
        return value

    def clean_email(self) -> str:
        value = self.cleaned_data.get("email", "").strip()
        if value:
            forms.EmailField(max_length=254).clean(value)
        return value


def _folded(text: str) -> str:
    """Lower case without accents or extra spaces ("Zoë  Ådahl" -> "zoe adahl")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())


def matching_clients(clients: Any, query: str) -> list[int]:
    """Ids of the clients whose name or code contains the query (names decrypted here).

    Names are encrypted, so SQL cannot search them; the practitioner's own list is
    small enough to filter in Python (ADR 0014).
    """
    wanted = _folded(query)
    return sorted(
        c.pk
        for c in clients
        if not wanted or wanted in _folded(c.name) or wanted in _folded(c.code)
    )


class ClientChoiceField(inputlimits.ModelMultipleChoiceField):
    """Clients by name and code, as practitioners know them."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class EngagementForm(forms.ModelForm):
    clients = ClientChoiceField(
        queryset=Client.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Clients"),
        help_text=_("One client, or several for a couple or a family."),
    )
    co_practitioners = inputlimits.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Co-practitioners"),
    )
    #: The clients first, right under the search box that narrows them.
    field_order = ("clients",)

    class Meta:
        model = Engagement
        fields = [  # noqa: RUF012
            "service_line",
            "start_date",
            "end_date",
            "status",
            "goal_1",
            "goal_2",
            "goal_3",
            "way_of_working",
            "client_sees_scores",
            "client_sees_goals",
        ]
        field_classes = {"service_line": inputlimits.ModelChoiceField}  # noqa: RUF012
        widgets = {  # noqa: RUF012
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "goal_1": forms.TextInput(),
            "goal_2": forms.TextInput(),
            "goal_3": forms.TextInput(),
            "way_of_working": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {  # noqa: RUF012
            "goal_1": _("In the client's own words."),
            "way_of_working": _("How you agreed to work together (Bordin's tasks)."),
        }

    def _choices_field(self, name: str) -> forms.ModelChoiceField[Any]:
        field = self.fields[name]
        assert isinstance(field, forms.ModelChoiceField)  # the model form's relation
        return field

    def __init__(self, *args: Any, user: Any, clients: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices_field("service_line").queryset = ServiceLine.objects.filter(
            practice_id=user.practice_id, active=True
        )
        self._choices_field("clients").queryset = clients
        self._choices_field("co_practitioners").queryset = User.objects.filter(
            practice_id=user.practice_id,
            is_active=True,
            role__in=[Role.PRACTITIONER, Role.SUPERVISOR, Role.ADMIN],
        ).exclude(pk=user.pk)

    def clean_start_date(self) -> Any:
        inputlimits.check_date(self.cleaned_data.get("start_date"))
        return self.cleaned_data.get("start_date")

    def clean_end_date(self) -> Any:
        inputlimits.check_date(self.cleaned_data.get("end_date"))
        return self.cleaned_data.get("end_date")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error(
                "end_date", _("The end date cannot be before the start date.")
            )
        return data


class SessionForm(forms.ModelForm):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[inputlimits.check_date],
    )

    class Meta:
        model = TherapySession
        fields = ["starts_at", "modality", "attendance"]  # noqa: RUF012


class PlanEntryForm(forms.ModelForm):
    class Meta:
        model = PlanEntry
        fields = ["instrument_id", "rater_role", "every_n", "starting_session"]  # noqa: RUF012

    def __init__(
        self, *args: Any, practice: Any, coaching: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.practice = practice
        self.fields["instrument_id"] = forms.ChoiceField(
            label=_("Instrument"),
            choices=catalogue.choosable_instruments(practice, coaching),
        )
        every_n = self.fields["every_n"]
        assert isinstance(every_n, forms.IntegerField)
        every_n.min_value = 1

    def clean_every_n(self) -> int:
        value = self.cleaned_data["every_n"]
        if value < 1:
            raise forms.ValidationError(_("Every Nth session needs N of 1 or more."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        inst_id = data.get("instrument_id")
        role = data.get("rater_role")
        if inst_id:
            reason = catalogue.unusable_reason(self.practice, inst_id)
            if reason:
                self.add_error("instrument_id", reason)
            elif role and catalogue.scoring_instrument(inst_id).rater_role != role:
                self.add_error(
                    "rater_role",
                    _("This instrument is answered by the %(role)s.")
                    % {
                        "role": RaterRole(
                            catalogue.scoring_instrument(inst_id).rater_role
                        ).label
                    },
                )
        return data


class PracticeSettingsForm(forms.ModelForm):
    class Meta:
        model = Practice
        fields = ["name", "time_zone", "crisis_text", "safety_contact_email"]  # noqa: RUF012
        widgets = {"crisis_text": forms.Textarea(attrs={"rows": 4})}  # noqa: RUF012
        help_texts = {  # noqa: RUF012
            "time_zone": _(
                "An IANA name such as Europe/London; times are shown in it."
            ),
            "crisis_text": _(
                "Shown to a client at once when an answer touches on safety."
            ),
        }


class ConventionForm(forms.Form):
    """One choice per instrument that declares caseness conventions (GAD-7)."""

    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for inst in conventions.choosable():
            choices = []
            for c in inst.conventions:
                label = f"{c.title}: {c.description}"
                if c.default:
                    label += " " + str(_("(default)"))
                choices.append((c.name, label))
            self.fields[f"convention_{inst.id}"] = forms.ChoiceField(
                label=_("%(name)s caseness convention") % {"name": inst.short_title},
                choices=choices,
                initial=current.get(inst.id),
                widget=forms.RadioSelect,
                help_text=_(
                    "The cut-off and the reliable-change value are one pair; the "
                    "dashboard, reports, charts and alerts of the practice all use the "
                    "pair chosen here. Default: %(default)s."
                )
                % {"default": inst.get_convention().title},
            )

    def choices(self) -> dict[str, str]:
        """``{instrument id: convention}`` from the cleaned data."""
        return {
            key.removeprefix("convention_"): str(value)
            for key, value in self.cleaned_data.items()
        }


class ServiceLineForm(forms.ModelForm):
    class Meta:
        model = ServiceLine
        fields = ["name", "kind"]  # noqa: RUF012

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        practice_id = self.instance.practice_id
        if ServiceLine.objects.filter(
            practice_id=practice_id, name__iexact=name
        ).exists():
            raise forms.ValidationError(
                _("The practice already has this service line.")
            )
        return name


class WordingForm(forms.Form):
    instrument_id = forms.ChoiceField(label=_("Instrument"))
    version = forms.CharField(label=_("Wording version"), max_length=40, initial="1")
    wording = forms.CharField(
        label=_("Licensed wording (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("The wording file your licence gives you, pasted as JSON."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        field = self.fields["instrument_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (i.id, i.title) for i in instruments.all_instruments() if i.requires_wording
        ]

    def clean_wording(self) -> Any:
        return inputlimits.load_json(self.cleaned_data["wording"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("instrument_id") and "wording" in data:
            try:
                catalogue.validate_wording(data["instrument_id"], data["wording"])
            except DataValidationError as exc:
                self.add_error("wording", str(exc))
        return data

    def save(self, practice: Any, user: Any) -> InstrumentWording:
        obj, _ = InstrumentWording.objects.update_or_create(
            practice=practice,
            instrument_id=self.cleaned_data["instrument_id"],
            defaults={
                "version": self.cleaned_data["version"],
                "wording": self.cleaned_data["wording"],
                "entered_by": user,
            },
        )
        return obj


class PersonForm(forms.ModelForm):
    password = forms.CharField(
        label=_("Initial password"), widget=forms.PasswordInput, min_length=12
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role"]  # noqa: RUF012

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            # The same validators as a password change (length, common passwords,
            # all digits, too like the name or address); issue 9, fault 10.
            candidate = User(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                validate_password(password, candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user
