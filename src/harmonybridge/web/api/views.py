"""The token page: create (only from a session that passed two-factor sign-in), list, revoke."""

from __future__ import annotations

from typing import Any

from allauth.account.authentication import get_authentication_records
from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from harmonybridge.web import audit
from harmonybridge.web.api import tokens
from harmonybridge.web.api.access import may_use_api
from harmonybridge.web.api.models import ApiToken, Scope
from harmonybridge.web.practice.http import PractitionerRequest, staff_view


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What the token is for, e.g. “EHR sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("Scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ],
    )
    days = forms.IntegerField(
        label=gettext_lazy("Valid for (days)"),
        min_value=1,
        max_value=tokens.MAX_DAYS,
        initial=90,
    )


def passed_mfa(request: Any) -> bool:
    """Whether this session's sign-in included a second factor (allauth's records)."""
    records = get_authentication_records(request, request.user)
    return any(r.get("method") == "mfa" for r in records)


@never_cache
@require_http_methods(["GET", "POST"])
@staff_view
def token_list(request: PractitionerRequest) -> HttpResponse:
    if not may_use_api(request.user):
        raise Http404
    mfa = passed_mfa(request)
    form = TokenForm(request.POST or None)
    plain = None
    status = 200
    if request.method == "POST":
        if not mfa:
            status = 403
            messages.error(
                request,
                _("Sign in with your authenticator app to create a token."),
            )
        elif form.is_valid():
            _token, plain = tokens.issue(
                request.user,
                form.cleaned_data["name"],
                form.cleaned_data["scopes"],
                form.cleaned_data["days"],
                request=request,
            )
            form = TokenForm()
        else:
            status = 400
    else:
        audit.record(request.user, "api_tokens.view", None, request=request)
    rows = ApiToken.objects.filter(user=request.user)
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": rows, "plain": plain, "mfa": mfa},
        status=status,
    )


@require_POST
@staff_view
def token_revoke(request: PractitionerRequest) -> HttpResponse:
    """Revoke one of the person's own tokens (its id in the form; anyone else's is a 404)."""
    pk = request.POST.get("token", "")
    token = (
        ApiToken.objects.filter(user=request.user, pk=int(pk)).first()
        if pk.isdigit() and len(pk) < 19
        else None
    )
    if token is None:
        raise Http404
    if tokens.revoke(token, request.user, request=request):
        messages.success(request, _("The token is revoked; calls with it now get 401."))
    return redirect("api_tokens:list")
