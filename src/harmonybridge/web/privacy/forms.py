"""Confirmation form for erasing a client."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EraseForm(forms.Form):
    code = forms.CharField(
        label=_("Type the client code to confirm"), max_length=16, strip=True
    )

    def __init__(self, *args: object, client_code: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.client_code = client_code

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].upper()
        if code != self.client_code:
            raise forms.ValidationError(_("That is not this client's code."))
        return code
